/// Keeps lockdep's usage bits of every class — taken in hardirq/softirq context, taken with
/// hardirqs/softirqs enabled, or held when they were re-enabled (mark_held_locks) — and
/// reports `irq-inconsistent` when one class has usages that can deadlock against itself:
/// taken in an irq and also with that irq enabled (a reader in irq context and a reader with
/// the irq on is fine, as in lockdep's valid_state).
public final class IrqUsageChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.acquisitions, .irqEnabling] }

    private let graph: LockGraph
    private let context: CheckerContext

    public init(graph: LockGraph, context: CheckerContext) {
        self.graph = graph
        self.context = context
    }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        // A check=0 acquisition gets no irq usage (lockdep's mark_usage marks it used only).
        guard lock.validates else { return }
        // The cpu's state read in place (a copy of it would retain its frames at every lock).
        let cpu = lock.site.cpu
        let read = lock.mode != .write
        // A trylock cannot spin, so it does not make the class irq-safe (lockdep's mark_usage).
        if !lock.isTry, !replay.cpus[cpu].frames.isEmpty {
            if replay.cpus[cpu].inHardirq { mark(lock, .init(.hardirq, enabled: false, read: read), at: lock.site) }
            if replay.cpus[cpu].inSoftirq { mark(lock, .init(.softirq, enabled: false, read: read), at: lock.site) }
        }
        // In a capture, nothing is inferred from a state the trace has not stated yet.
        if replay.cpus[cpu].hardirqsSurelyEnabled {
            mark(lock, .init(.hardirq, enabled: true, read: read), at: lock.site)
            if replay.cpus[cpu].softirqsSurelyEnabled { mark(lock, .init(.softirq, enabled: true, read: read), at: lock.site) }
        }
    }

    public func replay(_ replay: ReplayEngine, didEnableIrqs softirqs: Bool, at site: EventSite) {
        guard replay.cpus[site.cpu].hardirqsSurelyEnabled else { return }
        let softirqsEnabled = replay.cpus[site.cpu].softirqsSurelyEnabled
        for lock in replay.allHeldLocks(cpu: site.cpu) where lock.validates {
            let read = lock.mode != .write
            if !softirqs { mark(lock, .init(.hardirq, enabled: true, read: read), at: site) }
            if softirqsEnabled { mark(lock, .init(.softirq, enabled: true, read: read), at: site) }
        }
    }

    private func mark(_ lock: HeldLock, _ bit: LockUsage.Bit, at site: EventSite) {
        guard graph.mark(lock.classID, bit, at: site) else { return }
        let usage = graph.usage(of: lock.classID)
        if let old = bit.conflicting.first(where: { usage.contains($0) }) {
            report(lock: lock, old: old, new: bit, at: site)
            return
        }
        graph.announce(bit, on: lock, at: site)
    }

    private func report(lock: HeldLock, old: LockUsage.Bit, new: LockUsage.Bit, at site: EventSite) {
        let name = context.name(of: lock.classID)
        let usage = graph.usage(of: lock.classID)
        let irq = new.state.contextName
        let safeBit = new.enabled ? old : new
        let unsafeBit = new.enabled ? new : old
        let safeSite = graph.site(of: safeBit, for: lock.classID) ?? site
        let unsafeSite = graph.site(of: unsafeBit, for: lock.classID) ?? site
        let unsafeHow = unsafeSite.position == lock.site.position
            ? "taken with \(irq)s enabled" : "held when \(irq)s were enabled"
        var locations = [
            context.evidence(site, "{\(new.name)} usage: \(new.enabled ? unsafeHow : "taken in \(irq) context")"),
            context.evidence(new.enabled ? safeSite : unsafeSite, "{\(old.name)} state was registered here"),
        ]
        if unsafeSite.position != lock.site.position, new.enabled {
            locations.append(context.evidence(lock.site, "acquires \(name)"))
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
        let enabling = new.enabled && unsafeSite.position != lock.site.position
        finding.body = [
            .text("inconsistent {\(old.name)} -> {\(new.name)} usage."),
            .text("\(context.who(on: site.cpu, hardirqsEnabled: enabling && new.state == .hardirq ? false : nil, softirqsEnabled: enabling && new.state == .softirq ? false : nil)) takes:"),
            .lock(name, at: context.evidence(lock.site, "acquires \(name)")),
            .text("{\(old.name)} state was registered at:"),
            .site(context.evidence(graph.site(of: old, for: lock.classID) ?? site, "{\(old.name)} state was registered here")),
        ]
        if enabling {
            finding.body += [.text("\(new.state == .hardirq ? "hardirqs" : "softirqs") last  enabled at:"), .site(context.evidence(site, "{\(new.name)} usage"))]
        }
        // Lockdep's print_usage_bug lists the locks held before the one being taken.
        context.attachHeldLocks(to: &finding, cpu: site.cpu)
        context.report(finding)
    }
}
