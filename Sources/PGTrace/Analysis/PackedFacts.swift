/// The fact log's entries, each packed into 32 bytes: its key (`GraphFactKey`: kind, classes,
/// bit), its modes, its trace and place among that trace's facts, its moment, and its sites by
/// their place in a table of sites kept once each, in 24 bytes a site (`SiteTable`).
///
/// Why: an entry holding its fact whole (`GraphFact`, two sites of 32 bytes in it) was 96
/// bytes, and the log keeps one for every dependency, usage bit and class used: on the graph
/// of a million dependencies, half of what the analysis held. The facts of one event share
/// its site (a class's first use, its usage bits, the dependency its lock closes), and a
/// dependency's holder is a lock taken a few events before: a site is looked up in a small
/// cache of the sites kept lately (`SiteCache`) before it is kept again.
///
/// Facts are read back whole (`subscript`), keys without their sites (`key(at:)`). An entry
/// replaced (lesser evidence from another trace or summary) leaves its sites in the table,
/// where other entries may still use them; once the sites so left are counted at half of
/// the table (and past 4,096), the table is made again from the sites the entries use
/// (`compactSites`), which bounds it by the facts, whatever the number of replacements.
struct PackedFacts: RandomAccessCollection {
    fileprivate struct Packed {
        var key: GraphFactKey
        var site: Int32
        /// Usage: the lock's site; dependency: the holder's; else -1.
        var otherSite: Int32
        /// -1 for none (a dependency made by no lock-order acquisition).
        var moment: Int32
        /// The file + 1 in the low 25 bits (an analysis reads at most `EventSite.maximumFiles`;
        /// -1 is a fact of no trace's, as a log the replay fills without one has), the modes in
        /// the high 7: 32 bytes an entry, where a byte of its own made it 36.
        private var fileAndModes: UInt32
        var sequence: Int32

        init(key: GraphFactKey, modes: UInt8, site: Int32, otherSite: Int32, moment: Int32, file: Int, sequence: Int32) {
            precondition((-1..<EventSite.maximumFiles).contains(file) && modes < 1 << 7, "a fact of file \(file), modes \(modes)")
            self.key = key
            self.site = site
            self.otherSite = otherSite
            self.moment = moment
            fileAndModes = UInt32(modes) << 25 | UInt32(file + 1)
            self.sequence = sequence
        }

        /// Usage: the lock's mode; dependency: the holder's mode, and the next lock's above it
        /// (two bits each); NMI acquisition: its mode.
        var modes: UInt8 { UInt8(truncatingIfNeeded: fileAndModes >> 25) }
        var file: Int32 { Int32(bitPattern: fileAndModes & ((1 << 25) - 1)) - 1 }
    }

    /// The bytes an entry takes (for tests).
    static var bytesPerEntry: Int { MemoryLayout<Packed>.stride }

    /// How many sites the table holds (for tests).
    var sitesKept: Int { sites.count }

    private var packed = ChunkedArray<Packed>()
    private var sites = SiteTable()
    private var cache = SiteCache()
    private var lastKept: (site: EventSite, index: Int32)?
    /// The count of each NMI acquisition fact, by position (the only fact with a count).
    private var nmiCounts: [Int32: Int] = [:]
    /// Sites left by replaced entries since the table was last made, counted whether or not
    /// another entry uses them too.
    private var sitesLeft = 0

    var startIndex: Int { 0 }
    var endIndex: Int { packed.count }

    /// The entry at `position`, its fact made whole.
    subscript(position: Int) -> GraphFactLog.Entry {
        let entry = packed[position]
        return GraphFactLog.Entry(fact: fact(entry, at: position), file: Int(entry.file), sequence: Int(entry.sequence))
    }

    /// The key of the fact at `position`, its sites unread.
    @inline(__always) func key(at position: Int) -> GraphFactKey { packed[position].key }

    /// The analysis's file index of the trace that showed the fact at `position`.
    func file(at position: Int) -> Int { Int(packed[position].file) }

    /// The place of the fact at `position` among the facts its trace showed.
    func sequence(at position: Int) -> Int { Int(packed[position].sequence) }

    /// The fact's site (where a bit was set, a dependency made, a class used, a lock taken in
    /// NMI), and the lock's (usage) or the holder's (dependency).
    func sites(at position: Int) -> (site: EventSite, other: EventSite?) {
        let entry = packed[position]
        return (sites[Int(entry.site)], entry.otherSite < 0 ? nil : sites[Int(entry.otherSite)])
    }

    /// The classes of the dependency at `position` (nil for another fact), its sites unread.
    func dependencyEnds(at position: Int) -> (from: ClassID, to: ClassID)? { Self.dependencyEnds(of: packed[position].key) }

    /// The classes of every dependency, in the log's order, their sites unread: a walk of the
    /// chunks, where the graph checks read the log twice before they begin.
    var dependencyEnds: DependencyEnds { DependencyEnds(packed: packed) }

    /// The classes of every dependency of the log, read again from its start by each walk: a
    /// loop over the chunks that skips other facts in place (in the graph checks' two walks,
    /// most facts are not dependencies: usage bits and uses).
    struct DependencyEnds: Sequence {
        fileprivate let packed: ChunkedArray<Packed>

        struct Iterator: IteratorProtocol {
            fileprivate var entries: ChunkedArray<Packed>.Iterator

            @inline(__always)
            mutating func next() -> (from: ClassID, to: ClassID)? {
                while let entry = entries.next() {
                    if let ends = PackedFacts.dependencyEnds(of: entry.key) { return ends }
                }
                return nil
            }
        }

