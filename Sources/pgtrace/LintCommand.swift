import ArgumentParser
import PGTrace

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "What a CI job runs: schema validation and analysis in one pass, SARIF or JUnit out, a baseline of accepted findings.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, sarif, junit
    }

    @OptionGroup var traces: TraceFiles

    @Option(name: .long, help: "Report format: text, sarif or junit.")
    var format: Format = .text

    @Option(name: .long, help: "Accepted findings (from --write-baseline): only new findings fail.")
    var baseline: String?

    @Option(name: .long, help: "Write every finding of this run to a baseline file.")
    var writeBaseline: String?

    @Option(name: .long, help: "The intended lock hierarchy: lines like 'mm->page_table_lock < ptlock'.")
    var policy: String?

    @Option(name: .long, help: "Most locks one task may hold at once before depth-overflow.")
    var maxDepth: Int = 48

    @OptionGroup var report: ReportOptions

    @OptionGroup var progressOptions: ProgressOptions

    @OptionGroup var shown: FindingOptions

    @Flag(name: .long, help: "Print nothing on standard output: the exit status tells (a report asked for with -o is written).")
    var quiet = false

    func validate() throws {
        guard maxDepth >= 1 else { throw ValidationError("--max-depth must be at least 1") }
    }

    private func staleMessage(_ entry: Baseline.Entry) -> String {
        TerminalText.escaped("stale baseline entry \(entry.fingerprint) (\(entry.rule): \(entry.message)): no longer found")
    }

    /// What this run reads, which no output may overwrite (the baseline may be rewritten).
    private var inputs: [String] { traces.files + [policy, baseline].compactMap { $0 } }

    func run() throws {
        // Before anything is read or printed: no output may name an input.
        for output in [report.output, writeBaseline].compactMap({ $0 }) {
            try Output.refuseInputs(output, inputs: output == writeBaseline ? traces.files + [policy].compactMap { $0 } : inputs)
        }
        // The report and the baseline are two files: one written over the other is lost.
        if let output = report.output, let writeBaseline, Output.sameFile(output, writeBaseline) {
            throw TraceInputError(file: output, message: "is also the --write-baseline file; give the report and the baseline different paths")
        }
        if report.output == nil, !quiet, let writeBaseline, Output.isStandardOutput(writeBaseline) {
            throw TraceInputError(file: writeBaseline, message: "is where standard output goes, and the report goes there too; give the report --output or the baseline another path")
        }
        let lockPolicy = try policy.map { try LockPolicy(text: String(decoding: try readFile($0), as: UTF8.self), file: $0) }
        let accepted = try baseline.map { try Baseline(json: try readFile($0), file: $0) }
        let progress = progressOptions.make()
        let analyses = try Analysis.analyzeSeparatingConflicts(
            traces.sources(), options: AnalysisOptions(maxDepth: maxDepth, validatesSchema: true, policy: lockPolicy, importOptions: traces.capture.importOptions),
            progress: progress?.update)
        progress?.finish()
        // Nothing to print, compare or write (a text report, no baseline, no -o) and no finding
        // chosen by its number or fingerprint: the exit status is all that is asked, and the
        // findings' text need not be made (as `analyze --quiet`).
        if quiet, format == .text, report.output == nil, accepted == nil, writeBaseline == nil, shown.finding == nil {
            KeptUntilExit.keep(analyses)
            printImportSummaries(analyses)
            if shown.someFinding(in: analyses, atLeast: report.failOn.severity) { throw ExitCode(1) }
            return
        }
        // SARIF prints no lock lines (text and JUnit's text do); --quiet prints nothing.
        // The analyses end here: the findings of their graphs are made as the report writes them.
        let result = AnalysisReport(
            analyses, includingGraph: false, includingUsage: format != .sarif && (!quiet || report.output != nil),
            makingFindingsWhenRead: true)
        KeptUntilExit.keep(analyses, result)

        // The baseline is compared with, and written from, every finding; --rule and
        // --finding choose what is shown (and what the exit status follows).
        let comparison = accepted?.compare(result.findings) ?? (new: result.findings, accepted: FindingList(), stale: [])
        let acceptedPrints = Set(comparison.accepted.indices.map(comparison.accepted.fingerprint(at:)))
        let newShown = try shown.select(comparison.new)
        let acceptedShown = shown.finding != nil ? FindingList() : shown.rules.map { comparison.accepted.filter(rules: $0) } ?? comparison.accepted
        var shownReport = result
        shownReport.findings = shown.selects ? newShown + acceptedShown : result.findings
        switch format {
        case _ where quiet && report.output == nil:
            break
        case .text:
            try report.emit(inputs: inputs) { write in
                let reporter = TextReporter(colored: shown.colored(toFile: report.output != nil))
                for finding in newShown { try write(reporter.render(finding) + "\n") }
                if newShown.count > 1 { try write(reporter.summary(newShown) + "\n") }
                for finding in acceptedShown {
                    try write("accepted (baseline): \(finding.rule.rawValue): \(TerminalText.escaped(finding.message))\n")
                }
                for entry in comparison.stale { try write(staleMessage(entry) + "\n") }
                for note in result.notes { try write("note: \(TerminalText.escaped(note.message))\n") }
                let errors = newShown.count(of: .error)
                var text = "pgtrace lint: \(result.files.count) trace\(result.files.count == 1 ? "" : "s")"
                if result.analysisCount > 1 { text += " in \(result.analysisCount) separate analyses" }
                text += ", \(result.eventCount) event\(result.eventCount == 1 ? "" : "s"): "
                text += "\(newShown.count) new finding\(newShown.count == 1 ? "" : "s") (\(errors) error\(errors == 1 ? "" : "s"))"
                if accepted != nil { text += ", \(acceptedShown.count) accepted, \(comparison.stale.count) stale" }
                try write(text + "\n")
            }
        case .sarif:
            try report.emit(inputs: inputs) { write in
                try SARIFReporter().write(shownReport, accepted: acceptedPrints, hasBaseline: accepted != nil, to: write)
            }
        case .junit:
            try report.emit(inputs: inputs) { write in
                try JUnitReporter().write(shownReport, accepted: acceptedPrints, failOn: report.failOn.severity, to: write)
            }
        }
        // What an import left out, and lost events: a CI log must not read as complete.
        printImportSummaries(analyses)
        if format != .text {
            for note in result.notes { printError("pgtrace: note: \(note.message)") }
            for entry in comparison.stale {
                printError("pgtrace: " + staleMessage(entry))
            }
        }
        if let writeBaseline {
            try Output.write(Baseline(findings: result.findings).json, to: writeBaseline, inputs: traces.files + (policy.map { [$0] } ?? []))
        }
        if newShown.contains(atLeast: report.failOn.severity) {
            throw ExitCode(1)
        }
    }
}
