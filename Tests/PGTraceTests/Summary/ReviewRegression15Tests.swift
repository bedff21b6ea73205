import Foundation
import Testing

@testable import PGTrace

/// Defects a stranger's review of issue 15 (mergeable summaries) found, each fixed: what the
/// analysis of traces and of their summaries must do.
@Suite struct ReviewRegression15Tests {
    typealias Trace = (name: String, xml: String)

    static func findings(_ inputs: [Trace], options: AnalysisOptions = AnalysisOptions()) throws -> [Finding] {
        let analysis = Analysis(options: options)
        try analysis.analyze(inputs.map { .bytes(Array($0.xml.utf8), displayName: $0.name) })
        return Array(AnalysisReport(analysis).findings)
    }

    /// Seed 000's AB-BA and its fixed twin: both take pgd_lock -> page_table_lock.
    static func abba(fixed: Bool) -> String {
        var trace = TraceBuilder()
        trace.task = "insmod"
        if !fixed {
            trace.task = "bash"
            trace.cpu = 1
            trace.nest("mm->page_table_lock", "pgd_lock")
            trace.task = "insmod"
            trace.cpu = 0
        }
        trace.nest("pgd_lock", "mm->page_table_lock")
        return trace.xml
    }

    /// Two different traces with one name (`summarize -` on two hosts: both "<stdin>"): the
    /// order between them would be the order they came in. Refused in either order.
    @Test func summariesOfSameNamedTracesAreRefusedInEitherOrder() throws {
        let one = try SummaryMergeTests.summary([("<stdin>", Self.abba(fixed: false))])
        let two = try SummaryMergeTests.summary([("<stdin>", Self.abba(fixed: true))])
        for inputs in [[("1.sum", one), ("2.sum", two)], [("2.sum", two), ("1.sum", one)]] {
            // At the line of the second trace's record, column 1, as every summary error.
            #expect {
                try SummaryMergeTests.reports(inputs)
            } throws: { error in
                (error as? TraceInputError)?.description.hasPrefix("\(inputs[1].0):2:1: error: a second trace named '<stdin>'") == true
            }
        }
        // A trace beside a summary of a trace of its name, and a trace given twice.
        #expect(throws: TraceInputError.self) { try SummaryMergeTests.reports([("1.sum", one), ("<stdin>", Self.abba(fixed: true))]) }
        #expect(throws: TraceInputError.self) { try SummaryMergeTests.reports([("a.xml", Self.abba(fixed: true)), ("a.xml", Self.abba(fixed: true))]) }
    }

    /// A trace in NMI, then the class used outside NMI, then in NMI again: lockdep's
    /// verify_lock_unused (and main) report the second NMI acquisition. The branch keeps one
    /// nmi-acquire fact per class and mode (the first, before the use) and reports nothing.
    @Test func anNMIAcquisitionAfterAUseIsFoundEvenIfAnEarlierNMIPrecededTheUse() throws {
        var trace = TraceBuilder()
        trace.declare("logbuf_lock", .rawSpinlock)
        trace.task = "bash"
        func nmi(_ trace: inout TraceBuilder) {
            trace.event("nmi-enter")
            trace.acquire("logbuf_lock")
            trace.release("logbuf_lock")
            trace.event("nmi-exit")
        }
        nmi(&trace)
        trace.acquire("logbuf_lock", irq: "save")
        trace.release("logbuf_lock", irq: "restore")
        nmi(&trace)
        let found = try Self.findings([("nmi-late-use.xml", trace.xml)])
        #expect(found.map(\.rule) == [.irqInconsistent])
    }

    /// main counts every NMI acquisition of a class used outside NMI ("met 3 times").
    @Test func anNMIFindingCountsEveryNMIAcquisitionAsMainDid() throws {
        var trace = TraceBuilder()
        trace.declare("logbuf_lock", .rawSpinlock)
        trace.task = "bash"
        trace.acquire("logbuf_lock", irq: "save")
        trace.release("logbuf_lock", irq: "restore")
        for _ in 0..<3 {
            trace.event("nmi-enter")
            trace.acquire("logbuf_lock")
            trace.release("logbuf_lock")
            trace.event("nmi-exit")
        }
        let found = try Self.findings([("nmi-thrice.xml", trace.xml)])
        #expect(found.map(\.count) == [3])
    }

    /// A lock taken only in NMI was never a class of the analysis on main (the engine
    /// records no lock taken there): it is no node of the graph. NmiChecker now creates its
    /// class (`classes.id(for:)` where main used `existingID`), so graph/analyze JSON grow a node.
    @Test func aLockTakenOnlyInNMIIsNoNodeOfTheGraph() throws {
        var trace = TraceBuilder()
        trace.task = "bash"
        trace.acquire("a_lock")
        trace.release("a_lock")
        trace.event("nmi-enter")
        trace.acquire("nmi_only_lock")
        trace.release("nmi_only_lock")
        trace.event("nmi-exit")
        let analysis = try analyze([("nmi-only.xml", trace.xml)])
        #expect(!AnalysisReport(analysis).nodes.map(\.name).contains("nmi_only_lock"))
    }

    /// The same depth overflow (no fn or at) in two traces: one finding per trace (its key
    /// names the trace's places), the same in either order and from summaries.
    @Test func oneDepthOverflowInTwoTracesIsAFindingOfEach() throws {
        var trace = TraceBuilder()
        trace.task = "t"
        trace.nest("L1", "L2", "L3")
        let ab = try analyze([("a.xml", trace.xml), ("b.xml", trace.xml)], maxDepth: 2).findings
        let ba = try analyze([("b.xml", trace.xml), ("a.xml", trace.xml)], maxDepth: 2).findings
        #expect(ab.filter { $0.rule == .depthOverflow }.map(\.locations.first?.file) == ["a.xml", "b.xml"])
        #expect(ab == ba)
    }

    /// `lint --policy` on a summary: the acquisitions against the policy are checked during
    /// the replay (trace scope), which summarize ran without a policy, so they are lost; the
    /// contract says a summary reports as its traces.
    @Test func aPolicyFindsTheSameInASummaryAsInItsTrace() throws {
        let xml = Self.abba(fixed: true)
        let policy = try LockPolicy(text: "mm->page_table_lock < pgd_lock\n", file: "locks.policy")
        let options = AnalysisOptions(policy: policy)
        let direct = try Self.findings([("fixed.xml", xml)], options: options)
        #expect(direct.map(\.rule) == [.lockOrderPolicy])
        // A summary made without the policy is refused; one made with it reports as the trace.
        let without = try SummaryMergeTests.summary([("fixed.xml", xml)])
        #expect(throws: TraceInputError.self) { try Self.findings([("fixed.sum", without)], options: options) }
        let analysis = Analysis(options: options)
        try analysis.analyze([.bytes(Array(xml.utf8), displayName: "fixed.xml")])
        var with = ""
        try SummaryWriter.write(analysis) { with += $0 }
        #expect(try Self.findings([("fixed.sum", with)], options: options) == direct)
    }

    /// `--max-depth` on a summary: depth-overflow was judged at summarize's default (48).
    @Test func maxDepthAppliesToASummaryAsToItsTrace() throws {
        var trace = TraceBuilder()
        trace.task = "t"
        trace.nest("L1", "L2", "L3")
        let options = AnalysisOptions(maxDepth: 2)
        let direct = try Self.findings([("deep.xml", trace.xml)], options: options)
        #expect(direct.map(\.rule) == [.depthOverflow])
        let summary = try SummaryMergeTests.summary([("deep.xml", trace.xml)])
        #expect(throws: TraceInputError.self) { try Self.findings([("deep.sum", summary)], options: options) }
        let analysis = Analysis(options: options)
        try analysis.analyze([.bytes(Array(trace.xml.utf8), displayName: "deep.xml")])
        var made = ""
        try SummaryWriter.write(analysis) { made += $0 }
        #expect(try Self.findings([("deep.sum", made)], options: options) == direct)
    }
}

