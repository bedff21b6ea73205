@testable import PGTrace
import Testing

/// What the cycle checker keeps for the reports it has not made yet.
@Suite struct CircularDependencyCheckerTests {
    /// A library checking the graph in place reads the findings after a first trace (A, B
    /// made), then analyses a second: its cycle (C, D) is kept for its report, and A, B met
    /// again through a new type of B -> A (A a recursive read under B) is not: its finding is
    /// made (helper-99).
    @Test func aCycleMetAgainWhereItsFindingIsMadeIsNotKept() throws {
        var options = AnalysisOptions()
        options.graphChecks = .inPlace
        let analysis = Analysis(options: options)
        var one = TraceBuilder(cpus: 1)
        one.task = "t1"
        one.declare("A", .rwlock)
        one.nest("A", "B")
        one.nest("B", "A")
        try analysis.analyze(bytes: Array(one.xml.utf8), displayName: "one.xml")
        #expect(analysis.findings.map(\.locks) == [["A", "B"]])
        let checker = try #require(analysis.checkers.lazy.compactMap { $0 as? CircularDependencyChecker }.first)
        #expect(checker.cyclesKept == 0)

        var two = TraceBuilder(cpus: 1)
        two.task = "t1"
        two.declare("A", .rwlock)
        two.nest("C", "D")
        two.nest("D", "C")
        two.acquire("B")
        two.acquire("A", mode: .recursiveRead)
        two.release("A")
        two.release("B")
        try analysis.analyze(bytes: Array(two.xml.utf8), displayName: "two.xml")
        #expect(checker.cyclesKept == 1)
        #expect(analysis.findings.map(\.locks) == [["A", "B"], ["C", "D"]])
        #expect(analysis.findings.map(\.count) == [1, 1])
        #expect(checker.cyclesKept == 0)
    }

    /// An observer told of each finding as it is met (`pgtrace timeline`'s) may read the
    /// findings, or make a report that reads them when read, between a cycle's being kept
    /// and its being let go of (helper-142: a report handed the store out and letting go of
    /// the cycle failed a precondition; the findings read emptied the store, and letting go
    /// read its element -1). Both go on, and every report reads as the findings made at once.
    @Test(arguments: [false, true])
    func anObserverMayReadTheFindingsAsACycleIsMet(whenRead: Bool) throws {
        var options = AnalysisOptions()
        options.graphChecks = .inPlace
        func trace(_ prefix: String) -> String {
            var trace = TraceBuilder()
            trace.nest("\(prefix)A", "\(prefix)B")
            trace.nest("\(prefix)B", "\(prefix)A")
            trace.nest("\(prefix)X", "\(prefix)Y")
            trace.nest("\(prefix)Y", "\(prefix)Z")
            trace.nest("\(prefix)Z", "\(prefix)X")
            return trace.xml
        }
        let analysis = Analysis(options: options)
        try analysis.analyze(bytes: Array(trace("p").utf8), displayName: "t0.xml")
        var texts: [String] = []
        analysis.context.addReportObserver { _ in
            texts.append(TextReporter().render(AnalysisReport(analysis, makingFindingsWhenRead: whenRead)))
        }
        try analysis.analyze(bytes: Array(trace("q").utf8), displayName: "t1.xml")
        #expect(texts.count == 2)
        let whole = try analyze([("t0.xml", trace("p")), ("t1.xml", trace("q"))])
        #expect(Array(AnalysisReport(analysis, makingFindingsWhenRead: true).findings) == Array(AnalysisReport(whole).findings))
        #expect(analysis.findings.map(\.locks) == [["pA", "pB"], ["pX", "pY", "pZ"], ["qA", "qB"], ["qX", "qY", "qZ"]])
    }

    /// The checker lets go of a store a report reads when the next trace begins, not only at
    /// its next cycle (helper-142: checked in place, a trace of two cycles, a report read and
    /// dropped, then a trace of none, and the checker kept both cycles).
    @Test func theCheckerLetsGoOfAStoreAReportReadsWhenATraceBegins() throws {
        var options = AnalysisOptions()
        options.graphChecks = .inPlace
        let analysis = Analysis(options: options)
        let checker = try #require(analysis.checkers.lazy.compactMap { $0 as? CircularDependencyChecker }.first)
        var cycles = TraceBuilder()
        cycles.nest("A", "B")
        cycles.nest("B", "A")
        cycles.nest("C", "D")
        cycles.nest("D", "C")
        try analysis.analyze(bytes: Array(cycles.xml.utf8), displayName: "t0.xml")
        #expect(checker.cyclesKept == 2)
        let text = TextReporter().render(AnalysisReport(analysis, makingFindingsWhenRead: true))
        #expect(analysis.findings.count == 2)
        var none = TraceBuilder()
        none.nest("A", "E")
        try analysis.analyze(bytes: Array(none.xml.utf8), displayName: "t1.xml")
        #expect(checker.cyclesKept == 0)
        #expect(text.contains("pgtrace: 1 trace, 16 events: 2 errors, 0 warnings"))
        #expect(analysis.findings.map(\.locks) == [["A", "B"], ["C", "D"]])
    }

