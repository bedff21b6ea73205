import FoundationEssentials

/// Writes what an analysis keeps across traces as a summary (docs/summary-format.md), a line
/// at a time: the traces, the classes with their declarations, every graph fact with its
/// least evidence and the moment it was learned, the findings of the traces' own replays with
/// their counts, and the notes. The graph's own findings are not written: they are a function
/// of the facts, found again wherever the summary is read, so that merging stays exact.
///
/// Everything is written in an order of its own (traces by name, classes by name, facts by
/// evidence, findings by evidence), and symbols are numbered as they are first written: the
/// same analysis state gives the same bytes, however its traces and summaries came in.
public final class SummaryWriter {
    private let analysis: Analysis
    private let out: (String) throws -> Void
    private var symbols: [Symbol: Int] = [:]
    private var moments: [WrittenMoment: Int] = [:]
    private var counts = SummaryLine.Counts()
    private var fileNumber: [Int: Int] = [:]
    private var classNumber: [Int] = []

    /// Writes `analysis` (whose traces have all been read) to `out`.
    public static func write(_ analysis: Analysis, to out: @escaping (String) throws -> Void) throws {
        try SummaryWriter(analysis: analysis, out: out).write()
    }

    private init(analysis: Analysis, out: @escaping (String) throws -> Void) {
        self.analysis = analysis
        self.out = out
    }

    private func emit(_ line: SummaryLine) throws {
        try out(try line.encoded() + "\n")
    }

    private func symbol(_ symbol: Symbol) throws -> Int {
        if let number = symbols[symbol] { return number }
        let number = symbols.count
        symbols[symbol] = number
        var line = SummaryLine()
        line.sym = number
        line.name = analysis.symbols[symbol]
        try emit(line)
        counts.symbols += 1
        return number
    }

    private func write() throws {
        var header = SummaryLine()
        header.header = SummaryLine.version
        header.proveRawLockNesting = analysis.hasReplayed ? analysis.proveRawLockNesting : nil
        header.maxDepth = analysis.traceChecks.maxDepth
        header.policy = analysis.traceChecks.policy
        try emit(header)

        // The traces, by name.
        let traces = analysis.traceFiles.sorted { ($0.name, $0.index) < ($1.name, $1.index) }
        var fileNumber: [Int: Int] = [:]
        for (number, trace) in traces.enumerated() {
            fileNumber[trace.index] = number
            var line = SummaryLine()
            line.file = number
            line.name = trace.name
            line.events = trace.events
            try emit(line)
            counts.files += 1
        }
        self.fileNumber = fileNumber

        // The classes, by name; the declarations of names no class has.
        let table = analysis.classes
        let classIDs = (0..<table.count).map { ClassID($0) }.sorted { a, b in
            let (x, y) = (table[a], table[b])
            return (analysis.symbols[x.key.name], x.key.subclass, x.isPseudo ? 1 : 0) < (analysis.symbols[y.key.name], y.key.subclass, y.isPseudo ? 1 : 0)
        }
        var classNumber = [Int](repeating: -1, count: table.count)
        let declarations = Dictionary(analysis.classes.declarations.map { ($0.name, ($0.declared, $0.at)) }, uniquingKeysWith: { a, _ in a })
        func declaration(_ declared: LockClassTable.Declared, at position: TracePosition) -> SummaryLine.Declaration {
            SummaryLine.Declaration(
                slots: declared.slots, wait: declared.wait?.rawValue, waitOuter: declared.waitOuter?.rawValue,
                novalidate: declared.novalidate ? true : nil, at: [file(position.file), position.line, position.column])
        }
        for (number, id) in classIDs.enumerated() {
            classNumber[Int(id)] = number
            let entry = table[id]
            var line = SummaryLine()
            line.nameSym = try symbol(entry.key.name)
            line.class = number
            line.subclass = entry.key.subclass
            line.type = entry.type.rawValue
            line.pseudo = entry.isPseudo ? true : nil
            if let (declared, at) = declarations[entry.key.name] { line.declared = declaration(declared, at: at) }
            try emit(line)
            counts.classes += 1
        }
        let used = Set(classIDs.map { table[$0].key.name })
        // By name, then symbol: canonically equivalent names are equal to String's order, and
        // the table's order (hash-seeded) left them in another order each run.
        for (name, (declared, at)) in declarations.sorted(by: { (analysis.symbols[$0.key], $0.key) < (analysis.symbols[$1.key], $1.key) })
        where !used.contains(name) {
            var line = SummaryLine()
            line.nameSym = try symbol(name)
            line.declaration = true
            line.type = declared.type.rawValue
            line.declared = declaration(declared, at: at)
            try emit(line)
        }

        // The facts, least evidence first, each after the moment it needs.
        self.classNumber = classNumber
        // A fact's place among its trace's facts is renumbered from 0: the numbers the replay
        // gave skip the facts another trace showed first, which depends on what was read with
        // it; the order does not.
        var places: [Int: Int] = [:]
        for entry in analysis.facts.sortedEntries() {
            var line = SummaryLine()
            line.file = file(entry.file)
            line.seq = places[entry.file, default: 0]
            places[entry.file, default: 0] += 1
            switch entry.fact {
            case .usage(let fact):
                line.momentRef = try moment(fact.moment, file: entry.file)
                line.fact = "usage"
                line.classID = classNumber[Int(fact.classID)]
                line.bit = fact.bit.index
                line.site = try site(fact.site)
                line.lockSite = try site(fact.lockSite)
                line.mode = fact.lockMode.rawValue
            case .dependency(let fact):
                if let moment = fact.moment {
                    line.momentRef = try self.moment(moment, file: entry.file, holder: fact.holder)
                }
                let dependency = fact.dependency
                line.fact = "dependency"
                line.kind = dependency.kind.rawValue
                line.from = classNumber[Int(dependency.from)]
                line.to = classNumber[Int(dependency.to)]
                line.types = Int(dependency.types.rawValue)
                line.holderSite = try site(dependency.holderSite)
                line.site = try site(dependency.site)
                line.holderMode = fact.holderMode.rawValue
                line.nextMode = fact.nextMode.rawValue
            case .used(let id, let read, let usedAt):
                line.fact = "used"
                line.classID = classNumber[Int(id)]
                line.read = read
                line.site = try site(usedAt)
            case .nmiAcquire(let fact):
                line.momentRef = try moment(fact.moment, file: entry.file)
                line.fact = "nmi-acquire"
                line.nameSym = try symbol(fact.key.name)
                line.subclass = fact.key.subclass
                line.afterUse = fact.afterUse
                line.count = fact.count
                line.mode = fact.mode.rawValue
                line.site = try site(fact.site)
            }
            try emit(line)
            counts.facts += 1
        }

        // The findings of the traces' own replays, and the notes.
        for finding in Finding.canonical(analysis.context.traceFindings.findings) {
            var line = SummaryLine()
            line.finding = finding
            try emit(line)
            counts.findings += 1
        }
        let notes = zip(analysis.notes.map { Finding.order($0.evidence) + [$0.message] }, analysis.notes)
            .sorted { $0.0.lexicographicallyPrecedes($1.0) }.map(\.1)
        for note in notes {
            var line = SummaryLine()
            line.note = note.message
            line.evidence = note.evidence
            try emit(line)
            counts.notes += 1
        }
        var end = SummaryLine()
        end.end = counts
        try emit(end)
    }

