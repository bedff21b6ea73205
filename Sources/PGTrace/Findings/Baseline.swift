import FoundationEssentials

/// Accepted findings, by fingerprint, so that CI fails only on new ones. Stored as JSON that
/// a reviewer can read: each entry keeps the rule and message it was accepted for.
public struct Baseline: Codable, Sendable {
    public struct Entry: Codable, Sendable, Hashable {
        public var fingerprint: String
        public var rule: String
        public var message: String
    }



    /// 2 since fingerprints name what a finding is (pgtrace 0.3.0); version 1's named the
    /// evidence shown first and match nothing now.
    public static let currentVersion = 2
    public var version = Baseline.currentVersion
    public var findings: [Entry]

    private enum CodingKeys: String, CodingKey { case version, findings }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
        findings = try container.decode([Entry].self, forKey: .findings)
    }

    public init(findings: [Finding]) { self.init(findings: FindingList(findings)) }

    /// The baseline accepting `findings`, each made in turn for its message.
    public init(findings: FindingList) {
        var seen: Set<String> = []
        self.findings = findings.indices.compactMap { index in
            let fingerprint = findings.fingerprint(at: index)
            guard seen.insert(fingerprint).inserted else { return nil }
            return Entry(fingerprint: fingerprint, rule: findings.rule(at: index).rawValue, message: findings[index].message)
        }
    }

    public init(json: [UInt8], file: String) throws {
        // The decoder takes a key given twice (its first value), where jq and Python take the
        // last: a baseline two tools read two ways is refused.
        if JSONSyntax.isUTF8(json), let repeated = JSONSyntax.firstRepeatedKey(in: json) {
            throw TraceInputError(
                file: file, line: repeated.line, column: repeated.column,
                message: "not a pgtrace baseline: the key \"\(repeated.key)\" is given twice in one object")
        }
        do {
            self = try JSONDecoder().decode(Baseline.self, from: Data(json))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.keyNotFound(_, context)
        {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            let place = JSONPlace.of(context.codingPath, in: json)
            throw TraceInputError(
                file: file, line: place?.line ?? 1, column: place?.column ?? 1,
                message: "not a pgtrace baseline: at \(path.isEmpty ? "the top" : path): \(context.debugDescription)")
        } catch {
            // Malformed JSON: the decoder says only that it is; where, and what was expected
            // there, the grammar's own check says (a file cut short, or empty: at its end).
            guard JSONSyntax.isUTF8(json) else {
                throw TraceInputError(
                    file: file,
                    message: "not a pgtrace baseline: the JSON is malformed, and in UTF-16 or UTF-32 (it has their byte order mark or zero bytes), where pgtrace cannot say where: write it in UTF-8, as pgtrace writes baselines")
            }
            if let syntax = JSONSyntax.firstError(in: json) {
                throw TraceInputError(
                    file: file, line: syntax.line, column: syntax.column,
                    message: "not a pgtrace baseline: the JSON is malformed: \(syntax.problem)")
            }
            // JSON, but the decoder says the same of a number that does not fit where it is
            // read: the version is the one number a baseline has.
            if let start = JSONPlace.offset(of: [CodingKeys.version], in: json),
                case let number = String(decoding: json[start...].prefix(while: { "-+.eE0123456789".utf8.contains($0) }), as: UTF8.self),
                !number.isEmpty, Int(number) == nil
            {
                let place = JSONPlace.place(of: start, in: json)
                throw TraceInputError(
                    file: file, line: place.line, column: place.column,
                    message: "not a pgtrace baseline: at .version: \(number) is not a version number")
            }
            let said = (error as? DecodingError).flatMap { error -> String? in
                if case .dataCorrupted(let context) = error { return context.debugDescription }
                return nil
            } ?? "\(error)"
            throw TraceInputError(file: file, message: "not a pgtrace baseline: its JSON cannot be read (\(said))")
        }
        let versionPlace = JSONPlace.of([CodingKeys.version], in: json) ?? JSONPlace.of([], in: json) ?? (1, 1)
        if version == 1, !findings.isEmpty {
            throw TraceInputError(
                file: file, line: versionPlace.line, column: versionPlace.column,
                message: "a version 1 baseline: its fingerprints, from pgtrace before 0.3.0, named the evidence that first showed each finding and match nothing now; write it again with --write-baseline")
        }
        guard version == 1 || version == Self.currentVersion else {
            throw TraceInputError(
                file: file, line: versionPlace.line, column: versionPlace.column,
                message: "unsupported baseline version \(version); this pgtrace writes version \(Self.currentVersion)")
        }
    }

    public var json: String {
        prettyJSON(self)
    }

    /// Splits `findings` into new and accepted ones, and lists the entries nothing matched. An
    /// entry accepts the finding of its fingerprint and of the rule it names (a fingerprint
    /// hashes the rule, so an entry pgtrace wrote names it; one edited to name another, or
    /// none, accepts nothing).
    public func compare(_ findings: [Finding]) -> (new: [Finding], accepted: [Finding], stale: [Entry]) {
        let (new, accepted, stale) = compare(FindingList(findings))
        return (Array(new), Array(accepted), stale)
    }

    /// `compare` of a report's findings, by what each keeps: none is made.
    public func compare(_ findings: FindingList) -> (new: FindingList, accepted: FindingList, stale: [Entry]) {
        struct Key: Hashable {
            var fingerprint: String
            var rule: String
        }
        let acceptedKeys = Set(self.findings.map { Key(fingerprint: $0.fingerprint, rule: $0.rule) })
        var found: Set<Key> = []
        var (new, accepted): ([Int], [Int]) = ([], [])
        for index in findings.indices {
            let key = Key(fingerprint: findings.fingerprint(at: index), rule: findings.rule(at: index).rawValue)
            if acceptedKeys.contains(key) {
                accepted.append(index)
                found.insert(key)
            } else {
                new.append(index)
            }
        }
        return (
            findings.selecting(new), findings.selecting(accepted),
            self.findings.filter { !found.contains(Key(fingerprint: $0.fingerprint, rule: $0.rule)) }
        )
    }
}
