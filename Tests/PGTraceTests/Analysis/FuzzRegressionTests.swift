import Foundation
import PGTrace
import Testing

/// What scripts/fuzz.sh found, kept as regressions: every input in Fixtures/fuzz goes through
/// the reader, the validator and the replay without crashing, leaking or hanging.
@Suite struct FuzzRegressionTests {
    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Repository.path("Tests/PGTraceTests/Fixtures/fuzz"))) ?? []).sorted()
    }

    @Test(arguments: inputs)
    func inputIsAFindingOrAnInputError(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Repository.path("Tests/PGTraceTests/Fixtures/fuzz/\(name)"))))
        for validates in [false, true] {
            let analysis = Analysis(options: AnalysisOptions(maxDepth: 8, validatesSchema: validates))
            do {
                try analysis.analyze(bytes: bytes, displayName: name)
                _ = TextReporter().render(AnalysisReport(analysis))
            } catch is TraceInputError {}
        }
    }

    /// The first thing the fuzzer found: the lock graph and the IPI checker held each other,
    /// so no analysis was ever freed.
    @Test func anAnalysisIsFreedWithEverythingItMade() throws {
        weak var graph: LockGraph?
        weak var symbols: SymbolTable?
        do {
            let analysis = Analysis()
            graph = analysis.graph
            symbols = analysis.symbols
            try analysis.analyze(path: Repository.path("traces/thp-flush-under-page-table-lock.xml"))
            #expect(analysis.findings.count == 1)
        }
        #expect(graph == nil)
        #expect(symbols == nil)
    }
}