    /// The number of `moment`, written first if it was not.
    private func file(_ index: Int) -> Int { fileNumber[index] ?? -1 }

    private func site(_ site: EventSite) throws -> [Int] {
        let position = site.position
        var numbers = [file(position.file), position.line, position.column, position.event, site.cpu]
        for symbol in [site.task, site.at, site.function] {
            numbers.append(try symbol.map { try self.symbol($0) } ?? -1)
        }
        return numbers
    }

    /// A moment as a summary writes it, once for the facts of one trace that cite it: a
    /// summary's moment is read back as one moment, so one written for two traces would read
    /// as another analysis. A moment the store keeps with held locks is one for each time the
    /// replay made it (`moment`), a dependency's read with its holder (which it may leave
    /// out) once for each holder. One that keeps none the store gives again to the facts of
    /// its context while a slot of a cache keeps it, which depends on what was recorded
    /// before (`MomentStore.keepsNoHeldLock`): the summary would depend on how the traces
    /// were grouped. Such a moment is written once for each context it says (`context`),
    /// or, where it leaves out a dependency's holder, once for each fact, as when every
    /// dependency made its own.
    private enum WrittenMoment: Hashable {
        case moment(MomentID, file: Int, holder: ReplayMoment.Held?)
        case context(MomentStore.ContextKey, file: Int)
    }

    /// The number of moment `id`, written before its first fact; `file`, the fact's trace;
    /// `holder`, a dependency's.
    private func moment(_ id: MomentID, file: Int, holder: ReplayMoment.Held? = nil) throws -> Int {
        let store = analysis.context.moments
        let key: WrittenMoment?
        if !store.keepsNoHeldLock(id) {
            key = .moment(id, file: file, holder: store.leavesOutHolder(id) ? holder : nil)
        } else if !store.leavesOutHolder(id) {
            key = .context(store.contextKey(of: id), file: file)
        } else {
            key = nil  // its fact's own
        }
        if let key, let number = moments[key] { return number }
        let number = counts.moments
        if let key { moments[key] = number }
        let moment = store.moment(id, holder: holder)
        var line = SummaryLine()
        line.moment = number
        line.cpu = moment.cpu
        switch moment.task {
        case .named(let task): line.task = try symbol(task)
        case .anonymous: line.task = nil
        }
        if let state = moment.irqState {
            line.irq = [state.hardirqCount, state.softirqs, state.softirqCount, state.hardirqsEnabled ? 1 : 0, state.softirqsEnabled ? 1 : 0]
        }
        line.held = try moment.held.map { [classNumber[Int($0.classID)]] + (try site($0.site)) }
        line.heldNotListed = moment.heldNotListed > 0 ? moment.heldNotListed : nil
        line.mayMissHeldLocks = moment.mayMissHeldLocks ? true : nil
        try emit(line)
        counts.moments += 1
        return number
    }
}
