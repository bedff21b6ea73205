/// Reports `sleep-in-atomic`: a call that can sleep (`might-sleep`, a non-atomic `kmap`) made
/// while the cpu cannot schedule: a spinning lock held, hardirqs or bh disabled, or in irq
/// context ("BUG: sleeping function called from invalid context"); and a task switched out
/// in that state ("BUG: scheduling while atomic").
public final class SleepInAtomicChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.contextEvents, .kmapEvents] }

    private let context: CheckerContext

    /// lockdep's `rcu_read_lock` map: how deep the RCU read-side sections held are.
    private let rcuMap: Symbol?

    public init(context: CheckerContext, rcuMap: Symbol? = nil) {
        self.context = context
        self.rcuMap = rcuMap
    }

    public func replay(
        _ replay: ReplayEngine, switchedOut task: TaskKey, atomic held: [HeldLock], hardirqsEnabled: Bool, bhDisabled: Bool,
        at site: EventSite
    ) {
        let name: String
        switch task {
        case .named(let symbol): name = "task \(context.symbols[symbol])"
        case .anonymous(let cpu): name = "the task on cpu \(cpu)"
        }
        var reasons: [String] = []
        var locks: [String] = []
        var locations = [context.evidence(site, "another task runs")]
        if let spinning = held.last(where: { !$0.isTry && context.classes[$0.classID].type.isSpinning }) {
            let lock = context.name(of: spinning.classID)
            reasons.append("holding \(lock)")
            locks.append(lock)
            locations.append(context.evidence(spinning.site, "acquires \(lock)"))
        }
        if !hardirqsEnabled { reasons.append("with hardirqs disabled") }
        if bhDisabled { reasons.append("with bh disabled") }
        context.report(
            Finding(
                rule: .sleepInAtomic, severity: .error,
                message: "\(name) is switched out \(reasons.joined(separator: ", ")) on cpu \(site.cpu): scheduling while atomic",
                locks: locks,
                locations: locations,
                notes: ["release the spinning lock (and enable irqs and bh) before anything that can schedule"],
                key: "switch|\(name)|\(reasons.joined(separator: ","))", title: "scheduling while atomic"))
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        let what: String
        switch event.kind {
        case .mightSleep: what = "a call that can sleep"
        case .kmap(let page, let series, atomic: false, _):
            what = "kmap(\(context.symbols[page])) of series \(context.symbols[series]), which can sleep,"
        default: return
        }
        let cpu = replay.cpus[event.cpu]
        var reasons: [String] = []
        var locks: [String] = []
        var locations = [context.evidence(site, "\(what) here")]
        if let spinning = replay.allHeldLocks(cpu: event.cpu).last(where: {
            context.classes[$0.classID].type.isSpinning
        }) {
            let name = context.name(of: spinning.classID)
            reasons.append("with \(name) held")
            locks.append(name)
            locations.append(context.evidence(spinning.site, "acquires \(name)"))
        }
        if let frame = cpu.frames.last {
            reasons.append("in \(frame.kind.name) context")
            locations.append(context.evidence(frame.entered, "enters \(frame.kind.name) context"))
        } else if cpu.hardirqsSurelyDisabled {
            reasons.append("with hardirqs disabled")
            if let disabled = cpu.hardirqsDisabledAt { locations.append(context.evidence(disabled, "disables hardirqs")) }
        } else if !cpu.softirqsEnabled {
            reasons.append("with bh disabled")
        }
        // __might_resched's other two: preemption disabled (as the trace counts it) and the
        // depth of RCU read-side sections (a held map or mutex is no reason).
        // The event's own sample, where it has one, is the count at this call (the engine
        // takes it in after the observers).
        let preemptDepth = event.preemptCount.map(Int.init) ?? (cpu.preemptKnown ? cpu.preemptDepth : 0)
        if preemptDepth > 0, cpu.frames.isEmpty {
            reasons.append("with preemption disabled (preempt count \(preemptDepth))")
        }
        let held = replay.allHeldLocks(cpu: event.cpu)
        let rcuDepth = rcuMap.map { map in held.filter { context.classes[$0.classID].key.name == map }.count } ?? 0
        if rcuDepth > 0 {
            reasons.append("inside an RCU read-side section (RCU nest depth \(rcuDepth))")
            if let section = held.first(where: { context.classes[$0.classID].key.name == rcuMap }) {
                locations.append(context.evidence(section.site, "enters an RCU read-side section"))
            }
        }
        guard !reasons.isEmpty else { return }
        let place = context.place(site)
        context.report(
            Finding(
                rule: .sleepInAtomic, severity: .error,
                message: "\(what) \(reasons.joined(separator: ", ")) on cpu \(event.cpu)"
                    + (event.function.map { " in \(context.symbols[$0])" } ?? ""),
                locks: locks,
                locations: locations,
                notes: ["Allocate or map before taking the lock (GFP_ATOMIC or an atomic kmap inside it), or drop the lock around the call"],
                key: "\(place)|\(reasons.joined(separator: ","))"))
    }
}
