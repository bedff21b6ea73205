import ArgumentParser
import FoundationEssentials
import Glibc
import PGTrace

/// Which findings a text or JSON report shows, and whether the text is coloured: shared by
/// analyze and lint.
struct FindingOptions: ParsableArguments {
    @Option(
        name: .long, help: "Show only findings of this rule (repeatable; 'pgtrace rules' lists them).",
        completion: .list(Rule.allCases.map(\.rawValue)))
    var rule: [String] = []

    @Option(name: .long, help: "Show only this finding: its number in the report's list of findings (of --rule's rules, if given), or its fingerprint.")
    var finding: String?

    enum Color: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Option(name: .long, help: "Colour the text report: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: Color = .auto

    func validate() throws {
        for name in rule { _ = try Rule.named(name) }
        if let finding, Int(finding).map({ $0 < 1 }) == true {
            throw ValidationError("--finding takes a finding's number (1, 2, ...) or its fingerprint")
        }
    }

    /// Whether any selection was asked for.
    var selects: Bool { finding != nil || !rule.isEmpty }

    /// The rules asked for with --rule; nil for all.
    var rules: Set<Rule>? { rule.isEmpty ? nil : Set(rule.compactMap(Rule.init(rawValue:))) }

    /// Whether any of `analyses` has a finding of the rules asked for at or above `threshold`
    /// (none counts where it is nil): the exit status of a report that prints none and shows
    /// no one finding (`--quiet` without --finding), asked without making the findings' text.
    func someFinding(in analyses: [Analysis], atLeast threshold: Severity?) -> Bool {
        guard let threshold else { return false }
        let rules = self.rules
        return analyses.contains { $0.hasFinding(atLeast: threshold, of: rules) }
    }

    /// The findings to show, in report order: those of the rules asked for, then of those the
    /// numbered (as the report's list of them numbers them) or fingerprinted one. A number or
    /// fingerprint that matches none is an error. Chosen by what each finding keeps, none made.
    func select(_ findings: FindingList) throws -> FindingList {
        var selected = findings
        if let rules {
            selected = selected.filter(rules: rules)
        }
        let findings = selected
        if let finding {
            if let number = Int(finding) {
                guard number <= findings.count else {
                    throw CommandError("--finding \(number): the report has \(findings.count) finding\(findings.count == 1 ? "" : "s")\(rule.isEmpty ? "" : " of those rules")")
                }
                selected = findings.selecting([number - 1])
            } else {
                selected = findings.selecting(findings.indices.filter { findings.fingerprint(at: $0) == finding })
                guard !selected.isEmpty else { throw CommandError("--finding \(finding): no finding has that fingerprint") }
            }
        }
        return selected
    }

    /// Whether to colour text written to standard output (`toFile`: to --output instead).
    func colored(toFile: Bool) -> Bool {
        switch color {
        case .always: return true
        case .never: return false
        case .auto:
            let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            let dumb = ProcessInfo.processInfo.environment["TERM"] == "dumb"
            return !toFile && !noColor && !dumb && isatty(STDOUT_FILENO) != 0
        }
    }
}

extension Rule {
    /// The rule with id `name`, or the usage error that lists them all.
    static func named(_ name: String) throws -> Rule {
        guard let rule = Rule(rawValue: name) else {
            throw ValidationError("no rule '\(name)'; the rules are: \(Rule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return rule
    }
}
