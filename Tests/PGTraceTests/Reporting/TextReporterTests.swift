@testable import PGTrace
import Testing

/// The text report prints lock lines as lockdep's print_lock does: the class, then its usage
/// string, `(&mm->mmap_lock){++++}`.
@Suite struct TextReporterTests {
    /// A is taken with irqs on, B only with irqs off: A under B, then B under A.
    @Test func lockLinesCarryTheClassesUsage() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.acquire("A")
        trace.release("A")
        trace.event("irq-disable")
        trace.acquire("A")
        trace.acquire("B")
        trace.release("B")
        trace.release("A")
        trace.cpu = 1
        trace.event("irq-disable")
        trace.acquire("B")
        trace.acquire("A")
        let report = AnalysisReport(try analyze(trace), includingGraph: false)
        #expect(report.findings.map(\.rule) == [.circularDependency])
        let text = TextReporter().render(report)
        #expect(text.contains("\n (A){+.+.}, at: test.xml:"))
        #expect(text.contains("\n (B){....}, at: test.xml:"))
        #expect(text.contains("\n-> #1 (B){....}:\n"))
        #expect(text.contains("\n-> #0 (A){+.+.}:\n"))
    }
}

/// What the kernel calls a bug is headed `BUG:`, as its own report is.
@Suite struct BugHeaderTests {
    @Test func sleepingUnderASpinlockIsABug() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.declare("A", .spinlock)
        trace.acquire("A")
        trace.event("might-sleep")
        let report = AnalysisReport(try analyze(trace), includingGraph: false)
        #expect(report.findings.map(\.rule) == [.sleepInAtomic])
        #expect(TextReporter().render(report).contains("\nBUG: sleeping function called from invalid context [sleep-in-atomic]\n"))
    }

    @Test func aCycleIsAWarning() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.acquire("A")
        trace.acquire("B")
        trace.release("B")
        trace.release("A")
        trace.acquire("B")
        trace.acquire("A")
        let report = AnalysisReport(try analyze(trace), includingGraph: false)
        #expect(TextReporter().render(report).contains("\nWARNING: possible circular locking dependency detected [circular-dependency]\n"))
    }
}

/// After the scenario, the locks the task held, as lockdep_print_held_locks lists them.
@Suite struct HeldLockListTests {
    @Test func aCycleListsTheLocksHeldWhereItClosed() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.task = "insmod"
        trace.acquire("A")
        trace.acquire("B")
        trace.release("B")
        trace.release("A")
        trace.cpu = 1
        trace.task = "bash"
        trace.acquire("C")
        trace.acquire("B")
        trace.acquire("A")
        let report = AnalysisReport(try analyze(trace), includingGraph: false)
        #expect(report.findings.map(\.rule) == [.circularDependency])
        #expect(report.findings.first?.heldLocks?.map(\.lock) == ["C", "B"])
        let text = TextReporter().render(report)
        #expect(text.contains("\n *** DEADLOCK ***\n\n2 locks held by bash on cpu 1:\n #0: (C){+.+.}, at: test.xml:"))
        #expect(text.contains("\n #1: (B){+.+.}, at: test.xml:"))
    }

    @Test func aRecursionListsTheLocksHeld() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "kworker"
        trace.acquire("A")
        trace.acquire("A")
        let report = AnalysisReport(try analyze(trace), includingGraph: false)
        #expect(report.findings.map(\.rule) == [.recursiveLocking])
        let text = TextReporter().render(report)
        #expect(text.contains("\n1 lock held by kworker on cpu 0:\n #0: (A){+.+.}, at: test.xml:"))
    }

    /// Lockdep's banner and scenario, laid out by runs of one character (`TextReporter.run`):
    /// the rules as long as the headline, the columns at 7 and 31, the steps at 2 and 31. The
    /// shipped AB-BA between pgd_lock and mm->page_table_lock.
    @Test func theBannerAndTheScenarioAreLaidOutAsLockdepsAre() throws {
        let analysis = Analysis()
        try analysis.analyze(path: Repository.path("traces/pgd-lock-abba.xml"), displayName: "traces/pgd-lock-abba.xml")
        let text = TextReporter().render(AnalysisReport(analysis, includingGraph: false))
        let banner = String(repeating: "=", count: 54) + "\nWARNING: possible circular locking dependency detected [circular-dependency]\n"
            + String(repeating: "-", count: 54) + "\n"
        #expect(text.hasPrefix(banner))
        #expect(text.contains("""

             Possible unsafe locking scenario:

                   CPU0                    CPU1
                   ----                    ----
              lock(mm->page_table_lock);
                                           lock(pgd_lock);
                                           lock(mm->page_table_lock);
              lock(pgd_lock);

             *** DEADLOCK ***

            """))
        #expect(TextReporter.run(of: " ", 0).isEmpty && TextReporter.run(of: "-", -2).isEmpty)
        #expect(TextReporter.run(of: "=", 300) == String(repeating: "=", count: 300))
    }
}
