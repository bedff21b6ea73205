/// Every graph fact of an analysis, each kept once with its least evidence: the least by
/// (trace file name, order within that trace), whichever trace or summary showed it first.
/// The graph checks see the facts in that order, so what they find depends on the facts
/// alone, never on the order in which traces were read or summaries merged (the contract's
/// "first evidence is the least by (file, line), not the first seen").
///
/// The checks see the facts once all are in (`needsCheck`: the analysis rebuilds the graph
/// from the log, in order, before it reports), so that every dependency is known before the
/// first is checked. Where findings are wanted as the replay meets them (the timeline), the
/// log hands each new fact to the checks at once (`apply`) while traces come in the order of
/// their names (one trace; a shell glob), each new fact being the greatest so far; a trace
/// that comes before one read already, or a summary, makes the log `isOutOfOrder`, and the
/// checks see all again at the end.
public final class GraphFactLog {
    /// A fact, with the trace that showed it and its place among that trace's facts (kept
    /// packed: `PackedFacts`).
    struct Entry {
        var fact: GraphFact
        /// The analysis's file index of the trace that showed it.
        var file: Int
        /// Its place among the facts that trace showed (2^31 facts of one trace would take
        /// some 77 GB).
        var sequence: Int
    }

    /// Packed (`PackedFacts`), in chunks: as an array of whole facts, 96 bytes an entry,
    /// doubling as it grew, the log was the most memory an analysis took afresh from the
    /// kernel (28 MB of 61 MB on a trace of 32k new classes, 105 MB at 100k).
    @exclusivity(unchecked) private(set) var entries = PackedFacts()
    /// Where the log holds each fact, by its key: a class's usage bits and uses by the class
    /// (`ClassFactIndex`), the others by a hash of the key.
    @exclusivity(unchecked) private var index = PositionIndex()
    @exclusivity(unchecked) private var classFacts = ClassFactIndex()
    /// Whether `index` and `classFacts` hold every entry of theirs. The checks let go of them
    /// while they run (`letGoOfIndex`): they find each fact they add by the one being checked,
    /// and the graph they build is then the most an analysis holds (125k short cycles: these
    /// two were 12 MB of a 142 MB peak). Each is made again when a key of its own is next
    /// looked up: the class facts where a check cites a usage bit's site or a use (an irq or
    /// NMI finding), the others in the next trace.
    @exclusivity(unchecked) private(set) var isIndexedByHash = true
    @exclusivity(unchecked) private(set) var classFactsAreIndexed = true
    /// The trace being replayed, and what its facts are numbered by.
    @exclusivity(unchecked) private var currentFile = -1
    @exclusivity(unchecked) private var sequence = 0
    /// By file index: whether that trace's name is at most the current one's (its facts are
    /// no greater than the current trace's): 1 yes, 0 no, -1 not compared yet. Compared when
    /// first asked, so that a run of thousands of traces compares names as it needs to, not
    /// each with each.
    @exclusivity(unchecked) private var precedesCurrent: [Int8] = []
    @exclusivity(unchecked) private var currentName = ""
    @exclusivity(unchecked) private var greatestName: String?
    /// The name of each file index, as the analysis numbers them.
    private let fileNames: () -> [String]
    /// Where a fact goes when it is the greatest so far, when the checks run as the replay
    /// learns the facts (the timeline's findings, in place).
    @exclusivity(unchecked) var apply: ((GraphFact) -> Void)?

    /// Told the position of an entry about to be replaced by one with lesser evidence (the
    /// graph keeps the sites its edges showed, until the checks see the log again).
    @exclusivity(unchecked) var willReplace: ((Int) -> Void)?

    /// What reads dependency facts by their position and keeps the positions (`GraphFactLogReader`):
    /// each is told once before an entry is first replaced, and copies what it reads then.
    @exclusivity(unchecked) private var readers: [Reader] = []

    /// A reader, weakly held. Not unowned, leaving the list in its deinit (6da3ba9): a report
    /// that holds a store of cycles may be dropped on another thread while the analysis goes
    /// on, and that deinit would then change the list as this thread walks it (helper-144).
    /// The side table a weak reference gives its object costs each retain and release of a
    /// cycles' store a slower path: some 6M instructions over 16k cycles, 0.45%.
    private struct Reader {
        weak var reader: (any GraphFactLogReader)?
    }

    /// Whether some fact came before one already checked: the checks must see them all again,
    /// in order (`sortedEntries`).
    @exclusivity(unchecked) private(set) var isOutOfOrder = false {
        didSet { if isOutOfOrder { entriesInOrder = false } }
    }

    /// Whether `entries` are in the order of their evidence, no fact having ever come out of
    /// it (checking the graph again does not sort them).
    @exclusivity(unchecked) private var entriesInOrder = true

