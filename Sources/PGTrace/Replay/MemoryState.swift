/// The page-table side of the machine, owned by the replay engine: pgds and pgd_list, the
/// pinning state of page-table pages, unlinked and freed tables, lockless and pgd_list walks,
/// and kmap slots. It remembers live objects, and freed tables until their page is used as a
/// table again (a later unlink of the same page): a walk that touches one is a use-after-free.
/// Freed tables are kept whole in a quarantine of the last `quarantine` frees (as KASAN keeps
/// freed objects); older ones only as a bit each, by symbol, so that memory follows the tables
/// in flight, not the trace's length.
public struct MemoryState: Sendable {
    /// A top-level page table.
    public struct Pgd: Sendable {
        public var allocated: EventSite?
        /// Where it was put on pgd_list, while it is there.
        public var listed: EventSite?
        /// The class of the lock its list_add named (nil: never listed, and guarded by the
        /// list's lock as its events name it: `MemoryState.listLock(of:default:)`).
        public var listLock: Symbol?
        /// Installed entries (pmds), by index, with the event that installed each.
        public var entries: [Int: EventSite] = [:]
    }

    /// A page-table page as Xen sees it: writable or read-only, pinned or not.
    public struct Page: Sendable {
        public var level: PageTableLevel?
        /// The lock instance that guards it (`ptl`), as the last set-ro/set-rw named it.
        public var ptl: Symbol?
        /// Where it was made read-only, while it is.
        public var readOnly: EventSite?
        /// Where it was pinned, while it is.
        public var pinned: EventSite?

        /// What a set-ro or set-rw says of the page, when it says it.
        mutating func note(level: PageTableLevel?, ptl: Symbol?) {
            if let level { self.level = level }
            if let ptl { self.ptl = ptl }
        }
    }

    /// A page-table page on its way out: unlinked, and freed where it was.
    public struct Table: Sendable {
        /// Whether it was unlinked before it was freed (or is unlinked and not yet freed).
        public var wasUnlinked: Bool
        public var freed: EventSite?
    }

    /// A kmap slot held by a task.
    public struct KmapSlot: Sendable {
        public var page: Symbol
        public var series: Symbol
        public var atomic: Bool
        public var site: EventSite
    }

    /// A walk on one cpu: of pgd_list, or lockless through the page tables.
    public struct Walk: Sendable {
        public var walker: Symbol?
        public var begun: EventSite
        /// Event count at its start, to tell what began before what.
        public var sequence: Int
    }

    public internal(set) var pgds: [Symbol: Pgd] = [:]
    /// The class of the lock pgd_list's last add or del named (nil: none yet).
    public internal(set) var namedListLock: Symbol?

    /// The class of the lock that guards the list `pgd` is on, or would be put on: the one its
    /// add named, else the one the list's events last named, else `default` (pgd_lock). A
    /// trace that names another lock (`lock="L"`) names it at some add: a pgd changed before,
    /// or never listed, is judged against it from then on.
    public func listLock(of pgd: Pgd, default: Symbol) -> Symbol { pgd.listLock ?? namedListLock ?? `default` }
    public internal(set) var pages: [Symbol: Page] = [:]
    /// How many freed tables are kept whole (their free cited in reports).
    public static let quarantine = 1 << 16
    /// A table's last free, as the quarantine keeps it.
    private struct Free {
        var table: Symbol
        var wasUnlinked: Bool
        var site: EventSite
    }
    /// The tables unlinked and not freed since (`Self.unlinkedOnly`), and those freed whose
    /// free is in quarantine: its number among the trace's frees (`frees`). The free itself
    /// is in the ring, once: a table costs this entry and its place there, some 65 bytes
    /// (two optional sites in this dictionary and the free's place in a list of them, which
    /// held 65,536 to 131,072 frees, were some 210 to 250, and more while the dictionary grew).
    private var tableStates: [Symbol: Int] = [:]
    private static let unlinkedOnly = -1
    /// The last `quarantine` frees: free number n at `n % quarantine`.
    private var freedRing: [Free] = []
    /// How many tables this trace freed.
    private var frees = 0
    /// Tables freed before the quarantine's, one bit per symbol.
    private var freedLongAgo = SymbolSet()

