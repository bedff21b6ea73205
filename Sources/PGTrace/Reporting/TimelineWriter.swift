import Foundation

/// Exports a replay as a Chrome/Perfetto trace-event JSON document (the "JSON Array/Object
/// Format" that ui.perfetto.dev and chrome://tracing open): one track per cpu with its irq,
/// softirq and NMI spans (`B`/`E`) and its other events as instants (`i`), each lock hold an
/// async span (`b`/`e`, lock holds need not nest), and each finding an instant on the cpu
/// that met it, with the cited events flagged beside it. Written as the replay goes, in
/// memory bounded by what is held and the last `recentEvents` events' times (a finding's
/// citations older than those are named in its args, not drawn).
public final class TimelineWriter: ReplayObserver {
    public var observedEvents: ObservedEvents { .all }

    /// How many recent events' times are kept to place the events a finding cites.
    public static let recentEvents = 1 << 16

    private let context: CheckerContext
    private let write: (String) -> Void
    @exclusivity(unchecked) private var buffer = ""
    @exclusivity(unchecked) private var first = true
    @exclusivity(unchecked) private var cpusNamed: Set<Int> = []
    /// Open lock holds by context and the async id each began with.
    @exclusivity(unchecked) private var holds: [Int: [(ref: LockRef, id: Int)]] = [:]
    @exclusivity(unchecked) private var nextID = 1
    /// The time (us) of recent events, by (file, event index), for findings' citations.
    @exclusivity(unchecked) private var recent: [Int: Double] = [:]
    @exclusivity(unchecked) private var recentOrder: [Int] = []
    @exclusivity(unchecked) private var findingsSeen = 0
    @exclusivity(unchecked) private var untimed = false
    @exclusivity(unchecked) private var lastTime = 0.0
    @exclusivity(unchecked) private var fileIndex = 0
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Writes the document to `write`, a piece at a time; `finish()` closes it.
    public init(context: CheckerContext, write: @escaping (String) -> Void) {
        self.context = context
        self.write = write
        buffer = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"
    }

    private struct TraceEvent: Encodable {
        var name: String
        var cat: String?
        var ph: String
        var ts: Double?
        var pid: Int
        var tid: Int?
        var id: Int?
        var s: String?
        var args: [String: Arg]?
    }

