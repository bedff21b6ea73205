/// The kind of a lock class, as declared by `<class type=…>`; it decides which acquisition
/// modes make sense and how lockdep treats reads.
public enum LockType: String, Sendable, CaseIterable {
    case spinlock
    case rwlock
    case mutex
    case rwsem
    case kmapPool = "kmap-pool"
    /// raw_spinlock_t (and the arch locks): spins on every kernel, PREEMPT_RT's too.
    case rawSpinlock = "raw-spinlock"
    /// A lockdep map that is not a lock (`(wq_completion)events`, `fs_reclaim`): it orders
    /// like one, and is never spun or slept on.
    case map
    /// local_lock_t: preemption (or migration, on PREEMPT_RT) off on this cpu.
    case localLock = "local-lock"

    /// Whether holding a lock of this type makes the context atomic (a sleep is a bug).
    public var isSpinning: Bool {
        switch self {
        case .spinlock, .rwlock, .rawSpinlock, .localLock: return true
        case .mutex, .rwsem, .kmapPool, .map: return false
        }
    }

    /// Lockdep's wait_type_inner for a lock of this type (nil: never checked).
    public var defaultWait: WaitType? {
        switch self {
        case .rawSpinlock: return .spin
        case .spinlock, .rwlock, .localLock: return .config
        case .mutex, .rwsem: return .sleep
        case .map, .kmapPool: return nil
        }
    }
}

/// Lockdep's wait types (enum lockdep_wait_type), in order: what a context may do while it
/// waits for a lock. A lock may be taken where its outer type is at most the lowest inner type
/// of the locks its context holds (and of the context itself: `spin` in a hardirq).
public enum WaitType: String, Sendable, CaseIterable, Comparable {
    /// Wait-free (RCU's read side).
    case free
    /// Spins on every kernel (raw_spinlock_t).
    case spin
    /// Spins, but sleeps on PREEMPT_RT (spinlock_t): `spin` unless PROVE_RAW_LOCK_NESTING.
    case config
    /// Sleeps (mutex, rwsem).
    case sleep

    private var order: Int {
        switch self {
        case .free: return 1
        case .spin: return 2
        case .config: return 3
        case .sleep: return 4
        }
    }

    public static func < (lhs: WaitType, rhs: WaitType) -> Bool { lhs.order < rhs.order }

    /// The type lockdep compares: without PROVE_RAW_LOCK_NESTING, LD_WAIT_CONFIG is LD_WAIT_SPIN.
    public func effective(proveRawLockNesting: Bool) -> WaitType {
        self == .config && !proveRawLockNesting ? .spin : self
    }

    /// Lockdep's number for it, as its reports print `-{outer:inner}` and `context-{n:n}`
    /// (LD_WAIT_FREE 1, SPIN 2, CONFIG 3 or 2, SLEEP 4 or 3).
    public func lockdepNumber(proveRawLockNesting: Bool) -> Int {
        switch self {
        case .free: return 1
        case .spin: return 2
        case .config: return proveRawLockNesting ? 3 : 2
        case .sleep: return proveRawLockNesting ? 4 : 3
        }
    }

    /// LD_WAIT_MAX, the wait type of task context, by the same numbering.
    public static func lockdepMax(proveRawLockNesting: Bool) -> Int { proveRawLockNesting ? 5 : 4 }
}

/// A lock class as lockdep identifies it: the name and the nesting subclass.
public struct LockClassKey: Hashable, Sendable {
    public var name: Symbol
    public var subclass: Int

    public init(name: Symbol, subclass: Int = 0) {
        self.name = name
        self.subclass = subclass
    }

    /// Lockdep's MAX_LOCKDEP_SUBCLASSES (include/linux/lockdep_types.h): a subclass is 0 to 7,
    /// and lockdep refuses a larger one ("BUG: looking up invalid subclass", look_up_lock_class).
    /// Every reader holds a trace, a summary or a capture to it, so what a trace is read as
    /// and what its summary is read as are one rule.
    public static let subclasses = 8

    /// What a subclass may be, in lockdep's words, for error messages.
    public static let subclassRule = "0 to \(subclasses - 1) (lockdep's MAX_LOCKDEP_SUBCLASSES is \(subclasses))"
}

/// Dense integer id of a lock class: the node of the lock-order graph.
public typealias ClassID = Int32

/// How a lock was taken. Lockdep's `read` argument: 0 write, 1 read, 2 recursive read.
public enum LockMode: String, Sendable, CaseIterable {
    case write
    case read
    case recursiveRead = "recursive-read"