    /// `table`, while it is unlinked or its free is in quarantine; nil for a table linked (or
    /// never seen), or freed longer ago than the quarantine keeps (`wasFreedLongAgo`).
    public func table(_ table: Symbol) -> Table? { tableStates[table].map(self.table(state:)) }

    /// The table a state of `tableStates` says: unlinked only, or its free in the ring.
    private func table(state: Int) -> Table {
        guard state != Self.unlinkedOnly else { return Table(wasUnlinked: true, freed: nil) }
        let free = freedRing[state & (Self.quarantine - 1)]
        return Table(wasUnlinked: free.wasUnlinked, freed: free.site)
    }

    /// Whether `table` was freed (and not used as a table since) longer ago than the
    /// quarantine keeps: its free can no longer be cited.
    public func wasFreedLongAgo(_ table: Symbol) -> Bool { freedLongAgo.contains(table) }
    /// What the trace has shown of each object's state since it began or last lost events
    /// (a pin or unpin of the page; a pgd allocated, freed, put on or off pgd_list; a walk
    /// begun or ended on the cpu; not kmaps, which a page may have several of): in a partial trace or after
    /// lost events, an end of state whose beginning the trace did not show is applied and
    /// noted, but only where the trace has not shown that object's state since.
    private var pinSeen = SymbolSet()
    private var listSeen = SymbolSet()
    private var listWalkSeen: Set<Int> = []
    private var locklessWalkSeen: Set<Int> = []

    /// Events were lost: what the trace showed of each object's state no longer holds.
    mutating func forgetSeenState() {
        pinSeen = SymbolSet()
        listSeen = SymbolSet()
        listWalkSeen = []
        locklessWalkSeen = []
    }

    public internal(set) var listWalks: [Int: Walk] = [:]
    public internal(set) var locklessWalks: [Int: Walk] = [:]
    public internal(set) var kmaps: [TaskKey: [KmapSlot]] = [:]
    /// How many slots hold each page, over all tasks.
    public internal(set) var kmapCounts: [Symbol: Int] = [:]

    /// What the trace did not show: an event that ends (or undoes) something the trace never
    /// showed begin, which a partial trace's events, or lost events, may have done unseen.
    public enum Unseen: Sendable, Equatable {
        case pinned(page: Symbol)
        case listed(pgd: Symbol)
        case visitedUnlisted(pgd: Symbol)
        case listWalkBegun(cpu: Int)
        case locklessWalkBegun(cpu: Int)
        case kmapped(page: Symbol, series: Symbol)
    }

