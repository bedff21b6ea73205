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

    /// A dependency of the graph, as the analysis found it. Its two events are kept as sites
    /// and resolved to `Evidence` when a writer asks (two resolved values would be most of
    /// an edge's memory, for graphs of tens of thousands of edges).
    public struct Edge: Hashable, Sendable {
        public let from: String
        public let to: String
        /// `lock-order`, or `ipi` for the waits through the irqs-off pseudo-lock.
        public let kind: String
        let dependencyTypes: DependencyTypes
        let holderSite: EventSite
        let site: EventSite
        let resolver: SiteResolver

        /// Lockdep's dependency types seen on this edge: "EN", "SR", …
        public var types: [String] {
            var types: [String] = []
            if dependencyTypes.contains(.en) { types.append("EN") }
            if dependencyTypes.contains(.er) { types.append("ER") }
            if dependencyTypes.contains(.sn) { types.append("SN") }
            if dependencyTypes.contains(.sr) { types.append("SR") }
            return types
        }

        /// Where the holder was taken.
        public var holder: Evidence { resolver.evidence(holderSite, "holds \(from)") }

        /// The acquisition that first created the dependency.
        public var evidence: Evidence { resolver.evidence(site, "acquires \(to)") }

        /// Equal as their text is (edges of two analyses of one trace are equal).
        public static func == (lhs: Edge, rhs: Edge) -> Bool {
            lhs.from == rhs.from && lhs.to == rhs.to && lhs.kind == rhs.kind && lhs.dependencyTypes == rhs.dependencyTypes
                && lhs.holder == rhs.holder && lhs.evidence == rhs.evidence
        }

        /// Of what `==` compares, what needs no resolving: equal evidence has equal event
        /// numbers.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(from)
            hasher.combine(to)
            hasher.combine(kind)
            hasher.combine(dependencyTypes)
            hasher.combine(holderSite.position.event)
            hasher.combine(site.position.event)
        }
    }

    /// An analysis' sites resolved to evidence on demand, for the report's edges: the trace
    /// names as they were when the report was made, and the analysis's symbol table, which
    /// only grows and may be read while another thread interns. The report stays a snapshot
    /// while its analysis goes on, and keeps no more of it alive.
    final class SiteResolver: Sendable {
        private let files: [String]
        private let symbols: SymbolTable

        init(_ context: CheckerContext) {
            files = context.files
            symbols = context.symbols
        }

        func evidence(_ site: EventSite, _ role: String) -> Evidence {
            Evidence(site, role, files: files, symbols: symbols)
        }
    }

    public var files: [String]
    public var eventCount: Int
    /// In their order; each made when read where the report was asked to make them so.
    public var findings: FindingList
    public var notes: [AnalysisNote]
    public var nodes: [Node]
    public var edges: [Edge]

    /// The report of several analyses side by side (traces whose class declarations
    /// contradict each other, analysed apart): their findings, notes and graphs one after the
    /// other, and a note saying which traces went apart and why.
    ///
    /// `includingGraph` false leaves `nodes` and `edges` empty, for reports that print no
    /// graph (text, SARIF, JUnit): a graph of a million dependencies resolved to text is
    /// hundreds of megabytes. `includingUsage` false leaves each finding's `usage` empty, for
    /// reports that print no lock lines (JSON, SARIF, or none at all: 16k findings spent 5% of
    /// an `analyze --quiet` naming their classes' usage).
    ///
    /// `makingFindingsWhenRead` makes the findings of the graph reported without their text
    /// (cycles) only as each is read, so that a report written a finding at a time holds one
    /// (`FindingList`); the analyses must then go on no further, or only on the thread that
    /// reads the report, since those findings read their names and moments when made, and
    /// every finding's lock lines find their usage strings by their classes' names
    /// (`ClassUsageStrings`). Else every finding is made here.
    public init(_ analyses: [Analysis], includingGraph: Bool = true, includingUsage: Bool = true, makingFindingsWhenRead: Bool = false) {
        precondition(!analyses.isEmpty)
        self.init(analyses[0], includingGraph: includingGraph, includingUsage: includingUsage, makingFindingsWhenRead: makingFindingsWhenRead)
        // Each trace put aside once says why: the reason it left the first analysis (which
        // every trace put aside met first), and the analysis it ended in.
        var reasons: [String: String] = [:]
        for analysis in analyses {
            for (source, reason) in analysis.putAside where reasons[source.displayName] == nil {
                reasons[source.displayName] = reason
            }
        }
        for (index, analysis) in analyses.enumerated().dropFirst() {
            for file in analysis.analysedFiles {
                notes.append(AnalysisNote(
                    message: "\(file) is analysed apart from the traces of analysis 1 (analysis \(index + 1) of \(analyses.count)): \(reasons[file] ?? "its classes disagree"); traces analysed together share their classes",
                    evidence: nil))
            }
        }
        var lists = [findings]
        for analysis in analyses.dropFirst() {
            let report = AnalysisReport(
                analysis, includingGraph: includingGraph, includingUsage: includingUsage, makingFindingsWhenRead: makingFindingsWhenRead)
            eventCount += report.eventCount
            lists.append(report.findings)
            notes += report.notes
            nodes += report.nodes
            edges += report.edges
        }
        files = Set(analyses.flatMap(\.analysedFiles)).sorted()
        analysisCount = analyses.count
        // One analysis's report was put in order by its own init. Everything in an order of
        // its own, by name and place, never by the order the traces were given or the
        // analysis came upon things: the same findings print the same bytes however the
        // traces are listed (the contract's "Determinism").
        if analyses.count > 1 {
            findings = FindingList(merging: lists)
            sortNotesAndGraph()
        }
    }

    /// Puts the notes and the graph in their order.
    private mutating func sortNotesAndGraph() {
        notes = zip(notes.map { Finding.order($0.evidence) + [$0.message] }, notes)
            .sorted { $0.0.lexicographicallyPrecedes($1.0) }.map(\.1)
        nodes.sort { ($0.name, $0.type) < ($1.name, $1.type) }
        edges.sort { ($0.from, $0.to, $0.kind) < ($1.from, $1.to, $1.kind) }
    }

    /// How many separate analyses the report covers (1 unless traces contradicted each other).
    public var analysisCount = 1

    public init(_ analysis: Analysis, includingGraph: Bool = true, includingUsage: Bool = true, makingFindingsWhenRead: Bool = false) {
        files = analysis.analysedFiles.sorted()
        eventCount = analysis.eventCount
        findings = makingFindingsWhenRead ? analysis.context.findingList() : FindingList(analysis.findings)
        // The usage strings made only where a finding may print them.
        if includingUsage, findings.mayNameLocks { findings = findings.giving(usage: ClassUsageStrings(analysis, readingNames: makingFindingsWhenRead)) }
        notes = analysis.notes
        nodes = []
        edges = []
        if includingGraph { resolveGraph(of: analysis) }
        // An analysis gives its findings in their order (`Finding.canonical`).
        sortNotesAndGraph()
    }

    /// The lock-order graph's classes and dependencies, as text. The dependencies are read
    /// one at a time: all of them made first (`LockGraph.edges`, 80 bytes each) were a third
    /// of what a JSON report of 125k two-class cycles added to its analysis's peak.
    private mutating func resolveGraph(of analysis: Analysis) {
        let (context, graph, classes) = (analysis.context, analysis.graph, analysis.classes)
        let resolver = SiteResolver(context)
        var connected = [Bool](repeating: false, count: classes.count)
        edges.reserveCapacity(graph.dependencyCount)
        for index in 0..<graph.dependencyCount {
            let edge = graph.dependency(at: index)
            if Int(edge.from) < connected.count { connected[Int(edge.from)] = true }
            if Int(edge.to) < connected.count { connected[Int(edge.to)] = true }
            edges.append(Edge(
                from: context.name(of: edge.from), to: context.name(of: edge.to), kind: edge.kind.rawValue,
                dependencyTypes: edge.types, holderSite: edge.holderSite, site: edge.site, resolver: resolver))
        }
        nodes.reserveCapacity(classes.count)
        for id in 0..<ClassID(classes.count) {
            let entry = classes[id]
            guard !entry.isPseudo || connected[Int(id)] else { continue }
            nodes.append(Node(
                name: context.name(of: id), type: entry.isPseudo ? "pseudo" : entry.type.rawValue,
                usage: graph.usage(of: id).lockdepString, isPseudo: entry.isPseudo))
        }
    }

    /// The dependencies lockdep itself would record (no IPI waits).
    public var lockOrderEdges: [Edge] { edges.filter { $0.kind == DependencyKind.lockOrder.rawValue } }

    /// Whether a finding is at or above `threshold` (the exit status); nil threshold means
    /// none counts. Asked without a copy of them: 16k findings were 5 MB.
    public func fails(at threshold: Severity?) -> Bool {
        findings.contains(atLeast: threshold)
    }
}
