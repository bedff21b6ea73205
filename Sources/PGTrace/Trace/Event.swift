/// A set of target cpus, as `targets="all|others|local|0,2,5"` names them.
public enum CPUTargets: Hashable, Sendable {
    case all
    case others
    case local
    case list(CPUList)
}

/// A reference to one lock in an event: its class name, nesting subclass and instance.
public struct LockRef: Hashable, Sendable {
    public var name: Symbol
    public var subclass: Int
    public var instance: Symbol?

    public init(name: Symbol, subclass: Int = 0, instance: Symbol? = nil) {
        self.name = name
        self.subclass = subclass
        self.instance = instance
    }

    public var classKey: LockClassKey { LockClassKey(name: name, subclass: subclass) }

    /// Whether a release (or `acquired`) of `ref` is of this held lock: the same name, and
    /// the same instance and subclass where the release says them.
    @inline(__always) public func isReleased(by ref: LockRef) -> Bool {
        name == ref.name && (ref.instance == nil || instance == nil || instance == ref.instance)
            && (ref.subclass == 0 || subclass == ref.subclass)
    }
}

/// What an acquisition does to the cpu's hardirq state.
public enum IrqAcquireAction: String, Sendable, CaseIterable {
    /// spin_lock_irqsave: remember the state, then disable.
    case save
    /// spin_lock_irq: disable.
    case disable
}

/// What a release does to the cpu's hardirq state.
public enum IrqReleaseAction: String, Sendable, CaseIterable {
    /// spin_unlock_irqrestore: back to the state saved by the matching acquisition.
    case restore
    /// spin_unlock_irq: enable.
    case enable
}

/// How a TLB flush reaches the other cpus.
public enum FlushMode: String, Sendable, CaseIterable {
    /// Native: an IPI to every target.
    case ipi
    /// Xen PV: a hypercall, which does not interrupt the targets' irqs-off regions.
    case hypercall
}

/// The page-table level of a page, as the pinning events name it.
public enum PageTableLevel: String, Sendable, CaseIterable {
    case pte, pmd, pud, pgd
}

/// One kind of event of trace format v1, with its own attributes.
public enum EventKind: Hashable, Sendable {
    // Execution contexts
    case irqDisable
    case irqEnable
    /// `threaded`: the handler runs as a thread (force_irqthreads, PREEMPT_RT): its wait
    /// context is `config`; for irq usage it is hardirq context all the same.
    case hardirqEnter(irq: Int?, threaded: Bool = false)
    case hardirqExit
    case softirqEnter(vector: Symbol?)
    case softirqExit
    case bhDisable
    case bhEnable
    /// The capture's flags sampled bh state here (softirq_count() beyond serving a softirq):
    /// absolute, where `bhDisable`/`bhEnable` count. Only from kernels that print it.
    case bhState(disabled: Bool)
    case mightSleep
    /// An NMI runs on this cpu (hardirqs off inside it); lockdep validates nothing in it but
    /// that a lock it takes was not used outside NMI before.
    case nmiEnter
    case nmiExit
    /// rcu_read_lock() and friends: lockdep's check=0 recursive-read acquisition of its map
    /// class for the flavor (`RcuFlavor`); `bh` also disables bh, `sched` preemption.
    case rcuReadLock(flavor: RcuFlavor)
    case rcuReadUnlock(flavor: RcuFlavor)
    /// preempt_disable / preempt_enable (nesting counts).
    case preemptDisable
    case preemptEnable

    // Locks
    /// `nest`: spin_lock_nest_lock, the class of a held lock that serializes holding several
    /// locks of this class at once.
    case acquire(LockRef, mode: LockMode, isTry: Bool, irq: IrqAcquireAction?, bh: Bool, nest: Symbol?)
    case release(LockRef, irq: IrqReleaseAction?, bh: Bool)
    case contended(LockRef)
    /// lock_acquired: the wait for a contended lock ended (statistics only).
    case acquired(LockRef)
    /// perf lock's contention_begin / contention_end on kernels without lockdep: a lock known
    /// only by its address, so it has no class and adds no order (statistics only).
    case contentionBegin(instance: Symbol)
    case contentionEnd(instance: Symbol)

