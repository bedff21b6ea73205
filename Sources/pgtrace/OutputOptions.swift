import ArgumentParser
import PGTrace

/// Options shared by the commands that report findings.
struct ReportOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Write the report to this file instead of standard output.")
    var output: String?

    @Option(name: .long, help: "The lowest severity that makes the exit status 1: error, warning or never.")
    var failOn: FailThreshold = .error

    /// Writes `text` to --output (atomically, never over one of `inputs`) or standard output.
    func emit(_ text: String, inputs: [String]) throws { try Output.write(text, to: output, inputs: inputs) }

    /// Writes what `body` hands its writer, as it comes (64 KiB at a time), then puts the
    /// file in place: a long report is never held whole.
    func emit(inputs: [String], _ body: (_ write: (String) throws -> Void) throws -> Void) throws {
        try Output.stream(to: output, inputs: inputs, body)
    }
}

enum FailThreshold: String, ExpressibleByArgument, CaseIterable {
    case error, warning, never

    var severity: Severity? {
        switch self {
        case .error: return .error
        case .warning: return .warning
        case .never: return nil
        }
    }
}