    /// Lockdep's `read` value: 0 write, 1 read, 2 recursive read.
    public var lockdepRead: Int {
        switch self {
        case .write: return 0
        case .read: return 1
        case .recursiveRead: return 2
        }
    }

    /// The mode of lockdep's `read` value (2 or more: a recursive read).
    init(lockdepRead read: Int) {
        switch read {
        case 0: self = .write
        case 1: self = .read
        default: self = .recursiveRead
        }
    }
}

/// The declared and discovered lock classes of an analysis, shared by all its traces.
public final class LockClassTable {
    public struct Entry: Sendable {
        public var key: LockClassKey
        public var type: LockType
        /// Pool size of a kmap series, when declared.
        public var slots: Int?
        /// Whether a trace declared the class, or pgtrace did (`declareBuiltin`). Where a trace
        /// did is in `LockClassTable.declarations`, once a name: kept here, the position took
        /// half of each class's 80 bytes.
        public var isDeclared = false
        /// A pseudo-lock pgtrace adds to the graph (an irqs-disabled region), not a kernel lock.
        public var isPseudo = false
        /// Declared `wait=` and `wait-outer=` (lockdep's wait_type_inner and _outer).
        public var declaredWait: WaitType?
        public var declaredWaitOuter: WaitType?
        /// Declared `novalidate="true"` (lockdep_set_novalidate_class): its acquisitions are
        /// lockdep's `check=0` ones (`HeldLock.validates`).
        public var novalidate = false

        /// Lockdep's wait_type_inner: declared, or its type's (nil: never checked).
        public var waitInner: WaitType? { declaredWait ?? type.defaultWait }
        /// Lockdep's wait_type_outer: declared, else the inner one.
        public var waitOuter: WaitType? { declaredWaitOuter ?? waitInner }
    }

    /// What a `<class>` declares of a class. Two declarations are the same when they mean
    /// the same (a wait type written out as its type's default is the default).
    public struct Declared: Equatable, Sendable, CustomStringConvertible {
        public var type: LockType
        public var slots: Int?
        public var wait: WaitType?
        public var waitOuter: WaitType?
        public var novalidate: Bool

        public init(
            type: LockType, slots: Int? = nil, wait: WaitType? = nil, waitOuter: WaitType? = nil, novalidate: Bool = false
        ) {
            self.type = type
            self.slots = slots
            self.wait = wait
            self.waitOuter = waitOuter
            self.novalidate = novalidate
        }

        var effectiveWait: WaitType? { wait ?? type.defaultWait }
        var effectiveWaitOuter: WaitType? { waitOuter ?? effectiveWait }

        public static func == (lhs: Declared, rhs: Declared) -> Bool {
            lhs.type == rhs.type && lhs.slots == rhs.slots && lhs.novalidate == rhs.novalidate
                && lhs.effectiveWait == rhs.effectiveWait && lhs.effectiveWaitOuter == rhs.effectiveWaitOuter
        }

        /// As a conflict names it: `spinlock`, `kmap-pool (16 slots)`, `map (wait config, wait-outer free, novalidate)`.
        public var description: String {
            var details: [String] = []
            if let slots { details.append("\(slots) slots") }
            if let wait { details.append("wait \(wait.rawValue)") }
            if let waitOuter { details.append("wait-outer \(waitOuter.rawValue)") }
            if novalidate { details.append("novalidate") }
            return type.rawValue + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")
        }
    }

    /// What every acquisition asks of its class, kept apart from its `Entry` (some 90 bytes)
    /// in 6 bytes: with 100k classes the replay's per-event reads span 0.6 MB, not 9 MB.
    public struct Traits: Sendable {
        public let type: LockType
        /// `Entry.novalidate`: acquired with lockdep's check=0.
        public let novalidate: Bool
        public let isPseudo: Bool
        /// Whether a trace or pgtrace declared the class (`Entry.isDeclared`).
        public let isDeclared: Bool
        public let waitInner: WaitType?
        public let waitOuter: WaitType?

        init(_ entry: Entry) {
            type = entry.type
            novalidate = entry.novalidate
            isPseudo = entry.isPseudo
            isDeclared = entry.isDeclared
            waitInner = entry.waitInner
            waitOuter = entry.waitOuter
        }
    }

