import ArgumentParser
import PGTrace

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Export the lock-order graph: classes with their irq usage, edges with the event that created them.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dot, graphml, json
    }

    @OptionGroup var traces: TraceFiles

    @Option(name: .long, help: "dot (Graphviz), graphml (yEd, Gephi, networkx) or json.")
    var format: Format = .dot

    @Option(name: .long, help: "Draw only what connects to this lock class.")
    var focus: String?

    @Flag(name: .long, help: "Draw only what lies on a cycle.")
    var cyclesOnly = false

    @Flag(name: .long, help: "Draw the whole graph, however large (by default DOT of more than \(LockGraphView.largeGraphEdges) dependencies is drawn only around the findings that mark some of it).")
    var all = false

    @Option(name: [.short, .long], help: "Write the graph to this file instead of standard output.")
    var output: String?

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        if let output { try Output.refuseInputs(output, inputs: traces.files) }
        let progress = progressOptions.make()
        let analyses = try Analysis.analyzeSeparatingConflicts(
            traces.sources(), options: AnalysisOptions(importOptions: traces.capture.importOptions), progress: progress?.update)
        progress?.finish()
        // One picture must be one graph: traces of kernels that disagree on a class's type
        // make separate graphs, drawn one command at a time.
        if analyses.count > 1, let (source, reason) = analyses[0].putAside.first {
            throw TraceInputError(
                file: source.displayName,
                message: "\(reason); traces drawn together share one graph and their classes (draw it apart: pgtrace graph \(source.displayName))")
        }
        // The analyses end here: the findings that flag edges are made one at a time.
        let report = AnalysisReport(analyses, includingUsage: false, makingFindingsWhenRead: true)
        KeptUntilExit.keep(analyses, report)
        // A class is its name's bytes (two names only canonically equivalent are two classes).
        if let focus, !report.nodes.contains(where: { $0.name.utf8.elementsEqual(focus.utf8) }) {
            throw CommandError("no lock class named '\(focus)' in the traces")
        }
        var view = LockGraphView(report, focus: focus, cyclesOnly: cyclesOnly)
        // A picture for Graphviz of a large graph: around the findings, where they mark a part
        // of it (GraphML and JSON are for programs, which take the whole).
        if format == .dot, !all, focus == nil, !cyclesOnly, view.edges.count > LockGraphView.largeGraphEdges {
            let around = view.aroundFindings()
            let size = "\(view.nodes.count) classes and \(view.edges.count) dependencies"
            if around.edges.isEmpty {
                printError(
                    "pgtrace graph: \(size), and no finding marks a part of them: drawing all (dot may take minutes; "
                        + "--focus CLASS draws what connects to one class, --cycles-only what lies on a cycle)")
            } else if around.edges.count == view.edges.count {
                // Thousands of cycles, say, or a finding on each class: what the findings touch
                // (an edge they flag, or one between two classes they name) is every edge.
                printError(
                    "pgtrace graph: \(size), and the findings touch every dependency: drawing all (dot may take minutes; "
                        + "--focus CLASS draws what connects to one class)")
            } else {
                printError(
                    "pgtrace graph: \(size) are too many to draw; drawing the \(around.nodes.count) classes and "
                        + "\(around.edges.count) dependencies around findings (--all draws everything, --focus CLASS what connects to one class)")
                view = around
            }
        }
        switch format {
        case .dot: try Output.stream(to: output, inputs: traces.files) { try DOTWriter().write(view, to: $0) }
        case .graphml: try Output.stream(to: output, inputs: traces.files) { try GraphMLWriter().write(view, to: $0) }
        case .json: try Output.stream(to: output, inputs: traces.files) { try JSONReporter().write(view, to: $0) }
        }
    }
}
