import Glibc

/// An interned string: lock class names, instances, tasks, pages and source locations are
/// compared and stored as small integers, and turned back into text only for reports.
public struct Symbol: Hashable, Comparable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static func < (lhs: Symbol, rhs: Symbol) -> Bool { lhs.rawValue < rhs.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

/// The interning table behind `Symbol`, shared by every trace of one analysis so that a
/// class name means the same node of the lock-order graph in every file. It interns straight
/// from the parser's bytes: a name seen before costs a hash and a compare, no String.
///
/// One thread interns (the reader); another may read the names of symbols it was handed
/// (the replay, through a queue that orders the two): names live in segments that never
/// move once written. `isPastTheCaches`, `prefetchSlot` and `prefetchRecord` are the
/// interning thread's: they read the slots and records, which interning moves as they grow.
public final class SymbolTable: @unchecked Sendable {
    private static let segmentBits = 12
    private static let segmentSize = 1 << segmentBits
    private static let maximumSegments = 1 << 16
    private let segments: UnsafeMutablePointer<UnsafeMutablePointer<String>?>
    @exclusivity(unchecked) private var segmentCount = 0
    @exclusivity(unchecked) public private(set) var count = 0
    /// Each name's key, by symbol: all of a name of up to 16 bytes, so that a compare with
    /// it reads one record and nothing else; of a longer name its first 16 bytes, and where
    /// the rest is in `arena`. A record is half a cache line, and they start on a line, so
    /// that none spans two (an array's elements start 32 bytes into a block malloc aligns to
    /// 16, where half of them would).
    @exclusivity(unchecked) private var records = SymbolTable.allocateRecords(1 << 10)
    @exclusivity(unchecked) private var recordCapacity = 1 << 10
    /// The bytes past the 16th of every name longer than 16, back to back.
    @exclusivity(unchecked) private var arena = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 16)
    @exclusivity(unchecked) private var arenaCapacity = 1 << 16
    @exclusivity(unchecked) private var arenaCount = 0
    /// Open addressing, a name's first slot its hash's top bits: the hash's top 32 bits above
    /// its symbol index + 1 (`Slot`), or 0 for an empty slot. A probe passes over other names'
    /// slots by those bits, without reading their hashes or bytes elsewhere (one cache miss a
    /// slot, in a table of megabytes), and the table grows from the slots alone. Names of the
    /// same first slot share the top bits that chose it, so the check tells them apart by the
    /// 32 - log2(slots) bits below (10 at 4M slots): at most a compare of bytes for nothing in
    /// some thousand such slots passed. While the table doubles, both tables are held: 48 MB
    /// from 2M to 4M slots. Owned here as `records` are: an array's address, asked for a
    /// prefetch, was two retains and releases an attribute.
    @exclusivity(unchecked) private var slots = SymbolTable.allocateSlots(1 << Slot.initialBits)
    @exclusivity(unchecked) private var slotBits = Slot.initialBits
    private var slotCount: Int { 1 << slotBits }

    public init() {
        // From calloc, which hands back zeroed memory (a nil pointer is all zero bits). A
        // process's first block this size is mapped afresh, its pages untouched until a
        // segment is stored there, where writing the nils cost every run 128 page faults;
        // later ones may come from the heap (glibc raises its mmap threshold once a mapped
        // block is freed), and calloc zeroes those.
        let stride = MemoryLayout<UnsafeMutablePointer<String>?>.stride
        guard let zeroed = calloc(Self.maximumSegments, stride) else { fatalError("out of memory") }
        segments = zeroed.bindMemory(to: UnsafeMutablePointer<String>?.self, capacity: Self.maximumSegments)
    }

    deinit {
        for index in 0..<segmentCount {
            let used = min(Self.segmentSize, count - index * Self.segmentSize)
            segments[index]!.deinitialize(count: used)
            segments[index]!.deallocate()
        }
        free(segments)
        slots.deallocate()
        arena.deallocate()
        records.deallocate()
    }

