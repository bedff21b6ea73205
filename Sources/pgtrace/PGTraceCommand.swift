import ArgumentParser
import Glibc
import PGTrace

/// The `pgtrace` command: parses arguments, runs the library, prints. Exit status follows
/// the contract: 0 clean, 1 findings at or above --fail-on, 2 unreadable input or bad usage.
@main
struct PGTraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgtrace",
        abstract: "Replay kernel lock and page-table traces and report the locking bugs in them.",
        discussion: """
            pgtrace reads a trace once, in order: its own XML (format v1), trace-cmd's trace.dat, \
            or ftrace, trace-cmd report and perf script text; replays it on a model of the machine \
            and reports what lockdep would (circular dependencies, recursive locking, irq \
            inversions, invalid wait contexts, ...) and what lockdep cannot see (deadlocks \
            through synchronous IPIs, pgd_list gaps, page tables freed under lockless walkers, \
            kmap pool ordering). Several traces analysed together share one lock-order graph. \
            'pgtrace rules' lists what it reports. Exit status: 0 clean, 1 findings, 2 an input \
            that cannot be read or a wrong command line.
            """,
        version: "pgtrace \(pgtraceVersion)",
        subcommands: [AnalyzeCommand.self, GraphCommand.self, LintCommand.self, ValidateCommand.self, ImportCommand.self, RulesCommand.self, StatsCommand.self, TimelineCommand.self, SummarizeCommand.self, MergeCommand.self],
        defaultSubcommand: nil)

    /// `pgtrace` alone is a usage error: the help goes to standard error, exit status 2.
    func run() throws {
        printError(Self.helpMessage())
        throw ExitCode(2)
    }

    static func main() {
        func exit(_ code: Int32) -> Never { Glibc.exit(code) }
        Output.reserveStandardDescriptors()
        do {
            var command = try parseAsRoot()
            try command.run()
            exit(0)
        } catch let error as TraceInputError {
            printError(error.description)
            exit(2)
        } catch let error as CommandError {
            printError("pgtrace: error: \(error.message)")
            exit(2)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                exit(0)
            }
            printError(fullMessage(for: error))
            exit(2)
        }
    }
}

/// A request that cannot be carried out once the traces are read (not a usage error: no
/// usage text follows it). Exit status 2.
struct CommandError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A line on standard error (lost, without a trap, if standard error is closed).
func printError(_ message: String) {
    // A message may quote a capture's line: its control characters are shown, not obeyed.
    let message = TerminalText.escaped(message)
    Output.writeToStandardError(message.hasSuffix("\n") ? message : message + "\n")
}

/// A whole small file (a policy, a baseline), refusing a directory.
func readFile(_ path: String) throws -> [UInt8] {
    let file = try FileDescriptor(reading: path)
    guard try file.kind() != .directory else { throw TraceInputError(file: path, message: "is a directory") }
    return try file.readToEnd()
}

/// What each import left out, and lost events, on standard error.
func printImportSummaries(_ analyses: [Analysis]) {
    for (file, summary) in analyses.flatMap(\.imports) {
        if let report = summary.report { printError("pgtrace: \(file): \(report)") }
    }
}
