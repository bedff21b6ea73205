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

    /// A key for an `IntegerTable`, one per task: the replay finds a task's state at every
    /// switch, where the standard library's seeded hash cost more than the rest of the switch.
    var tableKey: UInt64 {
        switch self {
        case .named(let symbol): return UInt64(UInt32(bitPattern: symbol.rawValue))
        case .anonymous(let cpu): return 1 << 63 | UInt64(truncatingIfNeeded: cpu)
        }
    }
}

/// One softirq or hardirq running on a cpu, with the locks it took and the cpu state to
/// return to at its exit.
public struct IrqFrame: Sendable {
    public var kind: ContextKind
    public var held = HeldLocks()
    public var savedHardirqsEnabled: Bool
    public var savedBHDisableDepth: Int
    /// Whether the state saved was known (see `CPUState.hardirqsKnown`).
    public var savedHardirqsKnown = true
    public var savedBHKnown = true
    public var entered: EventSite
    /// A hardirq whose handler runs as a thread (`<hardirq-enter threaded="true"/>`): its
    /// wait context is `config`, not `spin`.
    public var threaded = false
}

/// The state of one cpu: which task runs, which irq frames are stacked on it, and whether
/// hardirqs and softirqs (bh) are enabled.
/// Which handlers may be running on a cpu unseen (`CPUState.handlersFromBefore`): a bit each,
/// so that the state of a cpu stays plain values, copied and compared as such.
struct UnseenHandlers: OptionSet, Sendable {
    let rawValue: UInt8
    static let hardirq = UnseenHandlers(rawValue: 1)
    static let softirq = UnseenHandlers(rawValue: 2)
    static let any: UnseenHandlers = [.hardirq, .softirq]

    /// One of `kind` running (entered, or ending) rules out an unseen one of its kind below
    /// it, and any unseen one below a softirq: neither nests in its kind, and a softirq does
    /// not start inside a hardirq.
    mutating func ruleOut(below kind: ContextKind) {
        subtract(kind == .hardirq ? .hardirq : .any)
    }

    func contains(_ kind: ContextKind) -> Bool {
        contains(kind == .hardirq ? UnseenHandlers.hardirq : kind == .softirq ? .softirq : [])
    }
}

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
    /// preempt_disable nesting of the running task: counted from preempt-disable/enable, or
    /// the whole preempt count where a capture sampled it (an event's `pc`).
    public var preemptDepth = 0
    /// Whether `preemptDepth` is the whole count (a partial trace starts without knowing it:
    /// then it is a least count, the disables the trace saw and did not see enabled again).
    public var preemptKnown = true
    /// Whether `preemptDepth` came from a capture's sample of the whole count (spinning locks
    /// held included) rather than from preempt-disable/enable events alone.
    public var preemptSampled = false
    /// In a partial trace the state before the capture is unknown: `hardirqsEnabled` means
    /// something only once an event has stated it, and a bh depth of 0 may hide disables
    /// from before. Always true in a trace that starts from an idle machine.
    public var hardirqsKnown = true
    public var bhKnown = true
    /// NMIs running on this cpu (nested NMIs count), with the hardirq state each found at
    /// its entry, restored at its exit.
    public var nmiSaved: [(enabled: Bool, known: Bool)] = []
    /// Whether an NMI runs: lockdep validates nothing in it, and records no lock it takes.
    public var inNMI: Bool { !nmiSaved.isEmpty }
    /// The handlers that may have been running, unseen, with no frame of the trace's open on
    /// the cpu, since the trace began or events were lost: a hardirq, and a softirq it
    /// interrupted, whose exits the trace may show with no enter.
    var handlersFromBefore: UnseenHandlers = []

    public init(cpu: Int, known: Bool = true) {
        task = .anonymous(cpu: cpu)
        hardirqsKnown = known
        bhKnown = known
        preemptKnown = known
        if !known { handlersFromBefore = .any }
    }

    public var softirqsEnabled: Bool { Self.softirqsEnabled(depth: bhDisableDepth) }
    static func softirqsEnabled(depth bhDisableDepth: Int) -> Bool { bhDisableDepth == 0 }

    /// Hardirqs are enabled, and the trace said so: what lockdep may infer from.
    public var hardirqsSurelyEnabled: Bool { hardirqsKnown && hardirqsEnabled }
    /// Hardirqs are disabled, and the trace said so.
    public var hardirqsSurelyDisabled: Bool { hardirqsKnown && !hardirqsEnabled }
    /// Softirqs are enabled, and no disable from before the trace can be hiding.
    public var softirqsSurelyEnabled: Bool { bhKnown && bhDisableDepth == 0 }

    /// The innermost context running on this cpu.
    public var context: ContextKind { frames.last?.kind ?? .task }

    public var inHardirq: Bool { frames.contains { $0.kind == .hardirq } }
    /// Hardirq and softirq frames running (the kernel's hardirq count; softirqs served), and
    /// the local_bh_disable()s outstanding (`bhDisableDepth` also counts each softirq served).
    public var hardirqNesting: Int { frames.count { $0.kind == .hardirq } }
    public var softirqNesting: Int { frames.count { $0.kind == .softirq } }
    public var bhDisables: Int { Self.bhDisables(depth: bhDisableDepth, softirqs: softirqNesting) }
    static func bhDisables(depth bhDisableDepth: Int, softirqs: Int) -> Int { max(0, bhDisableDepth - softirqs) }
    public var inSoftirq: Bool { frames.contains { $0.kind == .softirq } }
    /// Lockdep's in_interrupt(): in a hardirq or softirq, or with bh disabled.
    public var inInterrupt: Bool { !frames.isEmpty || bhDisableDepth > 0 }
}