    /// A trace of the cycle A, B, after `pairs` of irq toggles (lines that move its events).
    private static func cycle(linesBefore: Int = 0) -> [UInt8] {
        var trace = TraceBuilder(cpus: 1)
        for _ in 0..<linesBefore { trace.event("irq-disable"); trace.event("irq-enable") }
        trace.nest("A", "B")
        trace.nest("B", "A")
        return Array(trace.xml.utf8)
    }

    /// A cycle's finding is made from its dependencies' facts where the log holds them. A
    /// trace with a lesser name brings lesser evidence of both, and the analysis fails before
    /// the graph is checked again: the finding, made only now (pending, or read by a report
    /// made before), still cites what its check saw, b.xml; checked again, a.xml.
    @Test(arguments: [false, true])
    func aCycleCitesWhatItsCheckSawWhenItsFactsAreReplacedBeforeItIsMade(readByAReport: Bool) throws {
        let analysis = Analysis()
        try analysis.analyze([.bytes(Self.cycle(), displayName: "b.xml")])
        let report = readByAReport ? AnalysisReport(analysis, makingFindingsWhenRead: true) : nil
        #expect(throws: (any Error).self) {
            try analysis.analyze([
                .bytes(Self.cycle(linesBefore: 3), displayName: "a.xml"),
                .bytes(Array("<trace version=\"1\"><events><acquire".utf8), displayName: "c.xml"),
            ])
        }
        let finding = try #require((report.map { Array($0.findings) } ?? analysis.findings).first)
        #expect(finding.rule == .circularDependency)
        #expect(finding.locations.map(\.file) == ["b.xml", "b.xml", "b.xml"])
        #expect(finding.locations.map(\.line) == [9, 8, 5])
        analysis.checkGraph()
        let checked = try #require(analysis.findings.first)
        #expect(checked.locations.map(\.file) == ["a.xml", "a.xml", "a.xml"])
        #expect(checked.locations.map(\.line) == [15, 14, 11])
    }

    /// A store of cycles that went (its report dropped, its findings made) is told nothing:
    /// a later trace's lesser evidence replaces entries it read, and the log's reference to
    /// it is gone with it.
    @Test func aStoreOfCyclesThatWentIsToldNothing() throws {
        let analysis = Analysis()
        try analysis.analyze([.bytes(Self.cycle(), displayName: "b.xml")])
        do {
            let report = AnalysisReport(analysis, makingFindingsWhenRead: true)
            #expect(report.findings.count == 1)
        }
        #expect(analysis.findings.map(\.locks) == [["A", "B"]])
        try analysis.analyze([.bytes(Self.cycle(linesBefore: 3), displayName: "a.xml")])
        #expect(analysis.findings.first?.locations.map(\.file) == ["a.xml", "a.xml", "a.xml"])
    }

    /// A dependency the log does not hold (a caller's) is kept by value with the cycle it
    /// closes, beside the path's, which the log holds: the finding cites both.
    @Test func aCycleClosedByACallersDependencyCitesItsSitesAndTheLogsForItsPath() throws {
        var options = AnalysisOptions()
        options.graphChecks = .inPlace
        let analysis = Analysis(options: options)
        var trace = TraceBuilder(cpus: 1)
        trace.nest("A", "B")
        try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: "t.xml")
        let checker = try #require(analysis.checkers.lazy.compactMap { $0 as? CircularDependencyChecker }.first)
        let ids = (0..<Int32(analysis.classes.count)).map { (analysis.context.name(of: $0), $0) }
        let (a, b) = (try #require(ids.first { $0.0 == "A" }?.1), try #require(ids.first { $0.0 == "B" }?.1))
        let site = EventSite(position: TracePosition(file: 0, line: 99, column: 1, event: 99), cpu: 0, task: nil, at: nil, function: nil)
        checker.apply(DependencyFact(
            dependency: LockDependency(from: b, to: a, kind: .lockOrder, types: DependencyTypes(holder: .write, next: .write), holderSite: site, site: site),
            holderMode: .write, nextMode: .write, moment: nil))
        let finding = try #require(analysis.findings.first)
        #expect(finding.locks == ["A", "B"])
        #expect(finding.locations.map(\.line) == [99, 99, 5])
    }
}
