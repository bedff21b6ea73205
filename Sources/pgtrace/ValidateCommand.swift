import ArgumentParser
import PGTrace

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check traces against schemas/trace-v1.xsd (x- extensions are ignored), streaming.")

    @Argument(help: "Trace files (- reads standard input).")
    var files: [String]

    @Flag(name: .long, help: "Print nothing for valid traces.")
    var quiet = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one trace file") }
    }

    func run() throws {
        var failed = false
        let output = try Output(nil)
        for (index, file) in files.enumerated() {
            let name = file == "-" ? "<stdin>" : file
            let reader = TraceReader(
                displayName: name, fileIndex: index, symbols: SymbolTable())
            var events = 0
            do {
                try reader.read(path: file, schema: .v1, header: { _ in }, event: { _ in events += 1 })
                if !quiet { try output.write("\(name): valid (\(events) events)\n") }
            } catch let error as TraceInputError {
                printError(error.description)
                failed = true
            }
        }
        if failed { throw ExitCode(2) }
    }
}
