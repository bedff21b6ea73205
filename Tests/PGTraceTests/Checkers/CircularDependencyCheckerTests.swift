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
}
