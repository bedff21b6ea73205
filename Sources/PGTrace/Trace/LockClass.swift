/// The kind of a lock class, as declared by `<class type=…>`; it decides which acquisition
/// modes make sense and how lockdep treats reads.
public enum LockType: String, Sendable, CaseIterable {
    case spinlock
    case rwlock
    case mutex
    case rwsem
    case kmapPool = "kmap-pool"

    /// Whether holding a lock of this type makes the context atomic (a sleep is a bug).
    public var isSpinning: Bool { self == .spinlock || self == .rwlock }
}

/// A lock class as lockdep identifies it: the name and the nesting subclass.
public struct LockClassKey: Hashable, Sendable {
    public var name: Symbol
    public var subclass: Int

    public init(name: Symbol, subclass: Int = 0) {
        self.name = name
        self.subclass = subclass
    }
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
}

/// The declared and discovered lock classes of an analysis, shared by all its traces.
public final class LockClassTable {
    public struct Entry: Sendable {
        public var key: LockClassKey
        public var type: LockType
        /// Pool size of a kmap series, when declared.
        public var slots: Int?
        /// Where the type was declared, if it was.
        public var declaredAt: TracePosition?
        /// A pseudo-lock pgtrace adds to the graph (an irqs-disabled region), not a kernel lock.
        public var isPseudo = false
    }

    @exclusivity(unchecked) public private(set) var entries: [Entry] = []
    @exclusivity(unchecked) private var ids: [LockClassKey: ClassID] = [:]
    /// The class of each name with subclass 0, by symbol: the common case without hashing.
    @exclusivity(unchecked) private var plainIDs: [ClassID] = []
    @exclusivity(unchecked) private var declaredTypes: [Symbol: (type: LockType, slots: Int?, at: TracePosition, file: String)] = [:]

    public init() {}

    public var count: Int { entries.count }

    public subscript(id: ClassID) -> Entry { entries[Int(id)] }

    /// Records a `<class>` declaration; returns where the earlier one was if it conflicts.
    /// Where `name` was declared with another type or size than this, if it was.
    public func conflict(name: Symbol, type: LockType, slots: Int?) -> (file: String, line: Int, type: LockType)? {
        guard let earlier = declaredTypes[name], earlier.type != type || earlier.slots != slots else { return nil }
        return (earlier.file, earlier.at.line, earlier.type)
    }

    public func declare(
        name: Symbol, type: LockType, slots: Int?, at position: TracePosition, file: String
    ) -> (file: String, line: Int)? {
        if let earlier = declaredTypes[name] {
            return earlier.type == type && earlier.slots == slots ? nil : (earlier.file, earlier.at.line)
        }
        declaredTypes[name] = (type, slots, position, file)
        for index in entries.indices where entries[index].key.name == name {
            entries[index].type = type
            entries[index].slots = slots
            entries[index].declaredAt = position
        }
        return nil
    }

    /// The id of a pseudo-lock class named `name`, created on first use.
    public func pseudoClass(named name: Symbol) -> ClassID {
        let id = id(for: LockClassKey(name: name))
        entries[Int(id)].isPseudo = true
        return id
    }

    public func type(of name: Symbol) -> LockType { declaredTypes[name]?.type ?? .spinlock }

    /// The class of `key`, created on first use with its declared type, else `defaultType`.
    public func id(for key: LockClassKey, defaultType: LockType = .spinlock) -> ClassID {
        let symbol = Int(key.name.rawValue)
        if key.subclass == 0, symbol < plainIDs.count, plainIDs[symbol] >= 0 { return plainIDs[symbol] }
        if let id = ids[key] { return id }
        let id = ClassID(entries.count)
        let declared = declaredTypes[key.name]
        entries.append(
            Entry(key: key, type: declared?.type ?? defaultType, slots: declared?.slots,
                  declaredAt: declared?.at))
        ids[key] = id
        if key.subclass == 0 {
            if symbol >= plainIDs.count { plainIDs += Array(repeating: -1, count: symbol + 1 - plainIDs.count) }
            plainIDs[symbol] = id
        }
        return id
    }
}
