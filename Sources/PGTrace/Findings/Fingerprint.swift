extension Finding {
    /// A stable identity for baselines and SARIF's partialFingerprints: the rule, the locks and
    /// objects, and what each cited event does and where in the kernel — never line numbers
    /// or event indices, so adding unrelated events to a trace leaves it unchanged.
    public var fingerprint: String {
        occurrence > 1 ? "\(baseFingerprint)-\(occurrence)" : baseFingerprint
    }

    /// The fingerprint before counting occurrences.
    var baseFingerprint: String {
        var text = rule.rawValue + "\n" + locks.joined(separator: ",") + "\n" + objects.joined(separator: ",")
        for location in locations {
            text += "\n" + location.role + "|" + (location.function ?? "") + "|" + (location.at ?? "")
        }
        return Self.fnv1a64(text)
    }

    /// FNV-1a, 64 bits, as 16 hex digits: the same on every platform and run.
    static func fnv1a64(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
