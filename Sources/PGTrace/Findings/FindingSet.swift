/// Findings kept one per problem (rule and key): the first met is shown, meeting it again
/// only counts it. Two sets merge by keeping, for each problem, the finding whose evidence
/// comes first (`Finding.order`) and adding the counts: merging is associative and
/// commutative, as summaries need.
public struct FindingSet: Sendable {
    public private(set) var findings: [Finding] = []
    private var index: [String: Int] = [:]

    public init() {}

    private static func id(_ rule: Rule, _ key: String) -> String { rule.rawValue + "|" + key }

    /// Records `finding`, or counts it if one with the same rule and key is here.
    public mutating func report(_ finding: Finding) {
        if countAgain(finding.rule, key: finding.key) { return }
        index[Self.id(finding.rule, finding.key)] = findings.count
        findings.append(finding)
    }

    /// Counts one more meeting of the finding of `rule` with `key` if it is here: true then,
    /// so that a checker need not build the finding again to have it counted.
    public mutating func countAgain(_ rule: Rule, key: String, by count: Int = 1) -> Bool {
        guard let position = index[Self.id(rule, key)] else { return false }
        findings[position].count = Self.sum(findings[position].count, count)
        return true
    }

    /// Counts add up, and stop at Int.max (a summary's counts are its own to claim).
    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    public func hasReported(_ rule: Rule, key: String) -> Bool { index[Self.id(rule, key)] != nil }

    /// Adds `other`'s findings: of two with the same rule and key, the one whose evidence
    /// comes first stays, counted as both were.
    public mutating func merge(_ other: FindingSet) {
        for finding in other.findings { merge(finding) }
    }

    /// Adds one finding as `merge(_:)` does.
    public mutating func merge(_ finding: Finding) {
        let id = Self.id(finding.rule, finding.key)
        guard let position = index[id] else {
            index[id] = findings.count
            findings.append(finding)
            return
        }
        let count = Self.sum(findings[position].count, finding.count)
        if finding.order.lexicographicallyPrecedes(findings[position].order) { findings[position] = finding }
        findings[position].count = count
    }

    public mutating func removeAll() {
        findings.removeAll()
        index.removeAll()
    }
}

extension Finding {
    /// Where the finding sits among others: its evidence (file, then zero-padded line,
    /// column and event, each location in turn), then its rule and fingerprint. Never the
    /// order in which traces were read or problems met.
    public var order: [String] { order(baseFingerprint: baseFingerprint) }

    /// `order`, with the base fingerprint made already (it hashes the finding's identity).
    func order(baseFingerprint: String) -> [String] {
        locations.flatMap(Self.order) + [rule.rawValue, baseFingerprint, message]
    }

    /// A place in the traces as sortable text.
    static func order(_ evidence: Evidence?) -> [String] {
        guard let evidence else { return [] }
        func padded(_ number: Int) -> String {
            let digits = String(number)
            return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
        }
        return [evidence.file, padded(evidence.line), padded(evidence.column), padded(evidence.event)]
    }

    /// Puts `findings` in their order and numbers the ones that read the same (same rule,
    /// identity and objects: same base fingerprint) 1, 2, … in that order.
    static func canonical(_ findings: [Finding]) -> [Finding] {
        // Each finding's fingerprint and sort key made once, not once per comparison.
        let prints = findings.map(\.baseFingerprint)
        let keys = findings.indices.map { findings[$0].order(baseFingerprint: prints[$0]) }
        var occurrences: [String: Int] = [:]
        return findings.indices.sorted { keys[$0].lexicographicallyPrecedes(keys[$1]) }.map { position in
            var finding = findings[position]
            occurrences[prints[position], default: 0] += 1
            finding.occurrence = occurrences[prints[position]]!
            return finding
        }
    }
}

/// Where a finding comes from: a trace's own replay, or the graph checks (which see the
/// facts of every trace, and are run again when the graph is rebuilt).
public enum FindingScope: Sendable {
    case trace
    case graph
}
