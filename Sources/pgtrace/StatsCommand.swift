import ArgumentParser
import PGTrace

/// `pgtrace stats`: lockdep's lock_stat (and `perf lock`'s contention report) from a trace's
/// acquisitions, contended/acquired events and timestamps.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Lock statistics as lock_stat prints them: per class acquisitions, contentions, wait and hold times, contention points.",
        discussion: """
            Waits are measured from <contended/> to <acquired/> (lock_contended, lock_acquired), \
            or from perf lock's contention_begin to contention_end for a lock known only by its \
            address; holds from acquire to release. Times need the events' timestamps (t=, or a \
            capture's); without them the counts stand alone and the times read '-'.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var traces: TraceFiles

    @Option(name: .long, help: "text (lock_stat's columns, times in us) or json (times in ns).")
    var format: Format = .text

    @Option(name: .long, help: "Show the N most contended classes in the text report (0: every class).")
    var top: Int = 25

    @Option(name: [.short, .long], help: "Write the statistics to this file instead of standard output.")
    var output: String?

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must be 0 or more") }
    }

    func run() throws {
        if let output { try Output.refuseInputs(output, inputs: traces.files) }
        var options = AnalysisOptions(importOptions: traces.capture.importOptions)
        options.collectsStatistics = true
        // A summary keeps no lock_stat counts.
        options.inputs = .traces
        options.commandName = "stats"
        // lock_stat's counts need no graph checks (no finding is printed).
        options.graphChecks = .never
        let progress = progressOptions.make()
        let analyses = try Analysis.analyzeSeparatingConflicts(traces.sources(), options: options, progress: progress?.update)
        KeptUntilExit.keep(analyses)
        progress?.finish()
        printImportSummaries(analyses)
        // Traces analysed apart (they disagree on a class) keep separate statistics, merged
        // by name here: the counts add up and the extremes combine.
        let entries = LockStatistics.merged(analyses.compactMap(\.statistics))
        // Each trace once, in the analysis that replayed it (every analysis's files also
        // name the traces it put aside), by name: not by the order the traces were given.
        let files = analyses.flatMap(\.analysedFiles).sorted()
        let events = analyses.reduce(0) { $0 + $1.eventCount }
        let text: String
        switch format {
        case .text: text = LockStatReporter().render(entries, top: top == 0 ? nil : top, traces: files.count, events: events)
        case .json: text = LockStatReporter().renderJSON(entries, traces: files, events: events)
        }
        try Output.write(text, to: output, inputs: traces.files)
    }
}
