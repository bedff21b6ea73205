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

/// What a view flags, against the rule as written: an edge is flagged by the rules of the
/// findings whose chains run from its holder to its class, a class by the findings of a
/// cycle, an inversion, an IPI deadlock, a kmap order, an inconsistent irq state or a
/// recursion naming it; around the findings, the classes flagged or at the end of a flagged
/// edge, and the edges flagged or between two of those.
@Suite struct LockGraphViewFlagTests {
    /// The view's flags and its part around findings, as names.
    struct Flags: Equatable {
        var edges: [String]
        var nodes: [String]
        var around: [String]

        init(_ view: LockGraphView) {
            edges = view.edges.map { "\($0.from) -> \($0.to) (\($0.kind)): \($0.flaggedBy)" }.sorted()
            nodes = view.nodes.map { "\($0.name) \($0.type): \($0.isFlagged)" }.sorted()
            let around = view.aroundFindings()
            self.around = (around.nodes.map(\.name) + around.edges.map { "\($0.from) -> \($0.to) (\($0.kind))" }).sorted()
        }

        /// The flags as the rule says, from the report alone.
        init(expectedOf report: AnalysisReport, view: LockGraphView) {
            var edgeRules: [String: Set<String>] = [:]
            var named: Set<String> = []
            for finding in report.findings {
                for link in finding.chain { edgeRules["\(link.holder) -> \(link.acquired)", default: []].insert(finding.rule.rawValue) }
                let flagging: [Rule] = [.circularDependency, .irqInversion, .ipiDeadlock, .kmapOrder, .irqInconsistent, .recursiveLocking]
                if flagging.contains(finding.rule) { named.formUnion(finding.locks) }
            }
            edges = view.edges.map { "\($0.from) -> \($0.to) (\($0.kind)): \((edgeRules["\($0.from) -> \($0.to)"] ?? []).sorted())" }.sorted()
            nodes = view.nodes.map { "\($0.name) \($0.type): \(named.contains($0.name))" }.sorted()
            let flaggedEdges = view.edges.filter { edgeRules["\($0.from) -> \($0.to)"] != nil }
            let flagged = named.intersection(view.nodes.map(\.name)).union(flaggedEdges.flatMap { [$0.from, $0.to] })
            around = (view.nodes.map(\.name).filter(flagged.contains)
                + view.edges.filter { edgeRules["\($0.from) -> \($0.to)"] != nil || (flagged.contains($0.from) && flagged.contains($0.to)) }
                .map { "\($0.from) -> \($0.to) (\($0.kind))" }).sorted()
        }
    }

