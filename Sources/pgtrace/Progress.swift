import Foundation

/// A one-line progress report on standard error for large traces: percent of the file and
/// events per second, redrawn at most four times a second, and only on a terminal.
final class Progress: @unchecked Sendable {
    // Updated by the reading thread only; finish() runs after it has ended.
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    /// A progress line for `file`, or nil when it would only clutter (not a terminal, --quiet).
    static func make(quiet: Bool) -> Progress? {
        guard !quiet, isatty(STDERR_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { return nil }
        return Progress()
    }

    @Sendable func update(file: String, bytesRead: Int, totalBytes: Int?, events: Int) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.25, now.timeIntervalSince(start) >= 0.5 else { return }
        lastDraw = now
        let rate = Double(events) / max(now.timeIntervalSince(start), 0.001)
        var line = "\r\u{1B}[K\(file): "
        if let totalBytes, totalBytes > 0 {
            line += String(format: "%3.0f%%, ", 100 * Double(bytesRead) / Double(totalBytes))
        }
        line += "\(events) events, \(Int(rate)) events/s"
        Output.writeToStandardError(line)
        drawn = true
    }

    /// Clears the line before the report is printed.
    func finish() {
        if drawn { Output.writeToStandardError("\r\u{1B}[K") }
    }
}