    /// Each class's entry, by id: in chunks, where an array doubled and copied itself (a
    /// million cycles' two million classes touched some 150 bytes a class in it, on the
    /// replay's thread).
    @exclusivity(unchecked) private var table = ChunkedArray<Stored>()
    /// The subclasses past 254 (a library's: the readers allow 0 to 7), by class.
    @exclusivity(unchecked) private var wideSubclasses: [ClassID: Int] = [:]
    /// Each kmap pool's declared size, by class.
    @exclusivity(unchecked) private var slotsByID: [ClassID: Int] = [:]

    /// An entry as the table keeps it, in 12 bytes where `Entry` takes 40 (two million
    /// classes: 56 MB): a subclass past 254 and a pool's size are kept beside, by class.
    private struct Stored {
        var name: Symbol
        /// The subclass, or `wide` for one kept in `wideSubclasses`.
        var subclass: UInt8
        var type: LockType
        var isDeclared: Bool
        var isPseudo: Bool
        var novalidate: Bool
        /// Whether `slotsByID` holds the class's pool size.
        var hasSlots: Bool
        var declaredWait: WaitType?
        var declaredWaitOuter: WaitType?

        static let wide = UInt8.max
    }

    /// The bytes the table takes a class (for tests).
    static var bytesPerClass: Int { MemoryLayout<Stored>.stride }

    /// Keeps `entry` as class `id`'s: in its place, or as the next class.
    private func store(_ entry: Entry, as id: ClassID) {
        let subclass = (0..<Int(Stored.wide)).contains(entry.key.subclass) ? UInt8(entry.key.subclass) : Stored.wide
        // The tables beside are written only where they hold, or are to hold, the class: a
        // new class of a plain subclass and no pool, nearly every one, costs no hashing.
        let old = Int(id) < table.count ? table[Int(id)] : nil
        if subclass == Stored.wide { wideSubclasses[id] = entry.key.subclass } else if old?.subclass == Stored.wide { wideSubclasses[id] = nil }
        if let slots = entry.slots { slotsByID[id] = slots } else if old?.hasSlots == true { slotsByID[id] = nil }
        let stored = Stored(
            name: entry.key.name, subclass: subclass, type: entry.type, isDeclared: entry.isDeclared, isPseudo: entry.isPseudo,
            novalidate: entry.novalidate, hasSlots: entry.slots != nil, declaredWait: entry.declaredWait,
            declaredWaitOuter: entry.declaredWaitOuter)
        if Int(id) == table.count { table.append(stored) } else { table[Int(id)] = stored }
    }
    /// Each entry's `Traits`, by class id, rewritten wherever an entry changes.
    @exclusivity(unchecked) private var traitsByID: [Traits] = []
    /// The classes of keys with a subclass other than 0.
    @exclusivity(unchecked) private var ids: [LockClassKey: ClassID] = [:]
    /// The class of each name with subclass 0, by symbol (-1: none yet): the common case,
    /// kept here alone (in `ids` too, every new class cost two more hashed looks).
    @exclusivity(unchecked) private var plainIDs: [ClassID] = []
    @exclusivity(unchecked) private var declaredTypes: [Symbol: (declared: Declared, at: TracePosition, file: String)] = [:]

    public init() {}

    public var count: Int { table.count }

    public subscript(id: ClassID) -> Entry {
        let stored = table[Int(id)]
        var entry = Entry(
            key: LockClassKey(name: stored.name, subclass: stored.subclass == Stored.wide ? wideSubclasses[id]! : Int(stored.subclass)),
            type: stored.type)
        entry.slots = stored.hasSlots ? slotsByID[id] : nil
        entry.isDeclared = stored.isDeclared
        entry.isPseudo = stored.isPseudo
        entry.declaredWait = stored.declaredWait
        entry.declaredWaitOuter = stored.declaredWaitOuter
        entry.novalidate = stored.novalidate
        return entry
    }

    /// Every class's entry, by id: an array made on each call (one class is read by
    /// `subscript(id:)`).
    public var entries: [Entry] { (0..<ClassID(count)).map { self[$0] } }

    /// What the replay and the checkers ask of a class on every acquisition.
    @inline(__always) public func traits(of id: ClassID) -> Traits { traitsByID[Int(id)] }

    /// Where `name` was declared otherwise than `declared` (type, size or wait types), if it was.
    public func conflict(name: Symbol, _ declared: Declared) -> (file: String, line: Int, declared: Declared)? {
        guard let earlier = declaredTypes[name], earlier.declared != declared else { return nil }
        return (earlier.file, earlier.at.line, earlier.declared)
    }

