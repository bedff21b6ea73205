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
        _ replay: ReplayEngine, switchedOut task: TaskKey, atomic held: HeldLocks, hardirqsEnabled: Bool, bhDisabled: Bool,
        preemptDepth: Int, at site: EventSite
    ) {
        let name: String
        switch task {
        case .named(let symbol): name = "task \(context.symbols[symbol])"
        case .anonymous(let cpu): name = "the task on cpu \(cpu)"
        }
        var reasons: [String] = []
        var locks: [String] = []
        var locations = [context.evidence(site, "another task runs")]
        if let spinning = held.last(where: { !$0.isTry && context.classes.traits(of: $0.classID).type.isSpinning }) {
            let lock = context.name(of: spinning.classID)
            reasons.append("holding \(lock)")
            locks.append(lock)
            locations.append(context.evidence(spinning.site, "acquires \(lock)"))
        }
        if !hardirqsEnabled { reasons.append("with hardirqs disabled") }
        if bhDisabled { reasons.append("with bh disabled") }
        if preemptDepth > 0 { reasons.append("with preemption disabled (preempt count \(preemptDepth))") }
        let key = "switch|\(name)|\(reasons.joined(separator: ","))"
        if context.countAgain(.sleepInAtomic, key: key) { return }
        var finding = Finding(
            rule: .sleepInAtomic, severity: .error,
            message: "\(name) is switched out \(reasons.joined(separator: ", ")) on cpu \(site.cpu): scheduling while atomic",
            locks: locks,
            locations: locations,
            notes: ["release the spinning lock (and enable irqs and bh) before anything that can schedule"],
            key: key, title: "scheduling while atomic")
        // __schedule_bug: debug_show_held_locks(prev), the task switched out.
        context.attachHeldLocks(to: &finding, replay: replay, cpu: site.cpu, locks: held, task: task)
        context.report(finding)
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
        let held = replay.allHeldLocks(cpu: event.cpu)
        // One pass over the held locks, reading each class's traits and the lock's own name
        // (a might-sleep under 20,000 held locks filtered them twice, once through each
        // class's whole entry: 20,000 calls took 4.4 s).
        var spinning: HeldLock?
        // The spinning locks that disable preemption: local_lock_irqsave and local_lock_irq
        // only disable irqs.
        var preemptingHeld = 0
        var rcuDepth = 0
        var section: HeldLock?
        for lock in held {
            let type = context.classes.traits(of: lock.classID).type
            if type.isSpinning {
                spinning = lock
                if !(type == .localLock && lock.irq != nil) { preemptingHeld += 1 }
            }
            if let rcuMap, lock.ref.name == rcuMap {
                rcuDepth += 1
                if section == nil { section = lock }
            }
        }
        var reasons: [String] = []
        var locks: [String] = []
        var locations = [context.evidence(site, "\(what) here")]
        if let spinning {
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
        // From an unknown state (a partial trace) the count is what the trace saw disabled and
        // not enabled again: a least count, and more than 0 proves preemption off all the same.
        let preemptDepth = event.preemptCount.map(Int.init) ?? cpu.preemptDepth
        let preemptAtLeast = event.preemptCount == nil && !cpu.preemptKnown
        if preemptDepth > 0, cpu.frames.isEmpty {
            reasons.append("with preemption disabled (preempt count \(preemptAtLeast ? "at least " : "")\(preemptDepth))")
        }
        if let section {
            reasons.append("inside an RCU read-side section (RCU nest depth \(rcuDepth))")
            locations.append(context.evidence(section.site, "enters an RCU read-side section"))
        }
        guard !reasons.isEmpty else { return }
        let key = "\(context.place(site))|\(reasons.joined(separator: ","))"
        if context.countAgain(.sleepInAtomic, key: key) { return }
        var finding = Finding(
            rule: .sleepInAtomic, severity: .error,
            message: "\(what) \(reasons.joined(separator: ", ")) on cpu \(event.cpu)"
                + (event.function.map { " in \(context.symbols[$0])" } ?? ""),
            locks: locks,
            locations: locations,
            notes: ["Allocate or map before taking the lock (GFP_ATOMIC or an atomic kmap inside it), or drop the lock around the call"],
            key: key)
        // The low byte counts the spinning locks that disable preemption.
        finding.details = Self.kernelLines(
            cpu: cpu, sampled: event.preemptCount.map(Int.init), spinningHeld: preemptingHeld, rcuDepth: rcuDepth,
            rcuDepthKnown: !replay.mayMissHeldLocks || rcuDepth > 0,
            task: site.task.map { context.symbols[$0] } ?? context.taskName(on: event.cpu, replay: replay))
        context.attachHeldLocks(to: &finding, replay: replay, cpu: event.cpu, locks: held)
        context.report(finding)
    }

    /// __might_resched's lines: `in_atomic(): 1, irqs_disabled(): 0, name: T`, `preempt_count:
    /// 1, expected: 0` and `RCU nest depth: 0, expected: 0`, with what the trace does not say
    /// left out (a partial trace's unknown state, an RCU depth of 0 where a section may have
    /// begun before the trace; pid and non_block, which traces do not carry).
    /// The count is built as the kernel's: preempt_disable nesting and the spinning locks held
    /// (or a capture's sample of it) in the low byte, 0x100 a softirq served, 0x200 a
    /// local_bh_disable, 0x10000 a hardirq, 0x110000 an NMI.
    static func kernelLines(
        cpu: CPUState, sampled: Int?, spinningHeld: Int, rcuDepth: Int, rcuDepthKnown: Bool, task: String?
    ) -> [String] {
        var first: [String] = []
        var count: Int?
        // A capture's sample (this event's, or the last one the replay took in) is the whole
        // low byte, spinning locks included; a trace's preempt-disable events count apart.
        let lowByte: Int? = sampled
            ?? (cpu.preemptKnown ? cpu.preemptDepth + (cpu.preemptSampled ? 0 : spinningHeld) : nil)
        if let lowByte, cpu.bhKnown {
            let irqBits: Int = cpu.hardirqNesting * 0x10000 + cpu.nmiSaved.count * 0x110000
            let softirqBits: Int = cpu.softirqNesting * 0x100 + cpu.bhDisables * 0x200
            count = lowByte + softirqBits + irqBits
        }
        if let count { first.append("in_atomic(): \(count != 0 ? 1 : 0)") }
        if cpu.hardirqsKnown { first.append("irqs_disabled(): \(cpu.hardirqsEnabled ? 0 : 1)") }
        if let task { first.append("name: \(task)") }
        var lines = first.isEmpty ? [] : [first.joined(separator: ", ")]
        if let count { lines.append("preempt_count: \(String(count, radix: 16)), expected: 0") }
        // A partial trace may hide a section entered before it began: a depth of 0 is unknown.
        if rcuDepthKnown { lines.append("RCU nest depth: \(rcuDepth), expected: 0") }
        return lines
    }
}
