import Foundation
@testable import PGTrace
import Testing

/// What a picture of the lock-order graph shows and how its edges read.
@Suite struct LockGraphViewTests {
    private func report(_ traces: [String]) throws -> AnalysisReport {
        let analysis = Analysis()
        for trace in traces { try analysis.analyze(path: Repository.path(trace), displayName: trace) }
        return AnalysisReport(analysis)
    }

    /// "Taken with hardirqs off" is drawn only where an IPI is waited for: pgd-lock-abba
    /// takes its locks with irqs off and sends no IPI, so no octagon and no "(ipi)" label.
    @Test func irqsOffEdgesOnlyBesideAnIPIWait() throws {
        let abba = LockGraphView(try report(["traces/pgd-lock-abba.xml"]))
        #expect(!abba.nodes.contains { $0.isPseudo })
        #expect(abba.edges.allSatisfy { $0.kind == "lock-order" })
        #expect(!DOTWriter().render(abba).contains("(ipi)"))

        let thp = LockGraphView(try report(["traces/thp-flush-under-page-table-lock.xml"]))
        let meanings = thp.edges.compactMap { edge in edge.meaning.map { "\(edge.from) -> \(edge.to): \($0)" } }
        #expect(meanings == [
            "(hardirqs off) -> mm->page_table_lock: taken with hardirqs off",
            "(hardirqs off) -> pgd_lock: taken with hardirqs off",
            "mm->page_table_lock -> (hardirqs off): IPI waited for while held",
        ])
    }

    /// A blamed edge is red and keeps the dashes that say it is no plain lock order.
    @Test func aBlamedIrqsOffEdgeStaysDashed() throws {
        let dot = DOTWriter().render(LockGraphView(try report(["traces/thp-flush-under-page-table-lock.xml"])))
        let line = try #require(dot.split(separator: "\n").first { $0.contains("\"(hardirqs off)\" -> \"mm->page_table_lock\"") })
        #expect(line.contains("color=red"))
        #expect(line.contains("style=dashed"))
        #expect(line.contains("(taken with hardirqs off)"))
    }

    /// `graph --format json` and `analyze --format json` call the graph by the same names.
    @Test func graphJSONUsesTheAnalysisNames() throws {
        let report = try report(["traces/pgd-lock-abba.xml"])
        let graph = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONReporter().render(LockGraphView(report)).utf8)) as? [String: Any])
        let analysis = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONReporter().render(report).utf8)) as? [String: Any])
        let inner = try #require(analysis["graph"] as? [String: Any])
        #expect(Set(graph.keys) == ["classes", "dependencies"])
        #expect(Set(inner.keys) == Set(graph.keys))
        // The picture leaves out the irqs-off edges that no IPI wait makes matter; the
        // analysis keeps every dependency.
        func lockOrder(_ document: [String: Any]) -> [String] {
            ((document["dependencies"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "lock-order" }
                .map { "\($0["from"] ?? "") -> \($0["to"] ?? "")" }
        }
        #expect(lockOrder(graph) == ["mm->page_table_lock -> pgd_lock", "pgd_lock -> mm->page_table_lock"])
        #expect(lockOrder(graph) == lockOrder(inner))
    }
}