    /// Whether the log holds facts the checks have not seen (in order) yet.
    @exclusivity(unchecked) public private(set) var needsCheck = false

    /// The fact the checks are applying now, set by `GraphChecks.rebuild` (`willCheck`): where
    /// the log holds it, its key, and its sites as the checks decoded it, taken as a guess.
    /// When the graph asks for the position of the fact it adds or the bit it sets, this is
    /// tried first: if its key is the one asked for, it is that key's position (a key is held
    /// once in the log), and the index is not probed (a random read of a table of megabytes at
    /// 100k classes); a wrong guess costs one comparison of keys, then the probe. A guess that
    /// hits compares the sites asked about with these instead of decoding the log's two packed
    /// sites again for each edge the graph adds and bit it sets (that took 15M of a rebuild's
    /// 228M instructions at 16k cycles, stop 57 in docs/performance.md). They are the log's:
    /// the checks do not change the log (facts are recorded and merged by the replay and the
    /// summaries' reading, never while `rebuild` runs).
    @exclusivity(unchecked) private var beingChecked: (position: Int, key: GraphFactKey, site: EventSite, other: EventSite?)?

    init(fileNames: @escaping () -> [String]) { self.fileNames = fileNames }

    /// Where the log holds the fact of `key`.
    @inline(__always) private func position(of key: GraphFactKey) -> Int? {
        if let bit = ClassFactIndex.bit(of: key) {
            if !classFactsAreIndexed { indexAgain(classFacts: true) }
            return classFacts.position(of: key.a, bit: bit) { entries.key(at: $0) == key }
        }
        if !isIndexedByHash { indexAgain(classFacts: false) }
        return index.position(hash: key.indexHash) { entries.key(at: $0) == key }
    }

    /// Asks for the cache line where looking `key` up begins, when the log indexes it by
    /// hash (a usage bit or a use is found by its class, in a table read in order).
    @inline(__always) func prefetch(_ key: GraphFactKey) {
        guard isIndexedByHash, ClassFactIndex.bit(of: key) == nil else { return }
        index.prefetch(hash: key.indexHash)
    }

    /// Indexes the fact of `key` at `position`, none of `key` being here.
    @inline(__always) private func insert(_ key: GraphFactKey, position: Int) {
        if let bit = ClassFactIndex.bit(of: key) {
            if !classFactsAreIndexed { indexAgain(classFacts: true) }
            classFacts.insert(key.a, bit: bit, position: position)
        } else {
            if !isIndexedByHash { indexAgain(classFacts: false) }
            index.insert(hash: key.indexHash, position: position)
        }
    }

    /// Lets go of the index of the facts by their keys, until a key is next looked up.
    func letGoOfIndex() {
        (index, classFacts) = (PositionIndex(), ClassFactIndex())
        (isIndexedByHash, classFactsAreIndexed) = (false, false)
    }

    /// Indexes again every entry of the class facts' index or of the other (`letGoOfIndex`),
    /// in room taken once: grown by doubling, old and new tables were held at once.
    private func indexAgain(classFacts wanted: Bool) {
        var (count, classes) = (0, 0)
        for position in entries.indices {
            let key = entries.key(at: position)
            guard (ClassFactIndex.bit(of: key) != nil) == wanted else { continue }
            count += 1
            classes = max(classes, Int(key.a) + 1)
        }
        if wanted {
            classFactsAreIndexed = true
            classFacts.reserveCapacity(classes: classes)
        } else {
            isIndexedByHash = true
            // And one more: an insert that finds the index let go of adds its key after.
            index.reserveCapacity(count + 1)
        }
        for position in entries.indices {
            let key = entries.key(at: position)
            if let bit = ClassFactIndex.bit(of: key) {
                if wanted { classFacts.insert(key.a, bit: bit, position: position) }
            } else if !wanted {
                index.insert(hash: key.indexHash, position: position)
            }
        }
    }

    /// A trace begins: its facts follow those of every trace with a lesser name.
    func begin(file: Int) {
        let names = fileNames()
        let name = names[file]
        currentFile = file
        currentName = name
        sequence = 0
        precedesCurrent = [Int8](repeating: -1, count: names.count)
        if let greatestName, name < greatestName { isOutOfOrder = true }
        if greatestName.map({ name > $0 }) ?? true { greatestName = name }
    }

    /// Whether the log holds `key` with evidence the current trace cannot better.
    @inline(__always) func knows(_ key: GraphFactKey) -> Bool {
        guard let position = position(of: key) else { return false }
        return precedes(entries.file(at: position))
    }

    /// The fact the log holds for `key`.
    func fact(for key: GraphFactKey) -> GraphFact? { position(of: key).map { entries[$0].fact } }

