import ArgumentParser
import PGTrace

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a kernel capture (ftrace, trace-cmd report, perf script, trace.dat) into a trace in format v1.",
        discussion: """
            Each event of input line N lands on output line N (a trace.dat's record N on line N), \
            so findings on the imported trace point at the capture's own lines. The trace is \
            partial="true", as every capture is. Events pgtrace does not use are skipped and counted \
            on standard error; lost events become <events-lost/> where the capture says so. \
            analyze, graph and lint read captures directly; import is for keeping or editing one.
            """)

    @Argument(help: "A kernel capture: ftrace, trace-cmd report or perf script text, or a trace.dat (- reads standard input).")
    var file: String

    @OptionGroup var capture: CaptureOptions

    @Option(name: [.short, .long], help: "Write the trace here instead of standard output.")
    var output: String?

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let input = try TraceInput(path: file)
        let importer = TraceImporter(input: input, symbols: SymbolTable(), options: capture.importOptions)
        let out = try Output(output, inputs: [file])
        let progress = progressOptions.make()
        try importer.convert(progress: progress.map { p in { read, total in p.update(file: input.displayName, bytesRead: read, totalBytes: total, events: -1) } }) { try out.write($0) }
        progress?.finish()
        try out.commit()
        if let report = importer.summary.report { printError("pgtrace import: \(input.displayName): \(report)") }
    }
}
