/// Finds an element of a caller's array by its key without storing the key: an
/// open-addressing table of 8-byte slots, each an element's position and 32 bits of its
/// key's hash. Where the bits agree, the caller compares the element's key (`matches`).
/// The fact log and the lock graph index their facts and edges so (a Dictionary took 25-32
/// bytes an entry, as much as the edge it found), and a finding set its problems. Filled to
/// 3/4 at most.
struct PositionIndex {
    private struct Slot {
        /// The hash's high 32 bits.
        var check: UInt32
        /// The element's position, or -1 for an empty slot.
        var position: Int32
    }

    private static let empty = Slot(check: 0, position: -1)
    private var slots = [Slot](repeating: empty, count: 1024)
    private(set) var count = 0

    /// The table's size, in slots (for tests: what a reservation made).
    var slotCount: Int { slots.count }

    /// log2 of `slots.count`, a power of two.
    @inline(__always) private var bits: Int { slots.count.trailingZeroBitCount }

    /// Where an element of `hash` is first looked for: the hash's top `bits` bits, which the
    /// slot's check holds, so that a table twice the size places each element again from its
    /// slot alone. (By the low bits, growing read each element's key again from the caller,
    /// and wrote the bigger table in a random order: 69% of recording a fact at a million
    /// short cycles was the log's index growing.)
    @inline(__always) private static func home(_ hash: UInt64, bits: Int) -> Int { Int(truncatingIfNeeded: hash >> (64 - bits)) }

    /// The position of the element whose key has `hash` and `matches`.
    @inline(__always)
    func position(hash: UInt64, where matches: (Int) -> Bool) -> Int? {
        let check = UInt32(truncatingIfNeeded: hash >> 32)
        let mask = slots.count - 1
        var slot = Self.home(hash, bits: bits)
        while slots[slot].position >= 0 {
            if slots[slot].check == check, matches(Int(slots[slot].position)) { return Int(slots[slot].position) }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Asks for the cache line where `position(hash:)` and `insert(hash:)` begin (`prefetch`).
    /// Mutating only so that the table is read in place: a copy would retain it.
    mutating func prefetch(hash: UInt64) {
        let slot = Self.home(hash, bits: bits)
        slots.withUnsafeBufferPointer { PGTrace.prefetch($0.baseAddress! + slot) }
    }

    /// Adds the element at `position`, whose key has `hash` (no element of its key is in the
    /// index).
    mutating func insert(hash: UInt64, position: Int) {
        precondition((0..<Int(Int32.max)).contains(position), "a position past 2^31 - 2")
        if (count + 1) * 4 > slots.count * 3 { grow(to: bits + 1) }
        Self.place(check: UInt32(truncatingIfNeeded: hash >> 32), home: Self.home(hash, bits: bits), position: Int32(position), in: &slots)
        count += 1
    }

    /// Room for `count` elements in all, so that adding them does not grow the table: made in
    /// one step, not by doubling.
    mutating func reserveCapacity(_ count: Int) {
        var wanted = bits
        while count * 4 > (1 << wanted) * 3 { wanted += 1 }
        if wanted > bits { grow(to: wanted) }
    }

    private static func place(check: UInt32, home: Int, position: Int32, in table: inout [Slot]) {
        let mask = table.count - 1
        var slot = home
        while table[slot].position >= 0 { slot = (slot + 1) & mask }
        table[slot] = Slot(check: check, position: position)
    }

    /// Places every element again in a table of 2^`bigger` slots, from its slot's check:
    /// taken in the order of the slots, each goes near its slot times the growth, so both
    /// tables are read and written in order. (A table of 2^32 slots, past which the check
    /// would not say where an element goes, holds more than the 2^31 - 1 positions.)
    private mutating func grow(to bigger: Int) {
        precondition(bigger <= 32, "an index of more than 2^32 slots")
        var table = [Slot](repeating: Self.empty, count: 1 << bigger)
        for slot in slots where slot.position >= 0 {
            Self.place(check: slot.check, home: Int(slot.check >> (32 - bigger)), position: slot.position, in: &table)
        }
        slots = table
    }

    /// splitmix64's finalizer: the hashes the index is given must spread over all 64 bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
