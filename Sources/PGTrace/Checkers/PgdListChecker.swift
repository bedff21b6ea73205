/// Reports `pgd-list-gap` (seed 000, operation ordering in pgd_alloc/pgd_free). Wherever the
/// cpu changing a pgd does not hold the list's lock:
/// - a pgd with entries must be on pgd_list, or xen_mm_pin_all() and vmalloc_sync_all() miss
///   its pmds (Jeremy's point);
/// - a pgd on pgd_list must not be populated or cleared, or a walker sees it half-built
///   (Jan's point).
/// A window is a warning; a `list-walk-*` that runs through it makes it an error.
///
/// Both invariants rest on the walkers holding the list lock ("Holding pgd_lock will prevent
/// both vmalloc_sync_all() and xen_mm_pin_all() from being able to visit the pgd while it is
/// in its transitional state"). A walk begun without it is a warning at its begin, an error
/// once another cpu changes the list, or a listed pgd's entries, while it runs. A trace that
/// may not show every lock held (partial, lost events) is not judged.
public final class PgdListChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.pgdEvents, .releases] }

    private enum Gap { case unlisted, halfBuilt }

    private struct Window {
        var opened: EventSite
        var listLock: Symbol
        /// The first of the entries the pgd had when the window opened: what makes an
        /// unlisted pgd a gap (it is cited, where it is not the event that opened the window).
        var installed: (index: Int, site: EventSite)?
        var confirmed: [Evidence] = []
    }

    private let context: CheckerContext
    @exclusivity(unchecked) private var windows: [Symbol: [Gap: Window]] = [:]
    /// Where each listed pgd was last visited, and by which walk (its start), while listed.
    @exclusivity(unchecked) private var visits: [Symbol: (site: EventSite, walk: Int)] = [:]
    /// pgds changed under their list lock, per cpu, to check when the lock is dropped.
    @exclusivity(unchecked) private var changedUnderLock: [Int: Set<Symbol>] = [:]

    /// A pgd_list walk begun without the list lock, and the changes that ran during it.
    private struct UnlockedWalk {
        var begun: EventSite
        var walker: Symbol?
        var lock: Symbol
        var changes: [Evidence] = []
    }

    /// The changes an unlocked walk cites (the first ones; the others are counted).
    static let citedChanges = 4

    @exclusivity(unchecked) private var unlockedWalks: [Int: UnlockedWalk] = [:]
    /// The classes pgd_list's events named as its lock.
    @exclusivity(unchecked) private var listLocks: Set<Symbol> = []
    @exclusivity(unchecked) private var uncitedChanges: [Int: Int] = [:]

    public init(context: CheckerContext) { self.context = context }

    public func replayWillBegin(_ replay: ReplayEngine) {
        windows = [:]
        visits = [:]
        changedUnderLock = [:]
        unlockedWalks = [:]
        listLocks = []
        uncitedChanges = [:]
    }

    /// The list lock dropped: pgds changed under it and left unlisted with entries open a gap.
    public func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite) {
        guard let changed = changedUnderLock[site.cpu], !changed.isEmpty,
            !replay.holds(cpu: site.cpu, className: lock.ref.name)
        else { return }
        for pgd in changed.sorted() {
            guard let state = replay.memory.pgds[pgd], state.listLock == lock.ref.name else { continue }
            changedUnderLock[site.cpu]!.remove(pgd)
            if state.listed == nil { updateUnlisted(pgd, state, at: site, memory: replay.memory) }
        }
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        let memory = replay.memory
        if !unlockedWalks.isEmpty { noteChange(event, at: site, memory: memory) }
        switch event.kind {
        case .pgdPopulate(let pgd, _), .pgdClear(let pgd, _):
            guard let state = memory.pgds[pgd], !deferredUnderLock(pgd, state, replay, cpu: event.cpu) else { return }
            if state.listed != nil {
                open(.halfBuilt, pgd, state, at: site)
                // A visit before more entries are installed saw the pgd unfinished (Jan's empty
                // pgd); a visit before a clear saw it whole, unless its walk is still going.
                let isPopulate: Bool
                if case .pgdPopulate = event.kind { isPopulate = true } else { isPopulate = false }
                if let visit = visits[pgd], isPopulate || memory.listWalks[visit.site.cpu]?.sequence == visit.walk {
                    confirm(.halfBuilt, pgd, context.evidence(visit.site, "a walker visited \(context.symbols[pgd]) before this change"))
                }
                for (cpu, walk) in memory.listWalks.sorted(by: { $0.key < $1.key }) where cpu != event.cpu {
                    confirm(.halfBuilt, pgd, context.evidence(walk.begun, "\(walker(walk.walker)) walks pgd_list meanwhile"))
                }
            } else {
                updateUnlisted(pgd, state, at: site, memory: memory)
            }
        case .pgdListAdd(let pgd, let lock):
            listLocks.insert(lock)
            close(.unlisted, pgd, at: site)
            visits[pgd] = nil
        case .pgdListDel(let pgd, let lock):
            listLocks.insert(lock)
            close(.halfBuilt, pgd, at: site)
            visits[pgd] = nil
            if let state = memory.pgds[pgd], !deferredUnderLock(pgd, state, replay, cpu: event.cpu) {
                updateUnlisted(pgd, state, at: site, memory: memory)
            }
        case .pgdFree(let pgd):
            close(.unlisted, pgd, at: site)
            close(.halfBuilt, pgd, at: site)
            visits[pgd] = nil
        case .listWalkBegin(let name):
            beginWalk(name, at: site, replay: replay)
            for (pgd, gaps) in windows.sorted(by: { $0.key < $1.key }) {
                if gaps[.unlisted] != nil {
                    confirm(.unlisted, pgd, context.evidence(site, "\(walker(name)) walks pgd_list and cannot see \(context.symbols[pgd])"))
                }
            }
        case .listWalkVisit(let pgd):
            visits[pgd] = (site, memory.listWalks[event.cpu]?.sequence ?? -1)
            if windows[pgd]?[.halfBuilt] != nil {
                confirm(.halfBuilt, pgd, context.evidence(site, "\(walker(memory.listWalks[event.cpu]?.walker)) visits \(context.symbols[pgd]) half-built"))
            }
        case .listWalkEnd:
            if let walk = unlockedWalks.removeValue(forKey: event.cpu) { reportUnlocked(walk, cpu: event.cpu, end: site) }
        default:
            break
        }
    }

    /// A walk begun without the list lock (the class pgd_list's events named, else
    /// `pgd_lock`), where the trace shows every lock held.
    private func beginWalk(_ walker: Symbol?, at site: EventSite, replay: ReplayEngine) {
        unlockedWalks[site.cpu] = nil
        guard !replay.mayMissHeldLocks else { return }
        let locks = listLocks.isEmpty ? [replay.defaultListLock] : listLocks.sorted()
        guard !locks.contains(where: { replay.holds(cpu: site.cpu, className: $0) }) else { return }
        unlockedWalks[site.cpu] = UnlockedWalk(begun: site, walker: walker, lock: locks[0])
        uncitedChanges[site.cpu] = 0
    }

    /// A change to pgd_list, or to a listed pgd's entries, on another cpu than an unlocked walk's.
    private func noteChange(_ event: Event, at site: EventSite, memory: MemoryState) {
        let role: String
        switch event.kind {
        case .pgdListAdd(let pgd, _): role = "puts \(context.symbols[pgd]) on pgd_list meanwhile"
        case .pgdListDel(let pgd, _): role = "takes \(context.symbols[pgd]) off pgd_list meanwhile"
        case .pgdPopulate(let pgd, _) where memory.pgds[pgd]?.listed != nil:
            role = "installs an entry of \(context.symbols[pgd]), on pgd_list, meanwhile"
        case .pgdClear(let pgd, _) where memory.pgds[pgd]?.listed != nil:
            role = "clears an entry of \(context.symbols[pgd]), on pgd_list, meanwhile"
        default: return
        }
        for cpu in unlockedWalks.keys.sorted() where cpu != site.cpu {
            if unlockedWalks[cpu]!.changes.count < Self.citedChanges {
                unlockedWalks[cpu]!.changes.append(context.evidence(site, role))
            } else {
                uncitedChanges[cpu, default: 0] += 1
            }
        }
    }

    private func reportUnlocked(_ walk: UnlockedWalk, cpu: Int, end: EventSite?) {
        let lock = context.symbols[walk.lock]
        let who = walker(walk.walker)
        var locations = [context.evidence(walk.begun, "\(who) walks pgd_list without \(lock)")]
        locations += walk.changes
        if let end { locations.append(context.evidence(end, "the walk ends")) }
        let uncited = uncitedChanges.removeValue(forKey: cpu) ?? 0
        let severity: Severity = walk.changes.isEmpty ? .warning : .error
        context.report(
            Finding(
                rule: .pgdListGap, severity: severity,
                message: walk.changes.isEmpty
                    ? "\(who) walks pgd_list on cpu \(cpu) without \(lock): a pgd listed, unlisted or changed under the lock meanwhile is seen half-done"
                    : "\(who) walks pgd_list on cpu \(cpu) without \(lock), and another cpu changed the list or a listed pgd meanwhile",
                locks: [lock], objects: [], locations: locations,
                notes: (uncited > 0 ? ["\(uncited) more changes during the walk are not shown."] : [])
                    + (end == nil ? ["The walk is still running at the end of the trace."] : [])
                    + ["take \(lock) around the walk, as vmalloc_sync_all() and xen_mm_pin_all() do"],
                key: "walk-unlocked|\(context.place(walk.begun))" + (severity == .warning ? "|open" : "")))
    }

    public func replayDidEnd(_ replay: ReplayEngine) {
        for cpu in unlockedWalks.keys.sorted() { reportUnlocked(unlockedWalks[cpu]!, cpu: cpu, end: nil) }
        unlockedWalks = [:]
        for (pgd, gaps) in windows.sorted(by: { $0.key < $1.key }) {
            for gap in gaps.keys.sorted(by: { $0 == .unlisted && $1 == .halfBuilt }) {
                close(gap, pgd, at: nil)
            }
        }
    }

    /// A change made under the pgd's list lock is judged when the lock is dropped: true if
    /// it was put aside for then.
    private func deferredUnderLock(_ pgd: Symbol, _ state: MemoryState.Pgd, _ replay: ReplayEngine, cpu: Int) -> Bool {
        guard replay.holds(cpu: cpu, className: state.listLock) else { return false }
        changedUnderLock[cpu, default: []].insert(pgd)
        return true
    }

    private func walker(_ name: Symbol?) -> String { name.map { context.symbols[$0] } ?? "a walker" }

    /// An unlisted pgd outside its lock: a gap while it has entries. A walk already running
    /// on another cpu misses it as surely as one that starts later.
    private func updateUnlisted(_ pgd: Symbol, _ state: MemoryState.Pgd, at site: EventSite, memory: MemoryState) {
        if state.entries.isEmpty {
            close(.unlisted, pgd, at: site)
        } else {
            open(.unlisted, pgd, state, at: site)
            for (cpu, walk) in memory.listWalks.sorted(by: { $0.key < $1.key }) where cpu != site.cpu {
                confirm(.unlisted, pgd, context.evidence(walk.begun, "\(walker(walk.walker)) walks pgd_list meanwhile and cannot see \(context.symbols[pgd])"))
            }
        }
    }

    private func open(_ gap: Gap, _ pgd: Symbol, _ state: MemoryState.Pgd, at site: EventSite) {
        if windows[pgd]?[gap] == nil {
            let first = state.entries.min { ($0.value.position, $0.key) < ($1.value.position, $1.key) }
            windows[pgd, default: [:]][gap] = Window(
                opened: site, listLock: state.listLock, installed: first.map { ($0.key, $0.value) })
        }
    }

    private func confirm(_ gap: Gap, _ pgd: Symbol, _ evidence: Evidence) {
        guard windows[pgd]?[gap] != nil else { return }
        if !windows[pgd]![gap]!.confirmed.contains(where: { $0.event == evidence.event && $0.file == evidence.file }) {
            windows[pgd]![gap]!.confirmed.append(evidence)
        }
    }

    private func close(_ gap: Gap, _ pgd: Symbol, at site: EventSite?) {
        guard let window = windows[pgd]?.removeValue(forKey: gap) else { return }
        let listLock = window.listLock
        let name = context.symbols[pgd]
        let severity: Severity = window.confirmed.isEmpty ? .warning : .error
        var locations: [Evidence]
        let message: String
        let fix: String
        switch gap {
        case .unlisted:
            locations = [context.evidence(window.opened, "\(name) has entries but is not on pgd_list, outside pgd_lock")]
            if let installed = window.installed, installed.site.position != window.opened.position {
                locations.append(context.evidence(installed.site, "installs entry \(installed.index) of \(name)"))
            }
            message = window.confirmed.isEmpty
                ? "pgd \(name) has pmds installed while off pgd_list and outside its lock: xen_mm_pin_all() and vmalloc_sync_all() would miss them"
                : "pgd \(name) has pmds installed while off pgd_list and outside its lock, and a pgd_list walk ran then and missed them"
            fix = "Jeremy's order: preallocate the pmds, then under pgd_lock install them and put the pgd on pgd_list; on teardown, take it off the list and clear its entries under the same lock"
        case .halfBuilt:
            locations = [context.evidence(window.opened, "\(name) is on pgd_list and is changed outside pgd_lock")]
            message = window.confirmed.isEmpty
                ? "pgd \(name) is on pgd_list while its entries are changed outside its lock: a walker can see it half-built"
                : "pgd \(name) is on pgd_list while its entries are changed outside its lock, and a walker saw it half-built"
            fix = "list the pgd only once it is fully built and unlist it before tearing it down, or change its entries under pgd_lock (Jeremy's order)"
        }
        locations += window.confirmed
        if let site {
            locations.append(context.evidence(site, "the window closes"))
        }
        context.report(
            Finding(
                rule: .pgdListGap, severity: severity, message: message, locks: [context.symbols[listLock]],
                objects: [name], locations: locations,
                notes: (site == nil ? ["The window is still open at the end of the trace."] : []) + [fix],
                // A window only seen open (a warning) and one seen hit (an error) at one place are
                // two problems: one's fingerprint must not accept, or its evidence hide, the other.
                key: "\(name)|\(gap == .unlisted ? "unlisted" : "half-built")|\(context.place(window.opened))"
                    + (severity == .warning ? "|open" : "")))
    }
}
