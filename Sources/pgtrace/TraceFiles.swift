import ArgumentParser
import PGTrace

/// The trace files argument shared by analyze, graph and lint, with how captures are read.
struct TraceFiles: ParsableArguments {
    @Argument(help: "Traces: format v1 XML, trace-cmd's trace.dat, or ftrace, trace-cmd report or perf script text (- reads standard input).")
    var files: [String]

    @OptionGroup var capture: CaptureOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one trace file") }
        // Standard input can be read once.
        guard files.filter({ $0 == "-" }).count <= 1 else {
            throw ValidationError("standard input (-) can be given only once")
        }
    }

    /// The files as analysis sources. Each is opened once, on the reading thread: standard
    /// input and FIFOs are read as they come.
    func sources() -> [Analysis.Source] { files.map { .file($0) } }
}
