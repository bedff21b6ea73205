/// Exports a replay as a Chrome/Perfetto trace-event JSON document (the JSON Object Format
/// that ui.perfetto.dev and chrome://tracing open). Each trace is two processes: "cpus", one
/// thread track per cpu with its irq, softirq and NMI spans (`B`/`E`) and its other events as
/// instants (`i`); and "locks held", each hold an async span (`b`/`e`: holds need not nest).
/// Each finding is an instant on the cpu that met it (at the trace's last time, for what the
/// end of a trace shows), with the events it cites flagged in place. Written as the replay
/// goes, in memory bounded by what is open and the last `recentEvents` events' times (older
/// citations are named in the finding's args, not drawn).
public final class TimelineWriter: ReplayObserver {
    public var observedEvents: ObservedEvents { .all }

    /// How many recent events' times are kept to place the events a finding cites.
    public static let recentEvents = 1 << 16

    private let context: CheckerContext
    private let write: (String) -> Void
    @exclusivity(unchecked) private var buffer = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"
    @exclusivity(unchecked) private var first = true
    /// The trace being replayed (its processes are 2i+1 and 2i+2) and its cpus named so far.
    @exclusivity(unchecked) private var file = -1
    @exclusivity(unchecked) private var cpusNamed: Set<Int> = []
    /// Open irq spans per cpu's track (NMI or not), so that lost events and the end close them.
    @exclusivity(unchecked) private var spans: [Int: [Bool]] = [:]
    /// Open lock holds by context, with the async id each began with and its cpu's track.
    @exclusivity(unchecked) private var holds: [Int: [(ref: LockRef, id: Int, cpu: Int)]] = [:]
    @exclusivity(unchecked) private var nextID = 1
    /// The time of recent events, by (file, event index), for findings' citations.
    @exclusivity(unchecked) private var recent: [Int: Int64] = [:]
    @exclusivity(unchecked) private var recentOrder: [Int] = []
    @exclusivity(unchecked) private var recentStart = 0
    /// Findings reported since the last event was written.
    @exclusivity(unchecked) private var newFindings: [Finding] = []
    /// Time in ns: the trace's where it has it; 1 us per event in a trace without; an untimed
    /// event of a timed trace at the time of the event before.
    @exclusivity(unchecked) private var now: Int64 = 0
    @exclusivity(unchecked) private var timed = false
    @exclusivity(unchecked) private var untimed = false
    @exclusivity(unchecked) private var lastCPU = 0

    /// Writes the document to `write`, a piece at a time; `finish()` closes it. The analysis
    /// must check its graph in place (`AnalysisOptions.graphChecks`, as `pgtrace
    /// timeline` sets it): otherwise the graph's findings come after the last event, and are
    /// flagged there.
    public init(context: CheckerContext, write: @escaping (String) -> Void) {
        assert(context.options.graphChecks == .inPlace, "a timeline of an analysis that checks its graph at the end")
        self.context = context
        self.write = write
        context.addReportObserver { [unowned self] finding in newFindings.append(finding) }
    }

    // MARK: JSON, by hand (an encoder per event costs more than the replay: JSONText)

