/// One thing the replay taught the lock-order graph, with the evidence that showed it first:
/// a class got an irq usage bit, a dependency got a type bit, a class was used (lockdep's
/// LOCK_USED), a lock was taken in NMI. The graph checks see facts, never the replay, so the
/// same facts give the same findings however they were gathered: from one run over the
/// traces, or merged from summaries of any grouping of them (`GraphFactLog`).
public enum GraphFact: Sendable {
    case usage(UsageFact)
    case dependency(DependencyFact)
    /// A class used outside NMI, for a write or a read (verify_lock_unused's LOCK_USED bits).
    case used(classID: ClassID, read: Bool, site: EventSite)
    /// A lock (not a trylock) taken in NMI.
    case nmiAcquire(NmiAcquireFact)

    /// Which fact this is, whatever its evidence: the log keeps one of each, the least.
    public var key: GraphFactKey {
        switch self {
        case .usage(let fact):
            return Self.usageKey(fact.classID, fact.bit)
        case .dependency(let fact):
            let dependency = fact.dependency
            return Self.dependencyKey(dependency.from, dependency.to, dependency.kind, dependency.types)
        case .used(let id, let read, _):
            return Self.usedKey(id, read: read)
        case .nmiAcquire(let fact):
            return Self.nmiAcquireKey(fact.key, fact.mode, afterUse: fact.afterUse)
        }
    }

    static func usageKey(_ id: ClassID, _ bit: LockUsage.Bit) -> GraphFactKey {
        GraphFactKey(kind: 0, a: id, b: 0, detail: UInt16(bit.mask.rawValue))
    }

    static func dependencyKey(_ from: ClassID, _ to: ClassID, _ kind: DependencyKind, _ types: DependencyTypes) -> GraphFactKey {
        let code: UInt8
        switch kind {
        case .lockOrder: code = 1
        case .ipi: code = 2
        case .kmap: code = 3
        }
        return GraphFactKey(kind: code, a: from, b: to, detail: UInt16(types.rawValue))
    }

    static func usedKey(_ id: ClassID, read: Bool) -> GraphFactKey { GraphFactKey(kind: 4, a: id, b: 0, detail: read ? 1 : 0) }

    static func nmiAcquireKey(_ key: LockClassKey, _ mode: LockMode, afterUse: Bool) -> GraphFactKey {
        GraphFactKey(kind: 5, a: key.name.rawValue, b: Int32(truncatingIfNeeded: key.subclass), detail: (mode == .write ? 0 : 1) | (afterUse ? 2 : 0))
    }

    /// `self` (the fact kept) with what `other`, the same fact from other evidence, adds:
    /// nothing, but for a counted fact (an NMI acquisition), whose counts add up.
    func combined(with other: GraphFact) -> GraphFact {
        guard case .nmiAcquire(var kept) = self, case .nmiAcquire(let more) = other else { return self }
        let (sum, overflow) = kept.count.addingReportingOverflow(more.count)
        kept.count = overflow ? Int.max : sum
        return .nmiAcquire(kept)
    }
}

/// A fact's identity: its kind, the classes and the bit it is about.
public struct GraphFactKey: Hashable, Sendable {
    var kind: UInt8
    var a: ClassID
    var b: ClassID
    var detail: UInt16
}

/// A class got an irq usage bit: taken in an irq, taken with an irq enabled, or held when
/// one was enabled (mark_held_locks).
public struct UsageFact: Sendable {
    public var classID: ClassID
    public var bit: LockUsage.Bit
    /// Where the bit was set.
    public var site: EventSite
    /// Where the lock was taken (`site` too, but where irqs were enabled over it), and how.
    public var lockSite: EventSite
    public var lockMode: LockMode
    public var moment: MomentID
}

/// A dependency of one type bit (lockdep's calc_dep_bit gives one per acquisition), with the
/// modes of its two locks and the replay's state when it was made (lock order only).
public struct DependencyFact: Sendable {
    public var dependency: LockDependency
    public var holderMode: LockMode
    public var nextMode: LockMode
    public var moment: MomentID?
}

/// A lock taken in NMI context: the first of its class (named by its key: the class may be
/// used only in another trace), mode and whether its trace used the class before in a way
/// it conflicts with; `count`, every such acquisition of every trace.
public struct NmiAcquireFact: Sendable {
    public var key: LockClassKey
    public var mode: LockMode
    public var afterUse: Bool
    public var site: EventSite
    public var moment: MomentID
    public var count: Int
}

/// The log's index of its facts by key: an open-addressing table of packed keys, hashed with
/// one multiply-mix, not Hasher's SipHash (a Dictionary of GraphFactKey spent some 600
/// instructions a lookup, looked up at every new dependency and usage bit).
struct GraphFactIndex {
    private struct Slot {
        var word: UInt64
        var tag: UInt32
        /// The entry's position, or -1 for an empty slot.
        var position: Int32
    }

    private var slots = [Slot](repeating: Slot(word: 0, tag: 0, position: -1), count: 1024)
    private(set) var count = 0

    private static func pack(_ key: GraphFactKey) -> (UInt64, UInt32) {
        (UInt64(UInt32(bitPattern: key.a)) << 32 | UInt64(UInt32(bitPattern: key.b)), UInt32(key.kind) << 16 | UInt32(key.detail))
    }

    private static func hash(_ word: UInt64, _ tag: UInt32) -> Int {
        // splitmix64's finalizer over the two words.
        var z = word &+ UInt64(tag) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: z ^ (z >> 31))
    }

    subscript(key: GraphFactKey) -> Int? {
        let (word, tag) = Self.pack(key)
        var slot = Self.hash(word, tag) & (slots.count - 1)
        while slots[slot].position >= 0 {
            if slots[slot].word == word, slots[slot].tag == tag { return Int(slots[slot].position) }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Adds `key` (not already there) at `position`.
    mutating func insert(_ key: GraphFactKey, position: Int) {
        if (count + 1) * 2 > slots.count { grow() }
        let (word, tag) = Self.pack(key)
        place(Slot(word: word, tag: tag, position: Int32(position)), in: &slots)
        count += 1
    }

    private func place(_ entry: Slot, in table: inout [Slot]) {
        var slot = Self.hash(entry.word, entry.tag) & (table.count - 1)
        while table[slot].position >= 0 { slot = (slot + 1) & (table.count - 1) }
        table[slot] = entry
    }

    private mutating func grow() {
        var bigger = [Slot](repeating: Slot(word: 0, tag: 0, position: -1), count: slots.count * 2)
        for entry in slots where entry.position >= 0 { place(entry, in: &bigger) }
        slots = bigger
    }
}