    /// Every name, in symbol order (for tests and reports).
    public var names: [String] { (0..<count).map { self[Symbol(rawValue: Int32($0))] } }

    private func appendName(_ name: String) {
        let segment = count >> Self.segmentBits
        if segment == segmentCount {
            precondition(segment < Self.maximumSegments, "more than 268M distinct names")
            segments[segment] = .allocate(capacity: Self.segmentSize)
            segmentCount += 1
        }
        (segments[segment]! + (count & (Self.segmentSize - 1))).initialize(to: name)
        count += 1
    }

    public func intern(_ name: String) -> Symbol {
        var name = name
        return name.withUTF8 { intern(bytes: $0) }
    }

    /// The symbol of `bytes` if interned, else the empty slot where it goes.
    private func probe(_ bytes: UnsafeBufferPointer<UInt8>, _ key: NameKey, _ hash: UInt64) -> (symbol: Symbol?, slot: Int) {
        let check = Slot.check(hash)
        var slot = Slot.first(check, bits: slotBits)
        while slots[slot] != 0 {
            if Slot.check(of: slots[slot]) == check {
                let symbol = Symbol(rawValue: Int32(Slot.index(of: slots[slot])))
                if matches(symbol, key, bytes) { return (symbol, slot) }
            }
            slot = (slot + 1) & (slotCount - 1)
        }
        return (nil, slot)
    }

    public func intern(bytes: UnsafeBufferPointer<UInt8>) -> Symbol {
        intern(bytes: bytes, key: NameKey(bytes))
    }

    private func intern(bytes: UnsafeBufferPointer<UInt8>, key: NameKey) -> Symbol {
        let hash = Self.hash(key, bytes)
        let (found, slot) = probe(bytes, key, hash)
        if let found { return found }
        let index = count
        let rest = max(bytes.count - NameKey.inline, 0)
        if arenaCount + rest > arenaCapacity {
            let capacity = max(arenaCapacity * 2, arenaCount + rest)
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            bigger.update(from: arena, count: arenaCount)
            arena.deallocate()
            arena = bigger
            arenaCapacity = capacity
        }
        if rest > 0 { (arena + arenaCount).update(from: bytes.baseAddress! + NameKey.inline, count: rest) }
        if index == recordCapacity {
            let bigger = Self.allocateRecords(2 * recordCapacity)
            bigger.moveInitialize(from: records, count: index)
            records.deallocate()
            records = bigger
            recordCapacity *= 2
        }
        (records + index).initialize(to: Record(key: key, rest: arenaCount))
        arenaCount += rest
        appendName(String(decoding: bytes, as: UTF8.self))
        slots[slot] = Slot.make(check: Slot.check(hash), index: index)
        if count * 2 > slotCount { grow() }
        return Symbol(rawValue: Int32(index))
    }

    /// Slots from which a reader asks for names' places ahead (`prefetchSlot`,
    /// `prefetchRecord`): the table has them past 4,096 names, its slots 128 KB and its
    /// records in use 128 KB or more. On a host of 1 MB of L2 a core, where the decoding
    /// thread and the replay's take turns on a core as often as not, the kernel-shaped
    /// benchmark's 32k names (512 KB of slots, 1 MB of records) made `probe` 11% of all
    /// samples at 16M events, nearly all of them at its two loads, the slot and the record.
    static let prefetchedSlots = 1 << 14

    /// Whether the table is past the caches' size (`prefetchedSlots`), where asking for a
    /// name's places ahead is worth its hash.
    var isPastTheCaches: Bool { slotCount >= Self.prefetchedSlots }

    /// How many slots and records were asked for ahead (for tests: no value shows a hint).
    @exclusivity(unchecked) private(set) var hintsGiven = (slots: 0, records: 0)

