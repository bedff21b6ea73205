import ArgumentParser
import PGTrace

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Replay traces and report locking bugs (several traces share one lock-order graph).")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var traces: TraceFiles

    @Option(name: .long, help: "Report format: text or json.")
    var format: Format = .text

    @Option(name: .long, help: "Most locks one task may hold at once before depth-overflow (lockdep's MAX_LOCK_DEPTH).")
    var maxDepth: Int = 48

    @Flag(name: .long, help: "Print no report: the exit status tells (0 clean, 1 findings, 2 unreadable input).")
    var quiet = false

    @OptionGroup var progressOptions: ProgressOptions

    @OptionGroup var report: ReportOptions

    @OptionGroup var shown: FindingOptions

    func validate() throws {
        guard maxDepth >= 1 else { throw ValidationError("--max-depth must be at least 1") }
    }

    func run() throws {
        if let output = report.output { try Output.refuseInputs(output, inputs: traces.files) }
        let progress = progressOptions.make(quiet: quiet)
        let analyses = try Analysis.analyzeSeparatingConflicts(
            traces.sources(), options: AnalysisOptions(maxDepth: maxDepth, importOptions: traces.capture.importOptions), progress: progress?.update)
        progress?.finish()
        printImportSummaries(analyses)
        // --quiet prints nothing on standard output; a report asked for with -o is written.
        let prints = !quiet || report.output != nil
        // Nothing to print and no finding chosen by its number or fingerprint: the exit status
        // is all that is asked, and the findings' text need not be made.
        if !prints, shown.finding == nil {
            KeptUntilExit.keep(analyses)
            if shown.someFinding(in: analyses, atLeast: report.failOn.severity) { throw ExitCode(1) }
            return
        }
        // The analyses end here: the findings of their graphs are made as the report writes them.
        var result = AnalysisReport(
            analyses, includingGraph: prints && format == .json, includingUsage: prints && format == .text, makingFindingsWhenRead: true)
        KeptUntilExit.keep(analyses)
        // The report as it ends: kept before --rule and --finding chose among its findings,
        // all of them would stay beside the chosen.
        defer { KeptUntilExit.keep(result) }
        result.findings = try shown.select(result.findings)
        switch format {
        case _ where !prints: break
        case .text:
            let reporter = TextReporter(colored: shown.colored(toFile: report.output != nil))
            try report.emit(inputs: traces.files) { try reporter.write(result, to: $0) }
        case .json: try report.emit(inputs: traces.files) { try JSONReporter().write(result, to: $0) }
        }
        if result.fails(at: report.failOn.severity) {
            throw ExitCode(1)
        }
    }
}
