@testable import PGTrace
import Testing

/// lib/locking-selftest.c's wait_context_tests, run (as the kernel runs them) with
/// PROVE_RAW_LOCK_NESTING: each `inner_in_outer` case enters the outer context (a hardirq,
/// threaded as HARDIRQ_ENTER's lockdep_hardirq_threaded() makes it, or not; a softirq; an RCU
/// read-side section of each flavor; a held raw spinlock, spinlock or mutex) and then takes
/// the inner (rcu_read_lock, a raw spinlock, a spinlock, a mutex). The expected verdicts are
/// the file's table: "o: inner is allowed in outer, x: inner is disallowed in outer".
@Suite struct WaitContextSelfTests {
    enum Outer: String, CaseIterable, CustomStringConvertible {
        case HARDIRQ, NOTTHREADED_HARDIRQ, SOFTIRQ, RCU, RCU_BH, RCU_SCHED, raw_spinlock, spinlock, mutex
        var description: String { rawValue }
    }

    enum Inner: String, CaseIterable, CustomStringConvertible {
        case RCU, raw_spinlock, spinlock, mutex
        var description: String { rawValue }
    }

    /// The DO_CONTEXT_TESTCASE_OUTER_* macro each outer context is run with: which inner
    /// locks it allows.
    static func allowed(_ inner: Inner, in outer: Outer) -> Bool {
        switch outer {
        // DO_CONTEXT_TESTCASE_OUTER_PREEMPTIBLE
        case .mutex: return true
        // DO_CONTEXT_TESTCASE_OUTER_LIMITED_PREEMPTIBLE
        case .HARDIRQ, .SOFTIRQ, .RCU, .RCU_BH, .spinlock: return inner != .mutex
        // DO_CONTEXT_TESTCASE_OUTER_NOT_PREEMPTIBLE
        case .NOTTHREADED_HARDIRQ, .RCU_SCHED, .raw_spinlock: return inner == .RCU || inner == .raw_spinlock
        }
    }

    static let cases: [(Outer, Inner)] = Outer.allCases.flatMap { outer in Inner.allCases.map { (outer, $0) } }

    @Test(arguments: cases)
    func innerInOuterGivesLockdepsVerdict(_ outer: Outer, _ inner: Inner) throws {
        var t = TraceBuilder(cpus: 1)
        t.proveRawLockNesting()
        t.declare("raw_lock_A", .rawSpinlock)
        t.declare("raw_lock_B", .rawSpinlock)
        t.declare("lock_A", .spinlock)
        t.declare("lock_B", .spinlock)
        t.declare("mutex_A", .mutex)
        t.declare("mutex_B", .mutex)
        // guard(outer)(outer_lock)
        switch outer {
        case .HARDIRQ: t.event("hardirq-enter", [("irq", "1"), ("threaded", "true")])
        case .NOTTHREADED_HARDIRQ: t.event("hardirq-enter", [("irq", "1")])
        case .SOFTIRQ: t.event("softirq-enter", [("vec", "TIMER")])
        case .RCU: t.event("rcu-read-lock")
        case .RCU_BH: t.event("rcu-read-lock", [("flavor", "bh")])
        case .RCU_SCHED: t.event("rcu-read-lock", [("flavor", "sched")])
        case .raw_spinlock: t.acquire("raw_lock_A")
        case .spinlock: t.acquire("lock_A")
        case .mutex: t.acquire("mutex_A")
        }
        // guard(inner)(inner_lock)
        switch inner {
        case .RCU: t.event("rcu-read-lock")
        case .raw_spinlock: t.acquire("raw_lock_B")
        case .spinlock: t.acquire("lock_B")
        case .mutex: t.acquire("mutex_B")
        }
        let rules = try analyze(t).findings.map(\.rule)
        #expect(rules == (Self.allowed(inner, in: outer) ? [] : [.invalidWaitContext]), "\(inner)_in_\(outer)")
    }
}
