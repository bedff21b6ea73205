import Glibc

/// Findings kept one per problem (rule and key): the first met is shown, meeting it again
/// only counts it. Two sets merge by keeping, for each problem, the finding whose evidence
/// comes first (`Finding.order`) and adding the counts: merging is associative and
/// commutative, as summaries need.
public struct FindingSet: Sendable {
    public private(set) var findings: [Finding] = []
    /// Each finding's position by its problem, told apart by the findings' own rule and key
    /// where 32 bits of the hash agree (`PositionIndex`). A Dictionary of rule and key
    /// hashed each key with SipHash at every look and again at every growth: most of what
    /// placing 16k cycles' findings cost.
    ///
    /// Keys are compared as bytes, as the symbol table compares names: two classes whose
    /// names differ only in their Unicode normalization ("café" composed and decomposed) are
    /// two classes, and their cycles with a third are two problems. (As Strings, the two keys
    /// were equal, and the second cycle went unreported.)
    private var index = PositionIndex()

    public init() {}

    /// A problem's hash: its rule's name and its key, each through the symbol table's
    /// multiply-mix hash of bytes (also the pending findings', `PendingFindings`).
    static func hash(_ rule: Rule, _ key: String) -> UInt64 {
        PositionIndex.mix(bytesHash(rule.rawValue) &* 0x9E37_79B9_7F4A_7C15 ^ bytesHash(key))
    }

    private static func bytesHash(_ text: String) -> UInt64 {
        if let hash = text.utf8.withContiguousStorageIfAvailable(SymbolTable.hash) { return hash }
        var text = text
        return text.withUTF8(SymbolTable.hash)
    }

    /// The position of the finding of `rule` with `key`, whose hash is `hash`.
    private func position(of rule: Rule, key: String, hash: UInt64) -> Int? {
        index.position(hash: hash) { findings[$0].rule == rule && findings[$0].key.isSame(as: key) }
    }

    /// Appends `finding`, whose problem (of hash `hash`) is not here.
    private mutating func append(_ finding: consuming Finding, hash: UInt64) {
        index.insert(hash: hash, position: findings.count)
        findings.append(finding)
    }

    /// Records `finding`, or counts it if one with the same rule and key is here: true if it
    /// was new.
    @discardableResult
    public mutating func report(_ finding: consuming Finding) -> Bool {
        let hash = Self.hash(finding.rule, finding.key)
        if let earlier = position(of: finding.rule, key: finding.key, hash: hash) {
            findings[earlier].count = Self.sum(findings[earlier].count, 1)
            return false
        }
        append(finding, hash: hash)
        return true
    }

    /// Counts one more meeting of the finding of `rule` with `key` if it is here: true then,
    /// so that a checker need not build the finding again to have it counted.
    public mutating func countAgain(_ rule: Rule, key: String, by count: Int = 1) -> Bool {
        guard let position = position(of: rule, key: key, hash: Self.hash(rule, key)) else { return false }
        findings[position].count = Self.sum(findings[position].count, count)
        return true
    }

    /// Counts add up, and stop at Int.max (a summary's counts are its own to claim).
    static func sum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    public func hasReported(_ rule: Rule, key: String) -> Bool { position(of: rule, key: key, hash: Self.hash(rule, key)) != nil }

    /// Adds `other`'s findings: of two with the same rule and key, the one whose evidence
    /// comes first stays, counted as both were.
    public mutating func merge(_ other: FindingSet) {
        for finding in other.findings { merge(finding) }
    }

    /// Adds one finding as `merge(_:)` does.
    public mutating func merge(_ finding: Finding) {
        let hash = Self.hash(finding.rule, finding.key)
        guard let position = position(of: finding.rule, key: finding.key, hash: hash) else {
            append(finding, hash: hash)
            return
        }
        let count = Self.sum(findings[position].count, finding.count)
        let kept = findings[position]
        if Finding.precedes(finding, kept, finding.baseFingerprintValue, kept.baseFingerprintValue) { findings[position] = finding }
        findings[position].count = count
    }

    public mutating func removeAll() {
        findings.removeAll()
        index = PositionIndex()
    }
}

extension Finding {
    /// Where the finding sits among others: its evidence (file, then zero-padded line,
    /// column and event, each location in turn), then its rule and fingerprint. Never the
    /// order in which traces were read or problems met. (`precedes` compares two findings
    /// as their keys compare, without making them.)
    public var order: [String] { locations.flatMap(Self.order) + [rule.rawValue, baseFingerprint, message] }

    /// A place in the traces as sortable text.
    static func order(_ evidence: Evidence?) -> [String] {
        guard let evidence else { return [] }
        return [evidence.file, order(padded: evidence.line), order(padded: evidence.column), order(padded: evidence.event)]
    }

