import PGTrace
import Testing

/// The report's lock-order graph: each dependency as the analysis found it, its events
/// resolved to text when a writer asks.
@Suite struct AnalysisReportTests {
    /// A dependency seen as write -> write and as read -> recursive read carries both of
    /// lockdep's types, in lockdep's order (EN, ER, SN, SR).
    @Test func aDependencySeenTwoWaysCarriesBothTypesInLockdepsOrder() throws {
        var trace = TraceBuilder()
        trace.declare("A", .rwlock)
        trace.declare("B", .rwlock)
        trace.acquire("A", mode: .read)
        trace.acquire("B", mode: .recursiveRead)
        trace.release("B")
        trace.release("A")
        trace.nest("A", "B")
        let edges = AnalysisReport(try analyze(trace)).edges
        #expect(edges.map { "\($0.from)->\($0.to) \($0.types)" } == ["A->B [\"EN\", \"SR\"]"])
        // The least evidence: the first section, as lockdep's first report would cite it.
        #expect(edges.first?.holder.event == 0 && edges.first?.evidence.event == 1)
        #expect(edges.first?.holder.role == "holds A" && edges.first?.evidence.role == "acquires B")
    }

    /// A report is a snapshot: the analysis reading more traces afterwards changes none of
    /// its dependencies' evidence. (On one thread, as here, this is the semantics; the race
    /// of a report read while its analysis goes on in another thread is not shown by it.)
    @Test func aReportStaysAsItWasWhileItsAnalysisGoesOn() throws {
        var first = TraceBuilder()
        first.nest("A", "B")
        let analysis = try analyze(first, name: "first.xml")
        let report = AnalysisReport(analysis)
        let before = report.edges.map { [$0.holder, $0.evidence] }
        for index in 0..<50 {
            var more = TraceBuilder()
            more.task = "task\(index)"
            more.nest("C\(index)", "D\(index)")
            try analysis.analyze(bytes: Array(more.xml.utf8), displayName: "more\(index).xml")
        }
        #expect(report.edges.map { [$0.holder, $0.evidence] } == before)
        #expect(before.flatMap { $0.map(\.file) } == ["first.xml", "first.xml"])
    }

    /// Edges compare as their text does: two analyses of one trace give equal edges, with
    /// equal hashes; another trace's name makes them differ.
    @Test func edgesAreEqualAsTheirTextIs() throws {
        var trace = TraceBuilder()
        trace.nest("A", "B")
        let one = try #require(AnalysisReport(try analyze(trace)).edges.first)
        let again = try #require(AnalysisReport(try analyze(trace)).edges.first)
        let elsewhere = try #require(AnalysisReport(try analyze(trace, name: "other.xml")).edges.first)
        #expect(one == again && one.hashValue == again.hashValue)
        #expect(one != elsewhere)
        #expect(Set([one, again, elsewhere]).count == 2)
    }
}
