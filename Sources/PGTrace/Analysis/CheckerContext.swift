/// What every checker of one analysis shares: the names behind symbols and classes, the
/// trace files, and the findings (one per distinct problem).
///
/// Findings come from two places. A trace's own replay (a lock taken twice, a page table
/// freed under a walker) reports into the trace's set, which joins the others when the
/// trace ends (`FindingScope.trace`). The graph checks (cycles, irq usage, IPI waits, kmap
/// order) report from the graph's facts (`FindingScope.graph`); their set is made again
/// when the graph is rebuilt.
public final class CheckerContext {
    public let symbols: SymbolTable
    public let classes: LockClassTable
    public let options: AnalysisOptions
    public private(set) var files: [String] = []
    /// Findings of the traces replayed (and summaries merged) before the current one.
    public private(set) var traceFindings = FindingSet()
    /// Findings of the trace being replayed.
    @exclusivity(unchecked) private var currentFindings = FindingSet()
    /// Findings of the graph checks, as made so far: one reported without its text
    /// (`reportGraphFindingOnce`) is pending until the findings are read (`findings`, or
    /// `hasFinding` where a pending one shares its rule and key with a trace's), and joins
    /// them then.
    @exclusivity(unchecked) public private(set) var graphFindings = FindingSet()
    /// Things worth knowing that are not findings (locks held at the end of a trace).
    public private(set) var notes: [AnalysisNote] = []
    /// The replay running now, for the held-lock lists of reports made where no replay is at
    /// hand (the lock graph's observers).
    weak var replay: ReplayEngine?
    /// The moments the graph's facts were learned at, which their reports print.
    public let moments = MomentStore()
    /// Told of each finding as it is first reported (an exporter placing findings in time).
    @exclusivity(unchecked) private var reportObservers: [(Finding) -> Void] = []
    /// Graph findings whose text is not made yet (`reportGraphFindingOnce`).
    @exclusivity(unchecked) private var pending = PendingFindings()

    public init(symbols: SymbolTable, classes: LockClassTable, options: AnalysisOptions) {
        self.symbols = symbols
        self.classes = classes
        self.options = options
    }

    /// Numbers a trace or summary of the analysis; sites keep 24 bits of it (`EventSite`).
    func addFile(_ name: String) throws -> Int {
        try checkRoom(for: [name])
        files.append(name)
        return files.count - 1
    }

    /// Refuses files past what a site can number, naming the first that would not fit.
    func checkRoom(for names: some Collection<String>) throws {
        if let over = names.dropFirst(max(0, EventSite.maximumFiles - files.count)).first {
            throw TraceInputError(file: over, message: "more than \(EventSite.maximumFiles) traces and summaries in one analysis")
        }
    }

    public func addReportObserver(_ observer: @escaping (Finding) -> Void) { reportObservers.append(observer) }

    /// Every finding, in their order (`Finding.canonical`): those of the traces and those of
    /// the graph. Reading it makes the text of the graph findings reported without it (the
    /// context is used from one thread at a time, as the analysis it belongs to).
    public var findings: [Finding] {
        makePendingFindings()
        return Finding.canonical(withGraphFindings(tracesFindings).findings)
    }

    /// The findings as `findings` gives them, those of the graph reported without their text
    /// made as each is read (`FindingList`). The list keeps their makers, and what they read
    /// (names, sites, moments) must stay as it is while it is read: read it on the analysis's
    /// thread, or once the analysis is over. The makers are handed out to it
    /// (`PendingFindingMaker.handOut`): kept as they are, and given no more findings.
    func findingList() -> FindingList {
        let traces = tracesFindings
        // A pending finding of the traces' rule and key merges into whichever of the two cites
        // the earlier evidence, which it does not have till it is made: made now, as `findings`
        // makes them.
        if pendingMeets(traces) { makePendingFindings() }
        pending.indexAll()
        let made = withGraphFindings(traces).findings
        guard !pending.isEmpty else { return FindingList(Finding.canonical(made)) }
        pending.handOut()
        // Where each pending finding goes among the made ones, as `makePendingFindings` puts it:
        // after the first `madeBefore` of the graph's, which follow the traces' (but for those
        // merged into one of the traces').
        let traceCount = traces.findings.count
        var madeBefore = [Int](repeating: traceCount, count: graphFindings.findings.count + 1)
        for (index, finding) in graphFindings.findings.enumerated() {
            let merged = traceCount > 0 && traces.hasReported(finding.rule, key: finding.key)
            madeBefore[index + 1] = madeBefore[index] + (merged ? 0 : 1)
        }
        let after = pending.entries.indices.lazy.filter { self.pending.entries[$0].count > 0 }.map { position in
            (position: position, after: madeBefore[Int(self.pending.entries[position].madeBefore)])
        }
        return FindingList(
            FindingList.Source(made: made, pending: pending, keeping: self), pendingAfter: Array(after))
    }

