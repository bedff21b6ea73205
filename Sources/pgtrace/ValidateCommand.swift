import ArgumentParser
import PGTrace

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check traces against schemas/trace-v1.xsd (x- extensions are ignored), streaming; a kernel capture is read strictly.")

    @Argument(help: "Traces: format v1 XML, a trace.dat, or ftrace, trace-cmd report or perf script text (- reads standard input).")
    var files: [String]

    @OptionGroup var capture: CaptureOptions

    @Flag(name: .long, help: "Print nothing for valid traces: the exit status tells (errors still go to standard error).")
    var quiet = false

    @Option(name: [.short, .long], help: "Write the report (a line for each valid trace) to this file instead of standard output.")
    var output: String?

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one trace file") }
    }

    func run() throws {
        var failed = false
        let output = try Output(self.output, inputs: files)
        // --quiet keeps standard output empty; a report asked for with -o is written.
        let reports = !quiet || self.output != nil
        for (index, file) in files.enumerated() {
            let name = file == "-" ? "<stdin>" : file
            var events = 0
            do {
                let input = try TraceInput(path: file, displayName: name)
                let symbols = SymbolTable()
                let progress = progressOptions.make(quiet: quiet)
                defer { progress?.finish() }
                let report = progress.map { p in { (read: Int, total: Int?) in p.update(file: name, bytesRead: read, totalBytes: total, events: events) } }
                switch input.content {
                case .xml:
                    try TraceReader(displayName: name, fileIndex: index, symbols: symbols)
                        .read(input: input, schema: .v1, decodesOnSecondThread: true, progress: report, header: { _ in }, event: { _ in events += 1 })
                case .text, .traceDat:
                    // A capture has no schema: it is valid when every line (record) reads.
                    try TraceImporter(input: input, fileIndex: index, symbols: symbols, options: capture.importOptions)
                        .read(progress: report, header: { _ in }, event: { _ in events += 1 })
                case .summary:
                    // A summary is valid when it merges: its lines, symbols, classes and facts
                    // (the graph checks find bugs, not invalid input: not run).
                    var options = AnalysisOptions()
                    options.graphChecks = .never
                    // Valid whatever --max-depth and --policy its traces were checked with.
                    options.adoptsSummaryChecks = true
                    let analysis = Analysis(options: options)
                    try analysis.merge(summary: input)
                    progress?.finish()
                    let traces = analysis.traceFiles.count
                    if reports { try output.write("\(name): valid summary (\(traces) trace\(traces == 1 ? "" : "s"), \(analysis.eventCount) event\(analysis.eventCount == 1 ? "" : "s"))\n") }
                    continue
                }
                progress?.finish()
                if reports { try output.write("\(name): valid (\(events) event\(events == 1 ? "" : "s"))\n") }
            } catch let error as TraceInputError {
                printError(error.description)
                failed = true
            }
        }
        // The report says which traces are valid; the others' errors went to standard error.
        try output.commit()
        if failed { throw ExitCode(2) }
    }
}
