/// What makes the graph findings reported before their text (`PendingFindings`): each by the
/// number it was given when reported. It keeps what they are made from, and is kept for as
/// long as they are pending, or a report's `FindingList` reads them.
protocol PendingFindingMaker: AnyObject {
    /// The key of finding `number`: the one the finding made will have.
    func key(of number: Int) -> String
    /// Finding `number`, its text made now.
    func finding(_ number: Int) -> Finding
    /// How many places finding `number` cites (its `locations`), and place `index` of them:
    /// what the order of findings reads first, read without making the finding
    /// (`FindingList`).
    func locationCount(of number: Int) -> Int
    func place(_ index: Int, of number: Int) -> (file: String, line: Int, column: Int, event: Int)
    /// The `baseFingerprintValue` finding `number` will have, made without its text.
    func baseFingerprint(of number: Int) -> UInt64
    /// Lets go of what its findings are made from: they were made, or dropped (the graph
    /// checked again). The pending findings call it as they let go of it; it may be given
    /// findings again after, numbered from 0. One handed out keeps them.
    func discard()
    /// A `FindingList` reads its findings from now on (`CheckerContext.findingList`): it
    /// keeps what they are made from, as long as the list does, and is given no more.
    func handOut()
}

/// Graph findings reported before their text is made (`CheckerContext.reportGraphFindingOnce`):
/// of each, what a finding set places and counts it by (rule, severity, its key's hash,
/// count), where it stands among the graph's findings, and its maker and number. 32 bytes a
/// finding: as a stand-in `Finding` in the graph's set, empty but for those, it took 200 and
/// its key's string 63 more, and a million cycles kept a million of them; with a closure for
/// a maker and its key's bytes, some 80 and the key's bytes (stop 55).
///
/// A key is made by its maker when it is compared (two findings of one hash) or read, and
/// for its hash when the entries are indexed if it was not given: the maker keeps what the
/// finding is made from, which gives its key as well. `analyze --quiet` indexes none, and a
/// million cycles' keys are then never made (unless a trace found something of their rule:
/// `CheckerContext.hasFinding` then looks for each among the traces' findings).
///
/// A finding may be added again before it is made (a cycle closed again through other
/// dependencies): the first stands, the others are dropped, uncounted, when the entries are
/// indexed. That is done when a finding is looked up or made, not as each is added: `analyze
/// --quiet` asks only for their rules and severities, and each new key looked up in the
/// index was a cache miss (a million cycles: 306 samples of the checks after the last event).
struct PendingFindings {
    struct Entry {
        /// Its rule and key's hash (`FindingSet.hash`), if known (`hasHash`): given where it
        /// was added, else made when it is indexed.
        var hash: UInt64
        /// How many times it was met; 0 for one added again, which is dropped.
        var count: Int
        /// Its number for its maker.
        var number: Int32
        /// How many of the graph's findings were made when it was reported: it goes after them.
        var madeBefore: Int32
        /// Its maker's place in `makers`.
        var maker: UInt32
        var rule: Rule
        var severity: Severity
        var hasHash: Bool
    }

    /// In the order reported.
    private(set) var entries = ChunkedArray<Entry>()
    /// The makers of the entries, each once where its entries came one after another.
    private var makers: [any PendingFindingMaker] = []
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
        self.key(at: position).utf8.elementsEqual(key.utf8)
    }

    /// The key of the entry at `position`, made by its maker.
    func key(at position: Int) -> String {
        let entry = entries[position]
        return makers[Int(entry.maker)].key(of: Int(entry.number))
    }

    /// The finding of the entry at `position`, made by its maker.
    func finding(at position: Int) -> Finding {
        let entry = entries[position]
        return makers[Int(entry.maker)].finding(Int(entry.number))
    }

    /// The finding of the entry at `position`, made by its maker, with the entry's count; its
    /// rule, severity and key's hash checked against the entry's (its key made again would
    /// cost as much as the rest), and in a debug build its key's bytes.
    func madeFinding(at position: Int) -> Finding {
        let entry = entries[position]
        var finding = finding(at: position)
        precondition(
            finding.rule == entry.rule && finding.severity == entry.severity && FindingSet.hash(finding.rule, finding.key) == entry.hash,
            "a finding made for another's place")
        assert(self.entry(at: position, hasKey: finding.key), "a finding made with another's key")
        finding.count = entry.count
        return finding
    }

    /// How many places the finding of the entry at `position` cites, and place `index` of them
    /// (`PendingFindingMaker.place`).
    func locationCount(at position: Int) -> Int {
        let entry = entries[position]
        return makers[Int(entry.maker)].locationCount(of: Int(entry.number))
    }

    func place(_ index: Int, at position: Int) -> (file: String, line: Int, column: Int, event: Int) {
        let entry = entries[position]
        return makers[Int(entry.maker)].place(index, of: Int(entry.number))
    }

    /// The base fingerprint of the finding of the entry at `position`, made without its text.
    func baseFingerprint(at position: Int) -> UInt64 {
        let entry = entries[position]
        return makers[Int(entry.maker)].baseFingerprint(of: Int(entry.number))
    }

    /// Adds a finding of `rule` and `severity`, which `maker` makes as its `number`, to go
    /// after the first `madeBefore` of the graph's findings made, counted once (if another of
    /// its rule and key is here, the first stands). `hash` is its rule and key's
    /// (`FindingSet.hash`) if the caller made its key; else the key is made when the entries
    /// are indexed.
    mutating func add(
        _ rule: Rule, severity: Severity, hash: UInt64?, madeBefore: Int, maker: any PendingFindingMaker, number: Int
    ) {
        precondition(madeBefore < Int(Int32.max), "more than 2^31 - 1 graph findings")
        precondition(number < Int(Int32.max), "a finding's number past 2^31 - 2")
        if makers.last.map({ $0 !== maker }) ?? true {
            precondition(makers.count < Int(UInt32.max), "more than 2^32 - 1 makers of pending findings")
            makers.append(maker)
        }
        entries.append(Entry(
            hash: hash ?? 0, count: 1, number: Int32(number), madeBefore: Int32(madeBefore),
            maker: UInt32(makers.count - 1), rule: rule, severity: severity, hasHash: hash != nil))
    }

    /// Indexes the entries added since, the first of each rule and key; another is dropped
    /// (its count 0).
    mutating func indexAll() {
        while indexed < entries.count {
            let position = indexed
            var key: String?
            if !entries[position].hasHash {
                key = self.key(at: position)
                entries[position].hash = FindingSet.hash(entries[position].rule, key!)
                entries[position].hasHash = true
            }
            let entry = entries[position]
            // Keys compared only where the hashes agree: nearly always the same cycle met again.
            let first = index.position(hash: entry.hash) { other in
                guard entries[other].rule == entry.rule, entries[other].hash == entry.hash else { return false }
                if key == nil { key = self.key(at: position) }
                return self.entry(at: other, hasKey: key!)
            }
            if first == nil {
                index.insert(hash: entry.hash, position: position)
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

    /// Lets go of every entry, and has each maker let go of what its findings are made from
    /// (but one handed out).
    mutating func removeAll() {
        for maker in makers { maker.discard() }
        self = PendingFindings()
    }

    /// Hands each maker out to a `FindingList` (`PendingFindingMaker.handOut`).
    func handOut() {
        for maker in makers { maker.handOut() }
    }
}
