import ArgumentParser
import PGTrace

/// `pgtrace rules` lists every rule; `pgtrace rules RULE` (or `pgtrace explain RULE`) says
/// what it means, lockdep's words for it, where it comes from and the usual fix.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List the rules, or explain one: lockdep's words for it, what it means, the thread it comes from, the fix.",
        aliases: ["explain"])

    @Argument(
        help: "A rule id (circular-dependency, sleep-in-atomic, ...): explain it. Without one, list them all.",
        completion: .list(Rule.allCases.map(\.rawValue)))
    var rule: String?

    func validate() throws {
        if let rule { _ = try Rule.named(rule) }
    }

    func run() throws {
        let out = try Output(nil)
        guard let rule = rule.flatMap(Rule.init(rawValue:)) else {
            let width = Rule.allCases.map(\.rawValue.count).max() ?? 0
            for rule in Rule.allCases {
                try out.write(rule.rawValue + String(repeating: " ", count: width + 2 - rule.rawValue.count) + rule.summary + "\n")
            }
            try out.write("\n'pgtrace rules RULE' explains one.\n")
            return
        }
        try out.write(Self.explanation(rule))
    }

    static func explanation(_ rule: Rule) -> String {
        let headline = (rule.isBug ? "BUG: " : "WARNING: ") + rule.title
        var text = "\(rule.rawValue): \(headline)\n\n"
        text += wrap(rule.summary) + "\n"
        text += "\nWhere it comes from:\n" + wrap(rule.origin.story, indent: "  ") + "\n"
        if !rule.origin.traces.isEmpty {
            text += "\nShipped traces that show it (each with a fixed twin, traces/README.md):\n"
            for trace in rule.origin.traces { text += "  traces/\(trace)\n" }
        }
        text += "\nThe usual fix:\n" + wrap(rule.help, indent: "  ") + "\n"
        return text
    }

    /// Words wrapped at 88 columns.
    static func wrap(_ text: String, indent: String = "") -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count, line.count + 1 + word.count > 88 {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
