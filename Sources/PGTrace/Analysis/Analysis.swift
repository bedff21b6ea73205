/// One run of pgtrace over one or more traces: reads each in turn through the replay engine
/// and its checkers. Lock classes and the lock-order graph span all the traces, as lockdep's
/// graph spans every execution it saw; the machine state starts afresh with each trace.
public final class Analysis {
    public let options: AnalysisOptions
    public let symbols = SymbolTable()
    public let classes = LockClassTable()
    public let graph = LockGraph()
    public let context: CheckerContext
    /// What the traces taught the graph, each fact with its least evidence.
    public let facts: GraphFactLog
    private let graphChecks: GraphChecks
    private(set) var checkers: [ReplayObserver]
    /// lock_stat's counts and times, where the options ask for them.
    public let statistics: LockStatistics?
    public private(set) var eventCount = 0

    /// Interned before any trace is read: the replay never interns (see SymbolTable).
    private let defaultListLock: Symbol
    /// lockdep's RCU map classes, interned and declared before any trace.
    private let rcuMaps: [RcuFlavor: Symbol]

    public init(options: AnalysisOptions = AnalysisOptions()) {
        self.options = options
        defaultListLock = symbols.intern("pgd_lock")
        var rcuMaps: [RcuFlavor: Symbol] = [:]
        for flavor in RcuFlavor.allCases {
            let name = symbols.intern(flavor.className)
            rcuMaps[flavor] = name
            classes.declareBuiltin(name: name, flavor.declared)
        }
        self.rcuMaps = rcuMaps
        for (name, declared) in LockClassTable.kernelBuiltins { classes.declareBuiltin(name: symbols.intern(name), declared) }
        let context = CheckerContext(symbols: symbols, classes: classes, options: options)
        self.context = context
        let facts = GraphFactLog { [unowned context] in context.files }
        self.facts = facts
        graph.keepSites(in: facts)
        let policyChecker = options.policy.map { LockPolicyChecker(policy: $0, context: context) }
        let irqUsage = IrqUsageChecker(graph: graph, facts: facts, context: context)
        let ipi = IpiDeadlockChecker(graph: graph, facts: facts, context: context)
        let circular = CircularDependencyChecker(graph: graph, facts: facts, context: context)
        let kmap = KmapChecker(graph: graph, facts: facts, context: context)
        let nmi = NmiChecker(facts: facts, context: context)
        let graphChecks = GraphChecks(
            graph: graph, context: context, irqUsage: irqUsage, circular: circular, ipi: ipi, kmap: kmap, nmi: nmi,
            policy: policyChecker)
        self.graphChecks = graphChecks
        if options.graphChecks == .inPlace {
            facts.apply = { [unowned graphChecks] fact in graphChecks.apply(fact) }
        }
        checkers = [
            // In lockdep's order: irq usage (mark_irqflags), the wait context, then the chain.
            irqUsage,
            WaitContextChecker(context: context),
            nmi,
            // __lock_acquire looks for the nest lock after the usage bits, before the chain.
            NestLockChecker(context: context),
            RecursiveLockingChecker(context: context),
            // Before the lock order, so that a spin with irqs off is told by its direct wait.
            ipi,
            circular,
            BadUnlockChecker(context: context),
            LockDepthChecker(context: context),
            SleepInAtomicChecker(context: context, rcuMap: rcuMaps[.rcu]!),
            PgdListChecker(context: context),
            PinWindowChecker(context: context),
            TableFreeChecker(context: context, rcuMaps: Set(rcuMaps.values)),
            kmap,
        ] + (policyChecker.map { [$0] } ?? []) + [
            HeldAtEndChecker(context: context),
            CaptureNotes(context: context),
        ]
        statistics = options.collectsStatistics ? LockStatistics(context: context) : nil
        if let statistics { checkers.append(statistics) }
    }

    /// Adds an observer after every checker (an exporter such as `TimelineWriter`, which sees
    /// each event after the findings it led to); before the first trace is read.
    public func addObserver(_ observer: ReplayObserver) {
        checkers.append(observer)
    }

