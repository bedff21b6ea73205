import ArgumentParser
import PGTrace

struct SummarizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarize",
        abstract: "Write what an analysis of traces keeps across them as a summary, to merge and analyse elsewhere.",
        discussion: """
            A summary (docs/summary-format.md) holds the traces' lock classes with their usage, \
            every dependency and irq usage with its least evidence, and the findings of each \
            trace's own replay with their counts. `pgtrace merge` joins summaries; analyze, \
            graph and lint read them beside traces, and report what one analysis of all the \
            traces reports, whatever the grouping or order of the summaries.
            """)

    @OptionGroup var traces: TraceFiles

    @Option(name: [.short, .long], help: "Write the summary here instead of standard output.")
    var output: String?

    @Option(name: .long, help: "Most locks one task may hold at once before depth-overflow (lockdep's MAX_LOCK_DEPTH); the summary is read with the same.")
    var maxDepth: Int = 48

    @Option(name: .long, help: "The intended lock hierarchy, as for lint; the summary is read with the same policy.")
    var policy: String?

    @Option(name: .long, help: "The name the trace is known by in reports (one trace only; standard input is otherwise <stdin>).")
    var name: String?

    func validate() throws {
        guard maxDepth >= 1 else { throw ValidationError("--max-depth must be at least 1") }
        if name != nil, traces.files.count != 1 { throw ValidationError("--name names one trace") }
    }

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let lockPolicy = try policy.map { path in
            try LockPolicy(text: String(decoding: try readFile(path), as: UTF8.self), file: path)
        }
        var options = AnalysisOptions(maxDepth: maxDepth, policy: lockPolicy, importOptions: traces.capture.importOptions)
        options.commandName = "summarize"
        // The graph's findings are found where the summary is read.
        options.graphChecks = .never
        let sources = name.map { name in traces.files.map { Analysis.Source.file(path: $0, displayName: name) } } ?? traces.sources()
        try writeSummary(of: sources, inputs: traces.files + [policy].compactMap { $0 }, options: options, to: output, progress: progressOptions)
    }
}

/// Analyses `sources` as one analysis (traces whose classes disagree are an input error:
/// one summary is one analysis) and writes its summary to `path`, whole or not at all.
func writeSummary(
    of sources: [Analysis.Source], inputs: [String], options: AnalysisOptions, to path: String?, progress progressOptions: ProgressOptions
) throws {
    if let path { try Output.refuseInputs(path, inputs: inputs) }
    let analysis = Analysis(options: options)
    let progress = progressOptions.make()
    try analysis.analyze(sources, progress: progress?.update)
    progress?.finish()
    printImportSummaries([analysis])
    if let reason = analysis.mixedConfiguration {
        throw CommandError("\(reason): a summary is of one kernel configuration; summarize these traces apart")
    }
    try Output.stream(to: path, inputs: inputs) { write in
        try withoutActuallyEscaping(write) { try SummaryWriter.write(analysis, to: $0) }
    }
    KeptUntilExit.keep(analysis)
}
