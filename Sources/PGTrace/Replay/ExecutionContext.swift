/// Where code runs on a cpu: a task, or a softirq or hardirq nested on top of it. Locks
/// belong to the context that took them, and lockdep only orders locks within one context.
public enum ContextKind: Int, Sendable, Comparable {
    case task = 0
    case softirq = 1
    case hardirq = 2

    public static func < (lhs: ContextKind, rhs: ContextKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The context's name as reports and the trace format spell it.
    public var name: String {
        switch self {
        case .task: return "task"
        case .softirq: return "softirq"
        case .hardirq: return "hardirq"
        }
    }
}

/// The identity of a task's lock stack: a named task, or a cpu's anonymous task context when
/// the trace gives no `task`.
public enum TaskKey: Hashable, Sendable {
    case named(Symbol)
    case anonymous(cpu: Int)
}

/// One softirq or hardirq running on a cpu, with the locks it took and the cpu state to
/// return to at its exit.
public struct IrqFrame: Sendable {
    public var kind: ContextKind
    public var held: [HeldLock] = []
    public var savedHardirqsEnabled: Bool
    public var savedBHDisableDepth: Int
    public var entered: EventSite
}

/// The state of one cpu: which task runs, which irq frames are stacked on it, and whether
/// hardirqs and softirqs (bh) are enabled.
public struct CPUState: Sendable {
    public var task: TaskKey
    /// The engine's index of `task`'s held-lock stack.
    var stack = 0
    public var frames: [IrqFrame] = []
    public var hardirqsEnabled = true
    /// local_bh_disable nesting plus one while a softirq runs; softirqs are off while > 0.
    public var bhDisableDepth = 0
    /// Where hardirqs were last disabled (for reports on irqs-off regions).
    public var hardirqsDisabledAt: EventSite?

    public init(cpu: Int) { task = .anonymous(cpu: cpu) }

    public var softirqsEnabled: Bool { bhDisableDepth == 0 }

    /// The innermost context running on this cpu.
    public var context: ContextKind { frames.last?.kind ?? .task }

    public var inHardirq: Bool { frames.contains { $0.kind == .hardirq } }
    public var inSoftirq: Bool { frames.contains { $0.kind == .softirq } }
    /// Lockdep's in_interrupt(): in a hardirq or softirq, or with bh disabled.
    public var inInterrupt: Bool { !frames.isEmpty || bhDisableDepth > 0 }
}
