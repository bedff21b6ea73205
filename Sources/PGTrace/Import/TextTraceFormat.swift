/// The kernel capture formats pgtrace reads. One grammar reads them all (`TraceLine`);
/// the format names the source in an imported trace and in messages.
public enum TextTraceFormat: String, Sendable, CaseIterable {
    /// ftrace's `trace` or `trace_pipe`: `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: INFO`, and its
    /// latency format (`ftrace_dump_on_oops`).
    case ftrace
    /// `trace-cmd report`: `TASK-PID [CPU] TIMESTAMP: EVENT: INFO`, or with `-l`
    /// `TASK-PID CPUFLAGS TIMESTAMP: EVENT: INFO`.
    case traceCmd = "trace-cmd"
    /// `perf script`: `COMM TID [CPU] TIMESTAMP: [PERIOD] SYSTEM:EVENT: INFO`.
    case perf
    /// Not text: trace-cmd's binary `trace.dat`, read through libtracecmd (named here so
    /// that an import's summary names what it read).
    case traceDat = "trace.dat"

    /// The format an event line is printed in: perf names a system or puts the pid after a
    /// blank; trace-cmd report prints no flags column; ftrace does.
    static func of(_ columns: LineColumns) -> TextTraceFormat {
        if columns.system != nil || columns.pidAfterBlank { return .perf }
        return columns.flags == nil ? .traceCmd : .ftrace
    }

    /// Guesses the format from the first lines of a capture; nil if no line is of any.
    public static func detect(_ lines: [Substring]) -> TextTraceFormat? {
        for line in lines {
            var text = String(line)
            let format = text.withUTF8 { bytes -> TextTraceFormat? in
                if let columns = LineColumns(bytes) { return of(columns) }
                switch NonEventLine(bytes) {
                case .comment(.format(let format)?): return format
                case .traceCmdHeader: return .traceCmd
                default: return nil
                }
            }
            if let format { return format }
        }
        return nil
    }
}
