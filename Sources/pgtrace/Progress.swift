import ArgumentParser
import Glibc

/// A one-line progress report on standard error for large traces: percent of the file and
/// events per second, redrawn at most four times a second, and only on a terminal.
final class Progress: @unchecked Sendable {
    // Updated by the reading thread only; finish() runs after it has ended.
    private let start = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var drawn = false

    /// A progress line, or nil when it would only clutter: standard error is no terminal (a
    /// CI log, `2> file`), or the user said --no-progress or --quiet. Standard output may be
    /// anything (`> report.txt` is when a long run most needs one).
    static func make(disabled: Bool) -> Progress? {
        guard !disabled, isatty(STDERR_FILENO) != 0 else { return nil }
        return Progress()
    }

    @Sendable func update(file: String, bytesRead: Int, totalBytes: Int?, events: Int) {
        let now = ContinuousClock.now
        guard lastDraw.map({ now - $0 >= .milliseconds(250) }) ?? true, now - start >= .milliseconds(500) else { return }
        lastDraw = now
        let elapsed = now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(events) / max(seconds, 0.001)
        var line = "\r\u{1B}[K\(file): "
        if let totalBytes, totalBytes > 0, bytesRead > 0 {
            let percent = String(Int((100 * Double(bytesRead) / Double(totalBytes)).rounded(.toNearestOrEven)))
            line += String(repeating: " ", count: max(0, 3 - percent.count)) + percent + "%, "
        }
        // A negative count: the reader counts no events as it goes (import), bytes only.
        if events >= 0 { line += "\(events) events, \(Int(rate)) events/s" } else { line += "\(bytesRead >> 20) MiB" }
        Output.writeToStandardError(line)
        drawn = true
    }

    /// Clears the line before the report is printed.
    func finish() {
        if drawn { Output.writeToStandardError("\r\u{1B}[K") }
        drawn = false
    }
}

/// `--no-progress`, for every command that reads traces.
struct ProgressOptions: ParsableArguments {
    @Flag(name: .long, help: "No progress line on standard error (drawn only when it is a terminal).")
    var noProgress = false

    func make(quiet: Bool = false) -> Progress? { Progress.make(disabled: noProgress || quiet) }
}
