import FoundationEssentials

/// Renders a report as the JSON of the command-line contract (`findings` with rule,
/// severity, message, locks and locations), plus notes, a summary and the lock-order graph.
public struct JSONReporter {
    public init() {}

    public func render(_ report: AnalysisReport) -> String { Self.whole { write(report, to: $0) } }

    /// What a writer writes, as one string.
    private static func whole(_ write: ((String) -> Void) -> Void) -> String {
        var text = ""
        write { text += $0 }
        return text
    }

    /// Writes the report piece by piece (a finding, a class, a dependency at a time), the
    /// same bytes as `render`.
    public func write(_ report: AnalysisReport, to out: (String) throws -> Void) rethrows {
        // Keys in sorted order, as the encoder writes them.
        try out("{\n  \"findings\" : ")
        try PrettyJSONText.writeArray(report.findings.lazy.map(FindingJSON.init), depth: 1, to: out)
        try out(",\n  \"graph\" : {\n    \"classes\" : ")
        try PrettyJSONText.writeArray(
            report.nodes.lazy.map { ClassJSON(name: $0.name, type: $0.type, usage: $0.usage) }, depth: 2, to: out)
        try out(",\n    \"dependencies\" : ")
        try PrettyJSONText.writeArray(
            report.edges.lazy.map {
                DependencyJSON(
                    from: $0.from, to: $0.to, kind: $0.kind, types: $0.types, holder: LocationJSON($0.holder),
                    location: LocationJSON($0.evidence))
            }, depth: 2, to: out)
        try out("\n  },\n  \"notes\" : ")
        try out(PrettyJSONText.text(of: report.notes.map { NoteJSON(message: $0.message, location: $0.evidence.map(LocationJSON.init)) }, depth: 1))
        let summary = Summary(
            traces: report.files, events: report.eventCount,
            errors: report.findings.count(of: .error), warnings: report.findings.count(of: .warning))
        try out(",\n  \"summary\" : " + PrettyJSONText.text(of: summary, depth: 1) + "\n}\n")
    }

    /// The lock graph alone, for `pgtrace graph --format json`: the same `classes` and
    /// `dependencies` as `analyze --format json`'s `graph`, with what findings flag.
    public func render(_ view: LockGraphView) -> String { Self.whole { write(view, to: $0) } }

    /// Writes the lock graph a class and a dependency at a time, the same bytes as
    /// `render(_:)`: the encoder's tree of a million dependencies took gigabytes.
    public func write(_ view: LockGraphView, to out: (String) throws -> Void) rethrows {
        // Keys in sorted order, as the encoder writes them.
        try out("{\n  \"classes\" : ")
        try PrettyJSONText.writeArray(
            view.nodes.lazy.map { ClassJSON(name: $0.name, type: $0.type, usage: $0.usage, flagged: $0.isFlagged) },
            depth: 1, to: out)
        try out(",\n  \"dependencies\" : ")
        try PrettyJSONText.writeArray(
            view.edges.lazy.map {
                DependencyJSON(
                    from: $0.from, to: $0.to, kind: $0.kind, types: $0.types, holder: LocationJSON($0.holder),
                    location: LocationJSON($0.evidence), flaggedBy: $0.flaggedBy)
            }, depth: 1, to: out)
        try out("\n}\n")
    }

