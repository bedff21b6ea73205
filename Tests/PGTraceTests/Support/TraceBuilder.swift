import PGTrace

/// Builds a trace document event by event, the way lib/locking-selftest.c builds a test
/// case out of LOCK()/UNLOCK() calls, so that tests read like the scenarios they retell.
struct TraceBuilder {
    var cpus: Int?
    /// `partial="true"`: a capture that begins after execution began.
    var partial = false
    /// `<meta><config name= value=/>` entries (PROVE_RAW_LOCK_NESTING).
    var configs: [(name: String, value: String)] = []
    private var classes: [(name: String, type: LockType, attributes: [(String, String)])] = []
    private var events: [String] = []
    /// The cpu and task that the next events run on.
    var cpu = 0
    var task: String?

    init(cpus: Int? = nil) { self.cpus = cpus }

    /// Declares a class; `attributes` adds `wait=`, `wait-outer=`, `novalidate=`.
    mutating func declare(_ name: String, _ type: LockType, _ attributes: [(String, String)] = []) {
        classes.append((name, type, attributes))
    }

    /// Sets lockdep's PROVE_RAW_LOCK_NESTING in the trace's `<meta>`.
    mutating func proveRawLockNesting() {
        configs.append(("PROVE_RAW_LOCK_NESTING", "y"))
    }

    /// How many events it holds: the number the next one gets (findings cite events from 0).
    var eventCount: Int { events.count }

    mutating func event(_ element: String, _ attributes: [(String, String)] = []) {
        var attributes = [("cpu", String(cpu))] + attributes
        if let task { attributes.insert(("task", task), at: 1) }
        let text = attributes.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: " ")
        events.append("<\(element) \(text)/>")
    }

    /// A whole pgd_list walk on the current cpu, visiting `pgds`: under `lock` (taken before
    /// and dropped after) where one is given, as the kernel's walkers take pgd_lock.
    mutating func walkPgdList(_ walker: String, under lock: String? = nil, visiting pgds: [String] = []) {
        if let lock { acquire(lock) }
        event("list-walk-begin", [("walker", walker)])
        for pgd in pgds { event("list-walk-visit", [("pgd", pgd)]) }
        event("list-walk-end")
        if let lock { release(lock) }
    }

    mutating func acquire(
        _ lock: String, instance: String? = nil, mode: LockMode = .write, subclass: Int = 0,
        isTry: Bool = false, irq: String? = nil, bh: Bool = false, nest: String? = nil
    ) {
        var attributes = [("lock", lock)]
        if let instance { attributes.append(("instance", instance)) }
        if subclass != 0 { attributes.append(("subclass", String(subclass))) }
        if mode != .write { attributes.append(("mode", mode.rawValue)) }
        if isTry { attributes.append(("try", "true")) }
        if let irq { attributes.append(("irq", irq)) }
        if bh { attributes.append(("bh", "true")) }
        if let nest { attributes.append(("nest", nest)) }
        event("acquire", attributes)
    }

    mutating func release(_ lock: String, instance: String? = nil, irq: String? = nil, bh: Bool = false) {
        var attributes = [("lock", lock)]
        if let instance { attributes.append(("instance", instance)) }
        if let irq { attributes.append(("irq", irq)) }
        if bh { attributes.append(("bh", "true")) }
        event("release", attributes)
    }

    /// Takes `locks` in order and releases them in reverse: one nested section, as a kernel
    /// path that takes A then B and drops them.
    mutating func nest(_ locks: String...) {
        for lock in locks { acquire(lock) }
        for lock in locks.reversed() { release(lock) }
    }

    /// The document; every event on its own line, starting at line `firstEventLine`.
    var xml: String {
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        lines.append("<trace version=\"1\"" + (cpus.map { " cpus=\"\($0)\"" } ?? "") + (partial ? " partial=\"true\"" : "") + ">")
        if !configs.isEmpty {
            lines.append("<meta>" + configs.map { "<config name=\"\($0.name)\" value=\"\($0.value)\"/>" }.joined() + "</meta>")
        }
        if !classes.isEmpty {
            lines.append("<classes>")
            for (name, type, attributes) in classes {
                let extra = attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
                lines.append("<class name=\"\(escape(name))\" type=\"\(type.rawValue)\"\(extra)/>")
            }
            lines.append("</classes>")
        }
        lines.append("<events>")
        lines += events
        lines.append("</events>")
        lines.append("</trace>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The line of event number `index` in `xml`.
    func line(ofEvent index: Int) -> Int {
        4 + (configs.isEmpty ? 0 : 1) + (classes.isEmpty ? 0 : classes.count + 2) + index
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// Runs pgtrace's analysis over in-memory traces, as `pgtrace analyze a.xml b.xml` would.
func analyze(_ traces: [(name: String, xml: String)], maxDepth: Int = 48) throws -> Analysis {
    let analysis = Analysis(options: AnalysisOptions(maxDepth: maxDepth))
    for trace in traces {
        try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: trace.name)
    }
    return analysis
}

func analyze(_ builder: TraceBuilder, name: String = "test.xml", maxDepth: Int = 48) throws -> Analysis {
    try analyze([(name, builder.xml)], maxDepth: maxDepth)
}

/// The input error that reading `xml` raises, if any.
func inputError(_ xml: String, name: String = "bad.xml") -> TraceInputError? {
    do {
        _ = try analyze([(name, xml)])
        return nil
    } catch let error as TraceInputError {
        return error
    } catch {
        return TraceInputError(file: name, message: "unexpected error \(error)")
    }
}

/// Where the repository's files are, for tests over traces/ and the built binary.
enum Repository {
    static let root: String = {
        var path = #filePath
        for _ in 0..<4 {  // Tests/PGTraceTests/Support/TraceBuilder.swift
            path = String(path[..<path.lastIndex(of: "/")!])
        }
        return path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }
}

extension Analysis {
    /// The lock-order dependency `from -> to`, by class names, if the graph has it.
    func lockOrderEdge(_ from: String, _ to: String) -> LockDependency? {
        graph.edges.first { $0.kind == .lockOrder && context.name(of: $0.from) == from && context.name(of: $0.to) == to }
    }

    /// Every lock-order dependency as `A->B`, sorted.
    var lockOrderNames: [String] {
        graph.edges.filter { $0.kind == .lockOrder }.map { "\(context.name(of: $0.from))->\(context.name(of: $0.to))" }.sorted()
    }
}
