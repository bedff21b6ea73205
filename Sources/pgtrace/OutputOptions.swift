import ArgumentParser
import Foundation
import PGTrace

/// Options shared by the commands that report findings.
struct ReportOptions: ParsableArguments {
    @Option(name: .long, help: "Write the report to this file instead of standard output.")
    var output: String?

    @Option(name: .long, help: "The lowest severity that makes the exit status 1: error, warning or never.")
    var failOn: FailThreshold = .error

    /// Writes `text` to --output or standard output.
    func emit(_ text: String) throws { try Self.write(text, to: output) }

    static func write(_ text: String, to output: String?) throws {
        guard let output else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
        } catch {
            throw ValidationError("cannot write \(output): \(error.localizedDescription)")
        }
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
