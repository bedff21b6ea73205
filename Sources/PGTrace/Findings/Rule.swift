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
    case lockOrderPolicy = "lock-order-policy"
    case invalidWaitContext = "invalid-wait-context"
    case nestLockNotHeld = "nest-lock-not-held"

    public static func < (lhs: Rule, rhs: Rule) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether the kernel heads its own report of this `BUG:` rather than `WARNING:` (the
    /// contract's lockdep words: "BUG: sleeping function called from invalid context", and
    /// "BUG: scheduling while atomic" for a task switched out in that state; "BUG: Invalid
    /// wait context").
    public var isBug: Bool { self == .sleepInAtomic || self == .invalidWaitContext }

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
        case .lockOrderPolicy: return "lock order against the declared hierarchy"
        case .invalidWaitContext: return "Invalid wait context"
        case .nestLockNotHeld: return "Nested lock was not taken"
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
        case .lockOrderPolicy: return "Two lock classes (or kmap series) taken in the order the --policy file forbids."
        case .invalidWaitContext: return "A lock whose wait type is above what its context allows: a sleeping lock under a spinning one or in an irq, a spinlock_t under a raw_spinlock_t (PROVE_RAW_LOCK_NESTING)."
        case .nestLockNotHeld: return "A lock taken nested under a nest lock (spin_lock_nest_lock) that its task does not hold."
        }
    }

    /// Where the rule comes from: the seed thread (../shared/seeds) or kernel report that
    /// shows the bug, and the shipped traces (in traces/) that retell it with a fixed twin.
    public var origin: (story: String, traces: [String]) {
        switch self {
        case .circularDependency:
            return ("LKML, \"x86: hold mm->page_table_lock while doing vmalloc_sync\" (2011): vmalloc_sync_all() takes pgd_lock then mm->page_table_lock, pgd_free() the reverse; and commit b89deed32ccc: a workqueue flushed under rtnl_lock while its work item takes rtnl_lock",
                    ["pgd-lock-abba.xml", "workqueue-flush-under-rtnl.xml"])
        case .recursiveLocking:
            return ("LKML, \"xen: clarify locking used when pinning a pagetable\" (2008): a pin walk takes every pte page's lock, one class, without a nesting annotation",
                    ["seed004-pin-ptlocks-without-nest.xml"])
        case .irqInconsistent:
            return ("LKML, \"x86: hold mm->page_table_lock while doing vmalloc_sync\" (2011): \"who takes the pgd_lock from an irq?\", pgd_dtor() in an irq against an irqsave-less vmalloc_sync_all(); and printk() from NMI taking logbuf_lock before printk_nmi (Linux 4.7)",
                    ["pgd-free-in-irq.xml", "pgd-lock-rwlock-write-in-irq.xml", "nmi-printk-logbuf-lock.xml"])
        case .irqInversion:
            return ("LKML, \"x86: hold mm->page_table_lock while doing vmalloc_sync\" (2011): pgd_lock taken in an irq depends on mm->page_table_lock, taken with irqs on",
                    ["pgd-free-in-irq.xml"])
        case .ipiDeadlock:
            return ("LKML, \"x86: hold mm->page_table_lock while doing vmalloc_sync\" (2011), Larry Woodman: a THP flush waits for IPIs under mm->page_table_lock while vmalloc_sync_all() spins on it with irqs off",
                    ["thp-flush-under-page-table-lock.xml", "seed002-capture-thp-flush-under-ptl.xml"])
        case .badUnlock:
            return ("lib/locking-selftest.c's double_unlock: a lock released twice", [])
        case .depthOverflow:
            return ("LKML, \"xen: clarify locking used when pinning a pagetable\" (2008): holding every pte lock of a pin walk overflows lockdep's 48 held locks (and the preempt count)",
                    ["seed004-pin-hold-all-pte-locks.xml"])
        case .sleepInAtomic:
            return ("LKML, \"operation ordering during pgd_alloc/pgd_free\" (2008): a pmd allocated under pgd_lock with irqs off; and Documentation/RCU/whatisRCU.rst: no blocking in an RCU read-side section",
                    ["seed000-pmd-alloc-under-pgd-lock.xml", "mutex-in-rcu-read-side.xml"])
        case .pgdListGap:
            return ("LKML, \"operation ordering during pgd_alloc/pgd_free\" (2008): a pgd listed before it is populated, or cleared after it is unlisted, outside pgd_lock, is seen half-built by vmalloc_sync_all()",
                    ["seed000-pgd-ctor-lists-before-prepopulate.xml", "seed000-pgd-free-mop-up-before-unlist-walked.xml"])
        case .pinWindow:
            return ("LKML, \"xen: clarify locking used when pinning a pagetable\" (2008): a pte page made read-only and not yet pinned outside its lock can be written (and fault) meanwhile",
                    ["seed004-pin-drops-ptl-before-pin.xml", "seed004-unpin-without-ptl.xml"])
        case .tableFreeRace:
            return ("LKML, \"kvm,x86: RCU based table free\" (2012): a Xen PV hypercall flush does not interrupt get_user_pages_fast's lockless walk, so the table is freed under it; an IPI or a grace period holds off only a walk \"with interrupts disabled\"",
                    ["seed001-xen-pv-hypercall-flush-gup-fast.xml", "seed001-native-ipi-flush-gup-irqs-on.xml", "seed001-rcu-table-free-irqs-on.xml"])
        case .kmapOrder:
            return ("LKML, 2.4's kmap series (Andrea Arcangeli): mremap takes two PAGETABLE slots, and DEFAULT and PAGETABLE in both orders, which can exhaust the pools",
                    ["seed003-mremap-double-pagetable-kmap.xml", "seed003-default-pagetable-both-orders.xml"])
        case .kmapLeak:
            return ("LKML, 2.4's kmap series: a page freed while a kmap of it is still held", ["seed003-kmap-free-page.xml"])
        case .lockOrderPolicy:
            return ("a declared hierarchy (--policy): Andrea's kmap series order, PAGETABLE2 then PAGETABLE then DEFAULT",
                    ["seed003-read-fault-default-before-pagetable.xml (with seed003-kmap-series.policy)"])
        case .invalidWaitContext:
            return ("Documentation/locking/locktypes.rst: no spinlock_t under a raw_spinlock_t (PREEMPT_RT sleeps there); and no mutex inside rcu_read_lock()",
                    ["raw-spinlock-then-spinlock.xml", "mutex-in-rcu-read-side.xml"])
        case .nestLockNotHeld:
            return ("LKML, \"xen: clarify locking used when pinning a pagetable\" (2008): a pin or unpin walk takes each pte page's ptlock under mm->page_table_lock, the lock the walk rests on (later kernels annotate it spin_lock_nest_lock(ptl, &mm->page_table_lock)); a walk entered without it",
                    ["seed004-unpin-without-page-table-lock.xml"])
        }
    }

    /// What to do about it, for SARIF's help text and the docs.
    public var help: String {
        switch self {
        case .circularDependency: return "Pick one order for the locks on the cycle and take them in that order on every path; the report's dependency chain shows where each order was seen."
        case .recursiveLocking: return "Do not take a lock class twice; if two instances of one class nest by design, annotate the inner one (subclass, spin_lock_nested) or name the lock that serializes them (nest)."
        case .irqInconsistent: return "A lock taken in irq context must be taken with that irq disabled everywhere else (spin_lock_irqsave, spin_lock_bh), or never in irq context."
        case .irqInversion: return "Take the irq-unsafe lock with the irq disabled everywhere, or break the dependency from the irq-safe lock to it."
        case .ipiDeadlock: return "Do not wait for a synchronous IPI (or an IPI TLB flush) while holding a lock that another cpu takes with irqs disabled: flush after the unlock."
        case .badUnlock: return "Release only what the context holds, once."
        case .depthOverflow: return "Hold fewer locks at once: work in batches, as Xen's pin_page does with its deferred unlocks."
        case .sleepInAtomic: return "Allocate or map before taking the lock, use GFP_ATOMIC or an atomic kmap inside it, or drop the lock around the call."
        case .pgdListGap: return "Preallocate the pmds, then under pgd_lock install them and list the pgd (and unlist and clear it under the lock), so no walker sees it half-built or misses it."
        case .pinWindow: return "Hold the page's pte lock from set-ro until the pin, and from the unpin until set-rw."
        case .tableFreeRace: return "Free page tables after an RCU grace period (HAVE_RCU_TABLE_FREE) or after a TLB flush by IPI that waited; a hypercall flush does not stop lockless walkers."
        case .kmapOrder: return "Keep one order between kmap series (PAGETABLE2, then PAGETABLE, then DEFAULT) and never hold two slots of one series."
        case .kmapLeak: return "kunmap a page before freeing it."
        case .lockOrderPolicy: return "Take the locks in the order the policy declares, or update the policy."
        case .invalidWaitContext: return "Take the lock outside the spinning section or the irq, or make the outer lock one that may be waited on there (a raw_spinlock_t inside a spinlock_t, not the reverse, on PREEMPT_RT)."
        case .nestLockNotHeld: return "Take the nest lock before the locks it serializes (mm->page_table_lock before a walk's ptlocks), or take them without the nest annotation where something else orders them."
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
