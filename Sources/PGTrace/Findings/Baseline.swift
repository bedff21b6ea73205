import Foundation

/// Accepted findings, by fingerprint, so that CI fails only on new ones. Stored as JSON that
/// a reviewer can read: each entry keeps the rule and message it was accepted for.
public struct Baseline: Codable, Sendable {
    public struct Entry: Codable, Sendable, Hashable {
        public var fingerprint: String
        public var rule: String
        public var message: String
    }

    public var version = 1
    public var findings: [Entry]

    private enum CodingKeys: String, CodingKey { case version, findings }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
        findings = try container.decode([Entry].self, forKey: .findings)
    }

    public init(findings: [Finding]) {
        var seen: Set<String> = []
        self.findings = findings.compactMap { finding in
            guard seen.insert(finding.fingerprint).inserted else { return nil }
            return Entry(fingerprint: finding.fingerprint, rule: finding.rule.rawValue, message: finding.message)
        }
    }

    public init(json: [UInt8], file: String) throws {
        do {
            self = try JSONDecoder().decode(Baseline.self, from: Data(json))
        } catch {
            throw TraceInputError(file: file, message: "not a pgtrace baseline: \(error)")
        }
        guard version == 1 else {
            throw TraceInputError(file: file, message: "unsupported baseline version \(version); this pgtrace writes version 1")
        }
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// Splits `findings` into new and accepted ones, and lists the entries nothing matched.
    public func compare(_ findings: [Finding]) -> (new: [Finding], accepted: [Finding], stale: [Entry]) {
        let accepted = Set(self.findings.map(\.fingerprint))
        let found = Set(findings.map(\.fingerprint))
        return (
            findings.filter { !accepted.contains($0.fingerprint) },
            findings.filter { accepted.contains($0.fingerprint) },
            self.findings.filter { !found.contains($0.fingerprint) }
        )
    }
}