    /// Whether trace `file`'s facts are no greater than the current trace's.
    private func precedes(_ file: Int) -> Bool {
        if file == currentFile { return true }
        precedesCurrent.grow(toInclude: file, filling: -1)
        if precedesCurrent[file] < 0 { precedesCurrent[file] = fileNames()[file] <= currentName ? 1 : 0 }
        return precedesCurrent[file] == 1
    }

    /// Records a fact of the trace being replayed, unless the log has it with lesser evidence.
    func record(_ fact: GraphFact) {
        let key = fact.key
        if let position = position(of: key) {
            guard !precedes(entries.file(at: position)) else { return }
            willReplaceEntry(at: position)
            entries.replace(
                at: position, with: Entry(fact: fact.combined(with: entries[position].fact), file: currentFile, sequence: sequence))
            sequence += 1
            isOutOfOrder = true
            needsCheck = true
            return
        }
        insert(key, position: entries.count)
        entries.append(Entry(fact: fact, file: currentFile, sequence: sequence), key: key)
        sequence += 1
        if !isOutOfOrder, let apply {
            apply(fact)
        } else {
            needsCheck = true
        }
    }

    /// Tells the graph (`willReplace`) and every reader that the entry at `position` is about
    /// to be replaced.
    private func willReplaceEntry(at position: Int) {
        willReplace?(position)
        guard !readers.isEmpty else { return }
        let told = readers
        readers = []
        for reader in told { reader.reader?.logWillReplaceEntries() }
    }

    /// Tells `reader` before an entry is first replaced (`GraphFactLogReader`), if it is
    /// still there (the list drops those gone as it takes a new one).
    func addReader(_ reader: any GraphFactLogReader) {
        readers.removeAll { $0.reader == nil }
        readers.append(Reader(reader: reader))
    }

    /// The position of the dependency fact the log holds as `fact` is, modes and moment alike.
    func position(of fact: DependencyFact) -> Int? {
        guard let position = position(of: fact.dependency), let kept = dependencyFact(at: position),
            kept.holderMode == fact.holderMode, kept.nextMode == fact.nextMode, kept.moment == fact.moment
        else { return nil }
        return position
    }

    /// The dependency fact at `position`, if it is one.
    func dependencyFact(at position: Int) -> DependencyFact? {
        guard case .dependency(let fact) = entries[position].fact else { return nil }
        return fact
    }

    /// The sites of the fact at `position`: a dependency's site, and its holder's.
    func sites(at position: Int) -> (site: EventSite, other: EventSite?) { entries.sites(at: position) }

    /// One more meeting of a counted fact (an NMI acquisition) known from this trace or a
    /// lesser one: its count grows, whichever trace's evidence it keeps.
    func countAgain(_ key: GraphFactKey) {
        guard let position = position(of: key) else { return }
        let kept = entries[position].fact
        guard case .nmiAcquire(var one) = kept else { return }
        one.count = 1
        guard case .nmiAcquire(let combined) = kept.combined(with: .nmiAcquire(one)) else { return }
        entries.setNMICount(combined.count, at: position)
    }

    /// Whether a fact of `key` from trace `file`, `sequence`th of its facts, would be kept
    /// (it is new, or its evidence is less than the kept one's).
    func wouldKeep(_ key: GraphFactKey, file: Int, sequence: Int) -> Bool {
        guard let position = position(of: key) else { return true }
        let names = fileNames()
        return (names[file], sequence) < (names[entries.file(at: position)], entries.sequence(at: position))
    }

    /// Adds a fact read from a summary, where it was the `sequence`th of trace `file`.
    func merge(_ fact: GraphFact, file: Int, sequence: Int) {
        let key = fact.key
        isOutOfOrder = true
        needsCheck = true
        let names = fileNames()
        if let position = position(of: key) {
            let kept = entries[position]
            let replaces = (names[file], sequence) < (names[kept.file], kept.sequence)
            if replaces { willReplaceEntry(at: position) }
            // The least evidence stays, with what the other adds (a counted fact's count).
            if replaces {
                entries.replace(at: position, with: Entry(fact: fact.combined(with: kept.fact), file: file, sequence: sequence))
            } else if case .nmiAcquire(let combined) = kept.fact.combined(with: fact) {
                // The kept entry stays as it is packed, but for its count.
                entries.setNMICount(combined.count, at: position)
            }
        } else {
            insert(key, position: entries.count)
            entries.append(Entry(fact: fact, file: file, sequence: sequence), key: key)
        }
        if greatestName.map({ names[file] > $0 }) ?? true { greatestName = names[file] }
    }

    /// The log's entries in the order the checks see them: the log itself when its facts came
    /// in that order, else its positions put in that order (4 bytes an entry, where a sorted
    /// copy of the entries took 96).
    struct Entries: RandomAccessCollection {
        fileprivate let log: PackedFacts
        /// The log's positions in order; nil when that is the log's own order.
        fileprivate let order: [Int32]?

