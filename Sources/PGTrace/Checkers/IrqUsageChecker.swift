/// Keeps lockdep's usage bits of every class — taken in hardirq/softirq context, taken with
/// hardirqs/softirqs enabled, or held when they were re-enabled (mark_held_locks) — and
/// reports `irq-inconsistent` when one class has usages that can deadlock against itself:
/// taken in an irq and also with that irq enabled (a reader in irq context and a reader with
/// the irq on is fine, as in lockdep's valid_state).
///
/// The replay gives the usage facts (`GraphFact.usage`); the graph checks apply each, in
/// the order of its evidence (`apply`).
public final class IrqUsageChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.acquiring, .irqEnabling] }

    private let graph: LockGraph
    private let facts: GraphFactLog
    private let context: CheckerContext

    public init(graph: LockGraph, facts: GraphFactLog, context: CheckerContext) {
        self.graph = graph
        self.facts = facts
        self.context = context
    }

    /// The usage bits this trace already holds as facts (or knows from a lesser trace), by
    /// class: checked at every acquisition, so by index, not hashed.
    @exclusivity(unchecked) private var known: [LockUsage] = []

    public func replayWillBegin(_ replay: ReplayEngine) { known = [] }

    /// The moment of the event being replayed, made once for all its facts.
    @exclusivity(unchecked) private var moment: (site: EventSite, moment: MomentID)?

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        // A check=0 acquisition gets no irq usage (lockdep's mark_usage marks it used only);
        // a folded one none at all (__lock_acquire returns before mark_usage).
        guard lock.validates, !lock.isFolded else { return }
        // The cpu's state read in place (a copy of it would retain its frames at every lock).
        let cpu = lock.site.cpu
        let read = lock.mode != .write
        // A trylock cannot spin, so it does not make the class irq-safe (lockdep's mark_usage).
        if !lock.isTry, !replay.cpus[cpu].frames.isEmpty {
            let serving = replay.servingIrqs(cpu: cpu)
            if serving.hardirq { mark(lock, .init(.hardirq, enabled: false, read: read), at: lock.site, replay) }
            if serving.softirq { mark(lock, .init(.softirq, enabled: false, read: read), at: lock.site, replay) }
        }
        // In a capture, nothing is inferred from a state the trace has not stated yet.
        if replay.cpus[cpu].hardirqsSurelyEnabled {
            mark(lock, .init(.hardirq, enabled: true, read: read), at: lock.site, replay)
            if replay.cpus[cpu].softirqsSurelyEnabled { mark(lock, .init(.softirq, enabled: true, read: read), at: lock.site, replay) }
        }
    }

    public func replay(_ replay: ReplayEngine, didEnableIrqs softirqs: Bool, at site: EventSite) {
        guard replay.cpus[site.cpu].hardirqsSurelyEnabled else { return }
        let softirqsEnabled = replay.cpus[site.cpu].softirqsSurelyEnabled
        for lock in replay.allHeldLocks(cpu: site.cpu) where lock.validates {
            let read = lock.mode != .write
            if !softirqs { mark(lock, .init(.hardirq, enabled: true, read: read), at: site, replay) }
            if softirqsEnabled { mark(lock, .init(.softirq, enabled: true, read: read), at: site, replay) }
        }
    }

    /// Records that `lock`'s class got `bit` at `site`, unless the facts have it already.
    private func mark(_ lock: HeldLock, _ bit: LockUsage.Bit, at site: EventSite, _ replay: ReplayEngine) {
        let id = Int(lock.classID)
        if id < known.count, known[id].contains(bit.mask) { return }
        known.grow(toInclude: id, filling: [])
        known[id].formUnion(bit.mask)
        guard !facts.knows(GraphFact.usageKey(lock.classID, bit)) else { return }
        let moment: MomentID
        if let made = self.moment, made.site.position == site.position {
            moment = made.moment
        } else {
            moment = context.moments.record(replay, cpu: site.cpu)
            self.moment = (site, moment)
        }
        facts.record(.usage(UsageFact(classID: lock.classID, bit: bit, site: site, lockSite: lock.site, lockMode: lock.mode, moment: moment)))
    }

    /// What the trace's classes are known to have goes with it (the graph checks that follow
    /// build the graph, where a run's memory peaks).
    public func replayDidEnd(_ replay: ReplayEngine) {
        moment = nil
        known = []
    }

    // MARK: The graph check

    /// Sets the fact's bit on its class: a bit that contradicts the class's other usage is
    /// `irq-inconsistent`; one that does not is announced to the graph's observers (the irq
    /// inversion searches).
    public func apply(_ fact: UsageFact) {
        guard graph.mark(fact.classID, fact.bit, at: fact.site) else { return }
        let usage = graph.usage(of: fact.classID)
        if let old = fact.bit.conflict(in: usage) {
            report(fact, old: old)
            return
        }
        graph.announce(fact)
    }

    private func report(_ fact: UsageFact, old: LockUsage.Bit) {
        let (new, site, lockSite) = (fact.bit, fact.site, fact.lockSite)
        let name = context.name(of: fact.classID)
        let usage = graph.usage(of: fact.classID)
        let irq = new.state.contextName
        let safeBit = new.enabled ? old : new
        let unsafeBit = new.enabled ? new : old
        let safeSite = graph.site(of: safeBit, for: fact.classID) ?? site
        let unsafeSite = graph.site(of: unsafeBit, for: fact.classID) ?? site
        let unsafeHow = unsafeSite.position == lockSite.position
            ? "taken with \(irq)s enabled" : "held when \(irq)s were enabled"
        var locations = [
            context.evidence(site, "{\(new.name)} usage: \(new.enabled ? unsafeHow : "taken in \(irq) context")"),
            context.evidence(new.enabled ? safeSite : unsafeSite, "{\(old.name)} state was registered here"),
        ]
        if unsafeSite.position != lockSite.position, new.enabled {
            locations.append(context.evidence(lockSite, "acquires \(name)"))
        }
        var finding = Finding(
            rule: .irqInconsistent, severity: .error,
            message: "\(name): inconsistent {\(old.name)} -> {\(new.name)} usage: taken in \(irq) context "
                + "and with \(irq)s enabled, so the \(irq) can interrupt a holder on the same cpu and spin on it forever",
            locks: [name],
            locations: locations,
            scenario: Scenario(
                columns: ["CPU0"],
                steps: [(0, "lock(\(name));"), (0, "<Interrupt>"), (0, "  lock(\(name));")]),
            notes: [
                "\(name)\(usage.lockdepString) is {\(safeBit.name)} and {\(unsafeBit.name)}: take it with \(new.state == .hardirq ? "spin_lock_irqsave" : "spin_lock_bh") everywhere, or never in \(irq) context"
            ],
            key: "\(name)|\(new.state.name)")
        // print_usage_bug's body: who takes which lock, and where the other usage began.
        // Met as irqs are enabled (mark_held_locks), lockdep prints the state before them.
        let enabling = new.enabled && unsafeSite.position != lockSite.position
        finding.body = [
            .text("inconsistent {\(old.name)} -> {\(new.name)} usage."),
            .text("\(context.who(fact.moment, hardirqsEnabled: enabling && new.state == .hardirq ? false : nil, softirqsEnabled: enabling && new.state == .softirq ? false : nil)) takes:"),
            .lock(name, at: context.evidence(lockSite, "acquires \(name)")),
            .text("{\(old.name)} state was registered at:"),
            .site(context.evidence(graph.site(of: old, for: fact.classID) ?? site, "{\(old.name)} state was registered here")),
        ]
        if enabling {
            finding.body += [.text("\(new.state == .hardirq ? "hardirqs" : "softirqs") last  enabled at:"), .site(context.evidence(site, "{\(new.name)} usage"))]
        }
        // Lockdep's print_usage_bug lists the locks held before the one being taken.
        context.attachHeldLocks(to: &finding, moment: fact.moment, holder: nil)
        context.report(finding, scope: .graph)
    }
}
