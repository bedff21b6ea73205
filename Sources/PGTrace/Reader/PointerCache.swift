/// A small open-addressing table keyed by pointer identity, for names libxml2 interns: a
/// lookup is a few compares, with no hashing of text. Misses (names not in the format) are
/// remembered too, so an unknown name costs the text lookup once.
struct PointerCache<Value> {
    private static var slotBits: Int { 8 }
    private var keys = [UnsafeRawPointer?](repeating: nil, count: 1 << slotBits)
    private var values = [Value?](repeating: nil, count: 1 << slotBits)
    private var count = 0

    mutating func value(for pointer: UnsafePointer<UInt8>, fill: () -> Value?) -> Value? {
        let key = UnsafeRawPointer(pointer)
        // libxml2 keeps the names it interns side by side, a few bytes apart: the pointer's
        // bits are mixed (Fibonacci hashing, the product's top bits), as its low bits alone
        // put "cpu", "task", "lock" and "t" in runs of neighbouring slots, and the probe's
        // uneven walks through them were a quarter of the start-tag callback's instructions.
        var slot = Int(truncatingIfNeeded: (UInt64(UInt(bitPattern: key)) &* 0x9E37_79B9_7F4A_7C15) >> (64 - Self.slotBits))
        while let stored = keys[slot] {
            if stored == key { return values[slot] }
            slot = (slot + 1) & (keys.count - 1)
        }
        let value = fill()
        if count * 2 >= keys.count { return value }  // full enough: stop remembering
        keys[slot] = key
        values[slot] = value
        count += 1
        return value
    }
}
