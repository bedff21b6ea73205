/// Lockdep's one check in NMI context (verify_lock_unused): a lock taken in an NMI (not a
/// trylock) whose class was already used outside NMI, for a write by any use, for a read by
/// a write, is `irq-inconsistent`, "inconsistent {INITIAL USE} -> {IN-NMI} usage": the NMI
/// can interrupt a holder on its own cpu and wait for it for ever. Nothing else is validated
/// in NMI (the engine records no lock taken there), and a class first used in NMI is unknown
/// to lockdep there, so it is no finding.
///
/// The replay gives the uses and the NMI acquisitions as facts; the graph checks apply them
/// in the order of their evidence, so a class used outside NMI in one trace and taken in NMI
/// in another is found whichever was read first.
public final class NmiChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.acquiring, .lockEvents] }

    private let facts: GraphFactLog
    private let context: CheckerContext
    /// Whether each class (by id) was used outside NMI, for a write (bit 0) and for a read
    /// (bit 1), as the graph checks have seen the facts so far: a byte a class, where the
    /// use's site stays in the log's fact (two sites a class here were 80 bytes).
    @exclusivity(unchecked) private var usedSoFar: [UInt8] = []
    /// The uses already recorded from this trace, by class (bit 0 write, bit 1 read): read at
    /// every acquisition, so by index, not hashed.
    @exclusivity(unchecked) private var recorded: [UInt8] = []

    public init(facts: GraphFactLog, context: CheckerContext) {
        self.facts = facts
        self.context = context
    }

    public func replayWillBegin(_ replay: ReplayEngine) { recorded = [] }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        // lockdep's LOCK_USED / LOCK_USED_READ, marked at every acquisition, trylocks too.
        let id = Int(lock.classID)
        recorded.grow(toInclude: id, filling: 0)
        let read = lock.mode != .write
        let bit: UInt8 = read ? 2 : 1
        guard recorded[id] & bit == 0 else { return }
        recorded[id] |= bit
        if !facts.knows(GraphFact.usedKey(lock.classID, read: read)) {
            facts.record(.used(classID: lock.classID, read: read, site: lock.site))
        }
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        guard case .acquire(let ref, let mode, let isTry, _, _, _) = event.kind, !isTry,
            replay.cpus[site.cpu].inNMI
        else { return }
        // Whether this trace used the class, in a way the acquisition conflicts with, before:
        // then the acquisition is a finding whatever other traces show, and one of the kind is
        // a fact of its own (lockdep reports an NMI acquisition after a use even where an
        // earlier one came before it). The class is not made here: a lock taken only in NMI
        // is no class of the graph (it may be used in a trace read later, or a summary: the
        // fact names it by its key).
        let used = context.classes.existingID(for: ref.classKey).map { Int($0) < recorded.count ? recorded[Int($0)] : 0 } ?? 0
        let afterUse = mode == .write ? used != 0 : used & 1 != 0
        let key = GraphFact.nmiAcquireKey(ref.classKey, mode, afterUse: afterUse)
        // Every NMI acquisition counts: the first of its kind is the fact, the others add to
        // its count (and to the finding's, where the fact made one).
        if facts.knows(key) {
            facts.countAgain(key)
            if contributed.contains(key) {
                _ = context.countAgain(.irqInconsistent, key: "\(context.name(of: ref))|NMI", scope: .graph)
            }
            return
        }
        facts.record(.nmiAcquire(NmiAcquireFact(
            key: ref.classKey, mode: mode, afterUse: afterUse, site: site, moment: context.moments.record(replay, cpu: site.cpu), count: 1)))
    }

    // MARK: The graph check

    /// The graph is checked again from its first fact.
    func reset() {
        usedSoFar = []
        contributed = []
    }

    /// The NMI facts that made or counted into a finding, whose later meetings count too.
    @exclusivity(unchecked) private var contributed: Set<GraphFactKey> = []

    /// A use outside NMI.
    public func applyUse(of classID: ClassID, read: Bool) {
        let id = Int(classID)
        usedSoFar.grow(toInclude: id, filling: 0)
        usedSoFar[id] |= read ? 2 : 1
    }

    /// A lock taken in NMI: `irq-inconsistent` if its class was used outside NMI before.
    public func apply(_ fact: NmiAcquireFact) {
        guard let classID = context.classes.existingID(for: fact.key), Int(classID) < usedSoFar.count else { return }
        let used = usedSoFar[Int(classID)]
        let site = fact.site
        // READ locks only conflict with a write use (RCU's read side may run anywhere). The
        // use applied is the log's fact of its key (the log replaces a fact only where it
        // checks the graph again from its first fact).
        let readUse: Bool
        if used & 1 != 0 {
            readUse = false
        } else if fact.mode == .write, used & 2 != 0 {
            readUse = true
        } else {
            return
        }
        guard case .used(_, _, let earlier)? = facts.fact(for: GraphFact.usedKey(classID, read: readUse)) else {
            assertionFailure("a use the graph checks applied is not in the log")
            return
        }
        contributed.insert(GraphFact.nmiAcquire(fact).key)
        let name = context.name(of: classID)
        let key = "\(name)|NMI"
        if context.countAgain(.irqInconsistent, key: key, scope: .graph, by: fact.count) { return }
        var finding = Finding(
            rule: .irqInconsistent, severity: .error,
            message: "\(name): inconsistent {INITIAL USE} -> {IN-NMI} usage: taken in NMI context, and used outside NMI before, "
                + "so the NMI can interrupt a holder on the same cpu and spin on it forever",
            locks: [name],
            locations: [
                context.evidence(site, "{IN-NMI} usage: taken in NMI context"),
                context.evidence(earlier, "{INITIAL USE} state was registered here"),
            ],
            scenario: Scenario(columns: ["CPU0"], steps: [(0, "lock(\(name));"), (0, "<NMI>"), (0, "  lock(\(name));")]),
            notes: ["take no lock in NMI that is used elsewhere: NMI handlers use lockless structures (llist, irq_work) or a trylock"],
            key: key)
        finding.body = [
            .text("inconsistent {INITIAL USE} -> {IN-NMI} usage."),
            .text("\(context.who(fact.moment)) takes:"),
            .lock(name, at: context.evidence(site, "acquires \(name) in NMI")),
            .text("{INITIAL USE} state was registered at:"),
            .site(context.evidence(earlier, "{INITIAL USE} state was registered here")),
        ]
        // print_usage_bug's list: what the interrupted task holds (nothing taken in NMI is).
        context.attachHeldLocks(to: &finding, moment: fact.moment, holder: nil)
        finding.count = fact.count
        context.report(finding, scope: .graph)
    }
}