    /// The findings of the traces, the current one's merged into the others'.
    private var tracesFindings: FindingSet {
        var all = traceFindings
        all.merge(currentFindings)
        return all
    }

    /// `traces` with the graph's findings merged in after them. Where the traces found
    /// nothing, the graph's set as it is (merging it into an empty set would copy its
    /// findings one by one).
    private func withGraphFindings(_ traces: FindingSet) -> FindingSet {
        guard !traces.findings.isEmpty else { return graphFindings }
        var all = traces
        all.merge(graphFindings)
        return all
    }

    /// A trace's replay begins: its findings are kept apart until it ends.
    func beginTrace() { currentFindings.removeAll() }

    /// A trace's replay ended: its findings join the others.
    func endTrace() {
        traceFindings.merge(currentFindings)
        currentFindings.removeAll()
    }

    /// Adds a finding read from a summary.
    func mergeTraceFinding(_ finding: Finding) { traceFindings.merge(finding) }

    /// The graph is checked again from its first fact.
    func clearGraphFindings() {
        graphFindings.removeAll()
        pending.removeAll()
    }

    /// Records `finding`, or counts it if one with the same rule and key was reported before.
    public func report(_ finding: Finding, scope: FindingScope = .trace) {
        let isNew: Bool
        switch scope {
        case .trace: isNew = currentFindings.report(finding)
        case .graph: isNew = !pending.countAgain(finding.rule, key: finding.key, by: 1) && graphFindings.report(finding)
        }
        guard isNew else { return }
        for observer in reportObservers { observer(finding) }
    }

    /// Records a graph finding of `rule` and `severity` that `maker` makes as its `number`,
    /// unless one of that rule and key was reported (which is not counted again: a cycle
    /// closed again through other dependencies is the same cycle); true if the maker must keep
    /// what the finding is made from. Its text is made only when the findings are asked for
    /// (`findings`): the maker reads only what the analysis never changes once made (class
    /// names, sites, moments), and its finding has this rule and severity (a rule and key is
    /// one problem, of one severity, however often it is reported). Until then the finding is
    /// pending (`PendingFindings`): `analyze --quiet` asks only whether there are findings
    /// (`hasFinding`), and 16k cycles' reports, some 35k instructions and 5 KB each, were made
    /// for it and never printed.
    @discardableResult
    func reportGraphFindingOnce(_ rule: Rule, severity: Severity, maker: any PendingFindingMaker, number: Int) -> Bool {
        // An exporter placing findings in time is told of each as it is met: made now.
        guard reportObservers.isEmpty else {
            if !hasReported(rule, key: maker.key(of: number), scope: .graph) { report(maker.finding(number), scope: .graph) }
            return false
        }
        // One pending already is not looked for (a miss in a table of megabytes for each new
        // one): the first stands, and one added again is dropped when they are made. One made
        // is, by its key, made here; with none made (the graph checked from its first fact:
        // every finding of a million cycles) there is nothing to look for, and no key to make.
        var hash: UInt64?
        if !graphFindings.findings.isEmpty {
            let key = maker.key(of: number)
            guard !graphFindings.hasReported(rule, key: key) else { return false }
            hash = FindingSet.hash(rule, key)
        }
        pending.add(rule, severity: severity, hash: hash, madeBefore: graphFindings.findings.count, maker: maker, number: number)
        return true
    }