/// Hand-edited or corrupt summaries through the binary: exit 2 naming the line, never a trap.
@Suite struct SummaryCorruptionCommandTests {
    let cli = AnalyzeCommandTests()

    func summary() throws -> [String] {
        let run = try cli.pgtrace(["summarize", "traces/pgd-lock-abba.xml"])
        #expect(run.status == 0)
        return run.stdout.split(separator: "\n").map(String.init)
    }

    func expectRefused(_ lines: [String], _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try cli.pgtrace(["analyze", "--no-progress", "-"] + extra, stdin: lines.joined(separator: "\n") + "\n")
        #expect(run.status == 2, "status \(run.status): \(run.stderr.prefix(200))", sourceLocation: sourceLocation)
        #expect(run.stderr.hasPrefix("<stdin>:"), "\(run.stderr.prefix(200))", sourceLocation: sourceLocation)
    }

    /// `"types":257` passes the one-bit check on its low byte, then `UInt8(types)` traps.
    @Test func aDependencyTypeOutOfRangeIsRefused() throws {
        var lines = try summary()
        let index = try #require(lines.firstIndex { $0.contains("\"kind\":\"lock-order\"") })
        lines[index] = lines[index].replacing(/"types":\d+/, with: "\"types\":257")
        try expectRefused(lines)
    }