    /// An argument: the format's args are strings, except thread_sort_index's integer.
    private enum Arg: Encodable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
        case text(String)
        case number(Int)
        init(stringLiteral value: String) { self = .text(value) }
        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            }
        }
    }

    private func emit(_ event: TraceEvent) {
        if !first { buffer += ",\n" }
        first = false
        buffer += String(decoding: try! encoder.encode(event), as: UTF8.self)
        if buffer.utf8.count >= 1 << 16 {
            write(buffer)
            buffer = ""
        }
    }

    /// The track of cpu `cpu`, named on first use.
    private func track(_ cpu: Int) -> Int {
        if cpusNamed.insert(cpu).inserted {
            emit(TraceEvent(name: "thread_name", ph: "M", pid: 1, tid: cpu, args: ["name": "cpu \(cpu)"]))
            emit(TraceEvent(name: "thread_sort_index", ph: "M", pid: 1, tid: cpu, args: ["sort_index": .number(cpu)]))
        }
        return cpu
    }

    public func replayWillBegin(_ replay: ReplayEngine) {
        if cpusNamed.isEmpty, first {
            emit(TraceEvent(name: "process_name", ph: "M", pid: 1, args: ["name": "cpus"]))
            emit(TraceEvent(name: "process_name", ph: "M", pid: 2, args: ["name": "locks held"]))
        }
        holds = [:]
    }

    /// Microseconds, as the format wants; a trace without timestamps gets one per event,
    /// after the last timed one.
    private func time(_ event: Event) -> Double {
        if let ns = event.time {
            lastTime = Double(ns) / 1000
        } else {
            untimed = true
            lastTime += 1
        }
        return lastTime
    }

    private func key(_ event: Event) -> Int { event.task.map { Int($0.rawValue) } ?? (-1 - event.cpu) }

    private func args(_ event: Event) -> [String: Arg]? {
        var args: [String: Arg] = [:]
        if let task = event.task { args["task"] = .text(context.symbols[task]) }
        if let function = event.function { args["fn"] = .text(context.symbols[function]) }
        if let at = event.at { args["at"] = .text(context.symbols[at]) }
        args["event"] = "\(context.files[event.position.file]):\(event.position.line) (event \(event.position.event))"
        return args
    }

    /// The element's name in trace format v1, from the case name (`ipiSend` -> `ipi-send`).
    private static func elementName(_ kind: EventKind) -> String {
        let caseName = String(String(describing: kind).prefix { $0 != "(" })
        var name = ""
        for character in caseName {
            if character.isUppercase { name += "-" + character.lowercased() } else { name.append(character) }
        }
        return name
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        let ts = time(event)
        let tid = track(event.cpu)
        fileIndex = event.position.file
        let position = event.position.file << 40 | event.position.event
        recent[position] = ts
        recentOrder.append(position)
        if recentOrder.count > Self.recentEvents * 2 {
            for old in recentOrder.prefix(Self.recentEvents) { recent[old] = nil }
            recentOrder.removeFirst(Self.recentEvents)
        }
        switch event.kind {
        case .acquire(let ref, _, _, _, _, _):
            let id = nextID
            nextID += 1
            holds[key(event), default: []].append((ref, id))
            emit(TraceEvent(name: context.name(of: ref), cat: "lock", ph: "b", ts: ts, pid: 2, tid: tid, id: id, args: args(event)))
        case .release(let ref, _, _):
            guard let index = holds[key(event)]?.lastIndex(where: { $0.ref.name == ref.name && (ref.instance == nil || $0.ref.instance == nil || $0.ref.instance == ref.instance) }) else { break }
            let hold = holds[key(event)]!.remove(at: index)
            emit(TraceEvent(name: context.name(of: hold.ref), cat: "lock", ph: "e", ts: ts, pid: 2, tid: tid, id: hold.id))
        case .hardirqEnter(let irq, _):
            emit(TraceEvent(name: irq.map { "hardirq \($0)" } ?? "hardirq", cat: "irq", ph: "B", ts: ts, pid: 1, tid: tid, args: args(event)))
        case .softirqEnter(let vector):
            emit(TraceEvent(name: vector.map { "softirq \(context.symbols[$0])" } ?? "softirq", cat: "irq", ph: "B", ts: ts, pid: 1, tid: tid, args: args(event)))
        case .nmiEnter:
            emit(TraceEvent(name: "NMI", cat: "irq", ph: "B", ts: ts, pid: 1, tid: tid, args: args(event)))
        case .hardirqExit, .softirqExit, .nmiExit:
            emit(TraceEvent(name: "", cat: "irq", ph: "E", ts: ts, pid: 1, tid: tid))
        default:
            emit(TraceEvent(name: Self.elementName(event.kind), cat: "event", ph: "i", ts: ts, pid: 1, tid: tid, s: "t", args: args(event)))
        }
        flagNewFindings(at: ts, cpu: tid)
    }

    /// A finding met at this event: an instant on its cpu, and a flag on each cited event
    /// whose time is still known.
    private func flagNewFindings(at ts: Double, cpu: Int) {
        let findings = context.findings
        guard findings.count > findingsSeen else { return }
        for finding in findings[findingsSeen...] {
            var args: [String: Arg] = [
                "message": .text(finding.message), "rule": .text(finding.rule.rawValue), "severity": .text(finding.severity.rawValue),
            ]
            args["cites"] = .text(finding.locations.map { "\($0.file):\($0.line) (event \($0.event)): \($0.role)" }.joined(separator: "; "))
            emit(TraceEvent(name: "\(finding.rule.rawValue): \(finding.title)", cat: "finding", ph: "i", ts: ts, pid: 1, tid: cpu, s: "g", args: args))
            for location in finding.locations {
                guard let file = context.files.firstIndex(of: location.file),
                    let cited = recent[file << 40 | location.event]
                else { continue }
                emit(TraceEvent(
                    name: "cited by \(finding.rule.rawValue)", cat: "finding", ph: "i", ts: cited, pid: 1, tid: track(location.cpu), s: "t",
                    args: ["role": .text(location.role), "finding": .text(finding.message)]))
            }
        }
        findingsSeen = findings.count
    }

    /// Closes the document: its metadata says whether the times are the trace's.
    public func finish() {
        buffer += "\n],\"otherData\":{\"generator\":\"pgtrace \(pgtraceVersion)\",\"timestamps\":\"\(untimed ? "the trace has events without timestamps: those are placed 1 us after the event before" : "the trace's, in us")\"}}\n"
        write(buffer)
        buffer = ""
    }
}
