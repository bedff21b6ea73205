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
            #expect(error.description == "traces/pgd-lock-rwlock-write-in-irq.xml:12:5: error: class 'pgd_lock' declared again with another type, size or wait type (first at traces/pgd-free-in-irq.xml:12); traces analysed together share their classes")
        }
    }

    /// A wait type written out as its type's default declares nothing new; a kernel built
    /// with PROVE_RAW_LOCK_NESTING and one without are two configurations, analysed apart.
    @Test func waitTypesAndProveRawLockNestingJoinOrSeparateTraces() throws {
        var written: [String] = []
        defer { for path in written { try? FileManager.default.removeItem(atPath: path) } }
        func file(_ name: String, meta: String, wait: String) throws -> Analysis.Source {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-\(UUID().uuidString)-\(name)").path
            written.append(path)
            let xml = """
                <?xml version="1.0"?>
                <trace version="1">\(meta)<classes><class name="S" type="spinlock"\(wait)/><class name="R" type="raw-spinlock"/></classes>
                <events><acquire cpu="0" lock="R"/><acquire cpu="0" lock="S"/></events></trace>
                """
            try xml.write(toFile: path, atomically: true, encoding: .utf8)
            return .file(path: path, displayName: name)
        }
        let prove = "<meta><config name=\"PROVE_RAW_LOCK_NESTING\" value=\"y\"/></meta>"
        let together = try Analysis.analyzeSeparatingConflicts(
            [try file("a.xml", meta: prove, wait: ""), try file("b.xml", meta: prove, wait: " wait=\"config\"")], options: AnalysisOptions())
        #expect(together.count == 1)
        #expect(together[0].findings.map(\.rule) == [.invalidWaitContext])
        let apart = try Analysis.analyzeSeparatingConflicts(
            [try file("a.xml", meta: prove, wait: ""), try file("c.xml", meta: "", wait: "")], options: AnalysisOptions())
        #expect(apart.map(\.analysedFiles) == [["a.xml"], ["c.xml"]])
        #expect(apart[0].putAside.map(\.reason) == ["PROVE_RAW_LOCK_NESTING is not set there and y in the traces before"])
        #expect(apart.map { $0.findings.map(\.rule) } == [[.invalidWaitContext], []])
    }

    /// Seed 002's two readings of pgd_lock — a spinlock in most kernels, the rwlock of the
    /// "write_lock in irq" proposal — in one directory: the rwlock trace goes apart, and each
    /// analysis finds what its traces find alone.
    @Test func tracesThatDisagreeOnAClassAreAnalysedApart() throws {
        let names = ["traces/pgd-free-in-irq.xml", "traces/pgd-lock-rwlock-write-in-irq.xml", "traces/pgd-lock-abba.xml"]
        let sources = names.map { Analysis.Source.file(path: Repository.path($0), displayName: $0) }
        let analyses = try Analysis.analyzeSeparatingConflicts(sources, options: AnalysisOptions())
        #expect(analyses.count == 2)
        #expect(analyses[0].analysedFiles == ["traces/pgd-free-in-irq.xml", "traces/pgd-lock-abba.xml"])
        #expect(analyses[1].analysedFiles == ["traces/pgd-lock-rwlock-write-in-irq.xml"])
        #expect(analyses[0].putAside.map(\.reason) == [
            "class 'pgd_lock' is declared rwlock there and spinlock in traces/pgd-free-in-irq.xml:12"
        ])
        #expect(analyses[1].findings.map(\.rule) == [.irqInconsistent])
        #expect(analyses[1].findings.allSatisfy { $0.locations.allSatisfy { $0.file == "traces/pgd-lock-rwlock-write-in-irq.xml" } })
        let report = AnalysisReport(analyses)
        #expect(report.analysisCount == 2)
        #expect(report.files == names.sorted())
        #expect(report.findings.count == analyses[0].findings.count + 1)
        #expect(report.notes.contains { $0.message.hasPrefix("traces/pgd-lock-rwlock-write-in-irq.xml is analysed apart from the traces of analysis 1 (analysis 2 of 2)") })
        // Each analysis's dependencies cite its own traces (its own file numbers).
        let apartEdges = AnalysisReport(analyses[1]).edges
        #expect(!apartEdges.isEmpty)
        #expect(apartEdges.allSatisfy { $0.evidence.file == names[1] && $0.holder.file == names[1] })
        #expect(report.edges.filter { $0.evidence.file == names[1] }.count == apartEdges.count)
        // A stream cannot be read again, to be put aside: it is read first, and the file that
        // contradicts it goes apart, wherever the stream was given; two streams that
        // contradict each other stay an error.
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Repository.path(names[1]))))
        let streamed = try Analysis.analyzeSeparatingConflicts([sources[0], .bytes(bytes, displayName: "<stdin>")], options: AnalysisOptions())
        #expect(streamed.map(\.analysedFiles) == [["<stdin>"], ["traces/pgd-free-in-irq.xml"]])
        let other = try Array(Data(contentsOf: URL(fileURLWithPath: Repository.path(names[0]))))
        #expect(throws: TraceInputError.self) {
            _ = try Analysis.analyzeSeparatingConflicts(
                [.bytes(other, displayName: "a"), .bytes(bytes, displayName: "b")], options: AnalysisOptions())
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
