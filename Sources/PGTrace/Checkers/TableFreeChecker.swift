/// Reports `table-free-race` (seed 001, RCU-based table free). Between `table-unlink` and
/// `table-free` of a page table there must be a synchronization with every cpu that may be in
/// a lockless walk (get_user_pages_fast with irqs disabled): a synchronous IPI to it (or an
/// IPI-mode TLB flush that waits), or an RCU-sched grace period. A hypercall flush (Xen PV)
/// is not one. A lockless walk running across such a free, or any access to a freed table,
/// is the use-after-free the thread describes.
///
/// An IPI holds off only a walk that has hardirqs disabled when it is sent ("get_user_pages_fast()
/// depends on the IPI to hold off page table teardown while they are locklessly walked with
/// interrupts disabled"), and only until the walker enables them again: a walker with irqs on
/// takes the IPI and walks on. Where the trace does not know the walker's irq state (partial
/// traces, lost events) the IPI is taken to hold it off: no finding is made of an unknown.
/// A free whose unlink came before lost events (on any cpu: the flush may be sent from any)
/// is not reported as unsynchronized, only noted; a walk touching it after the free still is.
///
/// An RCU grace period waits only for read-side sections: "since the in-progress gup_fast()
/// will have IRQs disabled this will be delayed". It holds off a walk unless the trace shows
/// the walk's cpu quiescent between the unlink and the last grace period before the free:
/// irqs enabled, outside any irq frame, with preemption and bh known enabled, no spinning
/// lock and no `rcu_read_lock` map held (the kernel's consolidated RCU waits for all of
/// these), as seen where the checker looks: at each grace period and where the walker
/// enables irqs or bh. Unknown state counts as a read-side section: no finding is made of
/// an unknown, and a quiescent moment between those looks is missed, never invented.
public final class TableFreeChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.ipiEvents, .tableEvents, .irqEnabling] }

    /// An unlinked table. What synchronized since its unlink is read off the clocks below at
    /// its free, so that a flush or a grace period costs O(1), however many tables wait.
    private struct Pending {
        var unlinked: EventSite
        /// `clock` at the unlink.
        var since: Int
        /// The first hypercall flushes after the unlink (cited), and `hypercallCount` then.
        var hypercallFlushes: [EventSite] = []
        var hypercallsBefore: Int
        /// `replay.forgetCount` at the unlink: lost events since may hide the flush.
        var forgets: Int
    }

    /// How many hypercall flushes a finding cites.
    static let citedFlushes = 4

    /// A free that lockless walks begun before the unlink may have run across.
    private struct Exposed {
        var unlinked: EventSite
        var freed: EventSite
        var walks: [Int: WalkCitation]
        var hypercallFlushes: [EventSite]
        var unshownFlushes: Int
        /// Events were lost between the unlink and the free: only an access is reported.
        var eventsLost: Bool
    }

    /// What a walk exposed to a free cites of itself: its begin, and what shows the IPI did
    /// not hold it off (irqs enabled when it came, or enabled again before the free).
    private struct WalkCitation {
        var begun: EventSite
        var begunRole: String
        var cited: [(site: EventSite, role: String)]
        var missedIPI: Bool
        var missedGrace: Bool
    }

    /// A lockless walk running on a cpu, as the IPIs that reach it see it.
    private struct Walk {
        var begun: EventSite
        /// Hardirqs at the begin: true enabled, false disabled, nil unknown.
        var begunEnabled: Bool?
        /// The walker: a cpu where another task runs (the walker preempted) is not judged
        /// quiescent for it (preemptible RCU waits for a preempted reader).
        var task: TaskKey
        /// The last time hardirqs were enabled during the walk.
        var lastEnable: EventSite?
        /// `clock` at the last waited IPI that reached the walk with irqs disabled (or not
        /// known), as long as they stay so: the walk is held off for tables unlinked before.
        var heldOffAt = -1
        /// The last waited IPI that reached the walk, its `clock`, and what it found.
        var lastIPI: EventSite?
        var lastIPIAt = -1
        var irqsOnAtIPI = false
        /// Irqs enabled at the IPI: the last enable before it (nil: on since the begin).
        var enabledBeforeIPI: EventSite?
        /// The enable that ended the IPI's hold, and the walker's handling of the IPI.
        var released: EventSite?
        var handled: EventSite?
        /// The last time the walk's cpu was seen quiescent, and the last before the last
        /// grace period, kept where `quiet` has moved past it (`lastQuiet`).
        var quiet: QuietMoment?
        var quietBeforeGrace: QuietMoment?
    }

    /// A time a walk's cpu was seen outside every RCU read-side section: `clock` then, and
    /// where (a grace period, or an enable of irqs or bh).
    private struct QuietMoment {
        var at: Int
        var site: EventSite
        var isGrace: Bool
    }

    private let context: CheckerContext
    /// lockdep's `rcu_read_lock`, `rcu_read_lock_bh` and `rcu_read_lock_sched` maps.
    private let rcuMaps: Set<Symbol>
    @exclusivity(unchecked) private var pending: [Symbol: Pending] = [:]
    @exclusivity(unchecked) private var exposed: [Symbol: Exposed] = [:]
    /// The tables exposed to each cpu's running walk.
    @exclusivity(unchecked) private var exposedTo: [Int: Set<Symbol>] = [:]
    /// Synchronizations, counted: the last that reached every cpu, and each cpu's last.
    @exclusivity(unchecked) private var clock = 0
    @exclusivity(unchecked) private var syncedAllAt = -1
    @exclusivity(unchecked) private var syncedAt: [Int: Int] = [:]
    /// `clock` at the last RCU grace period, and where it ended.
    @exclusivity(unchecked) private var graceAt = -1
    @exclusivity(unchecked) private var graceSite: EventSite?
    /// The cpus whose walk has been seen quiescent: what a free after a grace period looks at.
    @exclusivity(unchecked) private var quietWalks: Set<Int> = []
    /// `clock` at the last unlink: no pending table was unlinked after it.
    @exclusivity(unchecked) private var newestUnlink = -1
    /// The lockless walks running, by cpu.
    @exclusivity(unchecked) private var walks: [Int: Walk] = [:]
    /// Frees not reported because events were lost since their unlink: the first, and how many.
    @exclusivity(unchecked) private var lostFree: (table: Symbol, site: EventSite)?
    @exclusivity(unchecked) private var lostFrees = 0
    @exclusivity(unchecked) private var hypercallCount = 0
    /// Pending tables that still cite fewer than `citedFlushes` hypercall flushes, by unlink.
    @exclusivity(unchecked) private var citingFlushes: [(table: Symbol, since: Int)] = []

    public init(context: CheckerContext, rcuMaps: Set<Symbol> = []) {
        self.context = context
        self.rcuMaps = rcuMaps
    }

    public func replayWillBegin(_ replay: ReplayEngine) {
        pending = [:]
        exposed = [:]
        exposedTo = [:]
        syncedAt = [:]
        syncedAllAt = -1
        graceAt = -1
        graceSite = nil
        newestUnlink = -1
        quietWalks = []
        walks = [:]
        lostFree = nil
        lostFrees = 0
        citingFlushes = []
    }

    public func replay(_ replay: ReplayEngine, didEnableIrqs softirqs: Bool, at site: EventSite) {
        guard var walk = walks[site.cpu] else { return }
        if isQuiescent(site.cpu, walker: walk.task, replay: replay) {
            quietWalks.insert(site.cpu)
            if let quiet = walk.quiet, quiet.at <= graceAt { walk.quietBeforeGrace = quiet }
            // A clock tick of its own, so that it orders against grace periods and unlinks.
            clock += 1
            walk.quiet = QuietMoment(at: clock, site: site, isGrace: false)
        }
        guard !softirqs else {
            walks[site.cpu] = walk
            return
        }
        walk.lastEnable = site
        if walk.heldOffAt >= 0 {
            walk.heldOffAt = -1
            if walk.released == nil { walk.released = site }
        }
        walks[site.cpu] = walk
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        switch event.kind {
        case .tableUnlink(let table):
            clock += 1
            pending[table] = Pending(
                unlinked: site, since: clock, hypercallsBefore: hypercallCount, forgets: replay.forgetCount)
            newestUnlink = clock
            citingFlushes.append((table, clock))
            // Tables freed before any flush leave their entries behind: drop them now and then.
            if citingFlushes.count > 2 * pending.count + 64 {
                citingFlushes.removeAll { pending[$0.table]?.since != $0.since }
            }
        case .ipiSend(let targets, wait: true, _), .tlbFlush(let targets, .ipi, wait: true):
            synchronize(targets, at: site, replay: replay)
        case .ipiHandle:
            if var walk = walks[site.cpu], walk.lastIPI != nil, walk.handled == nil {
                walk.handled = site
                walks[site.cpu] = walk
            }
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
            graceAt = clock
            graceSite = site
            // Only a pending table can be exposed by what this grace period finds, and only by
            // a walk not yet seen quiescent since the newest unlink: with nothing pending no walk
            // is asked, and a walk seen quiescent since is skipped. Every other walk is asked
            // (irqs come back on at an NMI's exit or a task switch with no enable to see).
            guard !pending.isEmpty else { break }
            let quiet = walks.compactMap { cpu, walk in
                (walk.quiet?.at ?? -1) < newestUnlink && isQuiescent(cpu, walker: walk.task, replay: replay) ? cpu : nil
            }
            // Changed after the loop: a change during it would copy the table each time.
            for cpu in quiet {
                walks[cpu]!.quiet = QuietMoment(at: clock, site: site, isGrace: true)
                quietWalks.insert(cpu)
            }
        case .tableFree(let table):
            free(table, at: site, replay: replay)
        case .walkAccess(let table):
            access(table, at: site, replay: replay)
        case .locklessWalkBegin:
            let cpu = replay.cpus[site.cpu]
            walks[site.cpu] = Walk(begun: site, begunEnabled: cpu.hardirqsKnown ? cpu.hardirqsEnabled : nil, task: cpu.task)
            quietWalks.remove(site.cpu)
        case .locklessWalkEnd:
            walks[event.cpu] = nil
            quietWalks.remove(event.cpu)
            for table in (exposedTo.removeValue(forKey: event.cpu) ?? []).sorted() {
                guard exposed[table]?.walks[event.cpu] != nil else { continue }
                if exposed[table]!.eventsLost { noteLost(table, exposed[table]!.freed) } else {
                    report(table, exposed[table]!, walkCPU: event.cpu, access: nil, walkEnd: site)
                }
                // In place, no copy of the free held meanwhile: a free under thousands of walks
                // copied their citations at each walk's end (8191 walks: 1.7 s).
                exposed[table]!.walks[event.cpu] = nil
                if exposed[table]!.walks.isEmpty { exposed[table] = nil }
            }
        default:
            break
        }
    }

    public func replayDidEnd(_ replay: ReplayEngine) {
        for (table, free) in exposed.sorted(by: { $0.key < $1.key }) {
            if free.eventsLost { noteLost(table, free.freed); continue }
            for cpu in free.walks.keys.sorted() { report(table, free, walkCPU: cpu, access: nil, walkEnd: nil) }
        }
        exposed = [:]
        exposedTo = [:]
        walks = [:]
        if let (table, site) = lostFree {
            let name = context.symbols[table]
            let more = lostFrees > 1 ? " (and \(lostFrees - 1) more table frees so)" : ""
            context.note(
                "page table \(name) is freed after events were lost since its unlink\(more): a flush among them may have synchronized with the walkers, so no table-free-race is reported",
                evidence: context.evidence(site, "frees \(name)"))
        }
        lostFree = nil
        lostFrees = 0
    }

    private func noteLost(_ table: Symbol, _ site: EventSite) {
        if lostFree == nil { lostFree = (table, site) }
        lostFrees += 1
    }

    private func synchronize(_ targets: CPUTargets, at site: EventSite, replay: ReplayEngine) {
        switch targets {
        case .all, .others:
            clock += 1
            syncedAllAt = clock
            let all = targets == .all
            // Each walk in place; a walk's state is its own, so the order changes nothing.
            walks.updateEach { cpu, walk in
                if all || cpu != site.cpu { reach(&walk, cpu: cpu, at: site, replay: replay) }
            }
        case .list(let list):
            clock += 1
            for cpu in list.cpus {
                syncedAt[cpu] = clock
                if let index = walks.index(forKey: cpu) { reach(&walks.values[index], cpu: cpu, at: site, replay: replay) }
            }
        case .local: break
        }
    }

    /// A waited IPI reaches `walk`, on `cpu`: it holds the walk off unless irqs are on there.
    private func reach(_ walk: inout Walk, cpu: Int, at site: EventSite, replay: ReplayEngine) {
        let on = cpu < replay.cpus.count && replay.cpus[cpu].hardirqsSurelyEnabled
        walk.lastIPI = site
        walk.lastIPIAt = clock
        walk.irqsOnAtIPI = on
        walk.enabledBeforeIPI = on ? walk.lastEnable : nil
        walk.released = nil
        walk.handled = nil
        walk.heldOffAt = on ? -1 : clock
    }

    /// The last quiescent moment seen on the walk's cpu before the last grace period.
    private func lastQuiet(_ walk: Walk) -> QuietMoment? {
        guard let quiet = walk.quiet, quiet.at > graceAt else { return walk.quiet }
        return walk.quietBeforeGrace
    }

    /// Whether `lock` is one of lockdep's RCU read-side maps.
    private func isRCUMap(_ lock: HeldLock) -> Bool { rcuMaps.contains(context.classes[lock.classID].key.name) }

    /// Whether `cpu` is surely outside every RCU read-side section: hardirqs enabled and no
    /// irq frame, preemption and bh known enabled, no spinning lock nor RCU map held, and
    /// the trace shows every lock held.
    private func isQuiescent(_ cpu: Int, walker: TaskKey, replay: ReplayEngine) -> Bool {
        guard cpu < replay.cpus.count, !replay.mayMissHeldLocks else { return false }
        guard replay.cpus[cpu].task == walker else {
            // The walker is switched out: that switch was a quiescent state, unless it was
            // preempted inside rcu_read_lock() (preemptible RCU waits for such a reader).
            return !replay.heldLocks(task: walker).contains(where: isRCUMap)
        }
        guard replay.cpus[cpu].hardirqsSurelyEnabled else { return false }
        let state = replay.cpus[cpu]
        guard state.frames.isEmpty, state.preemptKnown, state.preemptDepth == 0,
            state.softirqsSurelyEnabled, !state.inNMI
        else { return false }
        return !replay.allHeldLocks(cpu: cpu).contains { context.classes.traits(of: $0.classID).type.isSpinning || isRCUMap($0) }
    }

    /// Whether the grace periods since `since` hold off the walk on `cpu`: one has ended,
    /// and the cpu was not seen quiescent from `since` to the last of them.
    private func graceHeldOff(_ cpu: Int, since: Int) -> Bool {
        guard graceAt > since, let walk = walks[cpu] else { return false }
        return (lastQuiet(walk)?.at ?? -1) < since
    }

    /// What a walk exposed to the free of a table unlinked at `since` cites of itself.
    private func citation(_ cpu: Int, _ begun: EventSite, since: Int) -> WalkCitation {
        guard let walk = walks[cpu], walk.begun == begun else {
            return WalkCitation(begun: begun, begunRole: "begins a lockless walk", cited: [], missedIPI: false, missedGrace: false)
        }
        let begunRole: String
        switch walk.begunEnabled {
        case true?: begunRole = "begins a lockless walk with irqs enabled"
        case false?: begunRole = "begins a lockless walk with irqs disabled"
        case nil: begunRole = "begins a lockless walk"
        }
        var cited: [(site: EventSite, role: String)] = []
        var missedGrace = false
        if graceAt > since, let graceSite, let quiet = lastQuiet(walk), quiet.at >= since {
            // The grace period need not have waited: the cpu was seen quiescent since the unlink.
            cited.append(
                quiet.isGrace
                    ? (quiet.site, "ends an RCU grace period while cpu \(cpu) is outside any RCU read-side section: it does not wait for the walk")
                    : (quiet.site, "enables irqs or bh within the walk (or returns to it from an interrupt), outside any RCU read-side section: a quiescent state"))
            if quiet.site != graceSite {
                cited.append((graceSite, "ends an RCU grace period, which need not have waited for the walk on cpu \(cpu)"))
            }
            missedGrace = true
        }
        guard let ipi = walk.lastIPI, walk.lastIPIAt > since else {
            return WalkCitation(begun: begun, begunRole: begunRole, cited: cited, missedIPI: false, missedGrace: missedGrace)
        }
        if walk.irqsOnAtIPI {
            if let enable = walk.enabledBeforeIPI { cited.append((enable, "enables irqs within the walk")) }
            cited.append((ipi, "flushes by IPI while cpu \(cpu) has irqs enabled: nothing holds the walk off"))
        } else {
            cited.append((ipi, "flushes by IPI while cpu \(cpu) has irqs disabled"))
            if let released = walk.released {
                cited.append((released, "enables irqs within the walk: the IPI no longer holds it off"))
            }
        }
        if let handled = walk.handled { cited.append((handled, "takes the IPI and walks on")) }
        return WalkCitation(begun: begun, begunRole: begunRole, cited: cited, missedIPI: true, missedGrace: missedGrace)
    }

    private func free(_ table: Symbol, at site: EventSite, replay: ReplayEngine) {
        let name = context.symbols[table]
        guard let state = pending.removeValue(forKey: table) else {
            // Never unlinked, unless freed so long ago that the quarantine forgot the unlink
            // (a second free: no more reported than it was).
            if !(replay.memory.table(table)?.wasUnlinked ?? false), !replay.memory.wasFreedLongAgo(table) {
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
        let lost = replay.forgetCount != state.forgets
        // The walks begun before the unlink that may still hold the table: those on other
        // cpus that no grace period since waited for, and no IPI since holds off. (A walk
        // this checker did not see begin, after lost events, is taken as held off by a grace
        // period: its state is unknown.)
        let graced = graceAt > state.since
        // After a grace period only a walk seen quiescent can be exposed: the others are not
        // looked at (8191 walks with irqs off and 2,000 frees after grace periods: 14 s).
        let begunBefore = state.unlinked.position.event + 1
        let candidates = graced
            ? Dictionary(uniqueKeysWithValues: quietWalks.compactMap { cpu in
                replay.memory.locklessWalks[cpu].flatMap { $0.sequence < begunBefore ? (cpu, $0) : nil }
            })
            : replay.memory.walks(begunBefore: begunBefore)
        let running = candidates.filter { cpu, walk in
            guard cpu != site.cpu else { return false }
            guard walks[cpu]?.begun == walk.begun else { return !graced }
            return !heldOff(cpu, since: state.since) && !graceHeldOff(cpu, since: state.since)
        }
        let unshownFlushes = hypercallCount - state.hypercallsBefore - state.hypercallFlushes.count
        if !running.isEmpty {
            exposed[table] = Exposed(
                unlinked: state.unlinked, freed: site,
                walks: Dictionary(uniqueKeysWithValues: running.map { ($0.key, citation($0.key, $0.value.begun, since: state.since)) }),
                hypercallFlushes: state.hypercallFlushes, unshownFlushes: unshownFlushes, eventsLost: lost)
            for cpu in running.keys { exposedTo[cpu, default: []].insert(table) }
            return
        }
        // No walk seen: every other cpu may be in one the trace does not show. Synchronized
        // with all of them (a broadcast IPI or a grace period), or with some.
        if syncedAllAt > state.since { return }
        // The cpus synchronized since the unlink, and the one freeing: read off what the IPIs
        // named, never by going over every cpu (a trace may declare 8192).
        var synced = syncedAt.compactMap { $0.value > state.since ? $0.key : nil }
        let syncedSome = !synced.isEmpty
        synced.append(site.cpu)
        let cpuCount = max(replay.cpuCount, replay.header.cpus ?? 0)
        let unsynced = CPURanges(complementOf: synced, below: cpuCount)
        guard !unsynced.isEmpty || (replay.header.cpus == nil && !syncedSome) else { return }
        if lost {
            noteLost(table, site)
            return
        }
        // One munmap path frees many tables: where the unlink and the free name a kernel place,
        // they are one finding there, counted (the table named is the first).
        let named = (state.unlinked.function ?? state.unlinked.at) != nil && (site.function ?? site.at) != nil
        let key = named
            ? "unsynced|\(context.place(state.unlinked))|\(context.place(site))"
            : "\(name)|unsynced|\(context.place(site))"
        if context.countAgain(.tableFreeRace, key: key) { return }
        var locations = [
            context.evidence(state.unlinked, "unlinks \(name)"),
        ]
        locations += state.hypercallFlushes.map { context.evidence($0, "flushes by hypercall: no IPI reaches the walkers") }
        locations.append(context.evidence(site, "frees \(name)"))
        let cpuList = unsynced.isEmpty ? "the other cpus" : unsynced.description
        context.report(
            Finding(
                rule: .tableFreeRace, severity: .warning,
                message: "page table \(name) is freed without synchronizing with \(cpuList), which may be walking it locklessly (get_user_pages_fast)",
                locks: [], objects: [name], locations: locations,
                notes: Self.unshown(unshownFlushes) + [fix],
                key: key))
    }

    /// Whether a waited IPI since `since` reached the walk on `cpu` with irqs disabled (or
    /// not known), and irqs stayed so.
    private func heldOff(_ cpu: Int, since: Int) -> Bool {
        (walks[cpu]?.heldOffAt ?? -1) > since
    }

    private func access(_ table: Symbol, at site: EventSite, replay: ReplayEngine) {
        if exposed[table]?.walks[site.cpu] != nil {
            report(table, exposed[table]!, walkCPU: site.cpu, access: site, walkEnd: nil)
            exposed[table]!.walks[site.cpu] = nil
            if exposed[table]!.walks.isEmpty { exposed[table] = nil }
            return
        }
        let freed = replay.memory.table(table)?.freed
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
        let walk = free.walks[walkCPU]!
        var cited: [(site: EventSite, role: String)] = [(walk.begun, walk.begunRole), (free.unlinked, "unlinks \(name)")]
        cited += free.hypercallFlushes.map { ($0, "flushes by hypercall: no IPI reaches the walker") }
        cited += walk.cited
        cited.append((free.freed, "frees \(name) while the walk runs"))
        if let access { cited.append((access, "reads \(name) after the free")) }
        if let walkEnd { cited.append((walkEnd, "ends the walk")) }
        // In the order they happened.
        let locations = cited.enumerated()
            .sorted { ($0.element.site.position, $0.offset) < ($1.element.site.position, $1.offset) }
            .map { context.evidence($0.element.site, $0.element.role) }
        let unheld = walk.missedIPI
            ? ": the IPI flush does not hold off a walker with irqs enabled"
            : walk.missedGrace
                ? ": an RCU grace period waits only for walkers in a read-side section (irqs, preemption or bh disabled, or rcu_read_lock held)"
                : ""
        context.report(
            Finding(
                rule: .tableFreeRace, severity: .error,
                message: access != nil
                    ? "page table \(name) is freed under a lockless walk on cpu \(walkCPU), which then touches the freed page\(unheld)"
                    : "page table \(name) is freed while a lockless walk on cpu \(walkCPU), begun before the unlink, may still hold it\(unheld)",
                locks: [], objects: [name], locations: locations, notes: Self.unshown(free.unshownFlushes) + [fix],
                key: "\(name)|walk|\(context.place(free.freed))"))
    }

    private static func unshown(_ flushes: Int) -> [String] {
        flushes > 0 ? ["\(flushes) more hypercall flushes between the unlink and the free are not shown."] : []
    }
}
