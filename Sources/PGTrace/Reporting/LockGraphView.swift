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
        /// The dependency as the report has it (its evidence resolved when asked for), by its
        /// place among the report's: an edge that copied it was 120 bytes, a view of 2M
        /// dependencies 240 MB beside the report's own.
        var dependency: AnalysisReport.Edge { dependencies.edges[Int(index)] }
        private let dependencies: Dependencies
        private let index: Int32
        /// The rules of the findings whose chain runs along this edge.
        public var flaggedBy: [String]

        /// The report's dependencies, shared by the edges of its views (the report's array
        /// itself, not a copy).
        final class Dependencies: Sendable {
            let edges: [AnalysisReport.Edge]

            init(_ edges: [AnalysisReport.Edge]) {
                precondition(edges.count <= Int(Int32.max), "more than 2^31 - 1 dependencies")
                self.edges = edges
            }
        }

        init(_ index: Int, of dependencies: Dependencies, flaggedBy: [String]) {
            self.dependencies = dependencies
            self.index = Int32(index)
            self.flaggedBy = flaggedBy
        }

        /// Equal as their dependencies and flags are.
        public static func == (lhs: Edge, rhs: Edge) -> Bool { lhs.dependency == rhs.dependency && lhs.flaggedBy == rhs.flaggedBy }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(dependency)
            hasher.combine(flaggedBy)
        }

        // Each read through the report's array in place: through `dependency`, a read of one
        // name copied the whole dependency, its retains and releases 8% of drawing a million.
        public var from: String { dependencies.edges[Int(index)].from }
        public var to: String { dependencies.edges[Int(index)].to }
        public var kind: String { dependencies.edges[Int(index)].kind }
        public var types: [String] { dependencies.edges[Int(index)].types }
        /// The event that first created the edge, and where its holder was taken.
        public var evidence: Evidence { dependencies.edges[Int(index)].evidence }
        public var holder: Evidence { dependencies.edges[Int(index)].holder }

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
    /// their chains run along, and any other edge between two of those classes. Where that is
    /// every edge or class, the view's own arrays, not copies of them.
    public func aroundFindings() -> LockGraphView {
        var view = self
        view.partOf = (nodes.count, edges.count)
        // The classes flagged, by their place among the nodes, found by name: a set of names
        // was 12 MB for 250k classes.
        let byName = KeyOrder(count: nodes.count) { nodes[$0].name }
        var flagged = nodes.map(\.isFlagged)
        // The ends of flagged edges that are no node's name (none, in a view `init` made).
        var otherNames: Set<ByteName> = []
        func flag(_ name: String) {
            var found = false
            byName.forEach(name) {
                flagged[$0] = true
                found = true
            }
            if !found { otherNames.insert(ByteName(name)) }
        }
        for edge in edges where !edge.flaggedBy.isEmpty {
            flag(edge.from)
            flag(edge.to)
        }
        // Where nothing is flagged (a large graph without findings), no name is looked up.
        let anyFlagged = !otherNames.isEmpty || flagged.contains(true)
        func isFlagged(_ name: String) -> Bool {
            guard anyFlagged else { return false }
            var found = false
            byName.forEach(name) { found = found || flagged[$0] }
            return found || otherNames.contains(ByteName(name))
        }
        let keptEdges = edges.map { !$0.flaggedBy.isEmpty || (isFlagged($0.from) && isFlagged($0.to)) }
        if keptEdges.contains(false) { view.edges = edges.indices.filter { keptEdges[$0] }.map { edges[$0] } }
        let keptNodes = nodes.map { isFlagged($0.name) }
        if keptNodes.contains(false) { view.nodes = nodes.indices.filter { keptNodes[$0] }.map { nodes[$0] } }
        return view
    }

    public init(_ report: AnalysisReport, focus: String? = nil, cyclesOnly: Bool = false) {
        // What findings flag, by the place of each edge and class in the report, found by
        // their names (a report keeps both in that order): a set of rules by a key of the two
        // names for each edge, and a set of names, took 500 bytes a flagged edge.
        let edgesByEnds = KeyOrder(count: report.edges.count) { Ends(from: report.edges[$0].from, to: report.edges[$0].to) }
        let nodesByName = KeyOrder(count: report.nodes.count) { report.nodes[$0].name }
        var edgeRules = [UInt64](repeating: 0, count: report.edges.count)
        var flaggedNodes = [Bool](repeating: false, count: report.nodes.count)
        for finding in report.findings {
            for link in finding.chain {
                edgesByEnds.forEach(Ends(from: link.holder, to: link.acquired)) { edgeRules[$0] |= Self.bit(finding.rule) }
            }
            if [.circularDependency, .irqInversion, .ipiDeadlock, .kmapOrder, .irqInconsistent, .recursiveLocking]
                .contains(finding.rule)
            {
                for lock in finding.locks { nodesByName.forEach(lock) { flaggedNodes[$0] = true } }
            }
        }
        // Each set of rules' names once, which the edges it flags share.
        var ruleNames: [UInt64: [String]] = [0: []]
        let dependencies = Edge.Dependencies(report.edges)
        var edges: [Edge] = []
        edges.reserveCapacity(report.edges.count)
        for index in report.edges.indices {
            let rules = edgeRules[index]
            if ruleNames[rules] == nil { ruleNames[rules] = Rule.allCases.filter { rules & Self.bit($0) != 0 }.map(\.rawValue).sorted() }
            edges.append(Edge(index, of: dependencies, flaggedBy: ruleNames[rules]!))
        }
        // The classes drawn: every one, unless a cycle or a focus leaves some out (by their
        // names' bytes, as the analysis tells classes apart).
        var names: Set<ByteName>?
        if cyclesOnly {
            var component: [ByteName: Int] = [:]
            for (index, members) in Self.components(names: report.nodes.map { ByteName($0.name) }, edges: edges).enumerated()
            where members.count > 1 {
                for member in members { component[member] = index }
            }
            names = Set(component.keys)
            edges = edges.filter { edge in component[ByteName(edge.from)].map { $0 == component[ByteName(edge.to)] } ?? false }
        }
        if let focus {
            let focus = ByteName(focus)
            let ahead = Self.reachable(from: focus, edges: edges, forward: true)
            let behind = Self.reachable(from: focus, edges: edges, forward: false)
            names = (names ?? Set(report.nodes.map { ByteName($0.name) })).intersection(ahead.union(behind).union([focus]))
            edges = edges.filter { edge in
                let (from, to) = (ByteName(edge.from), ByteName(edge.to))
                return (ahead.contains(to) && (ahead.contains(from) || from == focus))
                    || (behind.contains(from) && (behind.contains(to) || to == focus))
            }
        }
        var nodes: [Node] = []
        nodes.reserveCapacity(names?.count ?? report.nodes.count)
        for (index, node) in report.nodes.enumerated() where names?.contains(ByteName(node.name)) ?? true {
            nodes.append(Node(name: node.name, type: node.type, usage: node.usage, isPseudo: node.isPseudo, isFlagged: flaggedNodes[index]))
        }
        // "Taken with hardirqs off" matters only against an IPI waited for: without one,
        // those edges (and the octagon) are left out.
        if !edges.contains(where: { $0.to == IpiDeadlockChecker.pseudoLockName }) {
            edges.removeAll { $0.from == IpiDeadlockChecker.pseudoLockName }
        }
        // Pseudo and kmap nodes only when something draws to them.
        let pseudo = Set(nodes.lazy.filter(\.isPseudo).map { ByteName($0.name) })
        if !pseudo.isEmpty {
            var used: Set<ByteName> = []
            for edge in edges {
                let (from, to) = (ByteName(edge.from), ByteName(edge.to))
                if pseudo.contains(from) { used.insert(from) }
                if pseudo.contains(to) { used.insert(to) }
            }
            nodes.removeAll { $0.isPseudo && !used.contains(ByteName($0.name)) }
        }
        self.nodes = nodes
        self.edges = edges
    }

    /// The bit of `rule` in a set of rules.
    private static func bit(_ rule: Rule) -> UInt64 { 1 << UInt64(ruleBits[rule]!) }
    private static let ruleBits: [Rule: Int] = {
        precondition(Rule.allCases.count <= 64, "more rules than bits in a set of them")
        return Dictionary(uniqueKeysWithValues: Rule.allCases.enumerated().map { ($1, $0) })
    }()

    /// An edge's two classes, by name: ordered by the first's bytes, then the second's.
    private struct Ends: ByteOrder {
        let from: String
        let to: String

        func precedes(_ other: Ends) -> Bool {
            from.precedes(other.from) || (from.isSame(as: other.from) && to.precedes(other.to))
        }

        func isSame(as other: Ends) -> Bool { from.isSame(as: other.from) && to.isSame(as: other.to) }
    }

    private static func reachable(from start: ByteName, edges: [Edge], forward: Bool) -> Set<ByteName> {
        var next: [ByteName: [ByteName]] = [:]
        for edge in edges {
            let (from, to) = (ByteName(edge.from), ByteName(edge.to))
            if forward { next[from, default: []].append(to) } else { next[to, default: []].append(from) }
        }
        var seen: Set<ByteName> = []
        var stack = [start]
        while let node = stack.popLast() {
            for child in next[node] ?? [] where seen.insert(child).inserted { stack.append(child) }
        }
        return seen
    }

    /// The strongly connected components of the graph (Tarjan's algorithm, iterative).
    static func components(names: [ByteName], edges: [Edge]) -> [[ByteName]] {
        var next: [ByteName: [ByteName]] = [:]
        for edge in edges { next[ByteName(edge.from), default: []].append(ByteName(edge.to)) }
        var index: [ByteName: Int] = [:]
        var low: [ByteName: Int] = [:]
        var onStack: Set<ByteName> = []
        var stack: [ByteName] = []
        var result: [[ByteName]] = []
        var counter = 0
        // Iterative Tarjan: (node, next child position).
        for root in names where index[root] == nil {
            var work: [(ByteName, Int)] = [(root, 0)]
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
                    var component: [ByteName] = []
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
