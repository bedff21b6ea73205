import ArgumentParser
import PGTrace

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge summaries into one.",
        discussion: """
            Merging is associative and commutative: any grouping of the summaries of a set of \
            traces, merged in any order, gives a summary that analyze reports exactly as it \
            reports all the traces in one run. Of two pieces of evidence for one dependency or \
            usage, the least by (trace file, place in it) is kept.
            """)

    @Argument(help: "Summaries written by `pgtrace summarize` or `pgtrace merge` (- reads standard input).")
    var summaries: [String]

    @Option(name: [.short, .long], help: "Write the merged summary here instead of standard output.")
    var output: String?

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        guard !summaries.isEmpty else { throw ValidationError("give at least one summary") }
        guard summaries.filter({ $0 == "-" }).count <= 1 else {
            throw ValidationError("standard input (-) can be given only once")
        }
    }

    func run() throws {
        var options = AnalysisOptions()
        options.inputs = .summaries
        options.commandName = "merge"
        // The graph's findings are found where the summary is read.
        options.graphChecks = .never
        // The summaries' --max-depth and --policy, which must agree.
        options.adoptsSummaryChecks = true
        try writeSummary(of: summaries.map { .file($0) }, inputs: summaries, options: options, to: output, progress: progressOptions)
    }
}
