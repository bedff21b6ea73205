/// Lockdep's one check in NMI context (verify_lock_unused): a lock taken in an NMI (not a
/// trylock) whose class was already used outside NMI, for a write by any use, for a read by
/// a write, is `irq-inconsistent`, "inconsistent {INITIAL USE} -> {IN-NMI} usage": the NMI
/// can interrupt a holder on its own cpu and wait for it for ever. Nothing else is validated
/// in NMI (the engine records no lock taken there), and a class first used in NMI is unknown
/// to lockdep there, so it is no finding.
public final class NmiChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.acquisitions, .lockEvents] }

    private let context: CheckerContext
    /// Where each class (by id) was first used outside NMI, for a write and for a read: read
    /// at every acquisition, so by index, not hashed.
    @exclusivity(unchecked) private var firstWrite: [EventSite?] = []
    @exclusivity(unchecked) private var firstRead: [EventSite?] = []

    public init(context: CheckerContext) { self.context = context }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        // lockdep's LOCK_USED / LOCK_USED_READ, marked at every acquisition, trylocks too.
        let id = Int(lock.classID)
        if id >= firstWrite.count {
            firstWrite += Array(repeating: nil, count: id + 1 - firstWrite.count)
            firstRead += Array(repeating: nil, count: id + 1 - firstRead.count)
        }
        if lock.mode == .write {
            if firstWrite[id] == nil { firstWrite[id] = lock.site }
        } else if firstRead[id] == nil {
            firstRead[id] = lock.site
        }
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        guard case .acquire(let ref, let mode, let isTry, _, _, _) = event.kind, !isTry,
            replay.cpus[site.cpu].inNMI, let id = context.classes.existingID(for: ref.classKey).map(Int.init),
            id < firstWrite.count
        else { return }
        // READ locks only conflict with a write use (RCU's read side may run anywhere).
        guard let earlier = mode == .write ? firstWrite[id] ?? firstRead[id] : firstWrite[id] else { return }
        let name = context.name(of: ref)
        let key = "\(name)|NMI"
        if context.countAgain(.irqInconsistent, key: key) { return }
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
            .text("\(context.who(on: site.cpu, replay: replay)) takes:"),
            .lock(name, at: context.evidence(site, "acquires \(name) in NMI")),
            .text("{INITIAL USE} state was registered at:"),
            .site(context.evidence(earlier, "{INITIAL USE} state was registered here")),
        ]
        // print_usage_bug's list: what the interrupted task holds (nothing taken in NMI is).
        context.attachHeldLocks(to: &finding, replay: replay, cpu: site.cpu)
        context.report(finding)
    }
}