    /// Every shipped trace, and the same report with its classes and dependencies put in
    /// reverse order (a program may reorder them; the view then finds them by an order of
    /// its own).
    @Test func everyShippedTracesViewFlagsAsTheRuleSays() throws {
        let paths = try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))
            .filter { $0.hasSuffix(".xml") }.sorted()
        var flaggedEdges = 0
        for path in paths {
            let analysis = Analysis()
            try analysis.analyze(path: Repository.path("traces/" + path), displayName: path)
            var report = AnalysisReport(analysis)
            let view = LockGraphView(report)
            #expect(Flags(view) == Flags(expectedOf: report, view: view), "\(path)")
            flaggedEdges += view.edges.filter { !$0.flaggedBy.isEmpty }.count
            report.nodes.reverse()
            report.edges.reverse()
            let reversed = LockGraphView(report)
            #expect(Flags(reversed) == Flags(view), "\(path), reversed")
        }
        #expect(flaggedEdges > 5)
    }

    /// Random traces of nested sections over six classes (two of them subclasses of one),
    /// some in a hardirq: many cycles and inversions, flagged as the rule says, in the
    /// report's order and in reverse.
    @Test func randomTracesViewsFlagAsTheRuleSays() throws {
        var random = SplitMix(state: 75)
        var flaggedEdges = 0
        for _ in 0..<40 {
            var trace = TraceBuilder()
            for _ in 0..<(2 + random.next(8)) {
                let inIrq = random.next(4) == 0
                if inIrq { trace.event("hardirq-enter", [("irq", "7")]) }
                let depth = 2 + random.next(2)
                var taken: [(String, Int)] = []
                while taken.count < depth {
                    let lock = (["A", "B", "C", "D", "E"][random.next(5)], random.next(3) == 0 ? 1 : 0)
                    if !taken.contains(where: { $0 == lock }) { taken.append(lock) }
                }
                for (name, subclass) in taken { trace.acquire(name, subclass: subclass) }
                for (name, _) in taken.reversed() { trace.release(name) }
                if inIrq { trace.event("hardirq-exit") }
            }
            var report = AnalysisReport(try analyze(trace))
            let view = LockGraphView(report)
            #expect(Flags(view) == Flags(expectedOf: report, view: view), "\(trace.xml)")
            flaggedEdges += view.edges.filter { !$0.flaggedBy.isEmpty }.count
            report.nodes.reverse()
            report.edges.reverse()
            #expect(Flags(LockGraphView(report)) == Flags(view), "\(trace.xml), reversed")
        }
        #expect(flaggedEdges > 40)
    }

    /// Around the findings of a view a program changed: a class left out of its nodes is
    /// still flagged as the end of a flagged edge, and an edge between it and a flagged
    /// class is kept.
    @Test func aFlaggedEdgesEndLeftOutOfTheNodesStillCounts() throws {
        var trace = TraceBuilder()
        trace.nest("A", "B")
        trace.nest("B", "A")
        trace.nest("C", "D")
        trace.nest("D", "C")
        trace.nest("C", "A")
        var view = LockGraphView(AnalysisReport(try analyze(trace)))
        #expect(view.edges.first { $0.from == "C" && $0.to == "A" }?.flaggedBy == [])
        view.nodes.removeAll { $0.name == "A" }
        let around = view.aroundFindings()
        #expect(around.edges.map { "\($0.from) -> \($0.to)" } == ["A -> B", "B -> A", "C -> A", "C -> D", "D -> C"])
        #expect(around.nodes.map(\.name) == ["B", "C", "D"])
        #expect(Flags(view) == Flags(expectedOf: AnalysisReport(try analyze(trace)), view: view))
    }

    /// A class is found by its name's bytes (helper-145): `가` written precomposed (`p`) and as
    /// two jamo (`d`) are two classes, which Swift's comparison of strings takes for equal and
    /// yet orders `p < s < d` with `s` = `가/2`. Each is flagged as its own findings say, and
    /// each GraphML edge joins the nodes of its own classes' names (the edge from `가/2` was
    /// dropped, and a dictionary by name tied `p`'s edges to `d`'s node).
    @Test func aClassIsFoundByItsNamesBytes() throws {
        let (precomposed, jamo, subclass) = ("\u{AC00}", "\u{1100}\u{1161}", "\u{AC00}/2")
        #expect(precomposed == jamo && precomposed < subclass && subclass < jamo)
        var trace = TraceBuilder()
        trace.nest(jamo, "x")
        trace.nest("x", jamo)
        trace.nest(precomposed, "y")
        trace.nest(subclass, "z")
        let report = AnalysisReport(try analyze(trace))
        let view = LockGraphView(report)
        let flaggedNodes = view.nodes.filter(\.isFlagged).map(\.name)
        #expect(flaggedNodes.count == 2 && flaggedNodes.contains { $0.utf8.elementsEqual(jamo.utf8) } && flaggedNodes.contains("x"))
        let flaggedEdges = view.edges.filter { !$0.flaggedBy.isEmpty }
        #expect(flaggedEdges.count == 2 && flaggedEdges.allSatisfy { [$0.from, $0.to].contains { $0.utf8.elementsEqual(jamo.utf8) } })
        // GraphML: every edge, between the nodes of its ends' bytes.
        let graphml = GraphMLWriter().render(view)
        var labels: [String: String] = [:]
        var node: String?
        var ends: [(String, String)] = []
        for line in graphml.split(separator: "\n").map(String.init) {
            if line.hasPrefix("    <node id=\"") { node = String(line.dropFirst(14).prefix { $0 != "\"" }) }
            if line.hasPrefix("      <data key=\"n_label\">"), let node {
                labels[node] = String(line.dropFirst(26).dropLast(7))
            }
            if line.hasPrefix("    <edge ") {
                let fields = line.split(separator: "\"").map(String.init)
                ends.append((fields[3], fields[5]))
            }
        }
        let drawn = ends.map { "\(Array(labels[$0.0]!.utf8)) -> \(Array(labels[$0.1]!.utf8))" }.sorted()
        let expected = view.edges.map { "\(Array($0.from.utf8)) -> \(Array($0.to.utf8))" }.sorted()
        #expect(drawn.count == 4 && drawn == expected)
    }

    /// `--cycles-only` and `--focus` tell classes by their names' bytes too (helper-146):
    /// `é -> X` and `X -> e+accent` make no cycle, and a focus on one `é` leaves the other's
    /// edges out.
    @Test func cyclesAndFocusTellClassesByTheirBytes() throws {
        let (composed, decomposed) = ("\u{E9}", "e\u{301}")
        var trace = TraceBuilder()
        trace.nest(composed, "X")
        trace.nest("X", decomposed)
        let report = AnalysisReport(try analyze(trace))
        #expect(LockGraphView(report, cyclesOnly: true).edges.isEmpty)
        func ends(_ view: LockGraphView) -> Set<String> { Set(view.edges.map { "\(Array($0.from.utf8)) -> \(Array($0.to.utf8))" }) }
        let both: Set = ["\(Array(composed.utf8)) -> \(Array("X".utf8))", "\(Array("X".utf8)) -> \(Array(decomposed.utf8))"]
        #expect(ends(LockGraphView(report, focus: "X")) == both && LockGraphView(report, focus: "X").nodes.count == 3)
        // A focus on e+accent: what leads to it (X, and é before X), not what é leads to.
        var apart = TraceBuilder()
        apart.nest(composed, "Z")
        apart.nest("X", decomposed)
        let separate = AnalysisReport(try analyze(apart))
        #expect(ends(LockGraphView(separate, focus: decomposed)) == ["\(Array("X".utf8)) -> \(Array(decomposed.utf8))"])
        #expect(ends(LockGraphView(separate, focus: composed)) == ["\(Array(composed.utf8)) -> \(Array("Z".utf8))"])
    }
}
