import Testing

@testable import PGTrace

/// The graph checks run once every fact is in (`pgtrace analyze`, `graph`, `lint`), or as the
/// replay learns each fact (`pgtrace timeline`, which flags a finding at its event). The two
/// must find the same: the first skips the cycle searches the whole graph's strongly
/// connected components rule out, the second cannot.
@Suite struct GraphChecksTests {
    private static func reports(_ inputs: [SummaryMergeTests.Trace], inPlace: Bool) throws -> (json: String, text: String) {
        var options = AnalysisOptions()
        options.graphChecks = inPlace ? .inPlace : .onceAllFactsAreIn
        return try SummaryMergeTests.reports(inputs, options: options)
    }

    @Test func eachShippedTraceReportsTheSameCheckedInPlaceOrAtTheEnd() throws {
        let traces = SummaryMergeTests.shipped
        #expect(traces.count >= 30)
        var withFindings = 0
        for trace in traces {
            let atTheEnd = try Self.reports([trace], inPlace: false)
            #expect(try Self.reports([trace], inPlace: true) == atTheEnd, "\(trace.name)")
            if atTheEnd.json.contains("\"rule\"") { withFindings += 1 }
        }
        // The comparison means something: most shipped traces are buggy twins.
        #expect(withFindings >= 15)
    }

    @Test func theShippedTracesTogetherReportTheSameCheckedInPlaceOrAtTheEnd() throws {
        let traces = SummaryMergeTests.shipped
        #expect(try Self.reports(traces, inPlace: true) == Self.reports(traces, inPlace: false))
    }

    /// Random traces over six classes: cycles (strong or through reads), irq inversions, IPI
    /// waits, in every mix, across ten traces of one analysis.
    @Test(arguments: 0..<8)
    func generatedTracesReportTheSameCheckedInPlaceOrAtTheEnd(seed: Int) throws {
        let traces = (0..<10).map { index in
            (name: "gen-\(seed)-\(index).xml", xml: GeneratedSummaryTests.trace(seed: UInt64(seed * 100 + index) &+ 1))
        }
        #expect(try Self.reports(traces, inPlace: true) == Self.reports(traces, inPlace: false))
    }

    /// A reviewer's case: checked in place, traces out of name order make the graph checked
    /// again from the log after them; the checks then go on in place for the next traces, and
    /// must still see the dependencies those bring (the order of known components, made for
    /// a rebuild, knows only the dependencies before it).
    @Test func checkedInPlaceAfterARebuildTheNextTracesStillCloseCycles() throws {
        func trace(_ pairs: [(String, String)]) -> [UInt8] {
            var trace = TraceBuilder(cpus: 1)
            for (outer, inner) in pairs { trace.nest(outer, inner) }
            return Array(trace.xml.utf8)
        }
        func rules(inPlace: Bool) throws -> [Rule] {
            var options = AnalysisOptions()
            options.graphChecks = inPlace ? .inPlace : .onceAllFactsAreIn
            let analysis = Analysis(options: options)
            // b.xml before a.xml: out of name order, so this ends with a rebuild.
            try analysis.analyze([
                .bytes(trace([("A", "B")]), displayName: "b.xml"), .bytes(trace([("C", "D")]), displayName: "a.xml"),
            ])
            // c.xml after b.xml: in order, checked in place.
            try analysis.analyze([.bytes(trace([("B", "A")]), displayName: "c.xml")])
            return analysis.findings.map(\.rule)
        }
        #expect(try rules(inPlace: false) == [.circularDependency])
        #expect(try rules(inPlace: true) == [.circularDependency])
    }

    /// An analysis of A -> B -> C, and the three classes.
    private static func analysisOfABC() throws -> (Analysis, a: ClassID, b: ClassID, c: ClassID) {
        var trace = TraceBuilder(cpus: 1)
        trace.nest("A", "B")
        trace.nest("B", "C")
        let analysis = Analysis()
        try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: "t.xml")
        let id = { (name: String) in (0..<Int32(analysis.classes.count)).first { analysis.context.name(of: $0) == name }! }
        return (analysis, id("A"), id("B"), id("C"))
    }

    /// A reviewer's case: after an analysis, the library's caller asks the graph about a
    /// dependency none of the facts gave. The order made for the known dependencies must not
    /// answer for it.
    @Test func afterTheAnalysisTheGraphAnswersForNewDependencies() throws {
        let (analysis, a, b, c) = try Self.analysisOfABC()
        // Would C -> A close a cycle? It would: A -> B -> C.
        let path = analysis.graph.strongPath(from: a, nextMode: .write, to: c, holderMode: .write)
        #expect(path.map { $0.map(\.from) } == [a, b])
    }

    /// Another: a dependency the caller adds after the analysis is followed by the searches
    /// the order prunes.
    @Test func afterTheAnalysisAnAddedDependencyIsSearched() throws {
        let (analysis, a, b, c) = try Self.analysisOfABC()
        let types = DependencyTypes(holder: .write, next: .write)
        analysis.graph.add(from: c, to: a, types: types, holderSite: LockGraphSearchTests.site, site: LockGraphSearchTests.site)
        // C -> A -> B, found by a search toward B.
        let found = analysis.graph.search(from: c, rootOnlyXR: false, includeRoot: false, toward: b) { node, _ in node == b }
        #expect(found?.path.map(\.from) == [c, a])
    }

    /// The library's `removeAll()` gives an order of a growing graph: the order of known
    /// dependencies is the graph checks' own (`GraphChecks.rebuild`).
    @Test func aGraphEmptiedByItsCallerOrdersWhatComes() {
        let graph = LockGraph()
        let (site, types) = (LockGraphSearchTests.site, DependencyTypes(holder: .write, next: .write))
        graph.add(from: 5, to: 6, types: types, holderSite: site, site: site)
        graph.removeAll()
        graph.add(from: 0, to: 1, types: types, holderSite: site, site: site)
        graph.add(from: 1, to: 2, types: types, holderSite: site, site: site)
        #expect(graph.strongPath(from: 0, nextMode: .write, to: 2, holderMode: .write)?.count == 2)
    }
}