        var startIndex: Int { 0 }
        var endIndex: Int { log.count }
        subscript(index: Int) -> Entry { log[position(at: index)] }

        /// Where the log holds the entry at `index`.
        func position(at index: Int) -> Int { order.map { Int($0[index]) } ?? index }
    }

    /// Every fact, least evidence first: the order the checks must see them in.
    func sortedEntries() -> Entries {
        // In order already: each new fact was the greatest so far.
        if entriesInOrder { return Entries(log: entries, order: nil) }
        let names = fileNames()
        // Files ranked by name once, not compared as strings per pair.
        let ranks = Dictionary(uniqueKeysWithValues: Set(names).sorted().enumerated().map { ($1, $0) })
        let rank = names.map { ranks[$0]! }
        // The position last, as the stable sort of the entries themselves kept equal ones.
        let order = (0..<Int32(entries.count)).sorted {
            let (a, b) = (Int($0), Int($1))
            let (fileA, fileB) = (entries.file(at: a), entries.file(at: b))
            return (rank[fileA], entries.sequence(at: a), fileA, a) < (rank[fileB], entries.sequence(at: b), fileB, b)
        }
        return Entries(log: entries, order: order)
    }

    /// The position of the fact that shows `dependency` with the same sites, if the log has
    /// it: where the graph finds the sites of the edge it made.
    func position(of dependency: LockDependency) -> Int? {
        let key = GraphFact.dependencyKey(dependency.from, dependency.to, dependency.kind, dependency.types)
        guard let (position, site, other) = guess(key) ?? withSites(position(of: key)) else { return nil }
        guard other == dependency.holderSite, site == dependency.site else { return nil }
        return position
    }

    /// The position of the fact that gives `id` its `bit` at `site`, if the log has it: where
    /// the graph finds the site of the bit it set.
    func position(ofUsage bit: LockUsage.Bit, for id: ClassID, at site: EventSite) -> Int? {
        let key = GraphFact.usageKey(id, bit)
        guard let found = guess(key) ?? withSites(position(of: key)), found.site == site else { return nil }
        return found.position
    }

    /// `position`, and the sites of the fact the log holds there.
    @inline(__always) private func withSites(_ position: Int?) -> (position: Int, site: EventSite, other: EventSite?)? {
        guard let position else { return nil }
        let sites = entries.sites(at: position)
        return (position, sites.site, sites.other)
    }

    /// The site of the fact that gives `id` its `bit`, if the log has one.
    func usageSite(of bit: LockUsage.Bit, for id: ClassID) -> EventSite? {
        position(of: GraphFact.usageKey(id, bit)).map { entries.sites(at: $0).site }
    }

    /// The checks apply `fact` next (`GraphChecks.rebuild`): the log's own fact at `position`,
    /// as decoded from it, never another (its sites answer for the log's until `didCheck`).
    func willCheck(_ fact: GraphFact, at position: Int) {
        let (site, other) = fact.sites
        beingChecked = (position, fact.key, site, other)
    }

    /// The checks have applied the last fact; no position is guessed.
    func didCheck() { beingChecked = nil }

    /// The position of the fact being checked, and its sites, if that fact has `key` and is
    /// the log's there: a key is held at one position of the log only (`record` and `merge`
    /// replace its entry in place), so that is the one; and no entry changes while the checks
    /// run, so the sites kept by `willCheck` are still the ones there.
    @inline(__always) private func guess(_ key: GraphFactKey) -> (position: Int, site: EventSite, other: EventSite?)? {
        guard let checked = beingChecked, checked.key == key, entries.indices.contains(checked.position),
            entries.key(at: checked.position) == key
        else { return nil }
        assert(entries.sites(at: checked.position) == (checked.site, checked.other), "the fact being checked is not the log's at \(checked.position)")
        return (checked.position, checked.site, checked.other)
    }

    /// The usage fact at `position`, if it is one.
    func usage(at position: Int) -> UsageFact? {
        guard case .usage(let fact) = entries[position].fact else { return nil }
        return fact
    }

    /// The dependency of the fact at `position`, if it is a dependency fact.
    func dependency(at position: Int) -> LockDependency? { dependencyFact(at: position)?.dependency }

    /// The checks have seen every fact in order again.
    func markChecked() {
        isOutOfOrder = false
        needsCheck = false
    }
}

/// Something that keeps positions of a `GraphFactLog`'s dependency facts and reads them later
/// (a cycle's pending finding: `GraphFactLog.addReader`). An entry replaced (lesser evidence
/// from a later trace or a summary) would change what it reads: it is told before, once.
protocol GraphFactLogReader: AnyObject {
    /// An entry is about to be replaced: copy what is read from the log, and read it no more.
    func logWillReplaceEntries()
}