    /// Asks for the slot where interning `bytes` begins its probe, and returns a ticket for
    /// `prefetchRecord(_:)`, some values later: a slot's value (`Slot`), the name's check
    /// above the slot's index + 1, so never 0.
    @inline(__always) func prefetchSlot(bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let check = Slot.check(Self.hash(bytes))
        let slot = Slot.first(check, bits: slotBits)
        PGTrace.prefetch(slots + slot)
        hintsGiven.slots &+= 1
        return Slot.make(check: check, index: slot)
    }

    /// Reads the slot of `ticket`, asked for before, and if it holds a name of the ticket's
    /// check, asks for that name's record, which the probe compares. A hint, whatever the
    /// ticket: the slot is taken within the table (which may have grown since, and the slot
    /// is then another), and a name's index is below `count`.
    @inline(__always) func prefetchRecord(_ ticket: UInt64) {
        let value = slots[Slot.index(of: ticket) & (slotCount - 1)]
        guard value != 0, Slot.check(of: value) == Slot.check(of: ticket) else { return }
        PGTrace.prefetch(records + Slot.index(of: value))
        hintsGiven.records &+= 1
    }

    /// Interns `bytes`, trying `hint` first: an attribute often repeats its last value (the
    /// same task, the same lock), which then costs one compare and no hash.
    public func intern(bytes: UnsafeBufferPointer<UInt8>, hint: inout Symbol?) -> Symbol {
        let key = NameKey(bytes)
        if let symbol = hint, matches(symbol, key, bytes) { return symbol }
        let symbol = intern(bytes: bytes, key: key)
        hint = symbol
        return symbol
    }

    /// Interns `bytes`, trying first the two symbols `recent` points at (a value's last two,
    /// the latest first), and keeps it there. A lock is released in the nest it was taken in
    /// (`A B B A`), so the value repeats one of its last two more often than its last alone,
    /// and then costs a compare or two instead of a probe: in a table of millions of names,
    /// a cache miss at its slot and another at its bytes.
    public func intern(bytes: UnsafeBufferPointer<UInt8>, recent: UnsafeMutablePointer<Symbol?>) -> Symbol {
        intern(bytes: bytes, key: NameKey(bytes), recent: recent)
    }

    /// `intern(bytes:recent:)` of a name whose key the caller has made.
    @inline(__always)
    func intern(bytes: UnsafeBufferPointer<UInt8>, key: NameKey, recent: UnsafeMutablePointer<Symbol?>) -> Symbol {
        if let symbol = recent[0], matches(symbol, key, bytes) { return symbol }
        let symbol: Symbol
        if let second = recent[1], matches(second, key, bytes) {
            symbol = second
        } else {
            symbol = intern(bytes: bytes, key: key)
        }
        recent[1] = recent[0]
        recent[0] = symbol
        return symbol
    }

    /// The symbol for `name` if it was interned before; nil otherwise.
    public func lookup(_ name: String) -> Symbol? {
        var name = name
        return name.withUTF8 { bytes in
            let key = NameKey(bytes)
            return probe(bytes, key, Self.hash(key, bytes)).symbol
        }
    }

    public subscript(symbol: Symbol) -> String {
        let index = Int(symbol.rawValue)
        return segments[index >> Self.segmentBits]![index & (Self.segmentSize - 1)]
    }

    /// Whether `symbol` is the name `bytes`, whose key is `key`: for a name of up to 16 bytes,
    /// whether their keys are the same, with no other read.
    @inline(__always)
    func matches(_ symbol: Symbol, _ key: NameKey, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let record = records[Int(symbol.rawValue)]
        guard record.key == key else { return false }
        guard key.length > NameKey.inline else { return true }
        return memcmp(arena + record.rest, bytes.baseAddress! + NameKey.inline, key.length - NameKey.inline) == 0
    }

    /// Twice the slots, filled from the slots alone: read in order, and written nearly in
    /// order (a name's first slot is its check's top bits).
    private func grow() {
        let bits = slotBits + 1
        let bigger = Self.allocateSlots(1 << bits)
        for value in UnsafeBufferPointer(start: slots, count: slotCount) where value != 0 {
            var slot = Slot.first(Slot.check(of: value), bits: bits)
            while bigger[slot] != 0 { slot = (slot + 1) & ((1 << bits) - 1) }
            bigger[slot] = value
        }
        slots.deallocate()
        slots = bigger
        slotBits = bits
    }

