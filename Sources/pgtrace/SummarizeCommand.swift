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

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        var options = AnalysisOptions(importOptions: traces.capture.importOptions)
        options.commandName = "summarize"
        // The graph's findings are found where the summary is read.
        options.checksGraph = false
        try writeSummary(of: traces.sources(), inputs: traces.files, options: options, to: output, progress: progressOptions)
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
    let out = try Output(path, inputs: inputs)
    var buffer = ""
    try SummaryWriter.write(analysis) { line in
        buffer += line
        if buffer.utf8.count >= 1 << 16 {
            try out.write(buffer)
            buffer = ""
        }
    }
    try out.write(buffer)
    try out.commit()
}
