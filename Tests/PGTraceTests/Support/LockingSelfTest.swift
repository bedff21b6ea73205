import PGTrace

/// The lock types lib/locking-selftest.c runs each case over, and how its LOCK() takes them.
/// (rlock is read_lock() with force_read_lock_recursive set: a recursive reader.)
enum SelfTestType: String, CaseIterable, CustomStringConvertible {
    case spin, wlock, rlock, mutex, wsem, rsem

    var description: String { rawValue }

    var lockType: LockType {
        switch self {
        case .spin: return .spinlock
        case .wlock, .rlock: return .rwlock
        case .mutex: return .mutex
        case .wsem, .rsem: return .rwsem
        }
    }

    var mode: LockMode {
        switch self {
        case .rlock: return .recursiveRead
        case .rsem: return .read
        default: return .write
        }
    }

    /// The prefix of the selftest's lock variables: lock_A, rwlock_A, mutex_A, rwsem_A.
    var prefix: String {
        switch self {
        case .spin: return "lock"
        case .wlock, .rlock: return "rwlock"
        case .mutex: return "mutex"
        case .wsem, .rsem: return "rwsem"
        }
    }
}

/// One test case of lib/locking-selftest.c, written with its macros. Locks are named as in
/// the selftest: A, B, C, D are classes of their own; X1 and X2 are two instances of class X.
struct LockingSelfTest {
    var trace = TraceBuilder()
    let type: SelfTestType

    init(_ type: SelfTestType = .spin) { self.type = type }

    private static func classLetter(_ name: String) -> String { String(name.prefix(1)) }

    private mutating func take(_ name: String, _ type: SelfTestType, mode: LockMode? = nil) {
        trace.declare("\(type.prefix)_\(Self.classLetter(name))", type.lockType)
        trace.acquire(
            "\(type.prefix)_\(Self.classLetter(name))", instance: "\(type.prefix)_\(name)",
            mode: mode ?? type.mode)
    }

    private mutating func drop(_ name: String, _ type: SelfTestType) {
        trace.release("\(type.prefix)_\(Self.classLetter(name))", instance: "\(type.prefix)_\(name)")
    }

    // The type-generic macros of locking-selftest-<type>.h.
    mutating func LOCK(_ name: String) { take(name, type) }
    mutating func UNLOCK(_ name: String) { drop(name, type) }
    mutating func LOCK_UNLOCK_2(_ x: String, _ y: String) {
        LOCK(x)
        LOCK(y)
        UNLOCK(y)
        UNLOCK(x)
    }

    // The fixed-type macros.
    mutating func L(_ name: String) { take(name, .spin) }
    mutating func U(_ name: String) { drop(name, .spin) }
    mutating func WL(_ name: String) { take(name, .wlock) }
    mutating func WU(_ name: String) { drop(name, .wlock) }
    mutating func RL(_ name: String) { take(name, .rlock) }
    mutating func RU(_ name: String) { drop(name, .rlock) }
    mutating func ML(_ name: String) { take(name, .mutex) }
    mutating func MU(_ name: String) { drop(name, .mutex) }
    mutating func WSL(_ name: String) { take(name, .wsem) }
    mutating func WSU(_ name: String) { drop(name, .wsem) }
    mutating func RSL(_ name: String) { take(name, .rsem) }
    mutating func RSU(_ name: String) { drop(name, .rsem) }

    /// lockdep's verdict: the rules of every finding pgtrace reports (empty is SUCCESS).
    func verdict() throws -> Set<Rule> {
        Set(try analyze(trace).findings.map(\.rule))
    }
}
