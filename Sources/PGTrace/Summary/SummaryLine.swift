import FoundationEssentials

/// One line of a summary file (docs/summary-format.md): a JSON object whose one
/// distinguishing key says what it is — the header (`pgtrace-summary`), a trace `file`, a
/// `sym`bol, a `class`, a `moment`, a graph `fact`, a `finding`, a `note`, the `end`.
/// Names are written once, as symbols, and referred to by number; events by `Site`.
struct SummaryLine: Codable {
    /// The format's version, on the first line.
    static let version = 1
    /// What the first line starts with: how an input is known to be a summary.
    static let magic = "{\"pgtrace-summary\":"

    // The header.
    var header: Int?
    var proveRawLockNesting: Bool?
    /// The options the traces' own checks ran with: --max-depth, and --policy's digest.
    var maxDepth: Int?
    var policy: String?
    // A trace: its number in this summary, name and event count.
    var file: Int?
    var name: String?
    var events: Int?
    // A symbol: its number, `name` its text.
    var sym: Int?
    // A class: its number, `nameSym`, subclass, type, whether a pseudo-lock, its declaration.
    var `class`: Int?
    var nameSym: Int?
    var subclass: Int?
    var type: String?
    var pseudo: Bool?
    var declared: Declaration?
    // A `<class>` declaration of a name no class of the summary has (`nameSym`, `type`, `declared`).
    var declaration: Bool?
    // A moment (ReplayMoment): its number, cpu, task (a symbol) or anonymous, irq state
    // [hardirq count, softirqs, softirq count, hardirqs on, softirqs on], held [class, site...]
    // (up to --max-depth), heldNotListed (how many more were held).
    var moment: Int?
    var cpu: Int?
    var task: Int?
    var irq: [Int]?
    var held: [[Int]]?
    var heldNotListed: Int?
    var mayMissHeldLocks: Bool?
    // A fact: its kind, the trace and its place among that trace's facts (`file`, `seq`).
    var fact: String?
    var seq: Int?
    var classID: Int?
    var bit: Int?
    var from: Int?
    var to: Int?
    var kind: String?
    var types: Int?
    var mode: String?
    var holderMode: String?
    var nextMode: String?
    var read: Bool?
    var site: [Int]?
    var lockSite: [Int]?
    var holderSite: [Int]?
    var momentRef: Int?
    // An NMI acquisition's: whether its trace used the class before; how many there were.
    var afterUse: Bool?
    var count: Int?
    // A finding of a trace's own replay, with its count.
    var finding: Finding?
    // A note.
    var note: String?
    var evidence: Evidence?
    // The last line: how many of each the summary holds.
    var end: Counts?

    struct Declaration: Codable {
        var slots: Int?
        var wait: String?
        var waitOuter: String?
        var novalidate: Bool?
        /// [file, line, column]
        var at: [Int]
    }

    struct Counts: Codable, Equatable {
        var files = 0
        var classes = 0
        var facts = 0
        var findings = 0
        var notes = 0
        var moments = 0
        var symbols = 0
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case header = "pgtrace-summary"
        case proveRawLockNesting, maxDepth, policy, file, name, events, sym, `class`, nameSym, subclass, type, pseudo, declared, declaration
        case moment, cpu, task, irq, held, heldNotListed, mayMissHeldLocks
        case fact, seq, classID = "classId", bit, from, to, kind, types, mode, holderMode, nextMode, read, site, lockSite
        case holderSite, momentRef, afterUse, count, finding, note, evidence, end
    }

    /// Every key a line may have.
    static let keys = Set(CodingKeys.allCases.map(\.rawValue))

    /// An event's site as numbers: [file, line, column, event, cpu, task, at, fn], the last
    /// three symbols or -1.
    static func encode(_ site: EventSite, file: Int, symbol: (Symbol) -> Int) -> [Int] {
        let position = site.position
        return [
            file, position.line, position.column, position.event, site.cpu,
            site.task.map(symbol) ?? -1, site.at.map(symbol) ?? -1, site.function.map(symbol) ?? -1,
        ]
    }
}
