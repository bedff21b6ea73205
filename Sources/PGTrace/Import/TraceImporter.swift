/// Turns a kernel text trace (ftrace, trace-cmd report, perf script) into trace format v1,
/// streaming, in two passes over the file: the first finds the format, the cpus and the lost
/// events (which go into `<meta>`, before the events); the second translates each line.
///
/// The output keeps the input's line numbers: the events of input line N are on output line
/// N, so a finding on an imported trace points at the kernel's own line. What the input does
/// not say is not invented: irq state and irq context come from the ftrace flags column
/// where there is one, and from explicit events otherwise.
public final class TraceImporter {
    public struct Options: Sendable {
        public var format: TextTraceFormat?
        /// Keep lock names exactly as lockdep printed them (`&(&mm->page_table_lock)->rlock`).
        public var rawNames = false
        /// Skip and count lines that cannot be parsed instead of stopping at the first.
        public var lenient = false

        public init(format: TextTraceFormat? = nil, rawNames: Bool = false, lenient: Bool = false) {
            self.format = format
            self.rawNames = rawNames
            self.lenient = lenient
        }
    }

    /// What the import left out, for the user (on standard error) and for the analysis.
    public struct Summary: Sendable {
        public var format: TextTraceFormat = .ftrace
        public var lines = 0
        public var events = 0
        /// Events of kinds pgtrace does not use, by name.
        public var skipped: [String: Int] = [:]
        public var unparseable = 0
        /// Lost-event lines: the cpu, how many (nil when the kernel did not count), the line.
        public var lostEvents: [(cpu: Int, count: Int?, line: Int)] = []

        /// One line for standard error, or nil if nothing was left out.
        public var report: String? {
            var parts: [String] = []
            if !skipped.isEmpty {
                let total = skipped.values.reduce(0, +)
                let kinds = skipped.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(6)
                    .map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
                parts.append("skipped \(total) event\(total == 1 ? "" : "s") pgtrace does not use (\(kinds)\(skipped.count > 6 ? ", …" : ""))")
            }
            if unparseable > 0 { parts.append("skipped \(unparseable) unparseable line\(unparseable == 1 ? "" : "s")") }
            if !lostEvents.isEmpty {
                let counted = lostEvents.compactMap(\.count)
                let lost = counted.reduce(0, +)
                let amount = counted.count == lostEvents.count ? "\(lost) event\(lost == 1 ? "" : "s")" : "events"
                parts.append("the trace lost \(amount) (findings may be incomplete)")
            }
            return parts.isEmpty ? nil : parts.joined(separator: "; ")
        }
    }

    public let displayName: String
    private let path: String
    private let options: Options
    public private(set) var summary = Summary()
    private var cpus = 0

    public init(path: String, displayName: String, options: Options = Options()) {
        self.path = path
        self.displayName = displayName
        self.options = options
    }

    /// Whether `bytes` (the start of a file) look like a text trace rather than XML.
    public static func isTextTrace(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = TraceInput.firstSignificant(Array(bytes)) else { return false }
        return bytes[bytes.startIndex + first] != UInt8(ascii: "<")
    }

    private func open() throws -> FileDescriptor {
        try FileDescriptor(reading: path, displayName: displayName)
    }

    private func error(_ line: Int, _ message: String) -> TraceInputError {
        TraceInputError(file: displayName, line: line, column: 1, message: message)
    }

    /// Translates the file, handing each output line (with its newline) to `emit`.
    public func convert(emit: (String) throws -> Void) throws {
        let source = try chunks()
        while let chunk = try source() { try emit(String(decoding: chunk, as: UTF8.self)) }
    }

    /// The translated trace as a source of chunks of about 64 KiB, for the XML reader.
    public func chunks() throws -> () throws -> ArraySlice<UInt8>? {
        try scan()
        let fd = try open()
        var reader = LineReader(file: fd)
        var translator = EventTranslator(format: summary.format, rawNames: options.rawNames)
        var number = 0
        var previousTime: Int64 = .min
        var finished = false
        return { [self] () throws -> ArraySlice<UInt8>? in
            guard !finished else { return nil }
            var out = ""
            while out.utf8.count < 64 * 1024 {
                let next: Substring?
                do throws(DecodeFailure) { next = try reader.next() } catch {
                    finished = true
                    throw self.error(number + 1, error.message)
                }
                guard let line = next else {
                    out += (number == 0 ? prolog() : "") + "</events></trace>\n"
                    finished = true
                    break
                }
                number += 1
                if number == 1 { out += prolog() }
                if let parsed = TraceLine.parse(line, format: summary.format) {
                    var time: Int64?
                    if parsed.timestamp >= previousTime {
                        time = parsed.timestamp
                        previousTime = parsed.timestamp
                    }
                    let result = translator.translate(parsed, time: time)
                    out += result.xml
                    summary.events += result.count
                    if result.skipped { summary.skipped[parsed.event, default: 0] += 1 }
                } else if !Self.isCommentOrHeader(line) {
                    if options.lenient {
                        summary.unparseable += 1
                    } else {
                        finished = true
                        throw error(number, "cannot parse this \(summary.format.rawValue) line: '\(line.prefix(120))' (--lenient skips such lines)")
                    }
                }
                out += "\n"
            }
            return Array(out.utf8)[...]
        }
    }