    /// Where a trace comes from.
    public enum Source: Sendable {
        /// A file (`-` for standard input), named `displayName` in reports.
        case file(path: String, displayName: String)
        /// A trace held in memory.
        case bytes([UInt8], displayName: String)

        public static func file(_ path: String) -> Source {
            .file(path: path, displayName: path == "-" ? "<stdin>" : path)
        }

        public var displayName: String {
            switch self {
            case .file(_, let name), .bytes(_, let name): return name
            }
        }
    }

    /// Progress of the reading side: the file, bytes read of how many, events read.
    public typealias Progress = @Sendable (_ file: String, _ bytesRead: Int, _ totalBytes: Int?, _ events: Int) -> Void

    /// Reads and replays the trace at `path` (`-` for standard input), naming it `displayName`
    /// in reports.
    public func analyze(path: String, displayName: String? = nil) throws {
        try analyze([displayName.map { .file(path: path, displayName: $0) } ?? .file(path)])
    }

    /// Reads and replays a trace held in memory.
    public func analyze(bytes: [UInt8], displayName: String) throws {
        try analyze([.bytes(bytes, displayName: displayName)])
    }

    /// Reads `sources` in order on a second thread (`TracePipeline`) while this one replays
    /// them: the next file is parsed while the last is still being replayed, and the result
    /// is exactly that of reading and replaying them one after the other.
    public func analyze(_ sources: [Source], progress: Progress? = nil) throws {
        let first = context.files.count
        // All or none: an analysis refused here holds no file of these sources.
        try context.checkRoom(for: sources.lazy.map(\.displayName))
        for source in sources { _ = try context.addFile(source.displayName) }
        let symbols = self.symbols
        let schema = options.validatesSchema ? TraceSchema.v1 : nil
        let importOptions = options.importOptions
        let pipeline = TracePipeline()
        try pipeline.start { sink in
            for (offset, source) in sources.enumerated() {
                let name = source.displayName
                try sink.begin(file: first + offset)
                let reader = TraceReader(displayName: name, fileIndex: first + offset, symbols: symbols)
                switch source {
                case .file(let path, _):
                    let input = try TraceInput(path: path, displayName: name)
                    try self.refuseUnread(input)
                    switch input.content {
                    case .text, .traceDat:
                        let importer = TraceImporter(
                            input: input, fileIndex: first + offset, symbols: symbols, options: importOptions)
                        defer { self.recordImport(name, index: first + offset, importer.summary) }
                        // A live stream: the replay sees each event before the next wait.
                        try importer.read(
                            willWait: sink.flush,
                            progress: progress.map { report in { read, total in report(name, read, total, sink.eventCount) } },
                            into: sink)
                    case .summary:
                        try SummaryReader(input: input, symbols: symbols).read { line, number in
                            try sink.summaryLine(line, number: number)
                        }
                    case .xml:
                        // Decoded on a third thread: the sink's calls, like the progress line's,
                        // are then all made there, in order, before this returns.
                        try reader.read(
                            input: input, schema: schema, decodesOnSecondThread: true,
                            progress: progress.map { report in { read, total in report(name, read, total, sink.eventCount) } },
                            // A live stream: the replay sees each event before the next wait.
                            willWait: sink.flush,
                            header: sink.header, event: sink.event)
                    }
                case .bytes(let bytes, _):
                    if TraceInput.content(ofStart: Array(bytes.prefix(64))) == .summary {
                        guard self.options.inputs.contains(.summaries) else {
                            throw TraceInputError(file: name, line: 1, column: 1, message: "is a pgtrace summary; \(self.options.commandName) reads traces")
                        }
                        try SummaryReader(bytes: bytes, name: name, symbols: symbols).read { line, number in
                            try sink.summaryLine(line, number: number)
                        }
                    } else {
                        try reader.read(bytes: bytes, schema: schema, header: sink.header, event: sink.event)
                    }
                }
                try sink.endFile()
            }
        }
        var engine: ReplayEngine?
        // A capture's records are made events here, on the replay's thread (RecordSink).
        var translator: EventTranslator?
        var replaySink: ReplaySink?
        var readFailure: Error?
        // The summary being merged, and the file slot being read.
        var merge: SummaryMerge?
        var slot = 0
        do {
            loop: while true {
                // On the call's result, with no `default`: a switch that borrows its subject
                // (a message named first, or a `default` case) keeps a second reference to a
                // batch in it until the case ends, and `recycle` then makes a new batch.
                switch pipeline.receive() {
                case .begin(let file):
                    engine = nil
                    translator = nil
                    merge = nil
                    slot = file
                case .summaryLines(let lines):
                    if merge == nil {
                        summarySlots.insert(slot)
                        merge = SummaryMerge(into: self, name: context.files[slot])
                    }
                    for (line, number) in lines { try merge!.apply(line, at: number) }
                case .header(let header):
                    let file = context.files[header.fileIndex]
                    if options.separatesConflictingTraces, let reason = conflict(header),
                        case .file(let path, _) = sources[header.fileIndex - first], FileDescriptor.isRegularFile(path)
                    {
                        // Analysed apart, after this run: its events are skipped here.
                        putAside.append((sources[header.fileIndex - first], reason))
                        putAsideHeaders.append(header)
                        engine = nil
                        continue
                    }
                    try refuseSecondTrace(named: file, from: file)
                    traceChecksFixed = true
                    try declareClasses(header, file: file)
                    joinConfiguration(header.proveRawLockNesting, of: file)
                    for note in header.notes { context.note("\(file): \(note)", evidence: nil) }
                    engine = ReplayEngine(
                        header: header, fileName: file, classes: classes, symbols: symbols,
                        defaultListLock: defaultListLock, rcuMaps: rcuMaps, validatedDepth: options.maxDepth, observers: checkers)
                    context.replay = engine
                    context.beginTrace()
                    facts.begin(file: header.fileIndex)
                    replaySink = engine.map(ReplaySink.init)
                    translator = EventTranslator(fileIndex: header.fileIndex)
                case .events(var events):
                    if let engine {
                        for event in events { try engine.apply(event) }
                    }
                    pipeline.recycle(&events)
                case .records(var records):
                    if engine != nil, let sink = replaySink, translator != nil {
                        for record in records { try record.translate(with: &translator!, into: sink) }
                    }
                    pipeline.recycle(&records)
                case .endFile:
                    if let translator, engine != nil, translator.eventCount > 0 {
                        recordImportedEvents(file: translator.fileIndex, translator.eventCount)
                    }
                    if let engine {
                        engine.finish()
                        eventCount += engine.eventCount
                        eventsByFile[slot] = engine.eventCount
                        context.endTrace()
                    }
                    engine = nil
                    merge = nil
                case .end:
                    break loop
                case .failure(let error):
                    readFailure = error
                    break loop
                }
            }
        } catch {
            // The replay failed: stop the reader, then report.
            pipeline.cancel()
            throw error
        }
        pipeline.join()
        if let readFailure { throw readFailure }
        citeLeastDeclarations()
        // With a summary among the inputs, traces that contradict each other are one error
        // whatever their order: a summary is one analysis, and cannot be put aside in part.
        if !summarySlots.isEmpty, let (source, reason) = putAside.first {
            throw TraceInputError(
                file: source.displayName,
                message: "\(reason); traces analysed with summaries are one analysis: summarize the traces of each kernel configuration apart")
        }
        checkGraph()
    }

