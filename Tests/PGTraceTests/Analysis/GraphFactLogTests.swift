import Testing

@testable import PGTrace

/// The fact log's index of its facts by key, which the graph checks do without.
@Suite struct GraphFactLogTests {
    /// pgd_lock and page_table_lock taken both ways with irqs on (seed 002's ABBA); with
    /// `nmi`, then a lock taken in NMI after its use outside (seed 005's logbuf_lock).
    private static func trace(nmi: Bool = false) -> [UInt8] {
        var trace = TraceBuilder(cpus: 2)
        trace.nest("pgd_lock", "page_table_lock")
        trace.nest("page_table_lock", "pgd_lock")
        if nmi {
            trace.acquire("logbuf_lock")
            trace.release("logbuf_lock")
            trace.event("nmi-enter")
            trace.acquire("logbuf_lock")
            trace.release("logbuf_lock")
            trace.event("nmi-exit")
        }
        return Array(trace.xml.utf8)
    }

    /// The checks let go of the index as they build the graph, and find every fact they add
    /// without it (the cycle's finding is made after, from them). A key looked up afterwards
    /// makes it again, whole: every fact is found where the log holds it, and a trace met
    /// again adds none.
    @Test func theChecksLetGoOfTheIndexAndTheNextLookupMakesItAgain() throws {
        let analysis = Analysis()
        try analysis.analyze(bytes: Self.trace(), displayName: "a.xml")
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        #expect(!analysis.facts.isIndexedByHash && !analysis.facts.classFactsAreIndexed)
        let entries = analysis.facts.entries
        #expect(entries.count == 8)
        for position in entries.indices {
            let key = entries.key(at: position)
            #expect(analysis.facts.fact(for: key)?.key == key)
        }
        #expect(analysis.facts.isIndexedByHash && analysis.facts.classFactsAreIndexed)

        try analysis.analyze(bytes: Self.trace(), displayName: "b.xml")
        #expect(analysis.facts.entries.count == entries.count)
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        #expect(analysis.findings.allSatisfy { $0.locations.allSatisfy { $0.file == "a.xml" } })
    }

    /// A check that looks a class's fact up by key (the NMI check, for the use it cites)
    /// makes that index again as it runs, and finds it; the other stays let go of.
    @Test func aCheckThatLooksAFactUpMakesTheIndexAgain() throws {
        let analysis = Analysis()
        try analysis.analyze(bytes: Self.trace(nmi: true), displayName: "a.xml")
        #expect(analysis.facts.classFactsAreIndexed && !analysis.facts.isIndexedByHash)
        let findings = analysis.findings
        #expect(findings.map(\.rule) == [.circularDependency, .irqInconsistent])
        #expect(findings.last?.locks == ["logbuf_lock"])
        #expect(findings.last?.locations.map(\.line) == [15, 12])
    }
}