        func makeIterator() -> Iterator { Iterator(entries: packed.makeIterator()) }
    }

    private static func dependencyEnds(of key: GraphFactKey) -> (from: ClassID, to: ClassID)? {
        key.isDependency ? (key.a, key.b) : nil
    }

    /// Appends `entry`, whose fact's key is `key`.
    mutating func append(_ entry: GraphFactLog.Entry, key: GraphFactKey) {
        let position = packed.count
        packed.append(pack(entry, key: key, at: position))
    }

    /// Puts `entry` where the entry at `position` was.
    mutating func replace(at position: Int, with entry: GraphFactLog.Entry) {
        sitesLeft += packed[position].otherSite < 0 ? 1 : 2
        packed[position] = pack(entry, key: entry.fact.key, at: position)
        if sitesLeft > 4_096, sitesLeft * 2 > sites.count { compactSites() }
    }

    /// Sets the count of the NMI acquisition fact at `position`.
    mutating func setNMICount(_ count: Int, at position: Int) {
        nmiCounts[Int32(position)] = count
    }

    private mutating func pack(_ entry: GraphFactLog.Entry, key: GraphFactKey, at position: Int) -> Packed {
        let fact = entry.fact
        var modes: UInt8 = 0
        let (site, otherSite) = fact.sites
        var moment: MomentID?
        switch fact {
        case .usage(let usage):
            modes = Self.code(usage.lockMode)
            moment = usage.moment
        case .dependency(let dependency):
            modes = Self.code(dependency.holderMode) | Self.code(dependency.nextMode) << 2
            moment = dependency.moment
        case .used:
            break
        case .nmiAcquire(let acquire):
            modes = Self.code(acquire.mode)
            moment = acquire.moment
            nmiCounts[Int32(position)] = acquire.count
        }
        let siteIndex = keep(site)
        return Packed(
            key: key, modes: modes, site: siteIndex, otherSite: otherSite.map { keep($0) } ?? -1,
            moment: moment?.index ?? -1, file: entry.file, sequence: Int32(entry.sequence))
    }

    private func fact(_ entry: Packed, at position: Int) -> GraphFact {
        let key = entry.key
        switch key.kind {
        case .usage:
            return .usage(UsageFact(
                classID: key.a, bit: LockUsage.Bit(index: key.detail.trailingZeroBitCount), site: sites[Int(entry.site)],
                lockSite: sites[Int(entry.otherSite)], lockMode: Self.mode(entry.modes & 3),
                moment: MomentID(index: entry.moment)))
        case .lockOrder, .ipi, .kmap:
            let kind = key.kind.dependencyKind!
            let dependency = LockDependency(
                from: key.a, to: key.b, kind: kind, types: DependencyTypes(rawValue: UInt8(key.detail)),
                holderSite: sites[Int(entry.otherSite)], site: sites[Int(entry.site)])
            return .dependency(DependencyFact(
                dependency: dependency, holderMode: Self.mode(entry.modes & 3), nextMode: Self.mode(entry.modes >> 2 & 3),
                moment: entry.moment < 0 ? nil : MomentID(index: entry.moment)))
        case .used:
            return .used(classID: key.a, read: key.detail & 1 != 0, site: sites[Int(entry.site)])
        case .nmiAcquire:
            return .nmiAcquire(NmiAcquireFact(
                key: LockClassKey(name: Symbol(rawValue: key.a), subclass: Int(key.b)), mode: Self.mode(entry.modes & 3),
                afterUse: key.detail & 2 != 0, site: sites[Int(entry.site)], moment: MomentID(index: entry.moment),
                count: nmiCounts[Int32(position)] ?? 1))
        }
    }

    /// The place of `site` in the table: where the cache says it is, else a new one.
    private mutating func keep(_ site: EventSite) -> Int32 {
        // The facts of one event come one after another.
        if let last = lastKept, last.site == site { return last.index }
        let index: Int32
        if let cached = cache.index(of: site, in: sites) {
            index = cached
        } else {
            index = Int32(sites.count)
            sites.append(site)
            cache.remember(site, at: index)
        }
        lastKept = (site, index)
        return index
    }

    /// Makes the table of sites again from the sites the entries use.
    private mutating func compactSites() {
        let old = sites
        sites = SiteTable()
        cache = SiteCache()
        lastKept = nil
        for position in packed.indices {
            let entry = packed[position]
            packed[position].site = keep(old[Int(entry.site)])
            if entry.otherSite >= 0 { packed[position].otherSite = keep(old[Int(entry.otherSite)]) }
        }
        sitesLeft = 0
    }

    /// A mode in two bits: lockdep's `read` value.
    private static func code(_ mode: LockMode) -> UInt8 { UInt8(mode.lockdepRead) }

    private static func mode(_ code: UInt8) -> LockMode { LockMode(lockdepRead: Int(code)) }
}

/// The places of sites kept lately, 256 of them, by a hash of the site's place: the facts of
/// an event and the dependencies made under a lock taken a few events before find their
/// sites kept once.
private struct SiteCache {
    private var slots = [Int32](repeating: -1, count: 256)

    func index(of site: EventSite, in sites: SiteTable) -> Int32? {
        let index = slots[Self.slot(site)]
        return index >= 0 && sites[Int(index)] == site ? index : nil
    }

    mutating func remember(_ site: EventSite, at index: Int32) { slots[Self.slot(site)] = index }

    private static func slot(_ site: EventSite) -> Int { Int(truncatingIfNeeded: site.placeHash >> 56) }
}