    /// Makes the text of the graph findings reported without it (the first of each rule and
    /// key), and puts each among the graph's findings where it was reported, with its count,
    /// then lets go of the makers (and the facts they keep).
    private func makePendingFindings() {
        guard !pending.isEmpty else { return }
        pending.indexAll()
        var all = FindingSet()
        var (made, taken) = (graphFindings.findings.makeIterator(), 0)
        for position in pending.entries.indices where pending.entries[position].count > 0 {
            let entry = pending.entries[position]
            while taken < Int(entry.madeBefore), let next = made.next() {
                all.merge(next)
                taken += 1
            }
            all.merge(pending.madeFinding(at: position))
        }
        while let next = made.next() { all.merge(next) }
        graphFindings = all
        pending.removeAll()
    }

    /// Whether a pending finding shares its rule and key with one of `traces`. Keys made only
    /// for the rules the traces found (a trace's rules and the graph's are nearly always
    /// apart): each is made by its maker.
    private func pendingMeets(_ traces: FindingSet) -> Bool {
        let traceRules = Set(traces.findings.lazy.map(\.rule))
        return !traceRules.isEmpty && pending.entries.indices.contains { position in
            let rule = pending.entries[position].rule
            return traceRules.contains(rule) && traces.hasReported(rule, key: pending.key(at: position))
        }
    }

    /// Whether a finding of `rules` (all where nil) is at or above `threshold` among
    /// `findings`, merged as it merges them, without making the text of those reported
    /// without it, unless one of them shares its rule and key with a finding of the traces.
    func hasFinding(atLeast threshold: Severity, of rules: Set<Rule>? = nil) -> Bool {
        func counts(_ finding: Finding) -> Bool { finding.severity >= threshold && rules?.contains(finding.rule) != false }
        let traces = tracesFindings
        // Two findings of one rule and key merge into the one whose evidence comes first, which
        // a finding not made yet does not have.
        if pendingMeets(traces) { makePendingFindings() }
        // Those still pending share no rule and key with the others' (but with one pending,
        // dropped when they are indexed, which has its rule and severity): each is a finding
        // as it is.
        return withGraphFindings(traces).findings.contains(where: counts)
            || pending.entries.contains { $0.severity >= threshold && rules?.contains($0.rule) != false }
    }

    public func note(_ message: String, evidence: Evidence?) {
        notes.append(AnalysisNote(message: message, evidence: evidence))
    }

    /// Counts one more meeting of the finding of `rule` with `key` if it was reported: true
    /// then, so that a checker need not build the finding again to have it counted.
    public func countAgain(_ rule: Rule, key: String, scope: FindingScope = .trace, by count: Int = 1) -> Bool {
        switch scope {
        case .trace: return currentFindings.countAgain(rule, key: key, by: count)
        case .graph: return pending.countAgain(rule, key: key, by: count) || graphFindings.countAgain(rule, key: key, by: count)
        }
    }

    /// Whether a finding of `rule` with `key` has been reported.
    public func hasReported(_ rule: Rule, key: String, scope: FindingScope = .trace) -> Bool {
        switch scope {
        case .trace: return currentFindings.hasReported(rule, key: key)
        case .graph: return pending.position(of: rule, key: key) != nil || graphFindings.hasReported(rule, key: key)
        }
    }

    /// The held-lock list of a report (`Finding.heldLocks`).
    private func heldLockLines(_ locks: some Sequence<(classID: ClassID, site: EventSite)>) -> [HeldLockLine] {
        locks.map { lock in
            let name = self.name(of: lock.classID)
            return HeldLockLine(lock: name, evidence: evidence(lock.site, "holds \(name)"))
        }
    }

