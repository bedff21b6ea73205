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