    /// Microseconds with up to three decimals, exactly.
    private static func micros(_ ns: Int64) -> String {
        let fraction = ns % 1000
        guard fraction != 0 else { return String(ns / 1000) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(ns / 1000).\(digits)"
    }

    private enum Arg {
        case text(String)
        case number(Int)
    }

    private func emit(
        _ name: String, _ ph: String, pid: Int, tid: Int? = nil, ts: Int64? = nil, cat: String? = nil, id: Int? = nil,
        scope: String? = nil, args: [(String, Arg)] = []
    ) {
        var out = first ? "" : ",\n"
        first = false
        out += "{\"name\":" + JSONText.quoted(name) + ",\"ph\":\"" + ph + "\",\"pid\":" + String(pid)
        if let tid { out += ",\"tid\":" + String(tid) }
        if let ts { out += ",\"ts\":" + Self.micros(ts) }
        if let cat { out += ",\"cat\":\"" + cat + "\"" }
        // Scoped to its process (Perfetto puts a bare `id`'s spans on global tracks, one per
        // name, whatever process or thread they were on).
        if let id { out += ",\"id2\":{\"local\":\"0x" + String(id, radix: 16) + "\"}" }
        if let scope { out += ",\"s\":\"" + scope + "\"" }
        if !args.isEmpty {
            out += ",\"args\":{"
            for (index, (key, value)) in args.enumerated() {
                out += (index == 0 ? "" : ",") + JSONText.quoted(key) + ":"
                switch value {
                case .text(let text): out += JSONText.quoted(text)
                case .number(let number): out += String(number)
                }
            }
            out += "}"
        }
        buffer += out + "}"
        if buffer.utf8.count >= 1 << 16 {
            write(buffer)
            buffer = ""
        }
    }

    private var cpusPID: Int { 2 * file + 1 }
    private var locksPID: Int { 2 * file + 2 }

    /// The track of cpu `cpu`, named on first use: thread id cpu + 1, because Perfetto takes a
    /// thread id 0 for its process's main thread and moves its events to another track.
    private func track(_ cpu: Int) -> Int {
        if cpusNamed.insert(cpu).inserted {
            emit("thread_name", "M", pid: cpusPID, tid: cpu + 1, args: [("name", .text("cpu \(cpu)"))])
            emit("thread_sort_index", "M", pid: cpusPID, tid: cpu + 1, args: [("sort_index", .number(cpu))])
        }
        return cpu + 1
    }

    // MARK: The replay

    public func replayWillBegin(_ replay: ReplayEngine) {
        // Each trace apart: its own processes, so that traces' times never overlay.
        file += 1
        cpusNamed = []
        spans = [:]
        holds = [:]
        let name = file < context.files.count ? context.files[file] : "trace \(file)"
        emit("process_name", "M", pid: cpusPID, args: [("name", .text("\(name): cpus"))])
        emit("process_sort_index", "M", pid: cpusPID, args: [("sort_index", .number(cpusPID))])
        emit("process_name", "M", pid: locksPID, args: [("name", .text("\(name): locks held"))])
        emit("process_sort_index", "M", pid: locksPID, args: [("sort_index", .number(locksPID))])
    }

    private func time(_ event: Event) -> Int64 {
        if let ns = event.time {
            timed = true
            now = ns
        } else {
            untimed = true
            if !timed { now += 1000 }
        }
        return now
    }

    private func key(_ event: Event) -> Int { event.task.map { Int($0.rawValue) } ?? (-1 - event.cpu) }

    private func args(_ event: Event) -> [(String, Arg)] {
        var args: [(String, Arg)] = []
        if let task = event.task { args.append(("task", .text(context.symbols[task]))) }
        if let function = event.function { args.append(("fn", .text(context.symbols[function]))) }
        if let at = event.at { args.append(("at", .text(context.symbols[at]))) }
        args.append(("event", .text("\(context.files[event.position.file]):\(event.position.line) (event \(event.position.event))")))
        return args
    }

    private func remember(_ position: TracePosition, at ts: Int64) {
        let key = position.file << 40 | position.event
        recent[key] = ts
        recentOrder.append(key)
        if recentOrder.count - recentStart > Self.recentEvents {
            recent[recentOrder[recentStart]] = nil
            recentStart += 1
            if recentStart >= Self.recentEvents {
                recentOrder.removeFirst(recentStart)
                recentStart = 0
            }
        }
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        let ts = time(event)
        let tid = track(event.cpu)
        lastCPU = event.cpu
        remember(event.position, at: ts)
        switch event.kind {
        case .acquire(let ref, _, _, _, _, _):
            let id = nextID
            nextID += 1
            holds[key(event), default: []].append((ref, id, tid))
            emit(context.name(of: ref), "b", pid: locksPID, tid: tid, ts: ts, cat: "lock", id: id, args: args(event))
        case .release(let ref, _, _):
            guard let index = holds[key(event)]?.lastIndex(where: { $0.ref.isReleased(by: ref) }) else { break }
            let hold = holds[key(event)]!.remove(at: index)
            emit(context.name(of: hold.ref), "e", pid: locksPID, tid: tid, ts: ts, cat: "lock", id: hold.id)
        case .hardirqEnter(let irq, _):
            open(irq.map { "hardirq \($0)" } ?? "hardirq", nmi: false, cpu: tid, ts: ts, args: args(event))
        case .softirqEnter(let vector):
            open(vector.map { "softirq \(context.symbols[$0])" } ?? "softirq", nmi: false, cpu: tid, ts: ts, args: args(event))
        case .nmiEnter:
            open("NMI", nmi: true, cpu: tid, ts: ts, args: args(event))
        case .hardirqExit, .softirqExit, .nmiExit:
            close(cpu: tid, ts: ts)
        case .eventsLost(let cpu, _):
            emit(ElementName.eventsLost.rawValue, "i", pid: cpusPID, tid: tid, ts: ts, cat: "event", scope: cpu == nil ? "p" : "t", args: args(event))
            // The replay ends every NMI there (nothing of it was recorded): so do its spans.
            for lost in spans.keys.sorted() where cpu.map({ track($0) == lost }) ?? true {
                while spans[lost]?.last == true { close(cpu: lost, ts: ts) }
            }
        default:
            emit(ElementName(of: event.kind).rawValue, "i", pid: cpusPID, tid: tid, ts: ts, cat: "event", scope: "t", args: args(event))
        }
        flagNewFindings(at: ts, cpu: event.cpu)
    }

    private func open(_ name: String, nmi: Bool, cpu: Int, ts: Int64, args: [(String, Arg)]) {
        spans[cpu, default: []].append(nmi)
        emit(name, "B", pid: cpusPID, tid: cpu, ts: ts, cat: "irq", args: args)
    }

    private func close(cpu: Int, ts: Int64) {
        // An exit with no entry seen (a partial trace) closes nothing.
        guard spans[cpu]?.isEmpty == false else { return }
        spans[cpu]!.removeLast()
        emit("", "E", pid: cpusPID, tid: cpu, ts: ts, cat: "irq")
    }

    public func replayDidEnd(_ replay: ReplayEngine) {
        // What the end of the trace shows (a window still open, locks still held), then every
        // span still open ends with the trace.
        flagNewFindings(at: now, cpu: lastCPU)
        for cpu in spans.keys.sorted() {
            while spans[cpu]?.isEmpty == false { close(cpu: cpu, ts: now) }
        }
        for holder in holds.keys.sorted() {
            for hold in holds[holder]! {
                emit(context.name(of: hold.ref), "e", pid: locksPID, tid: hold.cpu, ts: now, cat: "lock", id: hold.id)
            }
        }
        holds = [:]
    }


    /// A finding met at this event: an instant on its cpu, and a flag on each cited event
    /// whose time is still known.
    private func flagNewFindings(at ts: Int64, cpu: Int) {
        guard !newFindings.isEmpty else { return }
        let findings = newFindings
        newFindings.removeAll()
        for finding in findings {
            let cites = finding.locations.map { "\($0.file):\($0.line) (event \($0.event)): \($0.role)" }.joined(separator: "; ")
            emit(
                "\(finding.rule.rawValue): \(finding.title)", "i", pid: cpusPID, tid: track(cpu), ts: ts, cat: "finding", scope: "g",
                args: [
                    ("rule", .text(finding.rule.rawValue)), ("severity", .text(finding.severity.rawValue)),
                    ("message", .text(finding.message)), ("cites", .text(cites)),
                ])
            for location in finding.locations {
                guard let file = context.files.firstIndex(of: location.file), let cited = recent[file << 40 | location.event] else { continue }
                emit(
                    "cited by \(finding.rule.rawValue)", "i", pid: 2 * file + 1, tid: (location.cpu ?? 0) + 1, ts: cited, cat: "finding",
                    scope: location.cpu == nil ? "p" : "t",
                    args: [("role", .text(location.role)), ("finding", .text(finding.message))])
            }
        }
    }

    /// Closes the document: its metadata says whether the times are the trace's.
    public func finish() {
        let timestamps = !untimed ? "the trace's, in us"
            : timed ? "the trace's, in us; an event without a timestamp is placed at the one before"
            : "the trace has no timestamps: one event per us"
        buffer += "\n],\"otherData\":{\"generator\":\"pgtrace \(pgtraceVersion)\",\"timestamps\":\"\(timestamps)\"}}\n"
        write(buffer)
        buffer = ""
    }
}
