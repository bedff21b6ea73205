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
/// in its transitional state"). The contract's rule judges the cpus that change the list, so
/// a walk without the list lock is a note (`beginWalk`), not a finding.
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
        /// The places of `confirmed`, each cited once.
        var confirmedPlaces: Set<EvidencePlace> = []

        mutating func confirm(_ evidence: Evidence) {
            if confirmedPlaces.insert(EvidencePlace(file: evidence.file, event: evidence.event)).inserted { confirmed.append(evidence) }
        }
    }

    private struct EvidencePlace: Hashable {
        var file: String
        var event: Int
    }

    private let context: CheckerContext
    @exclusivity(unchecked) private var windows: [Symbol: [Gap: Window]] = [:]
    /// Where each listed pgd was last visited, and by which walk (its start), while listed.
    @exclusivity(unchecked) private var visits: [Symbol: (site: EventSite, walk: Int)] = [:]
    /// pgds changed under their list lock, per cpu, to check when the lock is dropped.
    @exclusivity(unchecked) private var changedUnderLock: [Int: Set<Symbol>] = [:]

    /// A pgd_list walk, with what it needs to be judged at its end: the classes its cpu held
    /// at the begin (the list's lock may be named only later), the losses then, and the
    /// first change another cpu made to the list or a listed pgd while it ran.
    private struct ListWalk {
        var begun: EventSite
        var walker: Symbol?
        var held: [Symbol]
        var forgets: Int
        var change: (site: EventSite, role: String)?
    }

    @exclusivity(unchecked) private var listWalks: [Int: ListWalk] = [:]
    /// The cpus whose walk has seen no change yet: a change touches each walk once at most.
    @exclusivity(unchecked) private var awaitingChange: Set<Int> = []
    /// The classes pgd_list's events named as its lock.
    @exclusivity(unchecked) private var listLocks: Set<Symbol> = []
    /// The first walk without the list lock (by its place in the trace), and how many.
    @exclusivity(unchecked) private var unlocked: ListWalk?
    @exclusivity(unchecked) private var unlockedCount = 0
    /// Walks ended before any list event named the list's lock, by the classes they held
    /// (few: walkers hold the same lock), judged at the trace's end; past
    /// `maximumUndecided` held sets, a walk is judged against pgd_lock at its end.
    @exclusivity(unchecked) private var undecided: [[Symbol]: (walk: ListWalk, count: Int)] = [:]
    static let maximumUndecided = 64

    public init(context: CheckerContext) { self.context = context }

    public func replayWillBegin(_ replay: ReplayEngine) {
        windows = [:]
        visits = [:]
        changedUnderLock = [:]
        listWalks = [:]
        awaitingChange = []
        listLocks = []
        unlocked = nil
        unlockedCount = 0
        undecided = [:]
    }

    /// The list lock dropped: pgds changed under it and left unlisted with entries open a gap.
    public func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite) {
        guard let changed = changedUnderLock[site.cpu], !changed.isEmpty,
            !replay.holds(cpu: site.cpu, className: lock.ref.name)
        else { return }
        for pgd in changed.sorted() {
            guard let state = replay.memory.pgds[pgd], listLock(of: state, replay) == lock.ref.name else { continue }
            changedUnderLock[site.cpu]!.remove(pgd)
            if state.listed == nil { updateUnlisted(pgd, state, at: site, replay: replay) }
        }
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        let memory = replay.memory
        if !awaitingChange.isEmpty { noteChange(event, at: site, memory: memory) }
        switch event.kind {
        case .pgdPopulate(let pgd, _), .pgdClear(let pgd, _):
            guard let state = memory.pgds[pgd], !deferredUnderLock(pgd, state, replay, cpu: event.cpu) else { return }
            if state.listed != nil {
                open(.halfBuilt, pgd, state, at: site, replay: replay)
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
                updateUnlisted(pgd, state, at: site, replay: replay)
            }
        case .pgdListAdd(let pgd, let lock):
            listLocks.insert(lock)
            if wasUnderNamedLock(pgd, lock, cpu: event.cpu, replay: replay) {
                windows[pgd]?[.unlisted] = nil
            } else {
                // The gap was outside the lock the pgd is put on the list under.
                windows[pgd]?[.unlisted]?.listLock = lock
            }
            close(.unlisted, pgd, at: site)
            visits[pgd] = nil
        case .pgdListDel(let pgd, let lock):
            listLocks.insert(lock)
            close(.halfBuilt, pgd, at: site)
            visits[pgd] = nil
            if let state = memory.pgds[pgd], !deferredUnderLock(pgd, state, replay, cpu: event.cpu) {
                updateUnlisted(pgd, state, at: site, replay: replay)
            }
        case .pgdFree(let pgd):
            close(.unlisted, pgd, at: site)
            close(.halfBuilt, pgd, at: site)
            visits[pgd] = nil
            // Its changes under a list lock are judged no more: a pgd of the same name allocated
            // later is another, judged by its own changes (it was judged at a release by the
            // cpu that changed the one freed).
            changedUnderLock.updateEach { _, changed in changed.remove(pgd) }
        case .listWalkBegin(let name):
            beginWalk(name, at: site, replay: replay)
            // The pgds first, then each window in place (going over a sorted copy of the
            // windows made each confirmation copy its window: one window under 10,000 walks, 4 s).
            // Each window is its own: the order they are confirmed in changes nothing.
            for pgd in windows.compactMap({ $0.value[.unlisted] != nil ? $0.key : nil }) {
                confirm(.unlisted, pgd, context.evidence(site, "\(walker(name)) walks pgd_list and cannot see \(context.symbols[pgd])"))
            }
        case .listWalkVisit(let pgd):
            visits[pgd] = (site, memory.listWalks[event.cpu]?.sequence ?? -1)
            if windows[pgd]?[.halfBuilt] != nil {
                confirm(.halfBuilt, pgd, context.evidence(site, "\(walker(memory.listWalks[event.cpu]?.walker)) visits \(context.symbols[pgd]) half-built"))
            }
        case .listWalkEnd:
            endWalk(cpu: event.cpu, replay: replay)
        default:
            break
        }
    }

    /// Both invariants rest on the walkers holding the list lock ("Holding pgd_lock will
    /// prevent both vmalloc_sync_all() and xen_mm_pin_all() from being able to visit the pgd
    /// while it is in its transitional state"); the contract's pgd-list-gap judges the
    /// mutators only, so a walk without it is a note, not a finding. Judged at the walk's end
    /// against every lock the list's events named by then (else pgd_lock), where the trace
    /// shows every lock held from the begin to the end.
    private func beginWalk(_ walker: Symbol?, at site: EventSite, replay: ReplayEngine) {
        endWalk(cpu: site.cpu, replay: replay)
        guard !replay.mayMissHeldLocks else { return }
        // The distinct classes, in order: sorted where they lie, not hashed into a set first
        // (20,000 walks under 20,000 held locks took 61 s, mostly hashing).
        var held = replay.allHeldLocks(cpu: site.cpu).map(\.ref.name)
        held.sort()
        var kept = 0
        for index in held.indices where kept == 0 || held[kept - 1] != held[index] {
            held[kept] = held[index]
            kept += 1
        }
        held.removeLast(held.count - kept)
        listWalks[site.cpu] = ListWalk(begun: site, walker: walker, held: held, forgets: replay.forgetCount)
        awaitingChange.insert(site.cpu)
    }

    /// A change to pgd_list, or to a listed pgd's entries, on another cpu than a walk's.
    private func noteChange(_ event: Event, at site: EventSite, memory: MemoryState) {
        let role: String
        switch event.kind {
        case .pgdListAdd(let pgd, _): role = "puts \(context.symbols[pgd]) on pgd_list"
        case .pgdListDel(let pgd, _): role = "takes \(context.symbols[pgd]) off pgd_list"
        case .pgdPopulate(let pgd, _) where memory.pgds[pgd]?.listed != nil:
            role = "installs an entry of \(context.symbols[pgd]), on pgd_list,"
        case .pgdClear(let pgd, _) where memory.pgds[pgd]?.listed != nil:
            role = "clears an entry of \(context.symbols[pgd]), on pgd_list,"
        default: return
        }
        for cpu in awaitingChange where cpu != site.cpu { listWalks[cpu]?.change = (site, role) }
        awaitingChange = awaitingChange.contains(site.cpu) ? [site.cpu] : []
    }

    private func endWalk(cpu: Int, replay: ReplayEngine) {
        awaitingChange.remove(cpu)
        guard let walk = listWalks.removeValue(forKey: cpu), replay.forgetCount == walk.forgets else { return }
        if listLocks.isEmpty {
            // One hash of the held set where it is known (it may be thousands of classes).
            if let known = undecided.index(forKey: walk.held) {
                undecided.values[known] = (Self.earlier(undecided.values[known].walk, walk), undecided.values[known].count + 1)
                return
            }
            if undecided.count < Self.maximumUndecided {
                undecided[walk.held] = (walk, 1)
                return
            }
        }
        judge(walk, count: 1, replay: replay)
    }

    /// A walk whose cpu held none of the list's locks is counted, the first kept to note.
    private func judge(_ walk: ListWalk, count: Int, replay: ReplayEngine) {
        guard !listLockClasses(replay).contains(where: { walk.held.contains($0) }) else { return }
        unlockedCount += count
        unlocked = Self.earlier(unlocked, walk)
    }

    /// The classes that guard pgd_list: those its events named, else pgd_lock.
    private func listLockClasses(_ replay: ReplayEngine) -> [Symbol] {
        listLocks.isEmpty ? [replay.defaultListLock] : Array(listLocks)
    }

    /// Of two walks, the one begun first in the trace.
    private static func earlier(_ kept: ListWalk?, _ walk: ListWalk) -> ListWalk {
        guard let kept, kept.begun.position < walk.begun.position else { return walk }
        return kept
    }

    public func replayDidEnd(_ replay: ReplayEngine) {
        for cpu in listWalks.keys.sorted() { endWalk(cpu: cpu, replay: replay) }
        for (walk, count) in undecided.values { judge(walk, count: count, replay: replay) }
        if let walk = unlocked {
            // The list's locks as the trace named them by its end, by name (not intern order);
            // names that read the same to String's order (canonically equivalent: "Å" as
            // U+00C5 or U+212B) are two symbols, put in the order they were met, not the set's.
            let name = listLockClasses(replay).sorted { (context.symbols[$0], $0) < (context.symbols[$1], $1) }
                .map { context.symbols[$0] }.joined(separator: " or ")
            let more = unlockedCount > 1 ? " (\(unlockedCount - 1) more such walks)" : ""
            let change = walk.change.map { change in
                "; cpu \(change.site.cpu) \(change.role) meanwhile, at \(context.evidence(change.site, change.role).place)"
            } ?? ""
            context.note(
                "\(walker(walk.walker)) walks pgd_list on cpu \(walk.begun.cpu) without \(name)\(more)\(change): pgd-list-gap judges the cpus that change the list, and takes the walkers to hold \(name), as vmalloc_sync_all() and xen_mm_pin_all() do",
                evidence: context.evidence(walk.begun, "walks pgd_list without \(name)"))
        }
        unlocked = nil
        unlockedCount = 0
        for (pgd, gaps) in windows.sorted(by: { $0.key < $1.key }) {
            for gap in gaps.keys.sorted(by: { $0 == .unlisted && $1 == .halfBuilt }) {
                close(gap, pgd, at: nil)
            }
        }
    }

    /// A change made under the pgd's list lock is judged when the lock is dropped: true if
    /// it was put aside for then.
    private func deferredUnderLock(_ pgd: Symbol, _ state: MemoryState.Pgd, _ replay: ReplayEngine, cpu: Int) -> Bool {
        guard replay.holds(cpu: cpu, className: listLock(of: state, replay)) else { return false }
        changedUnderLock[cpu, default: []].insert(pgd)
        return true
    }

    private func walker(_ name: Symbol?) -> String { name.map { context.symbols[$0] } ?? "a walker" }

    /// An unlisted pgd outside its lock: a gap while it has entries. A walk already running
    /// on another cpu misses it as surely as one that starts later.
    private func updateUnlisted(_ pgd: Symbol, _ state: MemoryState.Pgd, at site: EventSite, replay: ReplayEngine) {
        let memory = replay.memory
        if state.entries.isEmpty {
            close(.unlisted, pgd, at: site)
        } else {
            open(.unlisted, pgd, state, at: site, replay: replay)
            for (cpu, walk) in memory.listWalks.sorted(by: { $0.key < $1.key }) where cpu != site.cpu {
                confirm(.unlisted, pgd, context.evidence(walk.begun, "\(walker(walk.walker)) walks pgd_list meanwhile and cannot see \(context.symbols[pgd])"))
            }
        }
    }

    private func open(_ gap: Gap, _ pgd: Symbol, _ state: MemoryState.Pgd, at site: EventSite, replay: ReplayEngine) {
        if windows[pgd]?[gap] == nil {
            let first = state.entries.min { ($0.value.position, $0.key) < ($1.value.position, $1.key) }
            windows[pgd, default: [:]][gap] = Window(
                opened: site, listLock: listLock(of: state, replay), installed: first.map { ($0.key, $0.value) })
        }
    }

    /// The class of the lock that guards the list `state`'s pgd is on or would be put on.
    private func listLock(of state: MemoryState.Pgd, _ replay: ReplayEngine) -> Symbol {
        replay.memory.listLock(of: state, default: replay.defaultListLock)
    }

    /// A pgd put on the list under `lock`, the first the list's events name: its entries
    /// installed under that lock, held by the same cpu since before, were no gap (they were
    /// judged against pgd_lock, as no event had named the list's lock then).
    private func wasUnderNamedLock(_ pgd: Symbol, _ lock: Symbol, cpu: Int, replay: ReplayEngine) -> Bool {
        guard let window = windows[pgd]?[.unlisted], window.listLock != lock, window.opened.cpu == cpu else { return false }
        let opened = window.opened.position
        return replay.allHeldLocks(cpu: cpu).contains { held in
            held.ref.name == lock && held.site.position.file == opened.file && held.site.position.event < opened.event
        }
    }

    /// Cites `evidence` in the window, once: in place, and found by its place (an append through
    /// `windows[pgd]![gap]!` copied the list, and a search of it looked at every walk: 5,000
    /// windows under 5,000 walks took 119 s).
    private func confirm(_ gap: Gap, _ pgd: Symbol, _ evidence: Evidence) {
        windows[pgd]?[gap]?.confirm(evidence)
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
            locations = [context.evidence(window.opened, "\(name) has entries but is not on pgd_list, outside \(context.symbols[listLock])")]
            if let installed = window.installed, installed.site.position != window.opened.position {
                locations.append(context.evidence(installed.site, "installs entry \(installed.index) of \(name)"))
            }
            message = window.confirmed.isEmpty
                ? "pgd \(name) has pmds installed while off pgd_list and outside its lock: xen_mm_pin_all() and vmalloc_sync_all() would miss them"
                : "pgd \(name) has pmds installed while off pgd_list and outside its lock, and a pgd_list walk ran then and missed them"
            fix = "Jeremy's order: preallocate the pmds, then under pgd_lock install them and put the pgd on pgd_list; on teardown, take it off the list and clear its entries under the same lock"
        case .halfBuilt:
            locations = [context.evidence(window.opened, "\(name) is on pgd_list and is changed outside \(context.symbols[listLock])")]
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
