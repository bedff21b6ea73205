/// Renders a report for a terminal, shaped like lockdep's splats: a banner with the warning,
/// the events that prove it, the dependency chain in reverse order and the unsafe scenario.
public struct TextReporter {
    /// ANSI colour on the headlines and the summary (a terminal that wants it: the command
    /// line decides, from `--color`, `NO_COLOR` and whether the output is a terminal).
    public var colored: Bool

    public init(colored: Bool = false) { self.colored = colored }

    /// The findings listed one a line, by number, after a report of more than one; more than
    /// this many are counted instead.
    public static let listedFindings = 50

    private func paint(_ text: String, _ code: String) -> String {
        colored ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

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
            out += "note: \(TerminalText.escaped(note.message))\n"
            if let evidence = note.evidence { out += "      \(describe(evidence.terminalSafe))\n" }
        }
        if !report.notes.isEmpty { out += "\n" }
        if report.findings.count > 1 { out += summary(report.findings) + "\n" }
        let errors = report.findings.count(of: .error)
        let warnings = report.findings.count - errors
        var traces = report.files.count == 1 ? "1 trace" : "\(report.files.count) traces"
        if report.analysisCount > 1 { traces += " in \(report.analysisCount) separate analyses" }
        out += "pgtrace: \(traces), \(report.eventCount) event\(report.eventCount == 1 ? "" : "s"): "
        out += report.findings.isEmpty
            ? "no findings\n"
            : "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")\n"
        try write(out)
    }

    /// Many findings at a glance: a table by rule and severity, then each finding on a line
    /// with its number (what `--finding N` shows) and where it was met.
    public func summary(_ findings: [Finding]) -> String { summary(FindingList(findings)) }

    /// `summary` of a report's findings: counted by what each keeps, and only the listed ones
    /// made.
    public func summary(_ findings: FindingList) -> String {
        var counts: [Rule: (errors: Int, warnings: Int)] = [:]
        for index in findings.indices {
            let rule = findings.rule(at: index)
            if findings.severity(at: index) == .error { counts[rule, default: (0, 0)].errors += 1 } else { counts[rule, default: (0, 0)].warnings += 1 }
        }
        let width = max(4, counts.keys.map(\.rawValue.count).max() ?? 0)
        func row(_ rule: String, _ errors: String, _ warnings: String, paintErrors: Bool = false, paintWarnings: Bool = false) -> String {
            "  " + rule + Self.run(of: " ", width - rule.count)
                + Self.run(of: " ", max(1, 8 - errors.count)) + (paintErrors ? paint(errors, "1;31") : errors)
                + Self.run(of: " ", max(1, 10 - warnings.count)) + (paintWarnings ? paint(warnings, "1;33") : warnings) + "\n"
        }
        var out = "Findings by rule:\n" + row("rule", "errors", "warnings")
        for rule in Rule.allCases {
            guard let (errors, warnings) = counts[rule] else { continue }
            out += row(rule.rawValue, String(errors), String(warnings), paintErrors: errors > 0, paintWarnings: warnings > 0)
        }
        out += "\nFindings (--finding N shows one, --rule RULE one rule's):\n"
        let numberWidth = String(min(findings.count, Self.listedFindings)).count
        for (index, finding) in findings.prefix(Self.listedFindings).enumerated() {
            let number = String(index + 1)
            var line = "  " + Self.run(of: " ", numberWidth - number.count) + number + "  "
            line += (finding.severity == .error ? "error  " : "warning") + "  " + finding.rule.rawValue
            if !finding.locks.isEmpty { line += ": " + finding.locks.joined(separator: ", ") }
            else if !finding.objects.isEmpty { line += ": " + finding.objects.joined(separator: ", ") }
            if let first = finding.locations.first { line += "  (\(first.file):\(first.line))" }
            // Names from a trace are shown, never obeyed (`TerminalText`): only what is listed.
            out += TerminalText.escaped(line) + "\n"
        }
        if findings.count > Self.listedFindings {
            out += "  ... and \(findings.count - Self.listedFindings) more\n"
        }
        return out
    }

    public func render(_ finding: Finding) -> String {
        // Names from a trace are shown, never obeyed by the terminal; the colours are ours.
        let finding = finding.terminalSafe
        let word = finding.rule.isBug ? "BUG" : finding.severity == .error ? "WARNING" : "warning"
        let headline = "\(word): \(finding.title)"
        let rule = Self.run(of: "-", headline.count)
        var out = Self.run(of: "=", headline.count) + "\n"
        out += paint(headline, finding.severity == .error ? "1;31" : "1;33") + " [\(paint(finding.rule.rawValue, "36"))]\n" + rule + "\n"
        out += finding.message + "\n"
        if finding.count > 1 { out += "(met \(finding.count) times; the first is shown)\n" }

        switch finding.rule {
        case .circularDependency where finding.chain.count >= 2:
            let new = finding.chain[finding.chain.count - 1]
            out += "\n\(new.evidence.runner) is trying to acquire lock:\n"
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
        case _ where !finding.body.isEmpty:
            out += "\n"
            for line in finding.body {
                switch line {
                case .text(let text): out += text + "\n"
                case .lock(let name, let evidence):
                    out += " (\(name))\(finding.usage[name] ?? "")" + (evidence.map { ", at: \(describe($0))" } ?? "") + "\n"
                case .dependency(let from, let to):
                    out += " (\(from))\(finding.usage[from] ?? "") -> (\(to))\(finding.usage[to] ?? "")\n"
                case .site(let evidence): out += "  \(describe(evidence))\n"
                }
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
                ?? taker.map { evidence in
                    switch (evidence.task, evidence.cpu) {
                    case let (task?, cpu?): "\(task) on cpu \(cpu)"
                    case let (task?, nil): task
                    case let (nil, cpu?): "cpu \(cpu)"
                    case (nil, nil): "the task"
                    }
                } ?? "the task"
            // Where the trace may not show every lock (a partial trace, lost events), the list
            // says it is what the trace shows.
            let shown = finding.heldLocksMayBeIncomplete ? " that the trace shows (it may not show them all)" : ""
            let count = held.count + (finding.heldLocksNotListed ?? 0)
            if count == 0 {
                out += "\nno locks held by \(holder)\(shown).\n"
            } else {
                out += "\n\(count) lock\(count == 1 ? "" : "s") held by \(holder)\(shown):\n"
            }
            for (index, line) in held.enumerated() {
                out += " #\(index): (\(line.lock))\(finding.usage[line.lock] ?? ""), at: \(describe(line.evidence))\n"
            }
            // A list stops at --max-depth locks, the most entries lockdep's array holds.
            if let more = finding.heldLocksNotListed {
                out += " ... and \(more) more taken after these, not listed (a list stops at --max-depth locks)\n"
            }
        }
        for note in finding.notes where !note.hasPrefix("Chain exists of:") {
            out += "\n \(note)\n"
        }
        return out
    }

    /// "Possible unsafe locking scenario" with one column per cpu, laid out as lockdep's.
    public func render(_ scenario: Scenario, interrupt: Bool = false) -> String {
        let scenario = Scenario(
            columns: scenario.columns.map(TerminalText.escaped), steps: scenario.steps.map { ($0.column, TerminalText.escaped($0.action)) })
        // lockdep: headers at columns 7 and 31, steps at columns 2 and 31.
        func header(_ cells: [String]) -> String {
            var line = ""
            for (index, cell) in cells.enumerated() {
                let column = 7 + 24 * index
                line += Self.run(of: " ", max(1, column - line.count)) + cell
            }
            return line + "\n"
        }
        var out = interrupt && scenario.columns.count > 1
            ? " Possible interrupt unsafe locking scenario:\n\n" : " Possible unsafe locking scenario:\n\n"
        out += header(scenario.columns)
        out += header(scenario.columns.map { Self.run(of: "-", $0.count) })
        for step in scenario.steps {
            let column = step.column == 0 ? 2 : 7 + 24 * step.column
            out += Self.run(of: " ", column) + step.action + "\n"
        }
        out += "\n " + paint("*** DEADLOCK ***", "1") + "\n"
        return out
    }

    /// `count` copies of an ASCII character (none where `count` is below 1), written at once:
    /// `String(repeating:count:)` appends a string at a time (a fifth of the instructions of
    /// 16k cycles' text reports, in their rules and the scenario's columns).
    static func run(of character: Unicode.Scalar, _ count: Int) -> String {
        precondition(character.isASCII)
        let count = max(0, count)
        return String(unsafeUninitializedCapacity: count) { buffer in
            UnsafeMutableBufferPointer(rebasing: buffer[..<count]).initialize(repeating: UInt8(character.value))
            return count
        }
    }

    /// `file:line (event N) cpu C task T: fn (at)`.
    func describe(_ evidence: Evidence) -> String {
        let runner = evidence.runner
        var text = runner.isEmpty ? evidence.place : "\(evidence.place) \(runner)"
        if let source = evidence.source { text += ": \(source)" }
        return text
    }
}
