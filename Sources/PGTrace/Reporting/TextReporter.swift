/// Renders a report for a terminal, shaped like lockdep's splats: a banner with the warning,
/// the events that prove it, the dependency chain in reverse order and the unsafe scenario.
public struct TextReporter {
    public init() {}

    public func render(_ report: AnalysisReport) -> String {
        var text = ""
        write(report) { text += $0 }
        return text
    }

    /// Writes the report a finding at a time, the same text as `render`.
    public func write(_ report: AnalysisReport, to write: (String) throws -> Void) rethrows {
        for finding in report.findings { try write(render(finding) + "\n") }
        var out = ""
        for note in report.notes {
            out += "note: \(note.message)\n"
            if let evidence = note.evidence { out += "      \(describe(evidence))\n" }
        }
        if !report.notes.isEmpty { out += "\n" }
        let errors = report.findings.filter { $0.severity == .error }.count
        let warnings = report.findings.count - errors
        var traces = report.files.count == 1 ? "1 trace" : "\(report.files.count) traces"
        if report.analysisCount > 1 { traces += " in \(report.analysisCount) separate analyses" }
        out += "pgtrace: \(traces), \(report.eventCount) event\(report.eventCount == 1 ? "" : "s"): "
        out += report.findings.isEmpty
            ? "no findings\n"
            : "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")\n"
        try write(out)
    }

    public func render(_ finding: Finding) -> String {
        let word = finding.rule.isBug ? "BUG" : finding.severity == .error ? "WARNING" : "warning"
        let headline = "\(word): \(finding.title)"
        let rule = String(repeating: "-", count: headline.count)
        var out = String(repeating: "=", count: headline.count) + "\n"
        out += headline + " [\(finding.rule.rawValue)]\n" + rule + "\n"
        out += finding.message + "\n"
        if finding.count > 1 { out += "(met \(finding.count) times; the first is shown)\n" }

        switch finding.rule {
        case .circularDependency where finding.chain.count >= 2:
            let new = finding.chain[finding.chain.count - 1]
            out += "\n\(who(new.evidence)) is trying to acquire lock:\n"
            out += " (\(new.acquired))\(finding.usage[new.acquired] ?? ""), at: \(describe(new.evidence))\n"
            out += "\nbut task is already holding lock:\n"
            out += " (\(new.holder))\(finding.usage[new.holder] ?? ""), at: \(describe(new.holderEvidence))\n"
            out += "\nwhich lock already depends on the new lock.\n"
            out += "\nthe existing dependency chain (in reverse order) is:\n"
            let ordered = Array(finding.chain.dropLast().reversed()) + [new]
            for (offset, link) in ordered.enumerated() {
                let number = ordered.count - 1 - offset
                out += "\n-> #\(number) (\(link.acquired))\(finding.usage[link.acquired] ?? ""):\n"
                out += "       acquired while holding \(link.holder)\n"
                out += "       \(describe(link.evidence))\n"
                out += "       (\(link.holder) taken at \(describe(link.holderEvidence)))\n"
            }
        default:
            out += "\n"
            for evidence in finding.locations {
                out += "  \(evidence.role):\n      \(describe(evidence))\n"
            }
        }

        if let scenario = finding.scenario {
            out += "\nother info that might help us debug this:\n\n"
            for note in finding.notes where note.hasPrefix("Chain exists of:") {
                out += " \(note)\n\n"
            }
            out += render(scenario, interrupt: finding.rule == .irqInversion || finding.rule == .irqInconsistent)
        }
        if !finding.details.isEmpty {
            out += "\n" + finding.details.map { $0 + "\n" }.joined()
        }
        if let held = finding.heldLocks {
            // lockdep_print_held_locks, after the scenario.
            let taker = finding.locations.first ?? held.first?.evidence
            let holder = finding.heldLocksHolder
                ?? taker.map { evidence in evidence.task.map { "\($0) on cpu \(evidence.cpu)" } ?? "cpu \(evidence.cpu)" } ?? "the task"
            // Where the trace may not show every lock (a partial trace, lost events), the list
            // says it is what the trace shows.
            let shown = finding.heldLocksMayBeIncomplete ? " that the trace shows (it may not show them all)" : ""
            if held.isEmpty {
                out += "\nno locks held by \(holder)\(shown).\n"
            } else {
                out += "\n\(held.count) lock\(held.count == 1 ? "" : "s") held by \(holder)\(shown):\n"
            }
            for (index, line) in held.enumerated() {
                out += " #\(index): (\(line.lock))\(finding.usage[line.lock] ?? ""), at: \(describe(line.evidence))\n"
            }
        }
        for note in finding.notes where !note.hasPrefix("Chain exists of:") {
            out += "\n \(note)\n"
        }
        return out
    }

    /// "Possible unsafe locking scenario" with one column per cpu, laid out as lockdep's.
    public func render(_ scenario: Scenario, interrupt: Bool = false) -> String {
        // lockdep: headers at columns 7 and 31, steps at columns 2 and 31.
        func header(_ cells: [String]) -> String {
            var line = ""
            for (index, cell) in cells.enumerated() {
                let column = 7 + 24 * index
                line += String(repeating: " ", count: max(1, column - line.count)) + cell
            }
            return line + "\n"
        }
        var out = interrupt && scenario.columns.count > 1
            ? " Possible interrupt unsafe locking scenario:\n\n" : " Possible unsafe locking scenario:\n\n"
        out += header(scenario.columns)
        out += header(scenario.columns.map { String(repeating: "-", count: $0.count) })
        for step in scenario.steps {
            let column = step.column == 0 ? 2 : 7 + 24 * step.column
            out += String(repeating: " ", count: column) + step.action + "\n"
        }
        out += "\n *** DEADLOCK ***\n"
        return out
    }

    private func who(_ evidence: Evidence) -> String {
        "cpu \(evidence.cpu)" + (evidence.task.map { " task \($0)" } ?? "")
    }

    /// `file:line (event N) cpu C task T: fn (at)`.
    func describe(_ evidence: Evidence) -> String {
        var text = "\(evidence.place) \(who(evidence))"
        if let source = evidence.source { text += ": \(source)" }
        return text
    }
}
