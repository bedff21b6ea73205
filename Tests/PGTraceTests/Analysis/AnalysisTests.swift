import Foundation
import PGTrace
import Testing

/// Several traces in one analysis: read on a second thread while the replay runs, with the
/// same result as one at a time.
@Suite struct AnalysisTests {
    static var traces: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))) ?? [])
            .filter { $0.hasSuffix(".xml") && !$0.contains("rwlock") }.sorted().map { "traces/\($0)" }
    }

    @Test func readingAheadGivesTheResultOfOneAtATime() throws {
        let together = Analysis()
        try together.analyze(Self.traces.map { .file(path: Repository.path($0), displayName: $0) })
        let oneByOne = Analysis()
        for trace in Self.traces { try oneByOne.analyze(path: Repository.path(trace), displayName: trace) }
        #expect(together.findings.count > 10)
        #expect(JSONReporter().render(AnalysisReport(together)) == JSONReporter().render(AnalysisReport(oneByOne)))
        #expect(together.eventCount == oneByOne.eventCount)
    }

    @Test func anErrorInALaterTraceStopsTheRun() throws {
        let broken = "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events>\n<release cpu=\"0\" lock=\"A\" irq=\"restore\"/><hardirq-exit cpu=\"0\"/>\n</events></trace>\n"
        let analysis = Analysis()
        #expect(throws: TraceInputError.self) {
            try analysis.analyze([
                .file(path: Repository.path("traces/pgd-lock-abba.xml"), displayName: "abba.xml"),
                .bytes(Array(broken.utf8), displayName: "broken.xml"),
                .file(path: Repository.path("traces/thp-flush-under-page-table-lock.xml"), displayName: "thp.xml"),
            ])
        }
        do {
            try Analysis().analyze([.bytes(Array(broken.utf8), displayName: "broken.xml")])
        } catch let error as TraceInputError {
            #expect(error.description.hasPrefix("broken.xml:4:"))
            #expect(error.message.contains("<hardirq-exit/> on cpu 0 outside any hardirq"))
        }
    }

    @Test func aClassHasOneTypeAcrossTraces() throws {
        let analysis = Analysis()
        do {
            try analysis.analyze([
                .file(path: Repository.path("traces/pgd-free-in-irq.xml"), displayName: "traces/pgd-free-in-irq.xml"),
                .file(path: Repository.path("traces/pgd-lock-rwlock-write-in-irq.xml"), displayName: "traces/pgd-lock-rwlock-write-in-irq.xml"),
            ])
            Issue.record("a conflicting declaration was accepted")
        } catch let error as TraceInputError {
            #expect(error.description == "traces/pgd-lock-rwlock-write-in-irq.xml:12:5: error: class 'pgd_lock' declared again with another type or size (first at traces/pgd-free-in-irq.xml:12); traces analysed together share their classes")
        }
    }

    @Test func aLongTraceStreamsThroughInBatches() throws {
        var trace = TraceBuilder()
        for index in 0..<20_000 {
            trace.acquire("lock\(index % 7)")
            trace.release("lock\(index % 7)")
        }
        let analysis = try analyze(trace)
        #expect(analysis.eventCount == 40_000)
        #expect(analysis.findings.isEmpty)
    }
}
