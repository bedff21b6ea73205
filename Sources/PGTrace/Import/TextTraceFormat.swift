/// The kernel's text trace formats pgtrace imports.
public enum TextTraceFormat: String, Sendable, CaseIterable {
    /// ftrace's `trace` or `trace_pipe`: `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: INFO`.
    case ftrace
    /// `trace-cmd report`: `TASK-PID [CPU] TIMESTAMP: EVENT: INFO`, or with `-l`
    /// `TASK-PID CPUFLAGS TIMESTAMP: EVENT: INFO`.
    case traceCmd = "trace-cmd"
    /// `perf script`: `COMM TID [CPU] TIMESTAMP: SYSTEM:EVENT: INFO`.
    case perf

    /// Guesses the format from the first lines of a file; nil if none fits.
    public static func detect(_ lines: [Substring]) -> TextTraceFormat? {
        var votes: [TextTraceFormat: Int] = [:]
        for line in lines {
            if line.hasPrefix("# tracer:") || line.contains("entries-in-buffer") { return .ftrace }
            if line.hasPrefix("cpus=") || line.hasPrefix("version = ") { votes[.traceCmd, default: 0] += 3 }
            guard let parsed = TraceLine.parse(line, format: nil) else { continue }
            votes[parsed.guessedFormat, default: 0] += 1
        }
        return votes.max { ($0.value, $0.key.rawValue) < ($1.value, $1.key.rawValue) }?.key
    }
}

/// One event line of a text trace, split into its columns.
public struct TraceLine: Sendable, Equatable {
    public var command: String
    public var pid: Int
    public var cpu: Int
    /// The latency flags column (`d..2.`), where the format has one.
    public var flags: String?
    /// Nanoseconds.
    public var timestamp: Int64
    /// The event name without its system (`lock_acquire`).
    public var event: String
    /// The system, where the line names it (`lock` in perf's `lock:lock_acquire`).
    public var system: String?
    public var info: String

    public init(
        command: String, pid: Int, cpu: Int, flags: String?, timestamp: Int64, event: String, system: String?,
        info: String
    ) {
        self.command = command
        self.pid = pid
        self.cpu = cpu
        self.flags = flags
        self.timestamp = timestamp
        self.event = event
        self.system = system
        self.info = info
    }

    var guessedFormat: TextTraceFormat {
        if system != nil { return .perf }
        return flags == nil ? .traceCmd : .ftrace
    }

    /// Splits `line`; nil if it is not an event line (a comment, a header, a lost-events line).
    public static func parse(_ line: Substring, format: TextTraceFormat?) -> TraceLine? {
        let text = line.trimmingTrailingNewline
        guard let first = text.firstIndex(where: { $0 != " " && $0 != "\t" }), text[first] != "#" else { return nil }
        // The cpu: "[003]" in ftrace, trace-cmd and perf; a bare "0d.h1." in trace-cmd -l.
        var prefixEnd: Substring.Index
        var cpu: Int
        var rest: Substring
        if let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]"),
            let number = Int(text[text.index(after: open)..<close]), open > first
        {
            cpu = number
            prefixEnd = open
            rest = text[text.index(after: close)...]
        } else {
            // trace-cmd -l: "<idle>-0       0d.h1. 106467.859747: ..."
            let tokens = text[first...].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard tokens.count == 3, let digits = tokens[1].prefix(while: \.isNumber).nilIfEmpty,
                let number = Int(digits), tokens[1].count > digits.count
            else { return nil }
            cpu = number
            prefixEnd = tokens[1].startIndex
            let flags = String(tokens[1].dropFirst(digits.count))
            guard var parsed = parseTail(tokens[2], flags: nil) else { return nil }
            parsed.flags = flags
            guard let (command, pid) = splitTask(text[first..<prefixEnd]) else { return nil }
            return TraceLine(
                command: command, pid: pid, cpu: cpu, flags: parsed.flags, timestamp: parsed.timestamp,
                event: parsed.event, system: parsed.system, info: parsed.info)
        }
        guard let (command, pid) = splitTask(text[first..<prefixEnd]) else { return nil }
        // After the cpu: optional flags, then "TIMESTAMP:", then "EVENT:".
        let tokens = rest.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard let head = tokens.first else { return nil }
        var flags: String?
        if !head.hasSuffix(":"), tokens.count == 2, format != .perf {
            flags = String(head)
            rest = tokens[1]
        }
        guard let parsed = parseTail(rest, flags: flags) else { return nil }
        return TraceLine(
            command: command, pid: pid, cpu: cpu, flags: flags, timestamp: parsed.timestamp,
            event: parsed.event, system: parsed.system, info: parsed.info)
    }

    /// "TIMESTAMP: [SYSTEM:]EVENT: INFO".
    private static func parseTail(_ text: Substring, flags: String?) -> (flags: String?, timestamp: Int64, event: String, system: String?, info: String)? {
        let trimmed = text.drop { $0 == " " }
        guard let colon = trimmed.firstIndex(of: ":"), let timestamp = nanoseconds(trimmed[..<colon]) else { return nil }
        var after = trimmed[trimmed.index(after: colon)...].drop { $0 == " " }
        // The function tracer's "sys_close <-system_call_fastpath": no event, a call.
        if after.contains("<-"), after.firstIndex(of: ":").map({ after[..<$0].contains(" ") }) ?? true {
            return (flags, timestamp, "function", nil, String(after))
        }
        guard let end = after.firstIndex(of: ":") else { return nil }
        var event = after[..<end]
        var system: Substring?
        after = after[after.index(after: end)...]
        // perf: "lock:lock_acquire:" — the second colon ends the event.
        if let next = after.firstIndex(of: ":"), !after[..<next].contains(" "), !after[..<next].isEmpty {
            system = event
            event = after[..<next]
            after = after[after.index(after: next)...]
        }
        guard !event.isEmpty, !event.contains(" ") else { return nil }
        let info = after.first == " " ? after.dropFirst() : after
        return (flags, timestamp, String(event), system.map(String.init), String(info))
    }

    /// "bash-1040", "<idle>-0", "kworker/0:1-22", "bash 1040", "perf 3409/3409", "bash-1040 (1040)".
    private static func splitTask(_ text: Substring) -> (String, Int)? {
        var text = text.trimmingSpaces
        if text.hasSuffix(")"), let open = text.lastIndex(of: "(") {
            text = text[..<open].trimmingSpaces  // the TGID column
        }
        if let space = text.lastIndex(of: " ") {
            let last = text[text.index(after: space)...]
            let pidText = last.split(separator: "/").last ?? last
            if let pid = Int(pidText) { return (String(text[..<space].trimmingSpaces), pid) }
        }
        if let dash = text.lastIndex(of: "-"), let pid = Int(text[text.index(after: dash)...]) {
            return (String(text[..<dash]), pid)
        }
        return nil
    }

    /// "49.339890" seconds to nanoseconds; nil past Int64's 292 years of nanoseconds.
    static func nanoseconds(_ text: Substring) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let seconds = Int64(parts[0]) else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard let value = Int64(digits), digits.allSatisfy(\.isNumber) else { return nil }
            fraction = value
            for _ in digits.count..<9 { fraction *= 10 }
        }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, seconds >= 0 else { return nil }
        let (sum, carry) = whole.addingReportingOverflow(fraction)
        return carry ? nil : sum
    }
}

extension Substring {
    var trimmingTrailingNewline: Substring {
        var text = self
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        return text
    }

    var nilIfEmpty: Substring? { isEmpty ? nil : self }
}
