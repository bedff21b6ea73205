/// Graph findings reported before their text is made (`CheckerContext.reportGraphFindingOnce`):
/// of each, what a finding set places and counts it by (rule, severity, key, count), where it
/// stands among the graph's findings, and what makes it. Some 60 bytes and its key's bytes a
/// finding: as a stand-in `Finding` in the graph's set, empty but for those, it took 200 and
/// its key's string 63 more, and a million cycles kept a million of them.
struct PendingFindings {
    struct Entry {
        var make: (CheckerContext) -> Finding
        var count: Int
        /// Where its key's bytes are in `keyBytes`.
        var keyStart: Int
        var keyLength: Int32
        /// Its place among the graph's findings, made and pending, in the order reported.
        var place: Int32
        var rule: Rule
        var severity: Severity
    }

    /// In the order reported, which is the order of their places.
    private(set) var entries = ChunkedArray<Entry>()
    /// Every key's bytes, one after another: keys are compared as bytes (`FindingSet`).
    private var keyBytes: [UInt8] = []
    private var index = PositionIndex()

    var isEmpty: Bool { entries.isEmpty }

    /// Where the entry of `rule` and `key` is.
    func position(of rule: Rule, key: String) -> Int? {
        index.position(hash: FindingSet.hash(rule, key)) { entries[$0].rule == rule && entry(at: $0, hasKey: key) }
    }

    /// Whether the entry at `position` has `key`, byte for byte.
    func entry(at position: Int, hasKey key: String) -> Bool {
        let entry = entries[position]
        guard key.utf8.count == Int(entry.keyLength) else { return false }
        return keyBytes[entry.keyStart..<entry.keyStart + Int(entry.keyLength)].elementsEqual(key.utf8)
    }

    /// The key of the entry at `position`.
    func key(at position: Int) -> String {
        let entry = entries[position]
        return String(decoding: keyBytes[entry.keyStart..<entry.keyStart + Int(entry.keyLength)], as: UTF8.self)
    }

    /// Adds a finding of `rule`, `severity` and `key`, none of which is here, to stand at
    /// `place` among the graph's findings, counted once.
    mutating func add(_ rule: Rule, severity: Severity, key: String, place: Int, make: @escaping (CheckerContext) -> Finding) {
        precondition(place < Int(Int32.max), "more than 2^31 - 1 graph findings")
        index.insert(hash: FindingSet.hash(rule, key), position: entries.count)
        let start = keyBytes.count
        keyBytes.append(contentsOf: key.utf8)
        entries.append(Entry(
            make: make, count: 1, keyStart: start, keyLength: Int32(keyBytes.count - start), place: Int32(place), rule: rule,
            severity: severity))
    }

    /// Counts the finding of `rule` and `key` `count` times more if it is here: true then.
    mutating func countAgain(_ rule: Rule, key: String, by count: Int) -> Bool {
        guard let position = position(of: rule, key: key) else { return false }
        entries[position].count = FindingSet.sum(entries[position].count, count)
        return true
    }

    mutating func removeAll() { self = PendingFindings() }
}