    // IPIs
    case ipiSend(targets: CPUTargets, wait: Bool, reason: Symbol?)
    case ipiHandle(from: Int)

    // pgd_list
    case pgdAlloc(pgd: Symbol)
    case pgdFree(pgd: Symbol)
    case pgdPopulate(pgd: Symbol, index: Int)
    case pgdClear(pgd: Symbol, index: Int)
    case pgdListAdd(pgd: Symbol, lock: Symbol)
    case pgdListDel(pgd: Symbol, lock: Symbol)
    case listWalkBegin(walker: Symbol?)
    case listWalkVisit(pgd: Symbol)
    case listWalkEnd

    // Pinning
    case setReadOnly(page: Symbol, level: PageTableLevel?, ptl: Symbol?)
    case setReadWrite(page: Symbol, level: PageTableLevel?, ptl: Symbol?)
    case pin(page: Symbol, level: PageTableLevel?)
    case unpin(page: Symbol, level: PageTableLevel?)
    case ptWrite(page: Symbol)
    case tlbFlush(targets: CPUTargets, mode: FlushMode, wait: Bool)

    // Freeing page tables
    case locklessWalkBegin
    case locklessWalkEnd
    case walkAccess(table: Symbol)
    case tableUnlink(table: Symbol)
    case rcuGracePeriod
    case tableFree(table: Symbol)

    // kmap
    /// `pool` is the series' class name, `kmap:SERIES`.
    case kmap(page: Symbol, series: Symbol, atomic: Bool, pool: Symbol)
    case kunmap(page: Symbol, series: Symbol)
    case pageFree(page: Symbol)

    // The capture itself
    /// The kernel dropped events here (a full ring buffer, a lost console message): what
    /// the trace shows of this cpu (or of every cpu, when `cpu` is nil) is incomplete.
    case eventsLost(cpu: Int?, count: Int?)
}

/// One event of a trace: what happened, on which cpu and task, and where the trace says so.
public struct Event: Sendable {
    public var kind: EventKind
    public var cpu: Int
    public var task: Symbol?
    public var time: Int64?
    /// Source location in the kernel (`file:line` or `function+0xoff`).
    public var at: Symbol?
    /// Function name in the kernel.
    public var function: Symbol?
    /// The preempt count a capture sampled with this event (the flags column's depth, a
    /// trace.dat's common_preempt_count), where it changed: absolute, where
    /// `preemptDisable`/`preemptEnable` count.
    public var preemptCount: UInt8?
    public var position: TracePosition

    public init(
        kind: EventKind, cpu: Int, task: Symbol? = nil, time: Int64? = nil, at: Symbol? = nil,
        function: Symbol? = nil, preemptCount: UInt8? = nil, position: TracePosition
    ) {
        self.kind = kind
        self.cpu = cpu
        self.task = task
        self.time = time
        self.at = at
        self.function = function
        self.preemptCount = preemptCount
        self.position = position
    }
}

/// The flavors of RCU read-side section, each a lockdep map class (kernel/rcu/update.c).
public enum RcuFlavor: String, Sendable, CaseIterable {
    case rcu, bh, sched

    /// The map class lockdep acquires for it.
    public var className: String {
        switch self {
        case .rcu: return "rcu_read_lock"
        case .bh: return "rcu_read_lock_bh"
        case .sched: return "rcu_read_lock_sched"
        }
    }

    /// Its map: outer wait type free (taken anywhere), inner config (rcu, bh) or spin
    /// (sched, which disables preemption); always acquired with check=0 (novalidate), however
    /// the trace spells the acquisition.
    public var declared: LockClassTable.Declared {
        LockClassTable.Declared(type: .map, wait: self == .sched ? .spin : .config, waitOuter: .free, novalidate: true)
    }
}
