@testable import PGTrace
import Testing

/// `irq-inconsistent` as lockdep's print_usage_bug shows it: the held-lock list at the moment
/// the usage bit is set, without the lock being taken (mark_usage runs before it is held),
/// with every lock held when irqs are re-enabled (mark_held_locks).
@Suite struct IrqUsageCheckerTests {
    @Test func aLockTakenInAnIrqListsWhatTheIrqHolds() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "t"
        trace.acquire("B")
        trace.release("B")
        trace.event("hardirq-enter", [("irq", "5")])
        trace.acquire("C")
        trace.acquire("B")
        // (C -> B also joins an irq-safe lock to an irq-unsafe one: an irq-inversion besides.)
        let found = try analyze(trace).findings.filter { $0.rule == .irqInconsistent }
        #expect(found.count == 1)
        #expect(found.first?.heldLocks?.map(\.lock) == ["C"])
        #expect(found.first?.heldLocksHolder == "t on cpu 0")
    }

    @Test func irqsReenabledListEveryLockHeld() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "t"
        trace.event("hardirq-enter", [("irq", "5")])
        trace.acquire("B")
        trace.release("B")
        trace.event("hardirq-exit")
        trace.event("irq-disable")
        trace.acquire("A")
        trace.acquire("B")
        trace.event("irq-enable")
        let found = try analyze(trace).findings.filter { $0.rule == .irqInconsistent }
        #expect(found.count == 1)
        #expect(found.first?.heldLocks?.map(\.lock) == ["A", "B"])
    }
}
