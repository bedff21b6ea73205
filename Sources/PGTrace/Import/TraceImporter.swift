/// Reads a kernel capture straight into typed events: a text capture (ftrace, trace-cmd
/// report, perf script, an ftrace_dump console log) line by line (`TextCaptureReader`), or a
/// trace-cmd `trace.dat` record by record through libtracecmd (`TraceDatReader`). Both give
/// the same events for the same recording: their records meet in one `EventTranslator`
/// (here at once; in an analysis on the replay's thread, see `RecordSink`).
///
/// Events keep the capture's line numbers (a trace.dat's record numbers), so a finding
/// points at the kernel's own line; `convert` writes the same events as trace format v1.
/// A capture is a partial trace (trace-format.md): it starts with locks held and irq state
/// unknown. What the capture does not say is not invented: irq state and context come from
/// the ftrace flags column where there is one, and from explicit events otherwise.
public final class TraceImporter {
    public struct Options: Sendable {
        /// The format to name in the output; detected from the capture when nil.
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

    /// What the import left out, for the user (on standard error).
    public struct Summary: Sendable {
        public var format: TextTraceFormat = .ftrace
        public var lines = 0
        /// The events made of the records (by whoever made them: see `RecordSink`).
        public var events = 0
        /// Events of kinds pgtrace does not use, by name.
        public var skipped: [String: Int] = [:]
        public var unparseable = 0
        /// Lost-event markers: the cpu (nil for every cpu), how many (nil when the kernel did
        /// not count), the line.
        public var lostEvents: [(cpu: Int?, count: Int?, line: Int)] = []

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
                // In 128 bits: each count fits Int, their sum need not (two markers of 2^62).
                let lost = counted.reduce(Int128(0)) { $0 + Int128($1) }
                let amount = counted.count == lostEvents.count ? "\(lost) event\(lost == 1 ? "" : "s")" : "events"
                parts.append("the trace lost \(amount) (findings may be incomplete)")
            }
            return parts.isEmpty ? nil : parts.joined(separator: "; ")
        }
    }

    public let displayName: String
    public private(set) var summary = Summary()
    private let input: TraceInput
    private let symbols: SymbolTable
    private let fileIndex: Int
    private let options: Options

    /// Reads `input`, interning names in `symbols`; events cite file `fileIndex`.
    public init(input: TraceInput, fileIndex: Int = 0, symbols: SymbolTable, options: Options = Options()) {
        self.input = input
        displayName = input.displayName
        self.fileIndex = fileIndex
        self.symbols = symbols
        self.options = options
    }

    /// Opens the capture at `path` (`-` for standard input).
    public convenience init(path: String, displayName: String? = nil, options: Options = Options()) throws {
        self.init(input: try TraceInput(path: path, displayName: displayName), symbols: SymbolTable(), options: options)
    }

    /// Reads the capture to its end: `header` once, before the first event (or at the end of
    /// a capture with none), then each event in order. `willWait` runs before each read of a
    /// stream, which may block.
    public func read(
        willWait: (() throws -> Void)? = nil,
        progress: ((_ bytesRead: Int, _ totalBytes: Int?) -> Void)? = nil,
        header: (TraceHeader) throws -> Void,
        event: (Event) throws -> Void
    ) throws {
        try withoutActuallyEscaping(header) { header in
            try withoutActuallyEscaping(event) { event in
                let sink = TranslatingSink(fileIndex: fileIndex, into: ClosureSink(header: header, event: event))
                defer { summary.events = sink.eventCount }
                try read(willWait: willWait, progress: progress, into: sink)
            }
        }
    }

    /// Reads the capture's records into `sink` (the analysis's pipeline, which makes events
    /// of them on the replay's thread).
    /// `progress` hears the bytes read of a text capture (and its size, where known); of a
    /// trace.dat, which is read by sections, only that reading goes on (0 bytes, no size).
    func read(
        willWait: (() throws -> Void)? = nil, progress: ((_ bytesRead: Int, _ totalBytes: Int?) -> Void)? = nil,
        into sink: some RecordSink
    ) throws {
        switch input.content {
        case .text:
            let reader = TextCaptureReader(input: input, symbols: symbols, fileIndex: fileIndex, options: options)
            defer { summary = reader.summary }
            try reader.read(willWait: willWait, progress: progress, into: sink)
        case .traceDat:
            let reader = TraceDatReader(input: input, symbols: symbols, fileIndex: fileIndex, options: options)
            defer { summary = reader.summary }
            try reader.read(progress: progress.map { report in { _ in report(0, nil) } }, into: sink)
        case .xml:
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "is XML already; import reads kernel captures (ftrace, trace-cmd report, perf script, trace.dat)")
        case .summary:
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "is a pgtrace summary; import reads kernel captures (ftrace, trace-cmd report, perf script, trace.dat)")
        }
    }

    /// Writes the capture as trace format v1, streaming: each event on the line of the capture
    /// it came from, so that findings on the written trace cite the capture's line numbers.
    public func convert(
        progress: ((_ bytesRead: Int, _ totalBytes: Int?) -> Void)? = nil, emit: (String) throws -> Void
    ) throws {
        let writer = TraceXMLWriter(symbols: symbols)
        var out = ""
        var line = 1
        func flush(_ force: Bool) throws {
            if force || out.utf8.count >= 64 * 1024 {
                try emit(out)
                out = ""
            }
        }
        try read(
            progress: progress,
            header: { header in out += writer.prolog(header) },
            event: { event in
                while line < event.position.line {
                    out += "\n"
                    line += 1
                }
                out += writer.element(event)
                try flush(false)
            })
        // Every capture line ends where it did; the end of the document follows them.
        while line <= summary.lines {
            out += "\n"
            line += 1
        }
        out += TraceXMLWriter.epilog
        try flush(true)
    }
}
