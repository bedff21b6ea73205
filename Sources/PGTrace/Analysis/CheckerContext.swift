/// What every checker of one analysis shares: the names behind symbols and classes, the
/// trace files, and the list of findings (one per distinct problem, in the order found).
public final class CheckerContext {
    public let symbols: SymbolTable
    public let classes: LockClassTable
    public let options: AnalysisOptions
    public private(set) var files: [String] = []
    public private(set) var findings: [Finding] = []
    /// Things worth knowing that are not findings (locks held at the end of a trace).
    public private(set) var notes: [AnalysisNote] = []
    /// Each reported finding's index, by rule and key.
    private var reported: [String: Int] = [:]
    /// The replay running now, for the held-lock lists of reports made where no replay is at
    /// hand (the lock graph's observers).
    weak var replay: ReplayEngine?

    public init(symbols: SymbolTable, classes: LockClassTable, options: AnalysisOptions) {
        self.symbols = symbols
        self.classes = classes
        self.options = options
    }

    func addFile(_ name: String) -> Int {
        files.append(name)
        return files.count - 1
    }

    /// Records `finding`, or counts it if one with the same rule and key was reported before.
    public func report(_ finding: Finding) {
        if countAgain(finding.rule, key: finding.key) { return }
        reported[finding.rule.rawValue + "|" + finding.key] = findings.count
        var finding = finding
        let print = finding.baseFingerprint
        occurrences[print, default: 0] += 1
        finding.occurrence = occurrences[print]!
        findings.append(finding)
    }

    private var occurrences: [String: Int] = [:]

    public func note(_ message: String, evidence: Evidence?) {
        notes.append(AnalysisNote(message: message, evidence: evidence))
    }

    /// Counts one more meeting of the finding of `rule` with `key` if it was reported: true
    /// then, so that a checker need not build the finding again to have it counted.
    public func countAgain(_ rule: Rule, key: String) -> Bool {
        guard let index = reported[rule.rawValue + "|" + key] else { return false }
        findings[index].count += 1
        return true
    }

    /// Whether a finding of `rule` with `key` has been reported.
    public func hasReported(_ rule: Rule, key: String) -> Bool {
        reported[rule.rawValue + "|" + key] != nil
    }

    /// The held-lock list of a report (`Finding.heldLocks`).
    public func heldLockLines(_ locks: [HeldLock]) -> [HeldLockLine] {
        locks.map { lock in
            let name = self.name(of: lock.classID)
            return HeldLockLine(lock: name, evidence: evidence(lock.site, "holds \(name)"))
        }
    }

    /// Gives `finding` lockdep's "N locks held by" list: `locks` (by default what `cpu`'s
    /// task and the irq frames on it hold now, as lockdep_print_held_locks(current) lists
    /// them), whose holder is `task` (by default the task running on `cpu`), and whether the
    /// trace may not show them all.
    public func attachHeldLocks(
        to finding: inout Finding, replay: ReplayEngine? = nil, cpu: Int, locks: [HeldLock]? = nil, task: TaskKey? = nil
    ) {
        guard let replay = replay ?? self.replay else { return }
        finding.heldLocks = heldLockLines(locks ?? replay.allHeldLocks(cpu: cpu))
        switch task ?? replay.cpus[cpu].task {
        case .named(let symbol): finding.heldLocksHolder = "\(symbols[symbol]) on cpu \(cpu)"
        case .anonymous: finding.heldLocksHolder = "cpu \(cpu)"
        }
        finding.heldLocksMayBeIncomplete = replay.mayMissHeldLocks
    }

    /// Who lockdep says met a problem, with its irq state as print_usage_bug prints it:
    /// `bash on cpu 0 [HC1[1]:SC0[0]:HE0:SE1]` (in hardirq, its nesting; in softirq, the
    /// softirq count; hardirqs and softirqs enabled); the state left out where not known.
    /// `hardirqsEnabled`/`softirqsEnabled` give the state before the event being applied
    /// (mark_held_locks runs before the irqs are on); `withState: false` leaves it out.
    public func who(
        on cpu: Int, replay: ReplayEngine? = nil, withState: Bool = true, hardirqsEnabled: Bool? = nil, softirqsEnabled: Bool? = nil
    ) -> String {
        guard let replay = replay ?? self.replay else { return "cpu \(cpu)" }
        let state = replay.cpus[cpu]
        var text = taskName(on: cpu, replay: replay).map { "\($0) on cpu \(cpu)" } ?? "cpu \(cpu)"
        if withState, state.hardirqsKnown, state.bhKnown {
            let softirqs = state.softirqNesting
            let softirqCount = softirqs + 2 * state.bhDisables
            // nmi_enter() adds HARDIRQ_OFFSET and enters lockdep's hardirq context too.
            let hardirqCount = state.hardirqNesting + state.nmiSaved.count
            text += " [HC\(hardirqCount > 0 ? 1 : 0)[\(hardirqCount)]:SC\(softirqs > 0 ? 1 : 0)[\(softirqCount)]"
            text += ":HE\((hardirqsEnabled ?? state.hardirqsEnabled) ? 1 : 0):SE\((softirqsEnabled ?? state.softirqsEnabled) ? 1 : 0)]"
        }
        return text
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
        Evidence(
            file: files[site.position.file], line: site.position.line,
            column: site.position.column, event: site.position.event, cpu: site.cpu,
            task: site.task.map { symbols[$0] }, at: site.at.map { symbols[$0] },
            function: site.function.map { symbols[$0] }, role: role)
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
