/// A map from 64-bit keys (lock addresses, pids) to small values, by open addressing with a
/// multiplicative hash: what a reader looks up at every record, without the cost of the
/// standard library's seeded hashing (the keys come from the kernel, not from an attacker
/// who could choose collisions to slow it: a bad distribution costs time, never a result).
struct IntegerTable<Value> {
    private var keys: [UInt64]
    private var values: [Value?]
    private var used: [Bool]
    private var count = 0
    private var shift: UInt64

    init() {
        keys = [UInt64](repeating: 0, count: 64)
        values = [Value?](repeating: nil, count: 64)
        used = [Bool](repeating: false, count: 64)
        shift = 64 - 6
    }

    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    subscript(key: UInt64) -> Value? {
        get {
            var index = slot(key)
            while used[index] {
                if keys[index] == key { return values[index] }
                index = (index + 1) & (keys.count - 1)
            }
            return nil
        }
        set {
            guard let newValue else { return }  // entries are never removed
            var index = slot(key)
            while used[index] {
                if keys[index] == key {
                    values[index] = newValue
                    return
                }
                index = (index + 1) & (keys.count - 1)
            }
            keys[index] = key
            values[index] = newValue
            used[index] = true
            count += 1
            if count * 2 > keys.count { grow() }
        }
    }

    private mutating func grow() {
        let old = (keys, values, used)
        keys = [UInt64](repeating: 0, count: old.0.count * 2)
        values = [Value?](repeating: nil, count: old.0.count * 2)
        used = [Bool](repeating: false, count: old.0.count * 2)
        shift -= 1
        count = 0
        for index in old.0.indices where old.2[index] { self[old.0[index]] = old.1[index] }
    }
}