    /// Refuses an input of a kind the options do not read.
    private func refuseUnread(_ input: TraceInput) throws {
        let isSummary = input.content == .summary
        if isSummary, !options.inputs.contains(.summaries) {
            throw TraceInputError(
                file: input.displayName, line: 1, column: 1,
                message: "is a pgtrace summary; \(options.commandName) reads traces (analyze, graph and lint read summaries)")
        }
        if !isSummary, !options.inputs.contains(.traces) {
            throw TraceInputError(
                file: input.displayName, line: 1, column: 1,
                message: "is a trace, not a pgtrace summary; \(options.commandName) reads summaries (make one with `pgtrace summarize`)")
        }
    }

    /// Merges a summary read from `input` on this thread (`analyze` reads summaries given
    /// among traces on its reading thread).
    public func merge(summary input: TraceInput) throws {
        let slot = try context.addFile(input.displayName)
        summarySlots.insert(slot)
        let merge = SummaryMerge(into: self, name: input.displayName)
        try SummaryReader(input: input, symbols: symbols).read { line, number in try merge.apply(line, at: number) }
        checkGraph()
    }

    /// Checks the graph from its facts, in the order of their evidence, if the checks have
    /// not seen them so: the graph and its findings are those of the facts alone.
    public func checkGraph() {
        if options.graphChecks != .never, facts.needsCheck { graphChecks.rebuild(from: facts) }
    }

