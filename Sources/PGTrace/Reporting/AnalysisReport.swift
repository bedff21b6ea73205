/// Everything a reporter prints: the findings and notes of an analysis, with the traces and
/// the lock-order graph they came from, resolved to text.
public struct AnalysisReport: Sendable {
    public struct Node: Hashable, Sendable {
        public var name: String
        public var type: String
        /// Lockdep's usage string, `{+.-.}`.
        public var usage: String
        public var isPseudo: Bool
    }

    public struct Edge: Hashable, Sendable {
        public var from: String
        public var to: String
        /// `lock-order`, or `ipi` for the waits through the irqs-off pseudo-lock.
        public var kind: String
        /// Lockdep's dependency types seen on this edge: "EN", "SR", …
        public var types: [String]
        public var holder: Evidence
        public var evidence: Evidence
    }

    public var files: [String]
    public var eventCount: Int
    public var findings: [Finding]
    public var notes: [AnalysisNote]
    public var nodes: [Node]
    public var edges: [Edge]

    public init(_ analysis: Analysis) {
        let context = analysis.context
        files = analysis.files
        eventCount = analysis.eventCount
        findings = analysis.findings
        notes = analysis.notes
        let connected = Set(analysis.graph.edges.flatMap { [$0.from, $0.to] })
        nodes = (0..<analysis.classes.count).filter { id in
            !analysis.classes[ClassID(id)].isPseudo || connected.contains(ClassID(id))
        }.map { id in
            let entry = analysis.classes[ClassID(id)]
            return Node(
                name: context.name(of: ClassID(id)), type: entry.isPseudo ? "pseudo" : entry.type.rawValue,
                usage: analysis.graph.usage(of: ClassID(id)).lockdepString, isPseudo: entry.isPseudo)
        }
        edges = analysis.graph.edges.map { edge in
            var types: [String] = []
            if edge.types.contains(.en) { types.append("EN") }
            if edge.types.contains(.er) { types.append("ER") }
            if edge.types.contains(.sn) { types.append("SN") }
            if edge.types.contains(.sr) { types.append("SR") }
            return Edge(
                from: context.name(of: edge.from), to: context.name(of: edge.to), kind: edge.kind.rawValue,
                types: types,
                holder: context.evidence(edge.holderSite, "holds \(context.name(of: edge.from))"),
                evidence: context.evidence(edge.site, "acquires \(context.name(of: edge.to))"))
        }
    }

    /// The dependencies lockdep itself would record (no IPI waits).
    public var lockOrderEdges: [Edge] { edges.filter { $0.kind == DependencyKind.lockOrder.rawValue } }

    /// Findings at or above `threshold`; nil threshold means none count.
    public func failing(at threshold: Severity?) -> [Finding] {
        guard let threshold else { return [] }
        return findings.filter { $0.severity >= threshold }
    }
}