    /// A trace's `events` near Int.max: `eventCount += events` overflows and traps.
    @Test func anEventCountOutOfRangeIsRefused() throws {
        var lines = try summary()
        let index = try #require(lines.firstIndex { $0.contains("\"events\":") })
        lines[index] = lines[index].replacing(/"events":\d+/, with: "\"events\":9223372036854775807")
        // Given twice (two summaries of one fleet, say): the sum overflows.
        let text = lines.joined(separator: "\n") + "\n"
        let directory = try CommandRunner.temporaryDirectory("review")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try text.write(toFile: "\(directory)/a.sum", atomically: true, encoding: .utf8)
        try text.write(toFile: "\(directory)/b.sum", atomically: true, encoding: .utf8)
        let run = try cli.pgtrace(["analyze", "--no-progress", "\(directory)/a.sum", "\(directory)/b.sum"])
        #expect(run.status == 2, "status \(run.status): \(run.stderr.prefix(200))")
    }

    /// A finding's `count` near Int.max, merged with the same finding: the sum traps.
    @Test func aFindingCountOutOfRangeIsRefused() throws {
        let run = try cli.pgtrace(["summarize", "traces/mutex-in-rcu-read-side.xml"])
        var lines = run.stdout.split(separator: "\n").map(String.init)
        let index = try #require(lines.firstIndex { $0.hasPrefix("{\"finding\":") })
        lines[index] = lines[index].replacing(/"count":\d+/, with: "\"count\":9223372036854775807")
        let directory = try CommandRunner.temporaryDirectory("review")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(directory)/a.sum", atomically: true, encoding: .utf8)
        let merged = try cli.pgtrace(["analyze", "--no-progress", "\(directory)/a.sum", "traces/mutex-in-rcu-read-side.xml"])
        #expect(merged.status == 2, "status \(merged.status): \(merged.stderr.prefix(200))")
    }

    /// A summary, then a trace that contradicts it, is a second analysis (exit 1); the other
    /// way round it is an input error (exit 2). The docs: "a contradiction with them is an
    /// input error, not a second analysis"; and the order of inputs should not decide.
    @Test func aTraceContradictingASummaryIsTheSameErrorInEitherOrder() throws {
        let directory = try CommandRunner.temporaryDirectory("review")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try cli.pgtrace(["summarize", "traces/pgd-lock-abba.xml", "-o", "\(directory)/abba.sum"]).status == 0)
        let traceFirst = try cli.pgtrace(["analyze", "--no-progress", "traces/pgd-lock-rwlock-write-in-irq.xml", "\(directory)/abba.sum"])
        let summaryFirst = try cli.pgtrace(["analyze", "--no-progress", "\(directory)/abba.sum", "traces/pgd-lock-rwlock-write-in-irq.xml"])
        #expect(traceFirst.status == 2)
        #expect(summaryFirst.status == traceFirst.status)
    }
}