    /// A number of `order`: zero-padded to 12 digits.
    static func order(padded number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// Puts `findings` in their order and numbers the ones that read the same (same rule,
    /// identity and objects: same base fingerprint) 1, 2, … in that order.
    static func canonical(_ findings: [Finding]) -> [Finding] {
        let prints = findings.map(\.baseFingerprintValue)
        var occurrences: [UInt64: Int] = [:]
        return orderedPositions(findings, prints: prints).map { position in
            var finding = findings[position]
            occurrences[prints[position], default: 0] += 1
            finding.occurrence = occurrences[prints[position]]!
            return finding
        }
    }

    /// The positions of `findings` in their order, given each one's base fingerprint (made
    /// once, not once per comparison).
    static func orderedPositions(_ findings: [Finding], prints: [UInt64]) -> [Int] {
        findings.indices.sorted { precedes(findings[$0], findings[$1], prints[$0], prints[$1]) }
    }

    /// Whether `a.order.lexicographicallyPrecedes(b.order)`, given their base fingerprints,
    /// without making either key: the elements are read from the findings (`orderElement`,
    /// which lays them out as `order` does), and a fingerprint is asked for only where
    /// everything before it is the same.
    static func precedes(
        _ a: Finding, _ b: Finding, _ aPrint: @autoclosure () -> UInt64, _ bPrint: @autoclosure () -> UInt64
    ) -> Bool {
        precedes(
            a.locations.count, { a.orderElement($0, aPrint) }, b.locations.count, { b.orderElement($0, bPrint) })
    }

    /// `precedes` of two findings given by how many locations each cites and element `index`
    /// of each one's `order` (a finding not made yet gives them: `FindingList`).
    static func precedes(
        _ aLocations: Int, _ a: (Int) -> OrderElement, _ bLocations: Int, _ b: (Int) -> OrderElement
    ) -> Bool {
        let (aCount, bCount) = (4 * aLocations + 3, 4 * bLocations + 3)
        for index in 0..<min(aCount, bCount) {
            let x = a(index)
            let y = b(index)
            // Equal elements (most often the same file name) compared once, not both ways.
            if x != y { return x.precedes(y) }
        }
        return aCount < bCount
    }

    /// Element `index` of `order` (four a location, then rule, fingerprint and message),
    /// unmade where it is a number.
    func orderElement(_ index: Int, _ fingerprint: () -> UInt64) -> OrderElement {
        Self.orderElement(
            index, locations: locations.count, location: { locations[$0].orderPlace }, rule: rule, fingerprint: fingerprint,
            message: { message })
    }

    /// Element `index` of the `order` of a finding of `rule` citing `locations` places, each
    /// `location(k)`, whose base fingerprint and message are asked for when they are reached.
    static func orderElement(
        _ index: Int, locations: Int, location: (Int) -> (file: String, line: Int, column: Int, event: Int), rule: Rule,
        fingerprint: () -> UInt64, message: () -> String
    ) -> OrderElement {
        let fields = 4 * locations
        guard index < fields else {
            switch index - fields {
            case 0: return .text(rule.rawValue)
            case 1: return .fingerprint(fingerprint())
            default: return .text(message())
            }
        }
        let place = location(index / 4)
        switch index % 4 {
        case 0: return .text(place.file)
        case 1: return .number(place.line)
        case 2: return .number(place.column)
        default: return .number(place.event)
        }
    }
}

extension Evidence {
    /// What the order of findings reads of a location.
    var orderPlace: (file: String, line: Int, column: Int, event: Int) { (file, line, column, event) }
}

/// An element of `Finding.order`: text, a number, which the key writes zero-padded to 12
/// digits, or a base fingerprint, which it writes as 16 hex digits. Two numbers in
/// 0..<10^12 (exactly 12 digits once padded) compare as numbers, two fingerprints too (the
/// same width and case of digits); any other comparison is of the text, as the key's.
/// Elements of different kinds count as different, and their text decides which comes
/// first (a fingerprint meets a line only where two findings' evidence differs in length).
enum OrderElement: Equatable {
    case text(String)
    case number(Int)
    case fingerprint(UInt64)

    static let plain = 0..<1_000_000_000_000

    var text: String {
        switch self {
        case .text(let text): return text
        case .number(let number): return Finding.order(padded: number)
        case .fingerprint(let value): return FNV1a64.hex(value)
        }
    }

    func precedes(_ other: OrderElement) -> Bool {
        switch (self, other) {
        case let (.number(x), .number(y)) where Self.plain.contains(x) && Self.plain.contains(y): return x < y
        case let (.fingerprint(x), .fingerprint(y)): return x < y
        default: return text < other.text
        }
    }
}

/// Where a finding comes from: a trace's own replay, or the graph checks (which see the
/// facts of every trace, and are run again when the graph is rebuilt).
public enum FindingScope: Sendable {
    case trace
    case graph
}