    /// Applies a page-table event. Throws the message of an input error for a sequence no
    /// kernel can produce (a pgd listed twice, a walk ending that never began, …). Where the
    /// trace may not show all that happened before the event (`beganUnseen`: a partial trace,
    /// or events lost), an end whose beginning it did not show is no such sequence: it is
    /// applied, and returned, for a note. A second start is none either when events were lost
    /// since the first (`lostAt`, the place of the last loss): the end between may be among them.
    mutating func apply(
        _ kind: EventKind, site: EventSite, task: TaskKey, sequence: Int, name: (Symbol) -> String,
        beganUnseen: Bool = false, lostAt: TracePosition? = nil
    ) throws(DecodeFailure) -> Unseen? {
        let cpu = site.cpu
        /// Whether events were lost after `start`.
        func lostSince(_ start: EventSite) -> Bool { lostAt.map { start.position < $0 } ?? false }
        switch kind {
        case .pgdAlloc(let pgd):
            pgds[pgd] = Pgd(allocated: site)
            listSeen.insert(pgd)
        case .pgdFree(let pgd):
            pgds[pgd] = nil
            listSeen.insert(pgd)
        case .pgdPopulate(let pgd, let index):
            pgds[pgd, default: Pgd()].entries[index] = site
        case .pgdClear(let pgd, let index):
            pgds[pgd, default: Pgd()].entries[index] = nil
        case .pgdListAdd(let pgd, let lock):
            if let listed = pgds[pgd]?.listed, !lostSince(listed) {
                throw DecodeFailure("pgd \(name(pgd)) is already on pgd_list (added at line \(listed.position.line)); a second list_add corrupts the list")
            }
            pgds[pgd, default: Pgd()].listed = site
            pgds[pgd]!.listLock = lock
            namedListLock = lock
            listSeen.insert(pgd)
        case .pgdListDel(let pgd, let lock):
            namedListLock = lock
            guard pgds[pgd]?.listed != nil else {
                guard beganUnseen, !listSeen.contains(pgd) else {
                    throw DecodeFailure("pgd \(name(pgd)) is not on pgd_list; expected a <pgd-list-add> before its <pgd-list-del>")
                }
                listSeen.insert(pgd)
                return .listed(pgd: pgd)
            }
            pgds[pgd]!.listed = nil
            listSeen.insert(pgd)
        case .listWalkBegin(let walker):
            if let walk = listWalks[cpu], !lostSince(walk.begun) {
                throw DecodeFailure("cpu \(cpu) begins a pgd_list walk inside another (begun at line \(walk.begun.position.line))")
            }
            listWalks[cpu] = Walk(walker: walker, begun: site, sequence: sequence)
            listWalkSeen.insert(cpu)
        case .listWalkVisit(let pgd):
            guard listWalks[cpu] != nil || (beganUnseen && !listWalkSeen.contains(cpu)) else {
                throw DecodeFailure("<list-walk-visit> of \(name(pgd)) on cpu \(cpu) outside a walk; expected <list-walk-begin> first")
            }
            // A walker visits what is on pgd_list: one the trace never saw put there was listed
            // before it began (or in lost events), and is on the list from here.
            if beganUnseen, !listSeen.contains(pgd), pgds[pgd]?.listed == nil {
                pgds[pgd, default: Pgd()].listed = site
                listSeen.insert(pgd)
                if listWalks[cpu] != nil { return .visitedUnlisted(pgd: pgd) }
            }
            if listWalks[cpu] == nil {
                // In a walk begun before the trace: it goes on from here, to its end.
                listWalks[cpu] = Walk(walker: nil, begun: site, sequence: sequence)
                listWalkSeen.insert(cpu)
                return .listWalkBegun(cpu: cpu)
            }
        case .listWalkEnd:
            guard listWalks.removeValue(forKey: cpu) != nil else {
                guard beganUnseen, !listWalkSeen.contains(cpu) else {
                    throw DecodeFailure("<list-walk-end/> on cpu \(cpu) without a <list-walk-begin/>")
                }
                listWalkSeen.insert(cpu)
                return .listWalkBegun(cpu: cpu)
            }
        case .setReadOnly(let page, let level, let ptl):
            pages[page, default: Page()].readOnly = site
            pages[page]!.note(level: level, ptl: ptl)
        case .setReadWrite(let page, let level, let ptl):
            pages[page, default: Page()].readOnly = nil
            pages[page]!.note(level: level, ptl: ptl)
            if pages[page]!.pinned == nil { pages[page] = nil }
        case .pin(let page, let level):
            if let pinned = pages[page]?.pinned, !lostSince(pinned) {
                throw DecodeFailure("page \(name(page)) is already pinned (at line \(pinned.position.line)); Xen refuses a second pin")
            }
            pages[page, default: Page()].pinned = site
            if let level { pages[page]!.level = level }
            pinSeen.insert(page)
        case .unpin(let page, let level):
            guard pages[page]?.pinned != nil else {
                guard beganUnseen, !pinSeen.contains(page) else {
                    throw DecodeFailure("page \(name(page)) is not pinned; expected a <pin> before its <unpin>")
                }
                pinSeen.insert(page)
                // Unpinned now, whatever it was: a writable page is then no table Xen holds.
                if pages[page] != nil {
                    if let level { pages[page]!.level = level }
                    if pages[page]!.readOnly == nil { pages[page] = nil }
                }
                return .pinned(page: page)
            }
            pages[page]!.pinned = nil
            if let level { pages[page]!.level = level }
            pinSeen.insert(page)
        case .locklessWalkBegin:
            if let walk = locklessWalks[cpu], !lostSince(walk.begun) {
                throw DecodeFailure("cpu \(cpu) begins a lockless walk inside another (begun at line \(walk.begun.position.line))")
            }
            locklessWalks[cpu] = Walk(walker: nil, begun: site, sequence: sequence)
            locklessWalkSeen.insert(cpu)
        case .locklessWalkEnd:
            guard locklessWalks.removeValue(forKey: cpu) != nil else {
                guard beganUnseen, !locklessWalkSeen.contains(cpu) else {
                    throw DecodeFailure("<lockless-walk-end/> on cpu \(cpu) without a <lockless-walk-begin/>")
                }
                locklessWalkSeen.insert(cpu)
                return .locklessWalkBegun(cpu: cpu)
            }
        case .tableUnlink(let table):
            tableStates[table] = Self.unlinkedOnly
            freedLongAgo.remove(table)
        case .tableFree(let table):
            // Its number from now on, in one look at the dictionary; unlinked before, if it was
            // since it was last linked (a second free keeps what the first knew), read from
            // the state it replaces before the ring below moves on.
            let wasUnlinked = tableStates.updateValue(frees, forKey: table).map { self.table(state: $0).wasUnlinked } ?? false
            let free = Free(table: table, wasUnlinked: wasUnlinked, site: site)
            let slot = frees & (Self.quarantine - 1)
            if frees < Self.quarantine {
                freedRing.append(free)
            } else {
                // Out of quarantine: the free `quarantine` before, unless its page was used
                // (unlinked, or freed) again since, or is freed again now.
                let oldest = freedRing[slot].table
                if oldest != table, tableStates[oldest] == frees - Self.quarantine {
                    tableStates[oldest] = nil
                    freedLongAgo.insert(oldest)
                }
                freedRing[slot] = free
            }
            frees += 1
        case .kmap(let page, let series, let atomic, _):
            kmaps[task, default: []].append(KmapSlot(page: page, series: series, atomic: atomic, site: site))
            kmapCounts[page, default: 0] += 1
        case .kunmap(let page, let series):
            // A pkmap slot has no owner: another task may give it back. The task's own slot
            // taken last, else another task's taken last (chosen by the table's order, the
            // task differed from run to run).
            let matches = { (slot: KmapSlot) in slot.page == page && slot.series == series }
            var owner: TaskKey?
            var index = kmaps[task]?.lastIndex(where: matches)
            if index != nil {
                owner = task
            } else if kmapCounts[page] != nil {
                for (holder, slots) in kmaps where holder != task {
                    guard let found = slots.lastIndex(where: matches) else { continue }
                    if let owner, let index, kmaps[owner]![index].site.position > slots[found].site.position { continue }
                    (owner, index) = (holder, found)
                }
            }
            guard let owner, let index else {
                // A page may be mapped by several holders at once: any of them may have mapped it
                // before the trace, whatever the trace showed of the others.
                guard beganUnseen else {
                    throw DecodeFailure("kunmap of \(name(page)) (series \(name(series))), which is not kmapped; expected a matching <kmap> first")
                }
                return .kmapped(page: page, series: series)
            }
            kmaps[owner]!.remove(at: index)
            if kmaps[owner]!.isEmpty { kmaps[owner] = nil }
            kmapCounts[page]! -= 1
            if kmapCounts[page] == 0 { kmapCounts[page] = nil }
        default:
            break
        }
        return nil
    }

    /// The cpus in a lockless walk that began before event number `sequence`.
    public func walks(begunBefore sequence: Int) -> [Int: Walk] {
        locklessWalks.filter { $0.value.sequence < sequence }
    }
}

/// A set of symbols, a bit each.
struct SymbolSet: Sendable {
    private var words: [UInt64] = []

    func contains(_ symbol: Symbol) -> Bool {
        let index = Int(symbol.rawValue)
        return index >> 6 < words.count && words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    mutating func insert(_ symbol: Symbol) {
        let index = Int(symbol.rawValue)
        words.grow(toInclude: index >> 6, filling: 0)
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    mutating func remove(_ symbol: Symbol) {
        let index = Int(symbol.rawValue)
        guard index >> 6 < words.count else { return }
        words[index >> 6] &= ~(1 << UInt64(index & 63))
    }
}
