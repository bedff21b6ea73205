/// What a graph check's report needs of the replay at the moment a fact was learned: who ran
/// on the cpu, its irq state, the locks it held. Kept with the fact, so that a report reads
/// the same whether the graph is checked as the trace is read, rebuilt after traces came out
/// of order, or rebuilt from summaries on another machine. Shared by the facts of one event.
public final class ReplayMoment: Sendable {
    /// lockdep's irq state of the context (print_usage_bug's `[HC1[1]:SC0[0]:HE0:SE1]`).
    public struct IrqState: Hashable, Sendable {
        public var hardirqCount: Int
        public var softirqs: Int
        public var softirqCount: Int
        public var hardirqsEnabled: Bool
        public var softirqsEnabled: Bool
    }

    /// A held lock as a report lists it.
    public struct Held: Sendable {
        public var classID: ClassID
        public var site: EventSite
    }

    public let cpu: Int
    /// The task running on the cpu (the interrupted one inside an irq).
    public let task: TaskKey
    /// Nil where the trace had not yet told the irq state.
    public let irqState: IrqState?
    /// What the task and the irq frames on it held, oldest first.
    public let held: [Held]
    /// The trace may not show every lock held (a partial trace, lost events).
    public let mayMissHeldLocks: Bool

    public init(cpu: Int, task: TaskKey, irqState: IrqState?, held: [Held], mayMissHeldLocks: Bool) {
        self.cpu = cpu
        self.task = task
        self.irqState = irqState
        self.held = held
        self.mayMissHeldLocks = mayMissHeldLocks
    }

    /// The replay's state on `cpu` now.
    convenience init(_ replay: ReplayEngine, cpu: Int) {
        self.init(
            cpu: cpu, task: replay.cpus[cpu].task, irqState: Self.irqState(replay, cpu: cpu),
            held: replay.allHeldLocks(cpu: cpu).map { Held(classID: $0.classID, site: $0.site) },
            mayMissHeldLocks: replay.mayMissHeldLocks)
    }

    /// The irq state of `cpu` now, where the trace has told it.
    static func irqState(_ replay: ReplayEngine, cpu: Int) -> IrqState? {
        let state = replay.cpus[cpu]
        guard state.hardirqsKnown, state.bhKnown else { return nil }
        return IrqState(
            // nmi_enter() adds HARDIRQ_OFFSET and enters lockdep's hardirq context too.
            hardirqCount: state.hardirqNesting + state.nmiSaved.count,
            softirqs: state.softirqNesting, softirqCount: state.softirqNesting + 2 * state.bhDisables,
            hardirqsEnabled: state.hardirqsEnabled, softirqsEnabled: state.softirqsEnabled)
    }
}
