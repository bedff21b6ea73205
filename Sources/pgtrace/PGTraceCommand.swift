import ArgumentParser
import PGTrace

import Foundation

/// The `pgtrace` command: parses arguments, runs the library, prints. Exit status follows
/// the contract: 0 clean, 1 findings at or above --fail-on, 2 unreadable input or bad usage.
@main
struct PGTraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgtrace",
        abstract: "Replay kernel lock and page-table traces and report the locking bugs in them.",
        subcommands: [AnalyzeCommand.self, GraphCommand.self, LintCommand.self, ValidateCommand.self],
        defaultSubcommand: nil)

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as TraceInputError {
            printError(error.description)
            Foundation.exit(2)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            printError(fullMessage(for: error))
            Foundation.exit(2)
        }
    }
}

func printError(_ message: String) {
    var text = message
    if !text.hasSuffix("\n") { text += "\n" }
    FileHandle.standardError.write(Data(text.utf8))
}
