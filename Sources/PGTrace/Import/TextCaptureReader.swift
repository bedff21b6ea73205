/// Reads a kernel text capture (ftrace, trace-cmd report, perf script, an ftrace_dump console
/// log) in one pass: each line is split where it lies in the read buffer, its info read into
/// a typed record and handed on (to be made events: `RecordSink`), so memory holds one buffer
/// whatever the length of the capture, and a FIFO or standard input is read once, as it comes.
final class TextCaptureReader {
    private let input: TraceInput
    private let options: TraceImporter.Options
    // The reading thread's own state (see TracePipeline): no other thread touches it.
    @exclusivity(unchecked) private(set) var summary = TraceImporter.Summary()
    @exclusivity(unchecked) private var tasks: TaskNames
    @exclusivity(unchecked) private var records: TextRecords
    @exclusivity(unchecked) private var traceHeader = TraceHeader()
    @exclusivity(unchecked) private var headerSent = false
    @exclusivity(unchecked) private var formatKnown: Bool
    @exclusivity(unchecked) private var declaredCPUs: Int?
    @exclusivity(unchecked) private var bytesBeforeFirst = 0
    @exclusivity(unchecked) private var sawTrace = false
    private var displayName: String { input.displayName }

    init(input: TraceInput, symbols: SymbolTable, fileIndex: Int, options: TraceImporter.Options) {
        self.input = input
        self.options = options
        tasks = TaskNames(symbols: symbols)
        records = TextRecords(symbols: symbols, rawNames: options.rawNames)
        traceHeader.partial = true
        traceHeader.fileIndex = fileIndex
        formatKnown = options.format != nil
        if let format = options.format { summary.format = format }
    }

    /// How far into a capture the first event or header must show before the input is
    /// refused as something else (an endless stream of text is not read for ever).
    static let firstEventWithin = 64 * 1024

    /// Reads the capture to its end into `sink`: the header once, before the first record (or
    /// at the end of a capture with none), then each record and mark of lost events in order.
    /// `willWait` runs before each read of a stream, which may block.
    /// `progress` hears how many bytes were read (and the size, where known) after each read.
    func read(
        willWait: (() throws -> Void)? = nil, progress: ((_ bytesRead: Int, _ totalBytes: Int?) -> Void)? = nil,
        into sink: some RecordSink
    ) throws {
        let input = self.input
        var bytesRead = 0
        var lines = LineReader { buffer in
            if input.size == nil { try willWait?() }
            let count = try input.read(into: buffer)
            bytesRead += count
            progress?(bytesRead, input.size)
            return count
        }
        do {
            try lines.forEachLine { line, number, complete in try self.handle(line, number, complete: complete, into: sink) }
        } catch let tooLong as LineTooLong {
            throw fail(tooLong.line, tooLong.message)
        } catch let failure as DecodeFailure {
            throw fail(summary.lines + 1, failure.message)
        }
        try sendHeader(sink)
    }

    private func sendHeader(_ sink: some RecordSink) throws {
        guard !headerSent else { return }
        headerSent = true
        traceHeader.source = "pgtrace import (\(summary.format.rawValue)) of \(displayName)"
        traceHeader.cpus = declaredCPUs
        try sink.header(traceHeader)
    }

