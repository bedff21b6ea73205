import ArgumentParser
import PGTrace

/// `pgtrace timeline`: the trace, with its findings, as a Chrome/Perfetto trace-event JSON
/// document to look at in ui.perfetto.dev or chrome://tracing.
struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Export traces with their findings as Chrome/Perfetto trace-event JSON (open it in ui.perfetto.dev).",
        discussion: """
            One track per cpu with its hardirq, softirq and NMI spans and its events; each lock \
            hold an async span under "locks held"; each finding an instant on the cpu that met it, \
            and "cited by RULE" flags on the events it cites. Times are the trace's (t=, or a \
            capture's timestamps), in us; a trace without them gets 1 us per event.
            """)

    @OptionGroup var traces: TraceFiles

    @Option(name: [.short, .long], help: "Write the timeline to this file instead of standard output.")
    var output: String?

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        if let output { try Output.refuseInputs(output, inputs: traces.files) }
        let out = try Output(output, inputs: traces.files)
        var failure: Error?
        var options = AnalysisOptions(importOptions: traces.capture.importOptions)
        // A summary keeps no events to place in time.
        options.inputs = .traces
        options.commandName = "timeline"
        // Each finding flagged at the event that found it.
        options.graphChecks = .inPlace
        let analysis = Analysis(options: options)
        let writer = TimelineWriter(context: analysis.context) { piece in
            guard failure == nil else { return }
            do { try out.write(piece) } catch { failure = error }
        }
        analysis.addObserver(writer)
        let progress = progressOptions.make()
        // One timeline is one analysis: traces that disagree on a class are an input error.
        // In the order of their names, as every analysis sees the graph's facts: each finding
        // is then flagged once, at the event that found it (out of that order, the graph would
        // be checked again after the last trace, its findings flagged at the end).
        try analysis.analyze(traces.sources().sorted { $0.displayName < $1.displayName }, progress: progress?.update)
        progress?.finish()
        writer.finish()
        if let failure { throw failure }
        try out.commit()
        // Only now: the analysis holds the writer, and the writer the output, whose temporary
        // file must be removed (by its deinit) if the run fails before the commit.
        KeptUntilExit.keep(analysis)
        printImportSummaries([analysis])
    }
}
