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

    /// Its evidence's places: the event's, and the holder's (a dependency) or the lock's (a
    /// usage bit), as the log keeps them (`PackedFacts`).
    var sites: (site: EventSite, other: EventSite?) {
        switch self {
        case .usage(let fact): return (fact.site, fact.lockSite)
        case .dependency(let fact): return (fact.dependency.site, fact.dependency.holderSite)
        case .used(_, _, let site): return (site, nil)
        case .nmiAcquire(let fact): return (fact.site, nil)
        }
    }

    static func usageKey(_ id: ClassID, _ bit: LockUsage.Bit) -> GraphFactKey {
        GraphFactKey(kind: .usage, a: id, b: 0, detail: UInt16(bit.mask.rawValue))
    }

    static func dependencyKey(_ from: ClassID, _ to: ClassID, _ kind: DependencyKind, _ types: DependencyTypes) -> GraphFactKey {
        GraphFactKey(kind: GraphFactKey.Kind(kind), a: from, b: to, detail: UInt16(types.rawValue))
    }

    static func usedKey(_ id: ClassID, read: Bool) -> GraphFactKey { GraphFactKey(kind: .used, a: id, b: 0, detail: read ? 1 : 0) }

    static func nmiAcquireKey(_ key: LockClassKey, _ mode: LockMode, afterUse: Bool) -> GraphFactKey {
        GraphFactKey(kind: .nmiAcquire, a: key.name.rawValue, b: Int32(truncatingIfNeeded: key.subclass), detail: (mode == .write ? 0 : 1) | (afterUse ? 2 : 0))
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
    /// Which fact a key names; a dependency's kind is its own (`DependencyKind`).
    enum Kind: UInt8 {
        case usage, lockOrder, ipi, kmap, used, nmiAcquire

        init(_ kind: DependencyKind) {
            switch kind {
            case .lockOrder: self = .lockOrder
            case .ipi: self = .ipi
            case .kmap: self = .kmap
            }
        }

        /// The dependency's kind, if the key names a dependency.
        var dependencyKind: DependencyKind? {
            switch self {
            case .lockOrder: return .lockOrder
            case .ipi: return .ipi
            case .kmap: return .kmap
            case .usage, .used, .nmiAcquire: return nil
            }
        }
    }

    /// `kind`'s code, kept as a byte: the key's equality and hash stay a few integer
    /// operations, inlined into the log's lookups (as an enum, its synthesized `==` was
    /// called out of line there, and the lookups' closures retained the log: 2.5% more
    /// instructions on the replay thread).
    private var kindCode: UInt8
    // The detail beside the kind: the key is 12 bytes, and a packed fact 32 (`PackedFacts`).
    var detail: UInt16
    var a: ClassID
    var b: ClassID

    @inline(__always) var kind: Kind { Kind(rawValue: kindCode).unsafelyUnwrapped }

    /// Whether the key names a dependency (`kind.dependencyKind != nil`), read without the kind.
    @inline(__always) var isDependency: Bool { (Kind.lockOrder.rawValue...Kind.kmap.rawValue).contains(kindCode) }

    init(kind: Kind, a: ClassID, b: ClassID, detail: UInt16) {
        kindCode = kind.rawValue
        self.a = a
        self.b = b
        self.detail = detail
    }

    /// The log's hash of the key (`PositionIndex`): one multiply-mix, not Hasher's SipHash
    /// (a Dictionary of keys spent some 600 instructions a lookup, made at every new
    /// dependency and usage bit).
    var indexHash: UInt64 {
        let word = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        return PositionIndex.mix(word &+ UInt64(UInt32(kindCode) << 16 | UInt32(detail)) &* 0x9E37_79B9_7F4A_7C15)
    }
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

    /// The lock the dependency was made from, as its moment lists it (`MomentStore`).
    public var holder: ReplayMoment.Held { ReplayMoment.Held(classID: dependency.from, site: dependency.holderSite) }
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