    /// What importing each kernel capture left out (written by the reading thread; the events
    /// made of its records, by the replay's; read after both).
    public private(set) var imports: [(file: String, summary: TraceImporter.Summary)] = []
    /// The file index of each entry of `imports`.
    private var importedFiles: [Int] = []
    private let importLock = ConditionLock()

    private func recordImport(_ file: String, index: Int, _ summary: TraceImporter.Summary) {
        importLock.withLock {
            imports.append((file, summary))
            importedFiles.append(index)
        }
    }

    /// The events the replay's side made of file `index`'s records (its reader counted none).
    /// The reader recorded the file's import before it ended the file, so the entry is there.
    private func recordImportedEvents(file index: Int, _ count: Int) {
        importLock.withLock {
            if let entry = importedFiles.lastIndex(of: index) { imports[entry].summary.events = count }
        }
    }

    /// The traces put aside because their class declarations contradict this analysis's
    /// (with `separatesConflictingTraces`), and why.
    public private(set) var putAside: [(source: Source, reason: String)] = []
    /// The header of each trace of `putAside`, to say again why once every trace was read.
    private var putAsideHeaders: [TraceHeader] = []

    /// Says why each trace was put aside against every trace this analysis read, not only
    /// those read before it: the declaration cited is the least (by file name, then line) of
    /// the analysis's, as everywhere else, so the reason does not depend on the order the
    /// traces were given. Declarations only accumulate, and a class declared again the same
    /// way keeps its declaration, so what conflicted when the trace was read still does.
    private func citeLeastDeclarations() {
        for (index, header) in putAsideHeaders.enumerated() {
            if let reason = conflict(header) { putAside[index].reason = reason }
        }
    }

    /// The traces this analysis replayed or merged from summaries (those put aside are not
    /// among them, nor the summaries' own files).
    public var analysedFiles: [String] { traceFiles.map(\.name) }

    /// The traces of the analysis: their file index, name and event count.
    public var traceFiles: [(index: Int, name: String, events: Int)] {
        let aside = Set(putAside.map(\.source.displayName))
        return files.indices.filter { !summarySlots.contains($0) && !aside.contains(files[$0]) }
            .map { ($0, files[$0], eventsByFile[$0] ?? 0) }
    }

    /// The file slots that held summaries, not traces.
    private var summarySlots: Set<Int> = []
    private var eventsByFile: [Int: Int] = [:]

    /// A trace a summary names: a file of the analysis with its events.
    func addSummarizedTrace(_ name: String, events: Int, from place: String) throws -> Int {
        try refuseSecondTrace(named: name, from: place)
        let index = try context.addFile(name)
        eventsByFile[index] = events
        let (sum, overflow) = eventCount.addingReportingOverflow(events)
        eventCount = overflow ? Int.max : sum
        return index
    }

    /// A trace's configuration: the analysis's is that of the trace with the least name (so
    /// that it does not depend on the order of the traces); a trace that differs is noted.
    private func joinConfiguration(_ setting: Bool, of trace: String) {
        if replayedAny, setting != proveRawLockNesting, mixedConfiguration == nil {
            mixedConfiguration = "PROVE_RAW_LOCK_NESTING is \(setting ? "y" : "not set") in \(trace) and \(proveRawLockNesting ? "y" : "not set") in \(configurationSource ?? "the traces before")"
        }
        if configurationSource.map({ trace < $0 }) ?? true {
            proveRawLockNesting = setting
            configurationSource = trace
        }
        replayedAny = true
    }

    /// The trace whose configuration the analysis has.
    private var configurationSource: String?
    /// Why the traces' configurations differ, if they do (a summary is of one configuration).
    public private(set) var mixedConfiguration: String?

