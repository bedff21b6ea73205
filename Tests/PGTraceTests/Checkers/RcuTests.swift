@testable import PGTrace
import Testing

/// RCU read-side sections as lockdep sees them: a check=0 recursive read of the flavor's map
/// class (rcu_read_lock, _bh, _sched), outer wait type free, inner config (config, spin).
@Suite struct RcuTests {
    func findings(proveRaw: Bool = false, _ body: (inout TraceBuilder) -> Void) throws -> [Finding] {
        var trace = TraceBuilder(cpus: 2)
        trace.declare("M", .mutex)
        trace.declare("S", .spinlock)
        if proveRaw { trace.proveRawLockNesting() }
        body(&trace)
        return try analyze(trace).findings
    }

    @Test func aMutexInsideAnRCUReadSideSectionIsAnInvalidWaitContext() throws {
        let found = try findings { t in
            t.event("rcu-read-lock")
            t.acquire("M")
        }
        #expect(found.map(\.rule) == [.invalidWaitContext])
        #expect(found.first?.locks == ["M", "rcu_read_lock"])
        // A spinlock_t is fine in rcu_read_lock (config), not in rcu_read_lock_sched (spin)
        // with PROVE_RAW_LOCK_NESTING.
        #expect(try findings(proveRaw: true) { t in
            t.event("rcu-read-lock")
            t.acquire("S")
        }.map(\.rule) == [])
        #expect(try findings(proveRaw: true) { t in
            t.event("rcu-read-lock", [("flavor", "sched")])
            t.acquire("S")
        }.map(\.rule) == [.invalidWaitContext])
    }

    @Test func dependenciesPassOverTheSection() throws {
        // A, rcu_read_lock, B is A -> B; nested sections are no recursion.
        let found = try findings { t in
            t.declare("A", .spinlock)
            t.declare("B", .spinlock)
            t.acquire("A")
            t.event("rcu-read-lock")
            t.event("rcu-read-lock")
            t.acquire("B")
            t.release("B")
            t.event("rcu-read-unlock")
            t.event("rcu-read-unlock")
            t.release("A")
            t.acquire("B")
            t.acquire("A")
        }
        #expect(found.map(\.rule) == [.circularDependency])
        #expect(found.first?.locks == ["A", "B"])
    }

    @Test func sleepingInsideASectionIsABug() throws {
        let found = try findings { t in
            t.event("rcu-read-lock")
            t.event("might-sleep")
        }
        #expect(found.map(\.rule) == [.sleepInAtomic])
        #expect(found.first?.message.contains("inside an RCU read-side section (RCU nest depth 1)") == true)
        // After the section, and for a mutex held, no.
        #expect(try findings { t in
            t.event("rcu-read-lock")
            t.event("rcu-read-unlock")
            t.acquire("M")
            t.event("might-sleep")
        }.map(\.rule) == [])
        // The bh flavor disables bh; the sched flavor preemption.
        #expect(try findings { t in
            t.event("rcu-read-lock", [("flavor", "bh")])
            t.event("might-sleep")
        }.first?.message.contains("with bh disabled") == true)
        #expect(try findings { t in
            t.event("rcu-read-lock", [("flavor", "sched")])
            t.event("might-sleep")
        }.first?.message.contains("with preemption disabled (preempt count 1)") == true)
        // preempt_disable() alone is a reason too.
        #expect(try findings { t in
            t.event("preempt-disable")
            t.event("might-sleep")
        }.map(\.rule) == [.sleepInAtomic])
    }
}