    /// Gives `finding` lockdep's "N locks held by" list: `locks` (by default what `cpu`'s
    /// task and the irq frames on it hold now, as lockdep_print_held_locks(current) lists
    /// them), whose holder is `task` (by default the task running on `cpu`), and whether the
    /// trace may not show them all. The list stops at `--max-depth` locks, the most entries
    /// lockdep's held-lock array holds; those taken after them are counted (a stack
    /// thousands deep, copied into each of thousands of findings, took gigabytes).
    public func attachHeldLocks(
        to finding: inout Finding, replay: ReplayEngine? = nil, cpu: Int, locks: HeldLocks? = nil, task: TaskKey? = nil
    ) {
        guard let replay = replay ?? self.replay else { return }
        let limit = replay.validatedDepth
        let (listed, more) = locks?.listed(upTo: limit) ?? replay.allHeldLocks(cpu: cpu, upTo: limit)
        finding.heldLocks = heldLockLines(listed.lazy.map { ($0.classID, $0.site) })
        finding.heldLocksNotListed = more > 0 ? more : nil
        finding.heldLocksHolder = holderName(task ?? replay.cpus[cpu].task, cpu: cpu)
        finding.heldLocksMayBeIncomplete = replay.mayMissHeldLocks
    }

    /// `attachHeldLocks` from a fact's moment: what the replay held when the fact was learned
    /// (up to `--max-depth` of it, as the moment keeps it).
    /// `holder`: a dependency's, which its moment may leave out (`MomentStore`).
    public func attachHeldLocks(to finding: inout Finding, moment id: MomentID, holder: ReplayMoment.Held?) {
        let moment = moments.moment(id, holder: holder)
        finding.heldLocks = heldLockLines(moment.held.lazy.map { ($0.classID, $0.site) })
        finding.heldLocksNotListed = moment.heldNotListed > 0 ? moment.heldNotListed : nil
        finding.heldLocksHolder = holderName(moment.task, cpu: moment.cpu)
        finding.heldLocksMayBeIncomplete = moment.mayMissHeldLocks
    }

    private func holderName(_ task: TaskKey, cpu: Int) -> String {
        switch task {
        case .named(let symbol): return "\(symbols[symbol]) on cpu \(cpu)"
        case .anonymous: return "cpu \(cpu)"
        }
    }

    /// Who lockdep says met a problem, with its irq state as print_usage_bug prints it:
    /// `bash on cpu 0 [HC1[1]:SC0[0]:HE0:SE1]` (in hardirq, its nesting; in softirq, the
    /// softirq count; hardirqs and softirqs enabled); the state left out where not known.
    /// `hardirqsEnabled`/`softirqsEnabled` give the state before the event being applied
    /// (mark_held_locks runs before the irqs are on); `withState: false` leaves it out.
    public func who(_ id: MomentID, withState: Bool = true, hardirqsEnabled: Bool? = nil, softirqsEnabled: Bool? = nil) -> String {
        who(moments.context(id), withState: withState, hardirqsEnabled: hardirqsEnabled, softirqsEnabled: softirqsEnabled)
    }

    private func who(_ moment: ReplayMoment, withState: Bool = true, hardirqsEnabled: Bool? = nil, softirqsEnabled: Bool? = nil) -> String {
        var text = holderName(moment.task, cpu: moment.cpu)
        if withState, let state = moment.irqState {
            text += Self.irqStateText(
                hardirqCount: state.hardirqCount, softirqs: state.softirqs, softirqCount: state.softirqCount,
                hardirqsEnabled: hardirqsEnabled ?? state.hardirqsEnabled, softirqsEnabled: softirqsEnabled ?? state.softirqsEnabled)
        }
        return text
    }

    /// print_usage_bug's ` [HC1[1]:SC0[0]:HE0:SE1]`.
    private static func irqStateText(hardirqCount: Int, softirqs: Int, softirqCount: Int, hardirqsEnabled: Bool, softirqsEnabled: Bool) -> String {
        " [HC\(hardirqCount > 0 ? 1 : 0)[\(hardirqCount)]:SC\(softirqs > 0 ? 1 : 0)[\(softirqCount)]"
            + ":HE\(hardirqsEnabled ? 1 : 0):SE\(softirqsEnabled ? 1 : 0)]"
    }

    /// The name of the task running on `cpu` now, where the trace named one.
    public func taskName(on cpu: Int, replay: ReplayEngine) -> String? {
        if case .named(let symbol) = replay.cpus[cpu].task { return symbols[symbol] }
        return nil
    }

