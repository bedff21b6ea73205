/// A map from 64-bit keys (lock addresses, pids, packed symbols) to small values, by open
/// addressing with a multiplicative hash: what a reader looks up at every record, and the
/// replay at every acquisition of a partial trace, without the cost of the
/// standard library's seeded hashing (the keys come from the kernel, not from an attacker
/// who could choose collisions to slow it: a bad distribution costs time, never a result).
/// A slot with a value is a used one; a removal shifts back the entries that probed past
/// it (linear probing's deletion without tombstones).
struct IntegerTable<Value> {
    private var keys: [UInt64]
    private var values: [Value?]
    private(set) var count = 0
    private var shift: UInt64

    /// A table with room for `capacity` entries (rounded up to a power of two) before it grows.
    init(capacity: Int = 32) {
        var bits: UInt64 = 3
        while 1 << bits < 2 * capacity { bits += 1 }
        keys = [UInt64](repeating: 0, count: 1 << bits)
        values = [Value?](repeating: nil, count: 1 << bits)
        shift = 64 - bits
    }

    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    subscript(key: UInt64) -> Value? {
        get {
            var index = slot(key)
            while let value = values[index] {
                if keys[index] == key { return value }
                index = (index + 1) & (keys.count - 1)
            }
            return nil
        }
        set {
            guard let newValue else { return }
            var index = slot(key)
            while values[index] != nil {
                if keys[index] == key {
                    values[index] = newValue
                    return
                }
                index = (index + 1) & (keys.count - 1)
            }
            keys[index] = key
            values[index] = newValue
            count += 1
            if count * 2 > keys.count { grow() }
        }
    }

    /// Removes `key`'s entry, if any.
    mutating func removeValue(forKey key: UInt64) {
        let mask = keys.count - 1
        var hole = slot(key)
        while true {
            guard values[hole] != nil else { return }
            if keys[hole] == key { break }
            hole = (hole + 1) & mask
        }
        values[hole] = nil
        count -= 1
        // Each entry after the hole, up to the next empty slot, moves into it unless its home
        // slot lies cyclically in (hole, its slot]: a lookup from its home would stop at the hole.
        var next = (hole + 1) & mask
        while values[next] != nil {
            let home = slot(keys[next])
            let homeIsPastHole = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if !homeIsPastHole {
                keys[hole] = keys[next]
                values[hole] = values[next]
                values[next] = nil
                hole = next
            }
            next = (next + 1) & mask
        }
    }

    private mutating func grow() {
        let old = (keys, values)
        keys = [UInt64](repeating: 0, count: old.0.count * 2)
        values = [Value?](repeating: nil, count: old.0.count * 2)
        shift -= 1
        count = 0
        for index in old.0.indices { if let value = old.1[index] { self[old.0[index]] = value } }
    }
}
