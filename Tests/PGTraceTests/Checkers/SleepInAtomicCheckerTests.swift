@testable import PGTrace
import Testing

/// `might-sleep` and sleeping kmaps where the cpu cannot schedule, reported as the kernel's
/// __might_resched prints it: the held locks, and
/// in_atomic(), irqs_disabled(), the preempt count (built as the kernel's: the preempt_disable
/// nesting and spinning locks held in the low byte, 0x100 a softirq served, 0x200 a
/// local_bh_disable, 0x10000 a hardirq) and the RCU nest depth.
@Suite struct SleepInAtomicCheckerTests {
    func finding(partial: Bool = false, _ body: (inout TraceBuilder) -> Void) throws -> Finding? {
        var trace = TraceBuilder(cpus: 2)
        trace.partial = partial
        trace.task = "kworker"
        trace.declare("S", .spinlock)
        trace.declare("M", .mutex)
        body(&trace)
        let found = try analyze(trace).findings
        #expect(found.count <= 1)
        return found.first
    }

    @Test func aSpinlockHeldIsPreemptCountOne() throws {
        let found = try finding { t in
            t.acquire("M")
            t.acquire("S")
            t.event("might-sleep")
        }
        #expect(found?.rule == .sleepInAtomic)
        #expect(found?.details == [
            "in_atomic(): 1, irqs_disabled(): 0, name: kworker",
            "preempt_count: 1, expected: 0",
            "RCU nest depth: 0, expected: 0",
        ])
        #expect(found?.heldLocks?.map(\.lock) == ["M", "S"])
        #expect(found?.heldLocks?.map(\.evidence.event) == [0, 1])
        // Its fixed twin: the lock dropped around the call.
        #expect(try finding { t in
            t.acquire("M")
            t.acquire("S")
            t.release("S")
            t.event("might-sleep")
        } == nil)
    }

    @Test func aHardirqIsTheHardirqOffsetWithIrqsDisabled() throws {
        let found = try finding { t in
            t.event("hardirq-enter", [("irq", "11")])
            t.event("might-sleep")
        }
        #expect(found?.details == [
            "in_atomic(): 1, irqs_disabled(): 1, name: kworker",
            "preempt_count: 10000, expected: 0",
            "RCU nest depth: 0, expected: 0",
        ])
        // Nothing held: the kernel's "no locks held by".
        #expect(found?.heldLocks?.isEmpty == true)
        let text = TextReporter().render(found!)
        #expect(text.contains("\nno locks held by kworker on cpu 0.\n"))
    }

    @Test func spinLockBhIsTheBhDisableOffsetAndOne() throws {
        let found = try finding { t in
            t.acquire("S", bh: true)
            t.event("might-sleep")
        }
        #expect(found?.details.dropFirst().first == "preempt_count: 201, expected: 0")
        let inSoftirq = try finding { t in
            t.event("softirq-enter", [("vec", "TIMER")])
            t.event("preempt-disable")
            t.event("might-sleep")
        }
        #expect(inSoftirq?.details.dropFirst().first == "preempt_count: 101, expected: 0")
    }

    @Test func preemptibleRCUIsNotAtomicButHasANestDepth() throws {
        let found = try finding { t in
            t.event("rcu-read-lock")
            t.event("rcu-read-lock")
            t.event("might-sleep")
        }
        #expect(found?.details == [
            "in_atomic(): 0, irqs_disabled(): 0, name: kworker",
            "preempt_count: 0, expected: 0",
            "RCU nest depth: 2, expected: 0",
        ])
        #expect(found?.heldLocks?.map(\.lock) == ["rcu_read_lock", "rcu_read_lock"])
        let text = TextReporter().render(found!)
        #expect(text.contains("\nin_atomic(): 0, irqs_disabled(): 0, name: kworker\npreempt_count: 0, expected: 0\nRCU nest depth: 2, expected: 0\n\n2 locks held by kworker on cpu 0:\n"))
    }

    @Test func whatAPartialTraceDoesNotKnowIsLeftOut() throws {
        // Irq state stated, preempt and bh state never: no in_atomic() or preempt_count.
        let found = try finding(partial: true) { t in
            t.event("irq-disable")
            t.event("might-sleep")
        }
        // Nor the RCU depth: a section may have begun before the trace.
        #expect(found?.details == ["irqs_disabled(): 1, name: kworker"])
        // The held-lock list says it is what the trace shows.
        #expect(found?.heldLocksMayBeIncomplete == true)
        #expect(TextReporter().render(found!).contains("\nno locks held by kworker on cpu 0 that the trace shows (it may not show them all).\n"))
    }

    /// An NMI adds NMI_OFFSET and HARDIRQ_OFFSET (nmi_enter), on top of what it interrupted.
    @Test func anNMIIsTheNMIAndHardirqOffsets() throws {
        let found = try finding { t in
            t.acquire("S")
            t.event("nmi-enter")
            t.event("might-sleep")
        }
        #expect(found?.details.dropFirst().first == "preempt_count: 110001, expected: 0")
    }

    /// local_lock_irqsave() disables irqs, not preemption; local_lock() disables preemption.
    @Test func aLocalLockIrqsaveIsNoPreemptCount() throws {
        func details(irq: String?) throws -> [String]? {
            try finding { t in
                t.declare("LL", .localLock)
                t.acquire("LL", irq: irq)
                t.event("might-sleep")
            }?.details
        }
        #expect(try details(irq: "save")?.prefix(2) == ["in_atomic(): 0, irqs_disabled(): 1, name: kworker", "preempt_count: 0, expected: 0"])
        #expect(try details(irq: nil)?.prefix(2) == ["in_atomic(): 1, irqs_disabled(): 0, name: kworker", "preempt_count: 1, expected: 0"])
    }

    /// A capture's sample of the count (an earlier event's `pc`) already counts the spinning
    /// locks held: they are not added again.
    @Test func aSampledCountIsNotCountedTwice() throws {
        let found = try finding { t in
            t.event("acquire", [("lock", "S"), ("pc", "1")])
            t.event("might-sleep")
        }
        #expect(found?.details.dropFirst().first == "preempt_count: 1, expected: 0")
    }

    /// In an irq of no named task the interrupted task is current: its name is printed.
    @Test func theInterruptedTaskIsNamed() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "t"
        trace.declare("M", .mutex)
        trace.acquire("M")
        trace.task = nil
        trace.event("hardirq-enter", [("irq", "9")])
        trace.event("might-sleep")
        let found = try analyze(trace).findings
        #expect(found.first?.details.first == "in_atomic(): 1, irqs_disabled(): 1, name: t")
        #expect(found.first?.heldLocksHolder == "t on cpu 0")
    }

    /// __schedule_bug: a task switched out with preemption disabled (preempt_disable, or
    /// rcu_read_lock_sched) is scheduling while atomic; enabled again first, it is not.
    @Test(arguments: [true, false])
    func schedulingWithPreemptionDisabled(_ enabledFirst: Bool) throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "kworker"
        trace.event("preempt-disable")
        trace.event("rcu-read-lock", [("flavor", "sched")])
        if enabledFirst {
            trace.event("rcu-read-unlock", [("flavor", "sched")])
            trace.event("preempt-enable")
        }
        trace.task = "other"
        trace.event("preempt-disable")
        trace.event("preempt-enable")
        let found = try analyze(trace).findings
        #expect(found.map(\.message) == (enabledFirst ? [] : [
            "task kworker is switched out with preemption disabled (preempt count 2) on cpu 0: scheduling while atomic"
        ]))
    }

    @Test func schedulingWhileAtomicListsTheLocksTheTaskHolds() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "kworker"
        trace.declare("S", .spinlock)
        trace.declare("M", .mutex)
        trace.acquire("M")
        trace.acquire("S")
        trace.task = "other"
        trace.event("might-sleep")
        let found = try analyze(trace).findings
        #expect(found.map(\.title) == ["scheduling while atomic"])
        #expect(found.first?.heldLocks?.map(\.lock) == ["M", "S"])
        // __schedule_bug lists prev's locks: the task switched out, not the one coming in.
        #expect(found.first?.heldLocksHolder == "kworker on cpu 0")
        #expect(TextReporter().render(found[0]).contains("\n2 locks held by kworker on cpu 0:\n"))
    }

    @Test func sleepingUnderASpinlockIrqsOffOrInIrq() throws {
        var underLock = TraceBuilder()
        underLock.acquire("pgd_lock")
        underLock.event("might-sleep", [("fn", "pmd_alloc_one")])
        #expect(try analyze(underLock).findings.map(\.rule) == [.sleepInAtomic])
        #expect(try analyze(underLock).findings.first?.locks == ["pgd_lock"])

        var irqsOff = TraceBuilder()
        irqsOff.event("irq-disable")
        irqsOff.event("kmap", [("page", "P"), ("series", "DEFAULT")])
        #expect(try analyze(irqsOff).findings.map(\.rule) == [.sleepInAtomic])

        var inIrq = TraceBuilder()
        inIrq.event("softirq-enter", [("vec", "TIMER")])
        inIrq.event("might-sleep")
        inIrq.event("softirq-exit")
        #expect(try analyze(inIrq).findings.map(\.rule) == [.sleepInAtomic])
    }

    @Test func aTaskSwitchedOutWhileAtomicAndItsIrqStateTravelsWithIt() throws {
        // Task A takes L with irqsave on cpu 0; B and C then run there; A releases L on cpu 1.
        var trace = TraceBuilder(cpus: 2)
        trace.task = "A"
        trace.acquire("L", irq: "save")
        trace.task = "B"
        trace.event("might-sleep")
        trace.task = "C"
        trace.event("ipi-send", [("targets", "1"), ("wait", "true")])
        trace.cpu = 1
        trace.task = "A"
        trace.release("L", irq: "restore")
        let findings = try analyze(trace).findings
        #expect(findings.map(\.rule) == [.sleepInAtomic])
        #expect(findings.first?.title == "scheduling while atomic")
        #expect(findings.first?.message == "task A is switched out holding L, with hardirqs disabled on cpu 0: scheduling while atomic")
        #expect(findings.first?.locations.map(\.event) == [1, 0])
    }

    @Test func sleepingUnderAMutexOrAnAtomicKmapIsFine() throws {
        var trace = TraceBuilder()
        trace.declare("mm->mmap_sem", .rwsem)
        trace.acquire("mm->mmap_sem", mode: .read)
        trace.event("might-sleep")
        trace.release("mm->mmap_sem")
        trace.acquire("ptl")
        trace.event("kmap", [("page", "P"), ("series", "PAGETABLE"), ("atomic", "true")])
        #expect(try analyze(trace).findings.isEmpty)
    }
}
