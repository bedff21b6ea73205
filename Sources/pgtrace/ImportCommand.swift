import ArgumentParser
import Foundation
import PGTrace

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn ftrace, trace-cmd report or perf script output into a trace in format v1.",
        discussion: """
            Each event of input line N lands on output line N, so findings on the imported trace \
            point at the kernel's own lines. Events pgtrace does not use are skipped and counted on \
            standard error; lost-event lines become <meta> notes.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case ftrace
        case traceCmd = "trace-cmd"
        case perf

        var format: TextTraceFormat {
            switch self {
            case .ftrace: return .ftrace
            case .traceCmd: return .traceCmd
            case .perf: return .perf
            }
        }
    }

    @Argument(help: "Text traces (- reads standard input).")
    var files: [String]

    @Option(name: .long, help: "The input format: ftrace, trace-cmd or perf (detected when not given).")
    var from: Format?

    @Option(name: [.short, .long], help: "Write the trace here instead of standard output (one input only).")
    var output: String?

    @Flag(name: .long, help: "Keep lock names as lockdep printed them (no &(&X)->rlock → &X).")
    var rawNames = false

    @Flag(name: .long, help: "Skip and count lines that cannot be parsed instead of stopping.")
    var lenient = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one text trace") }
        guard output == nil || files.count == 1 else {
            throw ValidationError("--output takes one input; import several into several files one by one")
        }
    }

    func run() throws {
        let options = TraceImporter.Options(format: from?.format, rawNames: rawNames, lenient: lenient)
        for file in files {
            let input = try TraceInput(path: file)
            let importer = TraceImporter(input: input, symbols: SymbolTable(), options: options)
            let out = try Output(output, inputs: files)
            try importer.convert { try out.write($0) }
            try out.commit()
            if let report = importer.summary.report { printError("pgtrace import: \(input.displayName): \(report)") }
        }
    }
}