    /// A flags column's depth character: `.` 0, `1`…`f`.
    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "."): return 0
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    private func setFormat(_ format: TextTraceFormat) {
        guard !formatKnown else { return }
        summary.format = format
        formatKnown = true
    }

    private func fail(_ line: Int, _ message: String) -> TraceInputError {
        TraceInputError(file: displayName, line: line, column: 1, message: message)
    }

    /// A capture cut in the middle of line `number`, its last: what the line and any after it
    /// said is lost, on any cpu (a note says the findings may be incomplete).
    private func cut(at number: Int, into sink: some RecordSink) throws {
        summary.lostEvents.append((nil, nil, number))
        if !headerSent { try sendHeader(sink) }
        try sink.lost(cpu: nil, count: nil, line: number)
    }

    /// `complete`: false for a last line with no newline (the capture is cut there).
    private func handle(_ line: UnsafeBufferPointer<UInt8>, _ number: Int, complete: Bool, into sink: some RecordSink) throws {
        summary.lines = number
        // A capture whose lines end in a carriage return alone is one line: read as a capture
        // cut short (no newline) or as one event, no finding and exit 0 for a capture of a
        // deadlock (helper-138, helper-140). Told by a carriage return in mid-line after a
        // whole line (a comment, or an event); one inside a task's name (prctl allows it) has
        // only the start of a line before it.
        if let carriage = line.firstIndex(ofByte: 0x0D), carriage + 1 < line.count,
            line[0] == UInt8(ascii: "#") || LineColumns(UnsafeBufferPointer(rebasing: line[..<carriage])) != nil
        {
            throw TraceInputError(
                file: displayName, line: number, column: carriage + 1,
                message: "a carriage return in mid-line after a whole line: the capture's lines end in a carriage return alone; convert them to newlines (tr '\\r' '\\n')")
        }
        if let columns = LineColumns(line) {
            sawTrace = true
            if !formatKnown {
                setFormat(TextTraceFormat.of(columns))
            }
            if !complete {
                // The capture ends in the middle of this line (every line a tracer prints ends
                // with a newline): its fields may be cut anywhere (`&mm->mmap_` for
                // `&mm->mmap_lock`, a class `read` for `read &mm->mmap_lock`), and what
                // followed it is gone. Lost events, as a cut line that reads as nothing is.
                try cut(at: number, into: sink)
                return
            }
            if columns.cpu >= TraceDecoder.maximumCPUs {
                throw fail(number, CPULimit.beyondModel("cpu \(columns.cpu)"))
            }
            if let declared = declaredCPUs, columns.cpu >= declared {
                throw fail(number, "cpu \(columns.cpu) is past the \(declared) cpus the capture's header declares")
            }
            // Function-tracer, stack-trace and syscall lines still carry the flags.
            let name = columns.synthetic == nil ? KernelRecord.Name.named(UnsafeBufferPointer(rebasing: line[columns.event!])) : nil
            let info = UnsafeBufferPointer(rebasing: line[columns.info ?? line.count..<line.count])
            var flags: (UInt8, UInt8)?
            var preemptCount: UInt8?
            if let range = columns.flags, range.count >= 3 {
                flags = (line[range.lowerBound], line[range.lowerBound + 2])
                // The fourth character: the preempt count's low four bits in hex, '.' for 0.
                if range.count >= 4 { preemptCount = Self.hexDigit(line[range.lowerBound + 3]) }
            }
            let task = tasks.task(pid: columns.pid, cpu: columns.cpu) {
                columns.command.map { String(decoding: UnsafeBufferPointer(rebasing: line[$0]), as: UTF8.self) } ?? ""
            }
            let place = EventTranslator.Place(
                cpu: columns.cpu, pid: columns.pid, task: task, timestamp: columns.timestamp, flags: flags, line: number,
                preemptCount: preemptCount)
            do {
                let record = try name.flatMap { try records.record($0, info) }
                if !headerSent { try sendHeader(sink) }
                try sink.record(record, name: name, at: place)
                if record == nil {
                    let eventName = columns.synthetic?.rawValue
                        ?? String(decoding: UnsafeBufferPointer(rebasing: line[columns.event!]), as: UTF8.self)
                    summary.skipped[eventName, default: 0] += 1
                }
            } catch let failure as DecodeFailure {
                throw fail(number, failure.message)
            } catch let malformed as TextRecords.MalformedFields {
                // An event pgtrace reads whose fields are not what its tracepoint prints: an
                // unparseable line, at the column where its fields go wrong.
                guard options.lenient else {
                    let column = (columns.info?.lowerBound ?? line.count) + malformed.offset + 1
                    throw TraceInputError(
                        file: displayName, line: number, column: column, message: malformed.message + " (--lenient skips such lines)")
                }
                summary.unparseable += 1
                // Its flags still sample the cpu's state, as an event pgtrace does not read.
                if !headerSent { try sendHeader(sink) }
                try sink.record(nil, name: nil, at: place)
            }
            return
        }
        if !sawTrace {
            bytesBeforeFirst += line.count + 1
            if bytesBeforeFirst > Self.firstEventWithin {
                throw fail(1, "not a trace pgtrace knows: no event line in its first \(Self.firstEventWithin / 1024) KiB; expected XML (format v1), a trace.dat, ftrace, trace-cmd report or perf script output")
            }
        }
        if let nul = line.firstIndex(of: 0) {
            guard options.lenient else {
                throw TraceInputError(
                    file: displayName, line: number, column: nul + 1, message: "binary data (a NUL byte) in a text trace")
            }
            summary.unparseable += 1
            return
        }
        switch NonEventLine(line) {
        case .blank, .stackFrame, .callchain, .consoleHeader, .emptyCPU:
            break
        case .functionGraph:
            throw fail(number, "function_graph tracer output, which pgtrace does not read: record events with the nop tracer (echo nop > current_tracer, or trace-cmd record -e lock -e irq ... without -p)")
        case .comment(let hint):
            if case .format(let format)? = hint {
                sawTrace = true
                setFormat(format)
            }
        case .traceCmdHeader(let cpus):
            sawTrace = true
            setFormat(.traceCmd)
            // The header declares the cpus before the first event line (it is handed on with
            // that line); a `cpus=` further down declares nothing.
            if let cpus, !headerSent {
                guard cpus >= 1, cpus <= TraceDecoder.maximumCPUs else {
                    throw fail(number, CPULimit.declaredBeyondModel("the header", cpus))
                }
                declaredCPUs = cpus
                records.declaredCPUs = cpus
            }
        case .lost(let cpu, let count):
            sawTrace = true
            if let cpu, cpu >= TraceDecoder.maximumCPUs {
                let printed = String(decoding: line, as: UTF8.self).drop { $0 != ":" }.dropFirst().prefix(while: \.isNumber)
                throw fail(number, CPULimit.beyondModel("cpu \(printed)"))
            }
            if !complete {
                // A marker cut short may have lost digits of its count, and what followed it.
                try cut(at: number, into: sink)
                return
            }
            summary.lostEvents.append((cpu, count, number))
            if !headerSent { try sendHeader(sink) }
            try sink.lost(cpu: cpu, count: count, line: number)
        case .lostCountPastInt(let digits, let column):
            sawTrace = true
            if !complete {
                try cut(at: number, into: sink)
                return
            }
            throw TraceInputError(
                file: displayName, line: number, column: column,
                message: "lost-events count \(digits.prefix(40)) is more than pgtrace counts (at most \(Int.max)); expected the number of events the kernel lost")
        case .unparseable:
            if !complete, sawTrace {
                // The capture ends in the middle of a line (cut while it was written or copied).
                try cut(at: number, into: sink)
                return
            }
            guard options.lenient else {
                let text = String(decoding: line.prefix(120), as: UTF8.self)
                if let stamp = NonEventLine.timestampPastInt64(line) {
                    throw TraceInputError(
                        file: displayName, line: number, column: stamp.column,
                        message: "timestamp \(stamp.text) is past what pgtrace counts in (nanoseconds in 64 bits: at most 9223372036.854775807 seconds)")
                }
                if NonEventLine.lacksCPUColumn(line) {
                    throw fail(number, "this line has no cpu column ('\(text)'): perf script prints one for a system-wide recording (perf record -a) or with perf script -F +cpu")
                }
                guard sawTrace else {
                    throw fail(number, "not a trace pgtrace knows: '\(text)' is not XML (format v1), a trace.dat, nor ftrace, trace-cmd report or perf script output")
                }
                throw fail(number, "cannot parse this \(summary.format.rawValue) line: '\(text)' (--lenient skips such lines)")
            }
            summary.unparseable += 1
        }
    }
}

