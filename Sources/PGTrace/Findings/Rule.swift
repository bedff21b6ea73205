/// The rule ids of the command-line contract: what a finding reports.
public enum Rule: String, Sendable, CaseIterable, Comparable {
    case circularDependency = "circular-dependency"
    case recursiveLocking = "recursive-locking"
    case irqInconsistent = "irq-inconsistent"
    case irqInversion = "irq-inversion"
    case ipiDeadlock = "ipi-deadlock"
    case badUnlock = "bad-unlock"
    case depthOverflow = "depth-overflow"
    case sleepInAtomic = "sleep-in-atomic"
    case pgdListGap = "pgd-list-gap"
    case pinWindow = "pin-window"
    case tableFreeRace = "table-free-race"
    case kmapOrder = "kmap-order"
    case kmapLeak = "kmap-leak"

    public static func < (lhs: Rule, rhs: Rule) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Lockdep's headline for the rule, where lockdep has one; the text report's title.
    public var title: String {
        switch self {
        case .circularDependency: return "possible circular locking dependency detected"
        case .recursiveLocking: return "possible recursive locking detected"
        case .irqInconsistent: return "inconsistent lock state"
        case .irqInversion: return "possible irq lock inversion dependency detected"
        case .ipiDeadlock: return "possible deadlock: synchronous IPI against an irqs-off lock holder"
        case .badUnlock: return "bad unlock balance detected!"
        case .depthOverflow: return "too many locks held at once"
        case .sleepInAtomic: return "sleeping function called from invalid context"
        case .pgdListGap: return "pgd_list visibility gap"
        case .pinWindow: return "read-only page table outside its lock while unpinned"
        case .tableFreeRace: return "page table freed under a lockless walker"
        case .kmapOrder: return "kmap series taken in an order that can exhaust the pools"
        case .kmapLeak: return "page freed while still kmapped"
        }
    }

    /// One sentence on what the rule checks, for help texts and SARIF rule metadata.
    public var summary: String {
        switch self {
        case .circularDependency: return "A cycle in the lock-order graph: the locks are taken in orders that can deadlock."
        case .recursiveLocking: return "A lock class acquired again while already held, outside read recursion."
        case .irqInconsistent: return "A lock class used in hardirq (softirq) context and also taken with hardirqs (softirqs) enabled."
        case .irqInversion: return "An irq-safe lock class depends on an irq-unsafe one."
        case .ipiDeadlock: return "A synchronous IPI waited for while holding a lock some cpu takes with irqs off, or sent with irqs off."
        case .badUnlock: return "A release of a lock that the context does not hold."
        case .depthOverflow: return "More locks held at once than the limit."
        case .sleepInAtomic: return "A call that can sleep made with a spinlock held, irqs off, or in irq context."
        case .pgdListGap: return "A populated pgd off pgd_list, or a listed pgd populated or cleared, outside the list lock."
        case .pinWindow: return "A read-only, unpinned page-table page outside its ptl lock, or a write to one."
        case .tableFreeRace: return "A page table freed without synchronizing with lockless walkers, or accessed after free."
        case .kmapOrder: return "kmap series taken in an order that can exhaust the pools."
        case .kmapLeak: return "A page freed while still kmapped."
        }
    }
}

/// How sure a finding is: `error` when the trace proves the bug can happen, `warning` when it
/// shows the window open but nothing hit it.
public enum Severity: String, Sendable, Comparable, CaseIterable {
    case warning
    case error

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        lhs == .warning && rhs == .error
    }
}
