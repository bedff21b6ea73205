/// Graph findings reported before their text is made (`CheckerContext.reportGraphFindingOnce`):
/// of each, what a finding set places and counts it by (rule, severity, key, count), where it
/// stands among the graph's findings, and what makes it. Some 80 bytes and its key's bytes a
/// finding (the entry 48, its maker's captures 32): as a stand-in `Finding` in the graph's
/// set, empty but for those, it took 200 and its key's string 63 more, and a million cycles
/// kept a million of them.
///
/// A finding may be added again before it is made (a cycle closed again through other
/// dependencies): the first stands, the others are dropped, uncounted, when the entries are
/// indexed. That is done when a finding is looked up or made, not as each is added: `analyze
/// --quiet` asks only for their rules and severities, and each new key looked up in the
/// index was a cache miss (a million cycles: 306 samples of the checks after the last event).
struct PendingFindings {
    struct Entry {
        var make: (CheckerContext) -> Finding
        /// How many times it was met; 0 for one added again, which is dropped.
        var count: Int
        /// Where its key's bytes are in `keyBytes`.
        var keyStart: Int
        var keyLength: Int32
        /// How many of the graph's findings were made when it was reported: it goes after them.
        var madeBefore: Int32
        var rule: Rule
        var severity: Severity

        var keyRange: Range<Int> { keyStart..<keyStart + Int(keyLength) }
    }

    /// In the order reported.
    private(set) var entries = ChunkedArray<Entry>()
    /// Every key's bytes, one after another: keys are compared as bytes (`FindingSet`).
    private var keyBytes: [UInt8] = []
    /// The first entry of each rule and key, among the first `indexed` entries.
    private var index = PositionIndex()
    private var indexed = 0

    var isEmpty: Bool { entries.isEmpty }

    /// Where the entry of `rule` and `key` that stands is.
    mutating func position(of rule: Rule, key: String) -> Int? {
        indexAll()
        return index.position(hash: FindingSet.hash(rule, key)) { entries[$0].rule == rule && entry(at: $0, hasKey: key) }
    }

    /// Whether the entry at `position` has `key`, byte for byte.
    func entry(at position: Int, hasKey key: String) -> Bool {
        let entry = entries[position]
        guard key.utf8.count == Int(entry.keyLength) else { return false }
        return keyBytes[entry.keyRange].elementsEqual(key.utf8)
    }

    /// The key of the entry at `position`.
    func key(at position: Int) -> String {
        String(decoding: keyBytes[entries[position].keyRange], as: UTF8.self)
    }

    /// Adds a finding of `rule`, `severity` and `key`, to go after the first `madeBefore` of
    /// the graph's findings made, counted once (if another of its rule and key is here, the
    /// first stands).
    mutating func add(_ rule: Rule, severity: Severity, key: String, madeBefore: Int, make: @escaping (CheckerContext) -> Finding) {
        precondition(madeBefore < Int(Int32.max), "more than 2^31 - 1 graph findings")
        let start = keyBytes.count
        keyBytes.append(contentsOf: key.utf8)
        entries.append(Entry(
            make: make, count: 1, keyStart: start, keyLength: Int32(keyBytes.count - start), madeBefore: Int32(madeBefore),
            rule: rule, severity: severity))
    }

    /// Indexes the entries added since, the first of each rule and key; another is dropped
    /// (its count 0).
    mutating func indexAll() {
        while indexed < entries.count {
            let position = indexed
            let entry = entries[position]
            let key = keyBytes[entry.keyRange]
            let hash = FindingSet.hash(entry.rule, keyHash: key.withUnsafeBufferPointer(SymbolTable.hash))
            let first = index.position(hash: hash) { other in
                entries[other].rule == entry.rule && keyBytes[entries[other].keyRange].elementsEqual(key)
            }
            if first == nil {
                index.insert(hash: hash, position: position)
            } else {
                entries[position].count = 0
            }
            indexed += 1
        }
    }

    /// Counts the finding of `rule` and `key` `count` times more if it is here: true then.
    mutating func countAgain(_ rule: Rule, key: String, by count: Int) -> Bool {
        guard let position = position(of: rule, key: key) else { return false }
        entries[position].count = FindingSet.sum(entries[position].count, count)
        return true
    }

    mutating func removeAll() { self = PendingFindings() }
}
