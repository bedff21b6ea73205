/// Text from a trace made safe for a terminal: a capture's names are the kernel's bytes (a
/// task names itself with prctl(PR_SET_NAME), any byte but NUL), and an escape sequence in
/// one must be shown, not obeyed. The text report passes every finding and note through it
/// before it adds its own colours, and the command line its messages on standard error;
/// JSON, SARIF and XML escape controls their own way.
public enum TerminalText {
    /// `text` with each control character (C0 but tab and newline, DEL, C1) as `\xHH` or
    /// `\u{HH}`, and a backslash that could read as the start of one (before `x`, `u`, a
    /// backslash or such a control) doubled: two names never read the same (`lock\x01` typed
    /// out and lock with the byte 0x01 did, and a report keyed by name trapped on them). Byte
    /// by byte where nothing needs it (almost always): no copy.
    public static func escaped(_ text: String) -> String {
        // The bytes read in place where the string has them at hand (a native string always
        // does). Read one at a time through the UTF-8 view, as they were, they took 9% of the
        // instructions of the text report of 16k cycles.
        func mayNeedEscape(_ byte: UInt8) -> Bool {
            byte < 0x20 && byte != 0x0A && byte != 0x09 || byte == 0x7F || byte == 0xC2 || byte == 0x5C
        }
        guard text.utf8.withContiguousStorageIfAvailable({ $0.contains(where: mayNeedEscape) })
            ?? text.utf8.contains(where: mayNeedEscape)
        else { return text }
        func isEscaped(_ value: UInt32) -> Bool {
            (value < 0x20 && value != 0x0A && value != 0x09) || value == 0x7F || (0x80..<0xA0).contains(value)
        }
        let scalars = Array(text.unicodeScalars)
        var out = ""
        for (index, scalar) in scalars.enumerated() {
            switch scalar.value {
            case 0x0A, 0x09: out.unicodeScalars.append(scalar)
            case 0..<0x20, 0x7F: out += "\\x" + hex(scalar.value)
            case 0x80..<0xA0: out += "\\u{" + hex(scalar.value) + "}"
            case 0x5C:
                let next = index + 1 < scalars.count ? scalars[index + 1].value : nil
                let startsEscape = next.map { $0 == 0x78 || $0 == 0x75 || $0 == 0x5C || isEscaped($0) } ?? false
                out += startsEscape ? "\\\\" : "\\"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return digits.count < 2 ? "0" + digits : digits
    }
}

extension Evidence {
    /// This evidence with its text safe for a terminal (`TerminalText`).
    var terminalSafe: Evidence {
        var copy = self
        copy.file = TerminalText.escaped(file)
        copy.task = task.map(TerminalText.escaped)
        copy.at = at.map(TerminalText.escaped)
        copy.function = function.map(TerminalText.escaped)
        copy.role = TerminalText.escaped(role)
        return copy
    }
}

extension Finding {
    /// This finding with every text a trace gave it safe for a terminal (`TerminalText`).
    var terminalSafe: Finding {
        let text = TerminalText.escaped
        var copy = self
        copy.message = text(message)
        copy.locks = locks.map(text)
        copy.objects = objects.map(text)
        copy.locations = locations.map(\.terminalSafe)
        copy.chain = chain.map { link in
            ChainLink(
                holder: text(link.holder), acquired: text(link.acquired),
                holderEvidence: link.holderEvidence.terminalSafe, evidence: link.evidence.terminalSafe)
        }
        copy.scenario = scenario.map { scenario in
            Scenario(columns: scenario.columns.map(text), steps: scenario.steps.map { ($0.column, text($0.action)) })
        }
        copy.notes = notes.map(text)
        copy.title = text(title)
        copy.heldLocks = heldLocks.map { $0.map { HeldLockLine(lock: text($0.lock), evidence: $0.evidence.terminalSafe) } }
        copy.heldLocksHolder = heldLocksHolder.map(text)
        copy.body = body.map { line in
            switch line {
            case .text(let value): return .text(text(value))
            case .lock(let name, let evidence): return .lock(text(name), at: evidence?.terminalSafe)
            case .dependency(let from, let to): return .dependency(from: text(from), to: text(to))
            case .site(let evidence): return .site(evidence.terminalSafe)
            }
        }
        copy.details = details.map(text)
        // Escaped names are distinct as the names are; a clash keeps the first, never traps.
        copy.usage = Dictionary(usage.map { (text($0.key), text($0.value)) }, uniquingKeysWith: { first, _ in first })
        return copy
    }
}