    private struct Summary: JSONWritable {
        var traces: [String]
        var events: Int
        var errors: Int
        var warnings: Int

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("errors", errors)
            json.field("events", events)
            json.field("traces", traces)
            json.field("warnings", warnings)
            json.endObject()
        }
    }

    private struct FindingJSON: JSONWritable {
        var rule: String
        var severity: String
        var title: String
        var message: String
        var locks: [String]
        var objects: [String]?
        var locations: [LocationJSON]
        var chain: [LinkJSON]?
        var scenario: ScenarioJSON?
        var notes: [String]?
        /// The locks held when the problem was met (lockdep's "N locks held by" list).
        var heldLocks: [HeldJSON]?
        /// Whose list `heldLocks` is.
        var heldBy: String?
        /// True where the trace may not show every lock held (a partial trace, lost events).
        var heldLocksIncomplete: Bool?
        /// How many locks were taken after the list's last (it stops at `--max-depth`).
        var heldLocksNotListed: Int?
        /// The kernel's lines on the context's state (`in_atomic(): 1, …`).
        var details: [String]?
        var key: String
        /// How many times the problem was met, when more than once.
        var count: Int?
        /// What baselines and SARIF's partialFingerprints match findings by.
        var fingerprint: String

        init(_ finding: Finding) {
            rule = finding.rule.rawValue
            severity = finding.severity.rawValue
            title = finding.title
            message = finding.message
            locks = finding.locks
            objects = finding.objects.isEmpty ? nil : finding.objects
            locations = finding.locations.map(LocationJSON.init)
            chain = finding.chain.isEmpty
                ? nil
                : finding.chain.map {
                    LinkJSON(
                        from: $0.holder, to: $0.acquired, holder: LocationJSON($0.holderEvidence),
                        location: LocationJSON($0.evidence))
                }
            scenario = finding.scenario.map { scenario in
                ScenarioJSON(
                    columns: scenario.columns,
                    steps: scenario.steps.map { StepJSON(column: scenario.columns[$0.column], action: $0.action) })
            }
            notes = finding.notes.isEmpty ? nil : finding.notes
            heldLocks = finding.heldLocks?.map { HeldJSON(lock: $0.lock, location: LocationJSON($0.evidence)) }
            heldBy = finding.heldLocks == nil ? nil : finding.heldLocksHolder
            heldLocksIncomplete = finding.heldLocks != nil && finding.heldLocksMayBeIncomplete ? true : nil
            heldLocksNotListed = finding.heldLocks == nil ? nil : finding.heldLocksNotListed
            details = finding.details.isEmpty ? nil : finding.details
            key = finding.key
            count = finding.count > 1 ? finding.count : nil
            fingerprint = finding.fingerprint
        }

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("chain", chain)
            json.field("count", count)
            json.field("details", details)
            json.field("fingerprint", fingerprint)
            json.field("heldBy", heldBy)
            json.field("heldLocks", heldLocks)
            json.field("heldLocksIncomplete", heldLocksIncomplete)
            json.field("heldLocksNotListed", heldLocksNotListed)
            json.field("key", key)
            json.field("locations", locations)
            json.field("locks", locks)
            json.field("message", message)
            json.field("notes", notes)
            json.field("objects", objects)
            json.field("rule", rule)
            json.field("scenario", scenario)
            json.field("severity", severity)
            json.field("title", title)
            json.endObject()
        }
    }

    private struct HeldJSON: JSONWritable {
        var lock: String
        var location: LocationJSON

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("location", location)
            json.field("lock", lock)
            json.endObject()
        }
    }

    private struct LocationJSON: JSONWritable {
        var file: String
        var line: Int
        var column: Int
        var event: Int
        var cpu: Int?
        var task: String?
        var at: String?
        var fn: String?
        var role: String

        init(_ evidence: Evidence) {
            file = evidence.file
            line = evidence.line
            column = evidence.column
            event = evidence.event
            cpu = evidence.cpu
            task = evidence.task
            at = evidence.at
            fn = evidence.function
            role = evidence.role
        }

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("at", at)
            json.field("column", column)
            json.field("cpu", cpu)
            json.field("event", event)
            json.field("file", file)
            json.field("fn", fn)
            json.field("line", line)
            json.field("role", role)
            json.field("task", task)
            json.endObject()
        }
    }

    private struct LinkJSON: JSONWritable {
        var from: String
        var to: String
        var holder: LocationJSON
        var location: LocationJSON

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("from", from)
            json.field("holder", holder)
            json.field("location", location)
            json.field("to", to)
            json.endObject()
        }
    }

    private struct ScenarioJSON: JSONWritable {
        var columns: [String]
        var steps: [StepJSON]

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("columns", columns)
            json.field("steps", steps)
            json.endObject()
        }
    }

    private struct StepJSON: JSONWritable {
        var column: String
        var action: String

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("action", action)
            json.field("column", column)
            json.endObject()
        }
    }

    private struct NoteJSON: JSONWritable {
        var message: String
        var location: LocationJSON?

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("location", location)
            json.field("message", message)
            json.endObject()
        }
    }

    /// A lock class; `flagged` only in the graph view (nil is left out).
    private struct ClassJSON: JSONWritable {
        var name: String
        var type: String
        var usage: String
        var flagged: Bool? = nil

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("flagged", flagged)
            json.field("name", name)
            json.field("type", type)
            json.field("usage", usage)
            json.endObject()
        }
    }

    /// A lock-order edge; `flaggedBy` only in the graph view (nil is left out).
    private struct DependencyJSON: JSONWritable {
        var from: String
        var to: String
        var kind: String
        var types: [String]
        var holder: LocationJSON
        var location: LocationJSON
        var flaggedBy: [String]? = nil

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("flaggedBy", flaggedBy)
            json.field("from", from)
            json.field("holder", holder)
            json.field("kind", kind)
            json.field("location", location)
            json.field("to", to)
            json.field("types", types)
            json.endObject()
        }
    }
}
