/// The part of an analysis' lock-order graph a picture shows: every class or only those that
/// connect to one (`focus`) or lie on a cycle (`cyclesOnly`), with the edges that findings
/// blame marked so that writers can draw them in red.
public struct LockGraphView: Sendable {
    public struct Node: Hashable, Sendable {
        public var name: String
        public var type: String
        /// Lockdep's usage string, `{+.-.}`.
        public var usage: String
        public var isPseudo: Bool
        /// Named by a finding (a lock on a cycle, the safe or unsafe end of an inversion).
        public var isFlagged: Bool
    }

    public struct Edge: Hashable, Sendable {
        /// The dependency as the report has it (its evidence resolved when asked for).
        let dependency: AnalysisReport.Edge
        /// The rules of the findings whose chain runs along this edge.
        public var flaggedBy: [String]

        public var from: String { dependency.from }
        public var to: String { dependency.to }
        public var kind: String { dependency.kind }
        public var types: [String] { dependency.types }
        /// The event that first created the edge, and where its holder was taken.
        public var evidence: Evidence { dependency.evidence }
        public var holder: Evidence { dependency.holder }

        /// What an edge that is no plain lock order means, in a few words for its label:
        /// into a lock from the irqs-off octagon, "taken with hardirqs off"; from a lock into
        /// it, "IPI waited for while held"; between kmap pools, "kmap".
        public var meaning: String? {
            switch kind {
            case "lock-order": return nil
            case "ipi" where from == IpiDeadlockChecker.pseudoLockName: return "taken with hardirqs off"
            case "ipi": return "IPI waited for while held"
            default: return kind
            }
        }
    }

    public var nodes: [Node]
    public var edges: [Edge]
    /// The whole graph's size where this view draws only part of it (`aroundFindings`): a
    /// picture of a part says so in itself, not only on standard error.
    public var partOf: (classes: Int, dependencies: Int)?

    /// A graph with more dependencies than this is drawn, by default, only around findings:
    /// Graphviz takes minutes over a few thousand edges and the picture is unreadable anyway.
    public static let largeGraphEdges = 300

    /// What findings flag and everything between them: the classes findings name, the edges
    /// their chains run along, and any other edge between two of those classes.
    public func aroundFindings() -> LockGraphView {
        var view = self
        view.partOf = (nodes.count, edges.count)
        let flagged = Set(nodes.filter(\.isFlagged).map(\.name))
            .union(edges.filter { !$0.flaggedBy.isEmpty }.flatMap { [$0.from, $0.to] })
        view.edges = edges.filter { !$0.flaggedBy.isEmpty || (flagged.contains($0.from) && flagged.contains($0.to)) }
        view.nodes = nodes.filter { flagged.contains($0.name) }
        return view
    }

    public init(_ report: AnalysisReport, focus: String? = nil, cyclesOnly: Bool = false) {
        var flaggedEdges: [String: Set<String>] = [:]
        var flaggedNodes: Set<String> = []
        for finding in report.findings {
            for link in finding.chain {
                flaggedEdges[Self.key(link.holder, link.acquired), default: []].insert(finding.rule.rawValue)
            }
            if [.circularDependency, .irqInversion, .ipiDeadlock, .kmapOrder, .irqInconsistent, .recursiveLocking]
                .contains(finding.rule)
            {
                flaggedNodes.formUnion(finding.locks)
            }
        }
        var edges = report.edges.map { edge in
            Edge(dependency: edge, flaggedBy: (flaggedEdges[Self.key(edge.from, edge.to)] ?? []).sorted())
        }
        var names = Set(report.nodes.map(\.name))
        if cyclesOnly {
            var component: [String: Int] = [:]
            for (index, members) in Self.components(names: report.nodes.map(\.name), edges: edges).enumerated()
            where members.count > 1 {
                for member in members { component[member] = index }
            }
            names = Set(component.keys)
            edges = edges.filter { edge in component[edge.from].map { $0 == component[edge.to] } ?? false }
        }
        if let focus {
            let ahead = Self.reachable(from: focus, edges: edges, forward: true)
            let behind = Self.reachable(from: focus, edges: edges, forward: false)
            names = names.intersection(ahead.union(behind).union([focus]))
            edges = edges.filter { edge in
                (ahead.contains(edge.to) && (ahead.contains(edge.from) || edge.from == focus))
                    || (behind.contains(edge.from) && (behind.contains(edge.to) || edge.to == focus))
            }
        }
        nodes = report.nodes.filter { names.contains($0.name) }.map { node in
            Node(name: node.name, type: node.type, usage: node.usage, isPseudo: node.isPseudo, isFlagged: flaggedNodes.contains(node.name))
        }
        // "Taken with hardirqs off" matters only against an IPI waited for: without one,
        // those edges (and the octagon) are left out.
        if !edges.contains(where: { $0.to == IpiDeadlockChecker.pseudoLockName }) {
            edges.removeAll { $0.from == IpiDeadlockChecker.pseudoLockName }
        }
        // Pseudo and kmap nodes only when something draws to them.
        let used = Set(edges.flatMap { [$0.from, $0.to] })
        nodes = nodes.filter { !$0.isPseudo || used.contains($0.name) }
        self.edges = edges
    }

    private static func key(_ from: String, _ to: String) -> String { from + "\u{0}" + to }

    private static func reachable(from start: String, edges: [Edge], forward: Bool) -> Set<String> {
        var next: [String: [String]] = [:]
        for edge in edges {
            if forward { next[edge.from, default: []].append(edge.to) } else { next[edge.to, default: []].append(edge.from) }
        }
        var seen: Set<String> = []
        var stack = [start]
        while let node = stack.popLast() {
            for child in next[node] ?? [] where seen.insert(child).inserted { stack.append(child) }
        }
        return seen
    }

    /// The strongly connected components of the graph (Tarjan's algorithm, iterative).
    static func components(names: [String], edges: [Edge]) -> [[String]] {
        var next: [String: [String]] = [:]
        for edge in edges { next[edge.from, default: []].append(edge.to) }
        var index: [String: Int] = [:]
        var low: [String: Int] = [:]
        var onStack: Set<String> = []
        var stack: [String] = []
        var result: [[String]] = []
        var counter = 0
        // Iterative Tarjan: (node, next child position).
        for root in names where index[root] == nil {
            var work: [(String, Int)] = [(root, 0)]
            index[root] = counter
            low[root] = counter
            counter += 1
            stack.append(root)
            onStack.insert(root)
            while let (node, position) = work.last {
                let children = next[node] ?? []
                if position < children.count {
                    work[work.count - 1].1 += 1
                    let child = children[position]
                    if index[child] == nil {
                        index[child] = counter
                        low[child] = counter
                        counter += 1
                        stack.append(child)
                        onStack.insert(child)
                        work.append((child, 0))
                    } else if onStack.contains(child) {
                        low[node] = min(low[node]!, index[child]!)
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.0 { low[parent] = min(low[parent]!, low[node]!) }
                if low[node] == index[node] {
                    var component: [String] = []
                    while let member = stack.popLast() {
                        onStack.remove(member)
                        component.append(member)
                        if member == node { break }
                    }
                    result.append(component)
                }
            }
        }
        return result
    }
}