    /// Traces are told apart by their names: the least evidence is the least by (trace name,
    /// place), so two traces of one name would be ordered by the order they came in. A
    /// second trace of a name (a trace given twice, a summary merged twice, traces of many
    /// machines all named `<stdin>`) is refused: name each uniquely (`summarize --name`).
    private func refuseSecondTrace(named name: String, from place: String) throws {
        guard traceNames.insert(name).inserted else {
            throw TraceInputError(
                file: place,
                message: "a second trace named '\(name)': traces analysed together are told apart by their names, so each must have its own (a trace given twice, a summary merged twice, or traces read from standard input: summarize them with --name)")
        }
    }

    private var traceNames: Set<String> = []

    /// The options a trace's own checks run with, which a summary records: a summary made
    /// with others reports otherwise than its traces would here, and is refused.
    public struct TraceChecks: Equatable, Sendable {
        public var maxDepth: Int
        /// The digest of `--policy` (`LockPolicy.digest`), if one was given.
        public var policy: String?
    }

    /// The options this analysis's trace checks ran with: its own, or (`merge`, which
    /// replays no trace) those of the first summary it read.
    public private(set) lazy var traceChecks = TraceChecks(maxDepth: options.maxDepth, policy: options.policy?.digest)
    private var traceChecksFixed = false

    /// A summary's trace checks join the analysis's, or contradict them.
    func joinTraceChecks(_ checks: TraceChecks, from place: String) throws {
        if options.adoptsSummaryChecks, !traceChecksFixed, !replayedAny {
            traceChecks = checks
        }
        traceChecksFixed = true
        guard checks == traceChecks else {
            func describe(_ checks: TraceChecks) -> String {
                "--max-depth \(checks.maxDepth) and " + (checks.policy.map { "a --policy of digest \($0)" } ?? "no --policy")
            }
            throw TraceInputError(
                file: place,
                message: options.adoptsSummaryChecks
                    ? "this summary's traces were checked with \(describe(checks)), the summaries before it with \(describe(traceChecks)); summaries merge only when made with the same options (summarize --max-depth, --policy)"
                    : "this summary's traces were checked with \(describe(checks)), this analysis with \(describe(traceChecks)); make the summary with the same options (summarize --max-depth, --policy)")
        }
    }

    /// A summary's kernel configuration joins the analysis's, or contradicts it.
    func joinSummaryConfiguration(proveRawLockNesting setting: Bool?, from place: String) throws {
        guard let setting else { return }
        if replayedAny, setting != proveRawLockNesting {
            throw TraceInputError(
                file: place, message: "PROVE_RAW_LOCK_NESTING is \(setting ? "y" : "not set") in this summary's traces and \(proveRawLockNesting ? "y" : "not set") in the traces before; traces analysed together share their configuration")
        }
        proveRawLockNesting = setting
        replayedAny = true
        if configurationSource == nil { configurationSource = place }
    }

    /// A summary's class declaration joins the analysis's, or contradicts it.
    func declare(name: Symbol, _ declared: LockClassTable.Declared, at position: TracePosition, from place: String) throws {
        if let earlier = classes.declare(name: name, declared, at: position, file: files[position.file]) {
            throw TraceInputError(
                file: place, message: "class '\(symbols[name])' is declared \(declared) there and otherwise in \(earlier.file):\(earlier.line); traces analysed together share their classes")
        }
    }

    /// Whether a trace (or a summary of traces) has set the kernel configuration.
    public var hasReplayed: Bool { replayedAny }

    /// Why a trace's `<classes>` cannot join this analysis, if they cannot.
    private func conflict(_ header: TraceHeader) -> String? {
        if let reason = configConflict(header) { return reason }
        for declaration in header.classes {
            if let earlier = classes.conflict(name: declaration.name, declaration.declared) {
                let name = symbols[declaration.name]
                return "class '\(name)' is declared \(declaration.declared) there and \(earlier.declared) in \(earlier.file):\(earlier.line)"
            }
        }
        return nil
    }

