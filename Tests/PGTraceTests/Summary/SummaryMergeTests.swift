import Foundation
import Testing

@testable import PGTrace

/// The contract's "Fleet summaries": analysing any grouping of the summaries of a set of
/// traces, merged in any order, reports what one analysis of all the traces reports — the
/// same findings, fingerprints and cited evidence, byte for byte.
@Suite struct SummaryMergeTests {
    typealias Trace = (name: String, xml: String)

    // MARK: Support

    /// What `pgtrace summarize` writes for these traces (or summaries).
    static func summary(_ inputs: [Trace]) throws -> String {
        let analysis = Analysis()
        try analysis.analyze(inputs.map { .bytes(Array($0.xml.utf8), displayName: $0.name) })
        var text = ""
        try SummaryWriter.write(analysis) { text += $0 }
        return text
    }

    /// The JSON report and the text report of one analysis of `inputs`, as `pgtrace analyze
    /// --format json` and `pgtrace analyze` print them.
    static func reports(_ inputs: [Trace]) throws -> (json: String, text: String) {
        let analysis = Analysis()
        try analysis.analyze(inputs.map { .bytes(Array($0.xml.utf8), displayName: $0.name) })
        let report = AnalysisReport(analysis)
        var json = ""
        JSONReporter().write(report, to: { json += $0 })
        var text = ""
        TextReporter().write(report, to: { text += $0 })
        return (json, text)
    }

    /// The shipped traces that one analysis takes together (traces of another configuration
    /// or with another declaration of a class go to an analysis of their own).
    static let shipped: [Trace] = {
        let directory = Repository.path("traces")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var traces: [Trace] = []
        for name in names.sorted() where name.hasSuffix(".xml") {
            // A summary is of one kernel configuration.
            guard let xml = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8),
                !xml.contains("PROVE_RAW_LOCK_NESTING")
            else { continue }
            traces.append(("traces/" + name, xml))
        }
        // Only traces that one analysis takes together: a trace that contradicts one kept
        // before it (another configuration, another declaration of a class) is left out.
        var kept: [Trace] = []
        for trace in traces where (try? analyze(kept + [trace])) != nil { kept.append(trace) }
        return kept
    }()

    /// A small random generator with a seed, for repeatable groupings.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func shuffle<T>(_ items: [T]) -> [T] {
            var items = items
            for index in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(index, next(index + 1)) }
            return items
        }
    }

    /// Summarizes `traces` in random groups (each group's traces in a random order), then
    /// merges the summaries in a random tree: the summary a fleet would end with.
    static func mergedAtRandom(_ traces: [Trace], seed: UInt64) throws -> String {
        var random = Random(state: seed)
        var pending = random.shuffle(traces)
        var summaries: [Trace] = []
        while !pending.isEmpty {
            let size = 1 + random.next(min(4, pending.count))
            summaries.append(("group\(summaries.count).sum", try summary(Array(pending.prefix(size)))))
            pending.removeFirst(size)
        }
        while summaries.count > 1 {
            summaries = random.shuffle(summaries)
            let size = 2 + random.next(min(3, summaries.count - 1))
            let merged = try summary(Array(summaries.prefix(size)))
            summaries.removeFirst(size)
            summaries.append(("merged\(summaries.count).sum", merged))
        }
        return summaries[0].xml
    }

    // MARK: The shipped traces

    @Test func theShippedTracesAreManyAndFindMuch() throws {
        #expect(Self.shipped.count >= 30)
        let analysis = try analyze(Self.shipped)
        #expect(Set(analysis.findings.map(\.rule)).count >= 10)
    }

    @Test func aSummaryOfOneTraceReportsAsTheTrace() throws {
        for trace in Self.shipped {
            let summary = try Self.summary([trace])
            #expect(try Self.reports([("one.sum", summary)]) == (try Self.reports([trace])), "\(trace.name)")
        }
    }

    @Test(arguments: 0..<12)
    func anyGroupingInAnyOrderReportsAsOneRun(seed: Int) throws {
        let oneRun = try Self.reports(Self.shipped)
        let merged = try Self.mergedAtRandom(Self.shipped, seed: UInt64(seed) &* 7919 &+ 17)
        let fromSummaries = try Self.reports([("fleet.sum", merged)])
        #expect(fromSummaries.json == oneRun.json)
        #expect(fromSummaries.text == oneRun.text)
    }

    @Test func theMergedSummaryIsTheSameBytesWhateverTheGrouping() throws {
        let first = try Self.mergedAtRandom(Self.shipped, seed: 1)
        for seed in 2...5 as ClosedRange<UInt64> {
            #expect(try Self.mergedAtRandom(Self.shipped, seed: seed) == first)
        }
        #expect(try Self.summary(Self.shipped) == first)
    }

    @Test func oneRunDoesNotDependOnTheOrderOfItsTraces() throws {
        let inOrder = try Self.reports(Self.shipped)
        var random = Random(state: 99)
        for _ in 0..<3 {
            #expect(try Self.reports(random.shuffle(Self.shipped)) == inOrder)
        }
    }
}
