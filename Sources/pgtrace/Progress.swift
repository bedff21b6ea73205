import ArgumentParser
import Foundation

/// A one-line progress report on standard error for large traces: percent of the file and
/// events per second, redrawn at most four times a second, and only on a terminal.
final class Progress: @unchecked Sendable {
    // Updated by the reading thread only; finish() runs after it has ended.
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    /// A progress line, or nil when it would only clutter: standard error is no terminal (a
    /// CI log, `2> file`), or the user said --no-progress or --quiet. Standard output may be
    /// anything (`> report.txt` is when a long run most needs one).
    static func make(disabled: Bool) -> Progress? {
        guard !disabled, isatty(STDERR_FILENO) != 0 else { return nil }
        return Progress()
    }

    @Sendable func update(file: String, bytesRead: Int, totalBytes: Int?, events: Int) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.25, now.timeIntervalSince(start) >= 0.5 else { return }
        lastDraw = now
        let rate = Double(events) / max(now.timeIntervalSince(start), 0.001)
        var line = "\r\u{1B}[K\(file): "
        if let totalBytes, totalBytes > 0, bytesRead > 0 {
            line += String(format: "%3.0f%%, ", 100 * Double(bytesRead) / Double(totalBytes))
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
