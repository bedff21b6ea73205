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

/// The irq the IRQ_*() macros of a test mean.
enum SelfTestIrq: String, CaseIterable, CustomStringConvertible {
    case hard, soft
    var description: String { rawValue }
}

/// One test case of lib/locking-selftest.c, written with its macros. Locks are named as in
/// the selftest: A, B, C, D are classes of their own; X1 and X2 are two instances of class X.
struct LockingSelfTest {
    var trace = TraceBuilder()
    let type: SelfTestType
    /// Which irq the IRQ_*() macros mean (locking-selftest-hardirq.h or -softirq.h).
    let irq: SelfTestIrq

    init(_ type: SelfTestType = .spin, irq: SelfTestIrq = .hard) {
        self.type = type
        self.irq = irq
    }

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

    // The irq macros, as lib/locking-selftest.c defines them.
    mutating func HARDIRQ_DISABLE() { trace.event("irq-disable") }
    mutating func HARDIRQ_ENABLE() { trace.event("irq-enable") }
    mutating func HARDIRQ_ENTER() {
        trace.event("irq-disable")
        trace.event("hardirq-enter", [("irq", "0")])
    }
    mutating func HARDIRQ_EXIT() {
        trace.event("hardirq-exit")
        trace.event("irq-enable")
    }
    mutating func SOFTIRQ_DISABLE() { trace.event("bh-disable") }
    mutating func SOFTIRQ_ENABLE() { trace.event("bh-enable") }
    mutating func SOFTIRQ_ENTER() {
        trace.event("bh-disable")
        trace.event("irq-disable")
        trace.event("softirq-enter", [("vec", "TIMER")])
    }
    mutating func SOFTIRQ_EXIT() {
        trace.event("softirq-exit")
        trace.event("irq-enable")
        trace.event("bh-enable")
    }
    mutating func IRQ_DISABLE() { irq == .hard ? HARDIRQ_DISABLE() : SOFTIRQ_DISABLE() }
    mutating func IRQ_ENABLE() { irq == .hard ? HARDIRQ_ENABLE() : SOFTIRQ_ENABLE() }
    mutating func IRQ_ENTER() { irq == .hard ? HARDIRQ_ENTER() : SOFTIRQ_ENTER() }
    mutating func IRQ_EXIT() { irq == .hard ? HARDIRQ_EXIT() : SOFTIRQ_EXIT() }

    /// local_lock() and local_unlock() on local_A (LOCKTYPE_LL): a class of type local-lock.
    mutating func local_lock(_ name: String) {
        trace.declare("local_\(Self.classLetter(name))", .localLock)
        trace.acquire("local_\(Self.classLetter(name))", instance: "local_\(name)")
    }
    mutating func local_unlock(_ name: String) {
        trace.release("local_\(Self.classLetter(name))", instance: "local_\(name)")
    }

    /// read_lock() on a queued rwlock, as the kernel runs it with force_read_lock_recursive
    /// off: recursive only in interrupt context (pgtrace decides, from mode="read").
    mutating func read_lock(_ name: String) { take(name, .wlock, mode: .read) }
    mutating func read_unlock(_ name: String) { drop(name, .wlock) }

    /// lockdep's verdict: the rules of every finding pgtrace reports (empty is SUCCESS).
    func verdict() throws -> Set<Rule> {
        Set(try analyze(trace).findings.map(\.rule))
    }
}