    /// A class as lockdep prints it: its name, and `/N` for a nesting subclass.
    public func name(of id: ClassID) -> String {
        let key = classes[id].key
        return name(key.name, subclass: key.subclass)
    }

    public func name(of ref: LockRef) -> String { name(ref.name, subclass: ref.subclass) }

    private func name(_ name: Symbol, subclass: Int) -> String {
        subclass == 0 ? symbols[name] : "\(symbols[name])/\(subclass)"
    }

    /// Where in the kernel an event happened, for dedup keys: its function, else its source
    /// location, else its place in the trace. A bug at one code site is one finding, however
    /// often a long trace runs through it.
    public func place(_ site: EventSite) -> String {
        (site.function ?? site.at).map { symbols[$0] }
            ?? "\(files[site.position.file]):\(site.position.line)"
    }

    public func evidence(_ site: EventSite, _ role: String) -> Evidence {
        Evidence(site, role, files: files, symbols: symbols)
    }
}

/// Settings of one analysis.
public struct AnalysisOptions: Sendable {
    /// Lockdep's MAX_LOCK_DEPTH: more locks held at once is `depth-overflow`.
    public var maxDepth: Int = 48
    /// Validate each trace against schemas/trace-v1.xsd while reading it (`pgtrace lint`).
    public var validatesSchema = false
    /// The intended lock hierarchy (`--policy`).
    public var policy: LockPolicy?
    /// How kernel captures (text, trace.dat) are read.
    public var importOptions = TraceImporter.Options()
    /// Put aside a trace whose class declarations contradict the traces before it, instead
    /// of failing (see `Analysis.analyzeSeparatingConflicts`).
    public var separatesConflictingTraces = false
    /// Keep lock_stat's counts and times (`pgtrace stats`): `Analysis.statistics`.
    public var collectsStatistics = false
    /// When the graph checks run.
    public var graphChecks = GraphChecking.onceAllFactsAreIn
    /// Take the trace checks' options (--max-depth, --policy) from the first summary read,
    /// instead of refusing a summary made with others (`merge`, which replays no trace).
    public var adoptsSummaryChecks = false
    /// What the analysis reads: traces, summaries of traces, or both.
    public var inputs: InputKinds = [.traces, .summaries]
    /// The name of the command, for an input it does not read ("merge reads summaries").
    public var commandName = "analyze"
    /// How many chains the chain cache holds, a trace, before it starts again (`ChainKeySet`):
    /// fewer only in tests, which meet the bound with a few chains rather than 2^18. Past it
    /// the facts recorded can differ (a trylock's), so a bound a user could set would belong
    /// with the options a summary records (`TraceChecks`).
    var chainCacheBound = ChainKeySet.capacity

    /// When an analysis checks its graph's facts (`GraphChecks`).
    public enum GraphChecking: Sendable {
        /// Once all facts are in, when the whole graph's cycles are known and most searches
        /// can be skipped (`GraphChecks.rebuild`).
        case onceAllFactsAreIn
        /// Each fact as the replay learns it, so that a finding is reported at the event that
        /// showed it (`pgtrace timeline`); the findings are the same.
        case inPlace
        /// Never: only the facts are wanted (`summarize` and `merge`, which write them for an
        /// analysis elsewhere to check; `stats`, which prints no finding).
        case never
    }

    /// Kinds of input an analysis reads.
    public struct InputKinds: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Format v1 XML, trace.dat and kernel text captures.
        public static let traces = InputKinds(rawValue: 1)
        /// pgtrace summaries.
        public static let summaries = InputKinds(rawValue: 2)
    }

    public init(
        maxDepth: Int = 48, validatesSchema: Bool = false, policy: LockPolicy? = nil,
        importOptions: TraceImporter.Options = TraceImporter.Options()
    ) {
        self.maxDepth = maxDepth
        self.validatesSchema = validatesSchema
        self.policy = policy
        self.importOptions = importOptions
    }
}

/// A remark on a trace that is not a finding and never fails a run.
public struct AnalysisNote: Hashable, Sendable {
    public var message: String
    /// The event the note is about, if it is about one.
    public var evidence: Evidence?
}
