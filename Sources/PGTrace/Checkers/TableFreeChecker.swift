/// Reports `table-free-race` (seed 001, RCU-based table free). Between `table-unlink` and
/// `table-free` of a page table there must be a synchronization with every cpu that may be in
/// a lockless walk (get_user_pages_fast with irqs disabled): a synchronous IPI to it (or an
/// IPI-mode TLB flush that waits), or an RCU-sched grace period. A hypercall flush (Xen PV)
/// is not one. A lockless walk running across such a free, or any access to a freed table,
/// is the use-after-free the thread describes.
public final class TableFreeChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.ipiEvents, .tableEvents] }

    private struct Pending {
        var unlinked: EventSite
        /// Synchronized with every other cpu (a broadcast IPI or a grace period).
        var syncedAll = false
        var syncedCPUs: Set<Int> = []
        var hypercallFlushes: [EventSite] = []
    }

    /// A free that lockless walks begun before the unlink may have run across.
    private struct Exposed {
        var unlinked: EventSite
        var freed: EventSite
        var walks: [Int: EventSite]
        var hypercallFlushes: [EventSite]
    }

    private let context: CheckerContext
    @exclusivity(unchecked) private var pending: [Symbol: Pending] = [:]
    @exclusivity(unchecked) private var exposed: [Symbol: Exposed] = [:]

    public init(context: CheckerContext) { self.context = context }

    public func replayWillBegin(_ replay: ReplayEngine) {
        pending = [:]
        exposed = [:]
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        switch event.kind {
        case .tableUnlink(let table):
            pending[table] = Pending(unlinked: site)
        case .ipiSend(let targets, wait: true, _), .tlbFlush(let targets, .ipi, wait: true):
            synchronize(targets)
        case .tlbFlush(_, .hypercall, _):
            for table in pending.keys { pending[table]!.hypercallFlushes.append(site) }
        case .rcuGracePeriod:
            for table in pending.keys { pending[table]!.syncedAll = true }
        case .tableFree(let table):
            free(table, at: site, replay: replay)
        case .walkAccess(let table):
            access(table, at: site, replay: replay)
        case .locklessWalkEnd:
            for (table, free) in exposed.sorted(by: { $0.key < $1.key }) where free.walks[event.cpu] != nil {
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
    }

    private func synchronize(_ targets: CPUTargets) {
        for table in pending.keys {
            switch targets {
            case .all, .others: pending[table]!.syncedAll = true
            case .list(let cpus): pending[table]!.syncedCPUs.formUnion(cpus)
            case .local: break
            }
        }
    }

    private func free(_ table: Symbol, at site: EventSite, replay: ReplayEngine) {
        let name = context.symbols[table]
        guard let state = pending.removeValue(forKey: table) else {
            if replay.memory.tables[table]?.unlinked == nil {
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
        // The cpus that may be walking locklessly: every cpu but the one freeing.
        let cpus = 0..<max(replay.cpuCount, (replay.header.cpus ?? 0))
        let unsynced = state.syncedAll ? [] : cpus.filter { $0 != site.cpu && !state.syncedCPUs.contains($0) }
        guard !unsynced.isEmpty || (replay.header.cpus == nil && !state.syncedAll && state.syncedCPUs.isEmpty) else { return }
        let running = replay.memory.walks(begunBefore: state.unlinked.position.event + 1)
            .filter { $0.key != site.cpu && !state.syncedAll && !state.syncedCPUs.contains($0.key) }
        if !running.isEmpty {
            exposed[table] = Exposed(
                unlinked: state.unlinked, freed: site, walks: running.mapValues(\.begun),
                hypercallFlushes: state.hypercallFlushes)
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
                notes: [fix],
                key: "\(name)|unsynced|\(context.place(site))"))
    }

    private func access(_ table: Symbol, at site: EventSite, replay: ReplayEngine) {
        if var free = exposed[table], free.walks[site.cpu] != nil {
            report(table, free, walkCPU: site.cpu, access: site, walkEnd: nil)
            free.walks[site.cpu] = nil
            exposed[table] = free.walks.isEmpty ? nil : free
            return
        }
        guard let freed = replay.memory.tables[table]?.freed else { return }
        let name = context.symbols[table]
        context.report(
            Finding(
                rule: .tableFreeRace, severity: .error,
                message: "lockless walk on cpu \(site.cpu) touches page table \(name) after it was freed",
                locks: [], objects: [name],
                locations: [context.evidence(site, "reads \(name)"), context.evidence(freed, "frees \(name)")],
                notes: [fix], key: "\(name)|access"))
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
                locks: [], objects: [name], locations: locations, notes: [fix],
                key: "\(name)|walk|\(context.place(free.freed))"))
    }
}
