/// Finds an element of a caller's array by its key without storing the key: an
/// open-addressing table of 8-byte slots, each an element's position and 32 bits of its
/// key's hash. Where the bits agree, the caller compares the element's key (`matches`).
/// The fact log and the lock graph index their facts and edges so (a Dictionary took 25-32
/// bytes an entry, as much as the edge it found), and a finding set its problems. Filled to
/// 3/4 at most.
struct PositionIndex {
    private struct Slot {
        var check: UInt32
        /// The element's position, or -1 for an empty slot.
        var position: Int32
    }

    private static let empty = Slot(check: 0, position: -1)
    private var slots = [Slot](repeating: empty, count: 1024)
    private(set) var count = 0

    /// The position of the element whose key has `hash` and `matches`.
    @inline(__always)
    func position(hash: UInt64, where matches: (Int) -> Bool) -> Int? {
        let check = UInt32(truncatingIfNeeded: hash >> 32)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot].position >= 0 {
            if slots[slot].check == check, matches(Int(slots[slot].position)) { return Int(slots[slot].position) }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Adds the element at `position`, whose key has `hash` (no element of its key is in the
    /// index). Elements are added in the order of their positions, from 0 (the caller's array
    /// appends them): `hashAt` gives the hashes of those added before, to place them again
    /// when the table grows.
    mutating func insert(hash: UInt64, position: Int, hashAt: (Int) -> UInt64) {
        precondition(position == count, "elements are indexed in the order of their positions")
        precondition(position < Int(Int32.max), "more than 2^31 - 1 elements")
        if (count + 1) * 4 > slots.count * 3 { grow(hashAt: hashAt) }
        Self.place(hash, position, in: &slots)
        count += 1
    }

    /// Room for `count` elements in all, so that adding them does not grow the table.
    mutating func reserveCapacity(_ count: Int, hashAt: (Int) -> UInt64) {
        while count * 4 > slots.count * 3 { grow(hashAt: hashAt) }
    }

    private static func place(_ hash: UInt64, _ position: Int, in table: inout [Slot]) {
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while table[slot].position >= 0 { slot = (slot + 1) & mask }
        table[slot] = Slot(check: UInt32(truncatingIfNeeded: hash >> 32), position: Int32(position))
    }

    /// Places every element again in a table twice the size, reading the caller's elements
    /// in the order of their positions: in the order of the slots, each was a random read of
    /// the caller's array, and the fact log's growths were half of the time it took to record
    /// the facts of a trace of 32k new classes.
    private mutating func grow(hashAt: (Int) -> UInt64) {
        var bigger = [Slot](repeating: Self.empty, count: slots.count * 2)
        for position in 0..<count { Self.place(hashAt(position), position, in: &bigger) }
        slots = bigger
    }

    /// splitmix64's finalizer: the hashes the index is given must spread over all 64 bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