    /// Analyses `sources` as one analysis per set of traces whose class declarations agree:
    /// a trace that declares a class with another type or size than a trace before it (a
    /// trace of another kernel or configuration) is put aside and analysed with the others
    /// put aside, and so on, the traces taken in the order of their names. Traces read from
    /// standard input or a FIFO cannot be read again to be put aside: they are taken first,
    /// in the order given, and two of them that contradict each other are an input error.
    /// The analyses after the first come in the order of their least trace name.
    public static func analyzeSeparatingConflicts(
        _ sources: [Source], options: AnalysisOptions, progress: Progress? = nil
    ) throws -> [Analysis] {
        var options = options
        options.separatesConflictingTraces = true
        var analyses: [Analysis] = []
        // Grouped in the order of the traces' names, the order evidence is least by, so that
        // which traces go together, and so what each group finds, does not depend on the
        // order they were given (in that order a class's first declaration decided which
        // traces joined it: helper-136). A trace that cannot be read again (standard input, a
        // FIFO, one in memory) cannot be put aside: those come first, in the order given, and
        // the files that can after them, in the order of their names.
        func readAgain(_ source: Source) -> Bool {
            if case .file(let path, _) = source { return FileDescriptor.isRegularFile(path) }
            return false
        }
        var remaining = sources.filter { !readAgain($0) } + sources.filter(readAgain).sorted { $0.displayName < $1.displayName }
        while !remaining.isEmpty {
            let analysis = Analysis(options: options)
            try analysis.analyze(remaining, progress: progress)
            analyses.append(analysis)
            // The first trace always joins a new analysis, so each round takes at least one.
            remaining = analysis.putAside.map(\.source)
        }
        // The first analysis is the first trace's; the others are numbered by their least
        // trace name, not by when their first trace came, so that the same grouping is
        // reported the same way whatever the order of the traces.
        guard analyses.count > 2 else { return analyses }
        return [analyses[0]] + analyses.dropFirst().sorted { ($0.analysedFiles.min() ?? "") < ($1.analysedFiles.min() ?? "") }
    }

    /// Applies a trace's `<classes>`: one class has one type across every trace analysed.
    private func declareClasses(_ header: TraceHeader, file: String) throws {
        for declaration in header.classes {
            if let earlier = classes.declare(name: declaration.name, declaration.declared, at: declaration.position, file: file) {
                throw TraceInputError(
                    file: file, line: declaration.position.line, column: declaration.position.column,
                    message: "class '\(symbols[declaration.name])' declared again with another type, size or wait type (first at \(earlier.file):\(earlier.line)); traces analysed together share their classes")
            }
        }
    }

    /// Whether the analysis's first trace sets PROVE_RAW_LOCK_NESTING: how reports number wait
    /// types. Each trace's own setting decides its invalid wait contexts; a trace that differs
    /// from the first goes to another analysis where conflicting traces are separated (as
    /// `analyze`, `lint` and `graph` do).
    public private(set) var proveRawLockNesting = false
    private var replayedAny = false

    /// Why a trace's kernel configuration cannot join this analysis's, if it cannot.
    private func configConflict(_ header: TraceHeader) -> String? {
        guard replayedAny, header.proveRawLockNesting != proveRawLockNesting else { return nil }
        let setting = { (on: Bool) in on ? "y" : "not set" }
        return "PROVE_RAW_LOCK_NESTING is \(setting(header.proveRawLockNesting)) there and \(setting(proveRawLockNesting)) in the traces before"
    }

    /// The findings so far, in their order (`Finding.canonical`), their text made.
    public var findings: [Finding] { context.findings }
    /// Whether a finding of `rules` (all where nil) is at or above `threshold`: the exit
    /// status of a report that prints none, asked without making the findings' text.
    public func hasFinding(atLeast threshold: Severity, of rules: Set<Rule>? = nil) -> Bool {
        context.hasFinding(atLeast: threshold, of: rules)
    }
    public var notes: [AnalysisNote] { context.notes }
    public var files: [String] { context.files }
}

/// The replay as the end of a capture's translator: each event applied as it is made.
private final class ReplaySink: EventSink {
    private let engine: ReplayEngine
    init(_ engine: ReplayEngine) { self.engine = engine }
    func header(_ header: TraceHeader) {}
    func event(_ event: Event) throws { try engine.apply(event) }
}
