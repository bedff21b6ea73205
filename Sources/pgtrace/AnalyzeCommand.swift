import ArgumentParser
import PGTrace

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Replay traces and report locking bugs (several traces share one lock-order graph).")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: "Trace files in format v1 (- reads standard input).")
    var files: [String]

    @Option(name: .long, help: "Report format: text or json.")
    var format: Format = .text

    @Option(name: .long, help: "Most locks one task may hold at once before depth-overflow (lockdep's MAX_LOCK_DEPTH).")
    var maxDepth: Int = 48

    @Flag(name: .long, help: "No progress line on the terminal.")
    var quiet = false

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one trace file") }
        guard maxDepth >= 1 else { throw ValidationError("--max-depth must be at least 1") }
    }

    func run() throws {
        let analysis = Analysis(options: AnalysisOptions(maxDepth: maxDepth))
        let progress = Progress.make(quiet: quiet)
        let sources = try files.map { file -> Analysis.Source in
            let (path, name) = try spooled(file)
            return .file(path: path, displayName: name)
        }
        try analysis.analyze(sources, progress: progress?.update)
        progress?.finish()
        for (file, summary) in analysis.imports {
            if let report = summary.report { printError("pgtrace: \(file): \(report)") }
        }
        let result = AnalysisReport(analysis)
        switch format {
        case .text: try report.emit(TextReporter().render(result))
        case .json: try report.emit(JSONReporter().render(result))
        }
        if !result.failing(at: report.failOn.severity).isEmpty {
            throw ExitCode(1)
        }
    }
}
