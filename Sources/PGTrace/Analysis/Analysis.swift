/// One run of pgtrace over one or more traces: reads each in turn through the replay engine
/// and its checkers. Lock classes and the lock-order graph span all the traces, as lockdep's
/// graph spans every execution it saw; the machine state starts afresh with each trace.
public final class Analysis {
    public let options: AnalysisOptions
    public let symbols = SymbolTable()
    public let classes = LockClassTable()
    public let graph = LockGraph()
    public let context: CheckerContext
    private let checkers: [ReplayObserver]
    public private(set) var eventCount = 0

    /// Interned before any trace is read: the replay never interns (see SymbolTable).
    private let defaultListLock: Symbol

    public init(options: AnalysisOptions = AnalysisOptions()) {
        self.options = options
        defaultListLock = symbols.intern("pgd_lock")
        context = CheckerContext(symbols: symbols, classes: classes, options: options)
        graph.addObserver(IrqInversionChecker(context: context))
        if let policy = options.policy { graph.addObserver(LockPolicyChecker(policy: policy, context: context)) }
        let ipi = IpiDeadlockChecker(graph: graph, context: context)
        graph.addObserver(ipi)
        checkers = [
            IrqUsageChecker(graph: graph, context: context),
            RecursiveLockingChecker(context: context),
            // Before the lock order, so that a spin with irqs off is told by its direct wait.
            ipi,
            CircularDependencyChecker(graph: graph, context: context),
            BadUnlockChecker(context: context),
            LockDepthChecker(context: context),
            SleepInAtomicChecker(context: context),
            PgdListChecker(context: context),
            PinWindowChecker(context: context),
            TableFreeChecker(context: context),
            KmapChecker(graph: graph, context: context),
            HeldAtEndChecker(context: context),
        ]
    }

    /// Reads and replays the trace at `path` (`-` for standard input), naming it `displayName`
    /// in reports.
    public func analyze(
        path: String, displayName: String? = nil,
        progress: ((_ bytesRead: Int, _ totalBytes: Int?, _ events: Int) -> Void)? = nil
    ) throws {
        let name = displayName ?? (path == "-" ? "<stdin>" : path)
        let schema = options.validatesSchema ? TraceSchema.v1 : nil
        try run(name: name) { reader, sink in
            try reader.read(
                path: path, schema: schema,
                progress: progress.map { report in { read, total in report(read, total, sink.eventCount) } },
                header: sink.header, event: sink.event)
        }
    }

    /// Reads and replays a trace held in memory.
    public func analyze(bytes: [UInt8], displayName: String) throws {
        let schema = options.validatesSchema ? TraceSchema.v1 : nil
        try run(name: displayName) { reader, sink in
            try reader.read(bytes: bytes, schema: schema, header: sink.header, event: sink.event)
        }
    }

    /// Reads the trace on a second thread (`TracePipeline`) and replays it on this one.
    private func run(name: String, read: @escaping (TraceReader, TracePipeline.Sink) throws -> Void) throws {
        let fileIndex = context.addFile(name)
        let reader = TraceReader(displayName: name, fileIndex: fileIndex, symbols: symbols, classes: classes)
        let pipeline = TracePipeline()
        pipeline.start { sink in try read(reader, sink) }
        var engine: ReplayEngine?
        var readFailure: Error?
        do {
            loop: while true {
                switch pipeline.receive() {
                case .header(let header):
                    engine = ReplayEngine(
                        header: header, fileName: name, classes: classes, symbols: symbols,
                        defaultListLock: defaultListLock, observers: checkers)
                case .events(let events):
                    guard let engine else { continue }
                    for event in events { try engine.apply(event) }
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
        engine?.finish()
        eventCount += engine?.eventCount ?? 0
    }

    /// The findings so far, in the order they were found.
    public var findings: [Finding] { context.findings }
    public var notes: [AnalysisNote] { context.notes }
    public var files: [String] { context.files }
}
