/// Reports `table-free-race` (seed 001, RCU-based table free). Between `table-unlink` and
/// `table-free` of a page table there must be a synchronization with every cpu that may be in
/// a lockless walk (get_user_pages_fast with irqs disabled): a synchronous IPI to it (or an
/// IPI-mode TLB flush that waits), or an RCU-sched grace period. A hypercall flush (Xen PV)
/// is not one. A lockless walk running across such a free, or any access to a freed table,
/// is the use-after-free the thread describes.
public final class TableFreeChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.ipiEvents, .tableEvents] }

    /// An unlinked table. What synchronized since its unlink is read off the clocks below at
    /// its free, so that a flush or a grace period costs O(1), however many tables wait.
    private struct Pending {
        var unlinked: EventSite
        /// `clock` at the unlink.
        var since: Int
        /// The first hypercall flushes after the unlink (cited), and `hypercallCount` then.
        var hypercallFlushes: [EventSite] = []
        var hypercallsBefore: Int
    }

    /// How many hypercall flushes a finding cites.
    static let citedFlushes = 4

    /// A free that lockless walks begun before the unlink may have run across.
    private struct Exposed {
        var unlinked: EventSite
        var freed: EventSite
        var walks: [Int: EventSite]
        var hypercallFlushes: [EventSite]
        var unshownFlushes: Int
    }

    private let context: CheckerContext
    @exclusivity(unchecked) private var pending: [Symbol: Pending] = [:]
    @exclusivity(unchecked) private var exposed: [Symbol: Exposed] = [:]
    /// The tables exposed to each cpu's running walk.
    @exclusivity(unchecked) private var exposedTo: [Int: Set<Symbol>] = [:]
    /// Synchronizations, counted: the last that reached every cpu, and each cpu's last.
    @exclusivity(unchecked) private var clock = 0
    @exclusivity(unchecked) private var syncedAllAt = -1
    @exclusivity(unchecked) private var syncedAt: [Int: Int] = [:]
    @exclusivity(unchecked) private var hypercallCount = 0
    /// Pending tables that still cite fewer than `citedFlushes` hypercall flushes, by unlink.
    @exclusivity(unchecked) private var citingFlushes: [(table: Symbol, since: Int)] = []

    public init(context: CheckerContext) { self.context = context }

    public func replayWillBegin(_ replay: ReplayEngine) {
        pending = [:]
        exposed = [:]
        exposedTo = [:]
        syncedAt = [:]
        syncedAllAt = -1
        citingFlushes = []
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        switch event.kind {
        case .tableUnlink(let table):
            clock += 1
            pending[table] = Pending(unlinked: site, since: clock, hypercallsBefore: hypercallCount)
            citingFlushes.append((table, clock))
            // Tables freed before any flush leave their entries behind: drop them now and then.
            if citingFlushes.count > 2 * pending.count + 64 {
                citingFlushes.removeAll { pending[$0.table]?.since != $0.since }
            }
        case .ipiSend(let targets, wait: true, _), .tlbFlush(let targets, .ipi, wait: true):
            synchronize(targets)
        case .tlbFlush(_, .hypercall, _):
            hypercallCount += 1
            // Only the tables still short of cited flushes are touched, each a few times.
            citingFlushes.removeAll { entry in
                guard pending[entry.table]?.since == entry.since else { return true }
                pending[entry.table]!.hypercallFlushes.append(site)
                return pending[entry.table]!.hypercallFlushes.count >= Self.citedFlushes
            }
        case .rcuGracePeriod:
            clock += 1
            syncedAllAt = clock
        case .tableFree(let table):
            free(table, at: site, replay: replay)
        case .walkAccess(let table):
            access(table, at: site, replay: replay)
        case .locklessWalkEnd:
            for table in (exposedTo.removeValue(forKey: event.cpu) ?? []).sorted() {
                guard let free = exposed[table], free.walks[event.cpu] != nil else { continue }
                exposed[table]!.walks[event.cpu] = nil
                report(table, free, walkCPU: event.cpu, access: nil, walkEnd: site)
                if exposed[table]!.walks.isEmpty { exposed[table] = nil }
            }
        default:
            break
        }
    }

    public func replayDidEnd(_ replay: ReplayEngine) {
        for (table, free) in exposed.sorted(by: { $0.key < $1.key }) {
            for cpu in free.walks.keys.sorted() { report(table, free, walkCPU: cpu, access: nil, walkEnd: nil) }
        }
        exposed = [:]
        exposedTo = [:]
    }

    private func synchronize(_ targets: CPUTargets) {
        switch targets {
        case .all, .others:
            clock += 1
            syncedAllAt = clock
        case .list(let list):
            clock += 1
            for cpu in list.cpus { syncedAt[cpu] = clock }
        case .local: break
        }
    }

    private func free(_ table: Symbol, at site: EventSite, replay: ReplayEngine) {
        let name = context.symbols[table]
        guard let state = pending.removeValue(forKey: table) else {
            // Never unlinked, unless freed so long ago that the quarantine forgot the unlink
            // (a second free: no more reported than it was).
            if replay.memory.tables[table]?.unlinked == nil, !replay.memory.wasFreedLongAgo(table) {
                context.report(
                    Finding(
                        rule: .tableFreeRace, severity: .error,
                        message: "page table \(name) is freed while still linked: any walk can still reach it",
                        locks: [], objects: [name], locations: [context.evidence(site, "frees \(name)")],
                        notes: ["unlink the table from its parent entry (table-unlink) and synchronize before freeing it"],
                        key: "\(name)|linked"))
            }
            return
        }
        // Synchronized with every other cpu (a broadcast IPI or a grace period), or with some.
        let syncedAll = syncedAllAt > state.since
        func synced(_ cpu: Int) -> Bool { syncedAll || (syncedAt[cpu] ?? -1) > state.since }
        let syncedSome = syncedAll || syncedAt.values.contains { $0 > state.since }
        // The cpus that may be walking locklessly: every cpu but the one freeing.
        let cpus = 0..<max(replay.cpuCount, (replay.header.cpus ?? 0))
        let unsynced = syncedAll ? [] : cpus.filter { $0 != site.cpu && !synced($0) }
        guard !unsynced.isEmpty || (replay.header.cpus == nil && !syncedSome) else { return }
        let running = replay.memory.walks(begunBefore: state.unlinked.position.event + 1)
            .filter { $0.key != site.cpu && !synced($0.key) }
        let unshownFlushes = hypercallCount - state.hypercallsBefore - state.hypercallFlushes.count
        if !running.isEmpty {
            exposed[table] = Exposed(
                unlinked: state.unlinked, freed: site, walks: running.mapValues(\.begun),
                hypercallFlushes: state.hypercallFlushes, unshownFlushes: unshownFlushes)
            for cpu in running.keys { exposedTo[cpu, default: []].insert(table) }
            return
        }
        var locations = [
            context.evidence(state.unlinked, "unlinks \(name)"),
        ]
        locations += state.hypercallFlushes.map { context.evidence($0, "flushes by hypercall: no IPI reaches the walkers") }
        locations.append(context.evidence(site, "frees \(name)"))
        let cpuList = unsynced.isEmpty ? "the other cpus" : "cpu " + unsynced.map(String.init).joined(separator: ", ")
        context.report(
            Finding(
                rule: .tableFreeRace, severity: .warning,
                message: "page table \(name) is freed without synchronizing with \(cpuList), which may be walking it locklessly (get_user_pages_fast)",
                locks: [], objects: [name], locations: locations,
                notes: Self.unshown(unshownFlushes) + [fix],
                key: "\(name)|unsynced|\(context.place(site))"))
    }

    private func access(_ table: Symbol, at site: EventSite, replay: ReplayEngine) {
        if var free = exposed[table], free.walks[site.cpu] != nil {
            report(table, free, walkCPU: site.cpu, access: site, walkEnd: nil)
            free.walks[site.cpu] = nil
            exposed[table] = free.walks.isEmpty ? nil : free
            return
        }
        let freed = replay.memory.tables[table]?.freed
        guard freed != nil || replay.memory.wasFreedLongAgo(table) else { return }
        let name = context.symbols[table]
        var locations = [context.evidence(site, "reads \(name)")]
        if let freed { locations.append(context.evidence(freed, "frees \(name)")) }
        let longAgo = freed == nil
            ? ["It was freed more than \(MemoryState.quarantine) table frees before: that free is no longer kept to cite."] : []
        context.report(
            Finding(
                rule: .tableFreeRace, severity: .error,
                message: "lockless walk on cpu \(site.cpu) touches page table \(name) after it was freed",
                locks: [], objects: [name],
                locations: locations,
                notes: longAgo + [fix], key: "\(name)|access"))
    }

    private var fix: String {
        "free page tables with RCU (HAVE_RCU_TABLE_FREE: tlb_remove_table, freed after a grace period), or flush the TLB by IPI and wait before freeing; a Xen PV hypercall flush does not interrupt the walkers"
    }

    private func report(_ table: Symbol, _ free: Exposed, walkCPU: Int, access: EventSite?, walkEnd: EventSite?) {
        let name = context.symbols[table]
        var locations = [
            context.evidence(free.walks[walkCPU]!, "begins a lockless walk with irqs disabled"),
            context.evidence(free.unlinked, "unlinks \(name)"),
        ]
        locations += free.hypercallFlushes.map { context.evidence($0, "flushes by hypercall: no IPI reaches the walker") }
        locations.append(context.evidence(free.freed, "frees \(name) while the walk runs"))
        if let access { locations.append(context.evidence(access, "reads \(name) after the free")) }
        if let walkEnd { locations.append(context.evidence(walkEnd, "ends the walk")) }
        context.report(
            Finding(
                rule: .tableFreeRace, severity: .error,
                message: access != nil
                    ? "page table \(name) is freed under a lockless walk on cpu \(walkCPU), which then touches the freed page"
                    : "page table \(name) is freed while a lockless walk on cpu \(walkCPU), begun before the unlink, may still hold it",
                locks: [], objects: [name], locations: locations, notes: Self.unshown(free.unshownFlushes) + [fix],
                key: "\(name)|walk|\(context.place(free.freed))"))
    }

    private static func unshown(_ flushes: Int) -> [String] {
        flushes > 0 ? ["\(flushes) more hypercall flushes between the unlink and the free are not shown."] : []
    }
}