/// A line of a capture that is not an event.
enum NonEventLine {
    enum CommentHint {
        case format(TextTraceFormat)
    }

    case blank
    /// `#…`: ftrace's and perf's headers. (ftrace's `#P:4` counts the cpus online, not the
    /// highest cpu id: a hotplugged system logs cpus past it; it declares nothing.)
    case comment(CommentHint?)
    /// `version = 6`, `cpus=4`.
    case traceCmdHeader(cpus: Int?)
    /// `CPU 3 is empty`.
    case emptyCPU
    /// `CPU:3 [LOST 120 EVENTS]` (cpu, count), a console's `Lost 4890096 message(s)!` (no cpu).
    case lost(cpu: Int?, count: Int?)
    /// A lost-events marker whose count (its digits, at a 1-based byte column) is past Int.
    case lostCountPastInt(digits: String, column: Int)
    /// ` => func+0x1/0x2` after `<stack trace>`.
    case stackFrame
    /// perf's `\t ffffffff81001408 func+0x8 ([kernel.kallsyms])` after a sample.
    case callchain
    /// ftrace_dump_on_oops's `Dumping ftrace buffer:` and its rule of dashes.
    case consoleHeader
    /// A line of the function_graph tracer, which pgtrace does not read.
    case functionGraph
    case unparseable