    /// A name's key, and where in `arena` the bytes past its 16th are (if it has any).
    private struct Record {
        let key: NameKey
        let rest: Int
    }

    /// `count` empty slots.
    private static func allocateSlots(_ count: Int) -> UnsafeMutablePointer<UInt64> {
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        slots.initialize(repeating: 0, count: count)
        return slots
    }

    /// Room for `count` records, from the start of a cache line.
    private static func allocateRecords(_ count: Int) -> UnsafeMutablePointer<Record> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Record>.stride, alignment: 64)
            .bindMemory(to: Record.self, capacity: count)
    }

    /// A slot's value: the hash's top 32 bits (its check) above the symbol's index + 1.
    private enum Slot {
        static let initialBits = 10

        static func check(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> 32) }
        static func check(of value: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: value >> 32) }
        static func index(of value: UInt64) -> Int { Int(UInt32(truncatingIfNeeded: value)) - 1 }
        static func make(check: UInt32, index: Int) -> UInt64 { UInt64(check) << 32 | UInt64(index + 1) }
        /// The first slot of a name of `check` in a table of 2^`bits` slots: its top bits.
        static func first(_ check: UInt32, bits: Int) -> Int { Int(check >> UInt32(32 - bits)) }
    }

    /// A multiply-and-mix hash over the bytes, eight at a time. The last word is loaded
    /// whole, overlapping the one before it, as are names of 4 to 7 bytes: most names are
    /// 6 to 16 bytes, and a byte-by-byte tail was a third of the hash's cost.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 { hash(NameKey(bytes), bytes) }

    /// The hash of `bytes`, whose key is `key`: the key's words are the ones the hash loads
    /// from a name of up to 16 bytes, so only a longer name's bytes are read again.
    static func hash(_ key: NameKey, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let count = key.length
        var hash = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        guard let base = bytes.baseAddress else { return hash }
        func mix(_ word: UInt64) {
            hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
        }
        let tail: UInt64
        switch count {
        case ..<8: tail = key.head  // every byte, 0 for none
        case ...NameKey.inline:
            if count > 8 { mix(key.head) }
            tail = key.tail
        default:
            let raw = UnsafeRawPointer(base)
            var offset = 0
            while offset + 8 < count {
                mix(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            tail = raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 29
        hash = hash &* 0xBF58_476D_1CE4_E5B9
        return hash ^ (hash >> 32)
    }
}

/// A name's length and two words of its bytes, loaded as `SymbolTable` compares them. Of a
/// name of up to 16 bytes (most lock, function and task names) they are every byte, so two
/// such names are the same exactly when their keys are; of a longer one, its first 16 bytes.
/// The words may overlap (the last 8 bytes of a name of 9 to 15; the last 4 of a name of 5
/// to 7), never reaching past either end.
struct NameKey: Equatable {
    /// The bytes a key holds whole.
    static let inline = 16

    let length: Int
    let head: UInt64
    let tail: UInt64

    @inline(__always)
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        let count = bytes.count
        length = count
        guard let base = bytes.baseAddress, count > 0 else {
            (head, tail) = (0, 0)
            return
        }
        let raw = UnsafeRawPointer(base)
        switch count {
        case 8...:
            head = raw.loadUnaligned(as: UInt64.self)
            tail = raw.loadUnaligned(fromByteOffset: min(count, Self.inline) - 8, as: UInt64.self)
        case 4..<8:
            head = UInt64(raw.loadUnaligned(as: UInt32.self)) | UInt64(raw.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)) << 32
            tail = 0
        default:  // 1 to 3 bytes: the first, middle and last are all of them.
            head = UInt64(base[0]) | UInt64(base[count >> 1]) << 8 | UInt64(base[count - 1]) << 16
            tail = 0
        }
    }
}