    /// What pgtrace knows of a class no trace declared (lockdep's RCU maps): used when the
    /// class is made, and overridden by a trace's own declaration, never in conflict with it.
    /// A handful (the RCU flavors, `kernelBuiltins`), looked through in turn: a dictionary
    /// cost each new class a SipHash of its symbol (a million cycles make two million classes).
    @exclusivity(unchecked) private var builtins: [(name: Symbol, declared: Declared)] = []

    public func declareBuiltin(name: Symbol, _ declared: Declared) {
        if let index = builtins.firstIndex(where: { $0.name == name }) {
            builtins[index].declared = declared
        } else {
            builtins.append((name, declared))
        }
    }

    /// Classes the kernel itself sets apart from lockdep's checks, which a capture names but
    /// cannot declare: `&dev->mutex` (device_initialize's lockdep_set_novalidate_class: a
    /// parent's and a child's probe nest it), and `rcu_read_lock_trace` (rcu_lock_acquire, a
    /// check=0 recursive read of a map with no wait type).
    public static let kernelBuiltins: [(name: String, declared: Declared)] = [
        ("&dev->mutex", Declared(type: .mutex, novalidate: true)),
        ("rcu_read_lock_trace", Declared(type: .map, novalidate: true)),
    ]

    /// Records a `<class>` declaration; returns where the earlier one was if it conflicts.
    public func declare(name: Symbol, _ declared: Declared, at position: TracePosition, file: String) -> (file: String, line: Int)? {
        if let earlier = declaredTypes[name] {
            guard earlier.declared == declared else { return (earlier.file, earlier.at.line) }
            // The same declaration again: the one cited is the least by (file, line), not the
            // first read, so that it does not depend on the order of the traces.
            guard (file, position.line, position.column) < (earlier.file, earlier.at.line, earlier.at.column) else { return nil }
        }
        declaredTypes[name] = (declared, position, file)
        for index in table.indices where table[index].name == name {
            apply(declared, to: index)
            revision += 1
        }
        return nil
    }

    /// How many times a class that exists was changed (declared, or made a pseudo-lock): what
    /// remembers something of a class's type knows by this that it may be out of date.
    @exclusivity(unchecked) public private(set) var revision = 0

    private func apply(_ declared: Declared, to index: Int) {
        var entry = self[ClassID(index)]
        entry.type = declared.type
        entry.slots = declared.slots
        entry.declaredWait = declared.wait
        entry.declaredWaitOuter = declared.waitOuter
        entry.novalidate = declared.novalidate
        entry.isDeclared = true
        store(entry, as: ClassID(index))
        if index < traitsByID.count { traitsByID[index] = Traits(entry) }
    }

    /// The id of a pseudo-lock class named `name`, created on first use.
    public func pseudoClass(named name: Symbol) -> ClassID {
        let id = id(for: LockClassKey(name: name))
        var entry = self[id]
        if !entry.isPseudo { revision += 1 }
        entry.isPseudo = true
        store(entry, as: id)
        traitsByID[Int(id)] = Traits(entry)
        return id
    }

    public func type(of name: Symbol) -> LockType { declaredTypes[name]?.declared.type ?? .spinlock }

    /// Every `<class>` declaration of the traces, by name: what it declares and where.
    public var declarations: [(name: Symbol, declared: Declared, at: TracePosition)] {
        declaredTypes.map { ($0.key, $0.value.declared, $0.value.at) }
    }

    /// The class of `key` if it was used, without creating it.
    public func existingID(for key: LockClassKey) -> ClassID? {
        guard key.subclass == 0 else { return ids[key] }
        let symbol = Int(key.name.rawValue)
        return symbol < plainIDs.count && plainIDs[symbol] >= 0 ? plainIDs[symbol] : nil
    }

    /// The class of `key`, created on first use with its declared type, else `defaultType`.
    public func id(for key: LockClassKey, defaultType: LockType = .spinlock) -> ClassID {
        if let id = existingID(for: key) { return id }
        let id = ClassID(table.count)
        store(Entry(key: key, type: defaultType), as: id)
        // A trace that declares nothing is not looked up for each new class.
        if !declaredTypes.isEmpty, let declared = declaredTypes[key.name] {
            apply(declared.declared, to: table.count - 1)
        } else if let builtin = builtins.first(where: { $0.name == key.name }) {
            apply(builtin.declared, to: table.count - 1)
        }
        traitsByID.append(Traits(self[id]))
        if key.subclass == 0 {
            let symbol = Int(key.name.rawValue)
            plainIDs.grow(toInclude: symbol, filling: -1)
            plainIDs[symbol] = id
        } else {
            ids[key] = id
        }
        return id
    }
}