    private func prolog() -> String {
        var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><trace version=\"1\" source=\"\(EventTranslator.escape("pgtrace import (\(summary.format.rawValue)) of \(displayName)"))\""
        if cpus > 0 { text += " cpus=\"\(cpus)\"" }
        text += ">"
        if !summary.lostEvents.isEmpty {
            text += "<meta>"
            for lost in summary.lostEvents {
                let amount = lost.count.map { "\($0) events" } ?? "events"
                text += "<note text=\"cpu \(lost.cpu) lost \(amount) (line \(lost.line)): findings may be incomplete\"/>"
            }
            text += "</meta>"
        }
        return text + "<events>"
    }

    static func isCommentOrHeader(_ line: Substring) -> Bool {
        let text = line.trimmingTrailingNewline.trimmingSpaces
        return text.isEmpty || text.hasPrefix("#") || text.hasPrefix("CPU:") || text.hasPrefix("cpus=")
            || text.hasPrefix("version = ") || text.hasPrefix("CPU ") || text.hasPrefix("#####")
    }

    /// The first pass: the format (unless given), the cpus, and the lost-event lines.
    private func scan() throws {
        let fd = try open()
        var reader = LineReader(file: fd)
        var sample: [Substring] = []
        var number = 0
        var maxCPU = -1
        var declaredCPUs: Int?
        while true {
            let next: Substring?
            do { next = try reader.next() } catch { throw self.error(number + 1, error.message) }
            guard let line = next else { break }
            number += 1
            if sample.count < 200 { sample.append(line) }
            let text = line.trimmingSpaces
            if text.hasPrefix("CPU:"), let lost = Self.lostEvents(text) {
                try checkCPU(lost.cpu, line: number)
                summary.lostEvents.append((lost.cpu, lost.count, number))
                maxCPU = max(maxCPU, lost.cpu)
                continue
            }
            if text.hasPrefix("#"), let range = text.range(of: "#P:"), let count = Int(text[range.upperBound...].prefix(while: \.isNumber)) {
                declaredCPUs = count
            }
            if text.hasPrefix("cpus="), let count = Int(text.dropFirst(5)) { declaredCPUs = count }
            if let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]"),
                let cpu = Int(text[text.index(after: open)..<close])
            {
                // Out of range, the event line's cpu is refused where it is translated.
                if cpu < TraceDecoder.maximumCPUs { maxCPU = max(maxCPU, cpu) }
            }
        }
        summary.lines = number
        if let format = options.format {
            summary.format = format
        } else if let format = TextTraceFormat.detect(sample) {
            summary.format = format
        } else if number > 0 {
            throw error(1, "not a trace pgtrace knows: expected XML (format v1), ftrace, trace-cmd report or perf script output")
        }
        // Only a declared count: an IPI may name a cpu that logged nothing.
        cpus = declaredCPUs.map { max($0, maxCPU + 1) } ?? 0
    }

    /// A cpu number past what pgtrace models (and past what `cpus` can count) is an error.
    private func checkCPU(_ cpu: Int, line: Int) throws {
        guard cpu >= 0, cpu < TraceDecoder.maximumCPUs else {
            throw error(line, "cpu \(cpu) is more than the \(TraceDecoder.maximumCPUs) cpus pgtrace models (x86's largest NR_CPUS)")
        }
    }

    /// "CPU:3 [LOST 120 EVENTS]", or "CPU:3 [LOST EVENTS]" when the kernel did not count.
    static func lostEvents(_ text: Substring) -> (cpu: Int, count: Int?)? {
        guard let colon = text.firstIndex(of: ":"), let cpu = Int(text[text.index(after: colon)...].prefix(while: \.isNumber)),
            let range = text.range(of: "[LOST ")
        else { return nil }
        return (cpu, Int(text[range.upperBound...].prefix(while: \.isNumber)))
    }
}
