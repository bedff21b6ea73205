/// One event cited as evidence, resolved to text so that reporters need no tables.
public struct Evidence: Hashable, Sendable, Codable {
    public var file: String
    public var line: Int
    public var column: Int
    public var event: Int
    /// The event's cpu; nil for an event of no cpu (a console's "Lost N message(s)!").
    public var cpu: Int?
    public var task: String?
    public var at: String?
    public var function: String?
    /// What this event shows, in a few words ("acquires pgd_lock", "holds mm->page_table_lock").
    public var role: String

    public init(
        file: String, line: Int, column: Int, event: Int, cpu: Int?, task: String? = nil,
        at: String? = nil, function: String? = nil, role: String
    ) {
        self.file = file
        self.line = line
        self.column = column
        self.event = event
        self.cpu = cpu
        self.task = task
        self.at = at
        self.function = function
        self.role = role
    }

    /// `site` resolved to text: its trace's name in `files` (by the analysis's file index),
    /// its task, place and function names in `symbols`.
    init(_ site: EventSite, _ role: String, files: [String], symbols: SymbolTable) {
        self.init(
            file: files[site.position.file], line: site.position.line,
            column: site.position.column, event: site.position.event, cpu: site.cpu,
            task: site.task.map { symbols[$0] }, at: site.at.map { symbols[$0] },
            function: site.function.map { symbols[$0] }, role: role)
    }

    /// `file:line (event N)`.
    public var place: String { "\(file):\(line) (event \(event))" }

    /// `cpu C task T`, of what is known ("" for neither).
    public var runner: String {
        [cpu.map { "cpu \($0)" }, task.map { "task \($0)" }].compactMap { $0 }.joined(separator: " ")
    }

    /// The kernel source behind the event, as `fn at` or whichever is known.
    public var source: String? {
        switch (function, at) {
        case let (fn?, at?): return "\(fn) (\(at))"
        case let (fn?, nil): return fn
        case let (nil, at?): return at
        case (nil, nil): return nil
        }
    }
}

/// One edge of a reported dependency chain: `holder` was held when `acquired` was taken.
public struct ChainLink: Hashable, Sendable, Codable {
    public var holder: String
    public var acquired: String
    /// Where the holder was taken.
    public var holderEvidence: Evidence
    /// Where the acquisition that created the dependency happened.
    public var evidence: Evidence
}

/// A lock held when a problem was met, as lockdep's lockdep_print_held_locks lists it.
public struct HeldLockLine: Hashable, Sendable, Codable {
    public var lock: String
    /// Where it was taken.
    public var evidence: Evidence

    public init(lock: String, evidence: Evidence) {
        self.lock = lock
        self.evidence = evidence
    }
}

/// A line of a report's body as lockdep prints it: text, a lock as print_lock prints it
/// (` (name){usage}, at: place`, the usage string as the analysis left the class), a new
/// dependency (` (a){usage} -> (b){usage}`), or where something happened (lockdep's stack).
public enum ReportLine: Hashable, Sendable, Codable {
    case text(String)
    case lock(String, at: Evidence?)
    case dependency(from: String, to: String)
    case site(Evidence)

    /// The lock classes the line names.
    public var locks: [String] {
        switch self {
        case .text, .site: return []
        case .lock(let name, _): return [name]
        case .dependency(let from, let to): return [from, to]
        }
    }
}

/// A "Possible unsafe locking scenario": columns of steps, one column per cpu.
public struct Scenario: Hashable, Sendable {
    public var columns: [String]
    /// Each step: which column, and what it does.
    public var steps: [(column: Int, action: String)]

    public init(columns: [String], steps: [(column: Int, action: String)]) {
        self.columns = columns
        self.steps = steps
    }

    public static func == (lhs: Scenario, rhs: Scenario) -> Bool {
        lhs.columns == rhs.columns && lhs.steps.map(\.column) == rhs.steps.map(\.column)
            && lhs.steps.map(\.action) == rhs.steps.map(\.action)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(columns)
        for step in steps {
            hasher.combine(step.column)
            hasher.combine(step.action)
        }
    }
}

/// A problem the analysis found, with the events that prove it.
public struct Finding: Hashable, Sendable, Codable {
    public var rule: Rule
    public var severity: Severity
    /// One line a kernel developer understands.
    public var message: String
    /// The lock classes (or objects) involved, in the order the message tells them.
    public var locks: [String]
    /// The page-table objects involved (pgds, pages, tables), for the checkers that watch them.
    public var objects: [String]
    /// The evidence, most important first.
    public var locations: [Evidence]
    /// The dependency chain behind a cycle or an inversion.
    public var chain: [ChainLink]
    public var scenario: Scenario?
    /// Further lines of explanation (what the fix would be, what lockdep would say).
    public var notes: [String]
    /// Identifies the finding independent of line numbers: one finding per distinct problem.
    public var key: String
    /// The headline, where it says more than the rule's (lockdep has several for one rule).
    public var title: String
    /// 1 for the first finding with its fingerprint, 2 for the next, …: two problems that read
    /// the same (same rule, locks and sites) stay two in a baseline.
    public var occurrence = 1
    /// How many times the analysis met this problem (the same rule and key): the first time
    /// is the one shown, the others only counted.
    public var count = 1
    /// The locks the task (with the irq frames on it) held when the problem was met, oldest
    /// first: lockdep's "N locks held by task/pid" list ("no locks held by" when empty). Nil
    /// where the report has no such list.
    public var heldLocks: [HeldLockLine]?
    /// How many locks were held past the last `heldLocks` lists: a list stops at
    /// `--max-depth` locks, the most entries lockdep's held-lock array (MAX_LOCK_DEPTH)
    /// holds. Nil where the list is whole.
    public var heldLocksNotListed: Int?
    /// Whose list it is (`A on cpu 0`, or `cpu 0` in an irq of no known task).
    public var heldLocksHolder: String?
    /// The trace may not show every lock held (a partial trace, lost events): the list is
    /// what it shows, and says so.
    public var heldLocksMayBeIncomplete = false
    /// The report's body in lockdep's words (print_usage_bug's "takes:" and "state was
    /// registered at:", print_bad_irq_dependency's "which would create a new lock
    /// dependency:"), where lockdep's shape has more than a list of events; the text report
    /// prints it in place of the evidence list (JSON keeps `locations`).
    public var body: [ReportLine] = []
    /// The state of the context when the problem was met, in the kernel's own lines
    /// (`in_atomic(): 1, irqs_disabled(): 0, name: reader`), where the kernel prints them.
    public var details: [String] = []
    /// Lockdep's usage string (`{+.-.}`, then `-{outer:inner}` where the wait types are
    /// declared) of each class the report names on a lock line, as the analysis left the class
    /// (so the same traces print the same string, whatever their order). Filled by
    /// `AnalysisReport`; the text report prints it as lockdep's print_lock does,
    /// `(&mm->mmap_lock){++++}-{3:3}`.
    public var usage: [String: String] = [:]

    public init(
        rule: Rule, severity: Severity, message: String, locks: [String], objects: [String] = [],
        locations: [Evidence], chain: [ChainLink] = [], scenario: Scenario? = nil,
        notes: [String] = [], key: String, title: String? = nil
    ) {
        self.rule = rule
        self.severity = severity
        self.message = message
        self.locks = locks
        self.objects = objects
        self.locations = locations
        self.chain = chain
        self.scenario = scenario
        self.notes = notes
        self.key = key
        self.title = title ?? rule.title
    }
}
