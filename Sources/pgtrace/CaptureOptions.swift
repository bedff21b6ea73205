import ArgumentParser
import PGTrace

/// How kernel captures (text and trace.dat) are read, for every command that reads traces.
struct CaptureOptions: ParsableArguments {
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

    @Option(name: .long, help: "Name a text capture's format: ftrace, trace-cmd or perf (read from the capture when not given).")
    var from: Format?

    @Flag(name: .long, help: "Keep lock names as lockdep printed them (no rewriting of &(&X)->rlock to X).")
    var rawNames = false

    @Flag(name: .long, help: "Skip and count the lines of a text capture that cannot be parsed instead of stopping.")
    var lenient = false

    var importOptions: TraceImporter.Options {
        TraceImporter.Options(format: from?.format, rawNames: rawNames, lenient: lenient)
    }
}