    init(_ b: UnsafeBufferPointer<UInt8>) {
        let start = LineColumns.printkPrefixEnd(b, from: 0)
        let range = LineColumns.trimmed(b, start..<b.count)
        var text = String(decoding: UnsafeBufferPointer(rebasing: b[range]), as: UTF8.self)
        while text.hasSuffix("\r") { text.removeLast() }
        if text.isEmpty {
            self = .blank
            return
        }
        if text.hasPrefix("#") {
            if text.hasPrefix("# tracer:") {
                self = .comment(.format(.ftrace))
            } else if text.hasPrefix("# ========") || text.hasPrefix("# captured on") {
                self = .comment(.format(.perf))
            } else {
                self = .comment(nil)
            }
            return
        }
        if text.hasPrefix("cpus=") {
            guard let count = Int(text.dropFirst(5)) else {
                self = .unparseable
                return
            }
            self = .traceCmdHeader(cpus: count)
            return
        }
        if text.hasPrefix("version = ") {
            self = .traceCmdHeader(cpus: nil)
            return
        }
        // trace-cmd report: "CPU:7 [204600 EVENTS DROPPED]", "CPU:7 [EVENTS DROPPED]".
        // ftrace's "CPU:3 [LOST 120 EVENTS]"; trace-cmd's "CPU:7 [204600 EVENTS DROPPED]",
        // "CPU:7 [EVENTS DROPPED]". The count follows "[LOST " or "[", if the kernel counted.
        if text.hasPrefix("CPU:"), let countStart = text.firstRange(of: "[LOST ")?.upperBound
            ?? (text.hasSuffix("EVENTS DROPPED]") ? text.firstIndex(of: "[").map(text.index(after:)) : nil)
        {
            let cpuText = text.dropFirst(4).prefix(while: \.isNumber)
            guard !cpuText.isEmpty else {
                self = .unparseable
                return
            }
            // A number past Int is past every cpu count too.
            self = Self.lost(cpu: Int(cpuText) ?? Int.max, count: text[countStart...], column: Self.column(of: countStart, in: text, b, range))
            return
        }
        if text.hasPrefix("CPU "), text.hasSuffix(" is empty") {
            self = .emptyCPU
            return
        }
        if text.hasPrefix("Lost "), text.hasSuffix(" message(s)!") {
            let countStart = text.index(text.startIndex, offsetBy: 5)
            self = Self.lost(cpu: nil, count: text[countStart...], column: Self.column(of: countStart, in: text, b, range))
            return
        }
        if text.hasPrefix("=> ") || text == "=>" {
            self = .stackFrame
            return
        }
        // An elision mark of a pasted capture: lines were cut here.
        if text == "..." || text == "[...]" || text == "<snip>" {
            self = .lost(cpu: nil, count: nil)
            return
        }
        if text == "Dumping ftrace buffer:" || text.allSatisfy({ $0 == "-" }) {
            self = .consoleHeader
            return
        }
        // The function_graph tracer: " 0)   0.123 us    |  func();".
        // (with funcgraph-abstime or -proc, a time or task comes first: " 4543.113112 |   3)  …").
        if text.contains("|"), text.split(separator: " ").prefix(4).contains(where: { word in
            word.count > 1 && word.hasSuffix(")") && word.dropLast().allSatisfy(\.isNumber)
        }) {
            self = .functionGraph
            return
        }
        // perf's callchain: indented, an address, a symbol, "(dso)".
        if start < b.count, LineColumns.isBlank(b[start]), text.hasSuffix(")"),
            let blank = text.firstIndex(of: " "), text[..<blank].allSatisfy(\.isHexDigit)
        {
            self = .callchain
            return
        }
        self = .unparseable
    }
}

