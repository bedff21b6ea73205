@testable import PGTrace
import Testing

/// The usage string a finding's lock lines print beside each class (`{-.-.}`, `{+.+.}-{2:2}`):
/// the same whether the report reads it by class or from a table by name, and a snapshot of
/// the analysis when the report was made.
@Suite struct ClassUsageStringsTests {
    /// A cycle through `B` and `A`'s subclass 1, which prints as `A/1`; a lock whose name is
    /// `A/1` itself, taken in a hardirq, made after it (`namedLast`) or before.
    static func trace(namedLast: Bool) -> TraceBuilder {
        var trace = TraceBuilder()
        trace.declare("W", .mutex, [("wait", "sleep")])
        func named() {
            trace.event("hardirq-enter", [("irq", "9")])
            trace.nest("A/1")
            trace.event("hardirq-exit")
        }
        if !namedLast { named() }
        trace.acquire("B")
        trace.acquire("A", subclass: 1)
        trace.release("A")
        trace.release("B")
        trace.acquire("A", subclass: 1)
        trace.acquire("W")
        trace.acquire("B")
        trace.release("B")
        trace.release("W")
        trace.release("A")
        if namedLast { named() }
        return trace
    }

    /// Each lock line's string, by the name the line prints.
    static func usage(_ report: AnalysisReport) -> [String: String] {
        let cycles = report.findings.filter { $0.rule == .circularDependency }
        #expect(cycles.count == 1)
        return cycles.first?.usage ?? [:]
    }

    /// Where two classes print as `A/1`, the later made's string is the one printed, as the
    /// table by name, filled in class order, kept it; by class and by name agree.
    @Test func twoClassesPrintedAlikeGiveTheLaterMadesString() throws {
        for namedLast in [false, true] {
            let byName = Self.usage(AnalysisReport(try analyze(Self.trace(namedLast: namedLast))))
            let byClass = Self.usage(AnalysisReport(try analyze(Self.trace(namedLast: namedLast)), makingFindingsWhenRead: true))
            #expect(byClass == byName)
            // The lock named `A/1` was taken in a hardirq only ({-...}); A's subclass 1 with
            // hardirqs and softirqs on ({+.+.}).
            #expect(byClass["A/1"] == (namedLast ? "{-...}" : "{+.+.}"), "named last: \(namedLast)")
            #expect(byClass["B"] == "{+.+.}")
            #expect(byClass["W"] == "{+.+.}-{3:3}")
        }
    }

    /// Every class's printed name gives its string by class as by name, and a name no class
    /// prints (or one of a subclass written `/01`, `/+1`) gives none.
    @Test func everyNameGivesTheSameStringByClassAsByName() throws {
        let analysis = try analyze(Self.trace(namedLast: true))
        let (byName, byClass) = (ClassUsageStrings(analysis, readingNames: false), ClassUsageStrings(analysis, readingNames: true))
        let names = (0..<ClassID(analysis.classes.count)).map(analysis.context.name(of:))
        #expect(Set(names).isSuperset(of: ["A/1", "B", "W"]))
        for name in names + ["A/01", "A/+1", "A/2", "A/", "C", "/1"] {
            #expect(byClass.usage(named: name) == byName.usage(named: name), "\(name)")
        }
        #expect(byClass.usage(named: "A/01") == nil && byClass.usage(named: "A/2") == nil && byClass.usage(named: "C") == nil)
    }

    /// A report whose findings are made when read keeps the strings its classes had: the
    /// analysis going on (the lock named `A/1` then taken in a hardirq, and a class made
    /// later that prints as `A/1` too, `A`'s subclass 1) changes none of them.
    @Test func theStringsAreTheAnalysissWhenTheReportWasMade() throws {
        var first = TraceBuilder()
        first.nest("B", "A/1")
        first.nest("A/1", "B")
        let analysis = try analyze(first)
        let report = AnalysisReport(analysis, makingFindingsWhenRead: true)
        let text = TextReporter().render(report)
        #expect(Self.usage(report) == ["A/1": "{+.+.}", "B": "{+.+.}"])
        var more = TraceBuilder()
        more.event("hardirq-enter", [("irq", "9")])
        more.nest("A/1")
        more.acquire("A", subclass: 1)
        more.release("A")
        more.event("hardirq-exit")
        try analysis.analyze(bytes: Array(more.xml.utf8), displayName: "more.xml")
        #expect(Self.usage(report) == ["A/1": "{+.+.}", "B": "{+.+.}"])
        #expect(TextReporter().render(report) == text)
        // A report made now prints the later class's string, as a table by name would.
        #expect(Self.usage(AnalysisReport(analysis, makingFindingsWhenRead: true)) == ["A/1": "{-...}", "B": "{+.+.}"])
        #expect(Self.usage(AnalysisReport(analysis)) == ["A/1": "{-...}", "B": "{+.+.}"])
    }

    /// A name is its bytes: `é` written as one scalar and as `e` and an accent are two
    /// classes, each with its own string (a table keyed by Swift strings took them for one);
    /// and a subclass's `/N` is found after a '/' that a prepended mark (U+0600) joins to
    /// the character before it (helper-145).
    @Test func aNameIsItsBytes() throws {
        let (composed, decomposed, prepended) = ("\u{E9}", "e\u{301}", "x\u{600}")
        #expect(composed == decomposed && composed.utf8.count != decomposed.utf8.count)
        var trace = TraceBuilder()
        trace.nest(composed, "B")
        trace.nest("B", composed)
        trace.event("hardirq-enter", [("irq", "9")])
        trace.nest(decomposed)
        trace.acquire(prepended, subclass: 1)
        trace.release(prepended)
        trace.event("hardirq-exit")
        trace.nest(decomposed, "C")
        trace.nest("C", decomposed)
        trace.acquire(prepended, subclass: 1)
        trace.acquire("D")
        trace.release("D")
        trace.release(prepended)
        trace.nest("D")
        trace.acquire("D")
        trace.acquire(prepended, subclass: 1)
        trace.release(prepended)
        trace.release("D")
        let analysis = try analyze(trace)
        for readingNames in [false, true] {
            let strings = ClassUsageStrings(analysis, readingNames: readingNames)
            #expect(strings.usage(named: composed) == "{+.+.}", "reading names: \(readingNames)")
            #expect(strings.usage(named: decomposed) == "{?.+.}", "reading names: \(readingNames)")
            #expect(strings.usage(named: prepended + "/1") == "{?.+.}", "reading names: \(readingNames)")
            #expect(strings.usage(named: prepended) == nil, "reading names: \(readingNames)")
        }
        let report = AnalysisReport(analysis, makingFindingsWhenRead: true)
        let cycles = report.findings.filter { $0.rule == .circularDependency }
        #expect(cycles.count == 3)
        let usage = cycles.first { $0.locks.contains(prepended + "/1") }?.usage
        #expect(usage?[prepended + "/1"] == "{?.+.}" && usage?["D"] == "{+.+.}")
    }
}
