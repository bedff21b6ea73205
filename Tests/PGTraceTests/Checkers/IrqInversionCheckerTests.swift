@testable import PGTrace
import Testing

/// The headline of an irq-safe -> irq-unsafe report is lockdep's: print_bad_irq_dependency
/// names both halves after the safe side's usage (its irqclass is state_name(backward_bit)),
/// so a reader on the unsafe side alone changes nothing in it.
@Suite struct IrqInversionCheckerTests {
    /// B is taken in a hardirq; A, an rwlock, is read (with hardirqs on unless
    /// `irqsOffFirst`); then A is read under B with hardirqs off.
    func safeBThenReaderA(irqsOffFirst: Bool) throws -> [Finding] {
        var trace = TraceBuilder(cpus: 1)
        trace.declare("A", .rwlock)
        trace.event("hardirq-enter")
        trace.acquire("B")
        trace.release("B")
        trace.event("hardirq-exit")
        if irqsOffFirst { trace.event("irq-disable") }
        trace.acquire("A", mode: .read)
        trace.release("A")
        if !irqsOffFirst { trace.event("irq-disable") }
        trace.acquire("B")
        trace.acquire("A", mode: .read)
        return try analyze(trace).findings
    }

    /// B -> A joins a HARDIRQ-safe lock to a HARDIRQ-READ-unsafe one.
    @Test func aReaderOnTheUnsafeSideKeepsTheSafeSidesName() throws {
        let findings = try safeBThenReaderA(irqsOffFirst: false)
        #expect(findings.map(\.rule) == [.irqInversion])
        #expect(findings.first?.title == "HARDIRQ-safe -> HARDIRQ-unsafe lock order detected")
        #expect(findings.first?.locks == ["B", "A"])
        // print_bad_irq_dependency lists what the task holds as it takes A: B.
        #expect(findings.first?.heldLocks?.map(\.lock) == ["B"])
        #expect(findings.first?.heldLocks?.map(\.evidence.event) == [7])
        // print_bad_irq_dependency's body, in lockdep's words.
        let text = TextReporter().render(try #require(findings.first))
        #expect(text.contains("\ncpu 0 [HC0[0]:SC0[0]:HE0:SE1] is trying to acquire:\n (A), at: "))
        #expect(text.contains("\nwhich would create a new lock dependency:\n (B) -> (A)\n"))
        #expect(text.contains("\nbut this new dependency connects a HARDIRQ-irq-safe lock:\n (B)\n"))
        #expect(text.contains("\nto a HARDIRQ-irq-unsafe lock:\n (A)\n"))
    }

    /// Its fixed twin: A read with hardirqs off everywhere is never HARDIRQ-unsafe.
    @Test func theSameReaderWithHardirqsOffIsNoInversion() throws {
        #expect(try safeBThenReaderA(irqsOffFirst: true).map(\.rule) == [])
    }

    /// A hardirq-safe A, then A -> L -> B with B hardirq-unsafe: an inversion through an
    /// ordinary lock L, none through a local lock, which lockdep's usage_skip passes over.
    @Test(arguments: [(LockType.spinlock, true), (LockType.localLock, false)])
    func anInversionThroughALocalLockIsNone(_ middle: LockType, _ reported: Bool) throws {
        var trace = TraceBuilder(cpus: 1)
        trace.declare("L", middle)
        trace.event("hardirq-enter")
        trace.acquire("A")
        trace.release("A")
        trace.event("hardirq-exit")
        trace.acquire("B")
        trace.release("B")
        trace.event("irq-disable")
        trace.acquire("A")
        trace.acquire("L")
        trace.acquire("B")
        let findings = try analyze(trace).findings
        #expect(findings.map(\.rule) == (reported ? [.irqInversion] : []))
    }
}