extension NonEventLine {
    /// The marker of `count` lost events, read from the digits that start `count` (the kernel
    /// prints an unsigned long: all of them, never a prefix); nil where it printed none.
    static func lost(cpu: Int?, count: Substring, column: Int) -> NonEventLine {
        let digits = count.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return .lost(cpu: cpu, count: nil) }
        guard let value = Int(digits) else { return .lostCountPastInt(digits: String(digits), column: column) }
        return .lost(cpu: cpu, count: value)
    }

    /// The 1-based byte column in the line `b` of `index` in `text`, the line's `range` decoded.
    static func column(of index: String.Index, in text: String, _ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        range.lowerBound + text.utf8.distance(from: text.startIndex, to: index) + 1
    }

    /// The line's timestamp (`SECONDS.FRACTION:`, the clock's seconds, where TraceLine looks
    /// for it: the first token of digits, a dot and digits after the first, followed by a
    /// colon) if it is too large for pgtrace's Int64 nanoseconds (292 years), with its 1-based
    /// column: why a line that reads as an event is none, for its error. Nil where the
    /// timestamp fits, or the line has none: another number further on is no timestamp.
    static func timestampPastInt64(_ b: UnsafeBufferPointer<UInt8>) -> (text: String, column: Int)? {
        var index = 0
        var tokens = 0
        while index < b.count {
            while index < b.count, LineColumns.isBlank(b[index]) { index += 1 }
            let start = index
            while index < b.count, !LineColumns.isBlank(b[index]) { index += 1 }
            guard start < index else { break }
            tokens += 1
            var token = b[start..<index]
            var colon = token.last == UInt8(ascii: ":")
            if colon { token = token.dropLast() }
            guard tokens >= 2, let dot = token.firstIndex(of: UInt8(ascii: ".")), dot > token.startIndex, dot + 1 < token.endIndex,
                token[..<dot].allSatisfy(LineColumns.isDigit), token[(dot + 1)...].allSatisfy(LineColumns.isDigit)
            else { continue }
            // The first such token is the timestamp or nothing: followed by its colon.
            if !colon {
                var next = index
                while next < b.count, LineColumns.isBlank(b[next]) { next += 1 }
                colon = next < b.count && b[next] == UInt8(ascii: ":")
            }
            guard colon else { return nil }
            // Counted as TraceLine counts a timestamp: seconds times 10^9, plus up to nine
            // digits of fraction.
            let seconds = token[..<dot].drop { $0 == UInt8(ascii: "0") }
            var fraction: Int64 = 0
            for place in 0..<9 {
                let digit = dot + 1 + place
                fraction = fraction * 10 + (digit < token.endIndex ? Int64(token[digit] - 0x30) : 0)
            }
            var whole: Int64 = 0
            var past = seconds.count > 18
            for digit in seconds where !past { whole = whole * 10 + Int64(digit - 0x30) }
            if !past {
                let (nanoseconds, overflow) = whole.multipliedReportingOverflow(by: 1_000_000_000)
                past = overflow || nanoseconds > Int64.max - fraction
            }
            return past ? (String(decoding: token, as: UTF8.self), start + 1) : nil
        }
        return nil
    }

    /// Whether the line reads as an event but for its cpu: `COMM PID TIMESTAMP: EVENT:` (perf
    /// script of a per-task recording).
    static func lacksCPUColumn(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let text = String(decoding: b, as: UTF8.self)
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let stamp = words.firstIndex(where: { word in
            word.hasSuffix(":") && word.dropLast().split(separator: ".").count == 2 && word.dropLast().allSatisfy { $0.isNumber || $0 == "." }
        }) else { return false }
        return !words[..<stamp].contains { $0.hasPrefix("[") && $0.hasSuffix("]") }
    }
}

