/// A kernel tracepoint pgtrace reads, its fields typed: what a text line's info and a
/// trace.dat record's fields both say, so that both recordings become the same events. Its
/// names are interned by the reader that made it (the only thread that interns), so that a
/// record is a plain value the replay's thread can turn into events (`EventTranslator`).
enum KernelRecord {
    /// lock:lock_acquire (flags: 1 try, 2 read).
    case lockAcquire(LockRef, isTry: Bool, isRead: Bool)
    case lockRelease(LockRef)
    case lockContended(LockRef)
    case lockAcquired(LockRef)
    /// lock:contention_begin / contention_end (perf lock, no lockdep): an address only.
    case contentionBegin(instance: Symbol)
    case contentionEnd(instance: Symbol)
    /// preemptirq: the caller as `func+off/size` where the recording resolved it.
    case irqDisable(caller: Symbol?)
    case irqEnable(caller: Symbol?)
    case preemptDisable(caller: Symbol?)
    case preemptEnable(caller: Symbol?)
    case irqHandlerEntry(irq: Int?)
    case irqHandlerExit
    case softirqEntry(vector: Symbol)
    case softirqExit
    case softirqRaise
    case ipiEntry
    case ipiExit
    case csdFunction
    /// ipi_send_cpu, ipi_send_cpumask, csd_queue_cpu and ipi_raise (see `ipiSend(targets:…)`):
    /// whether the sender waits, the function the targets run.
    case ipiSend(targets: CPUList, wait: Bool, reason: Symbol?, callsite: Symbol?)
    /// tlb:tlb_flush with reason 4 (TLB_REMOTE_SEND_IPI): only that one reaches other cpus;
    /// the others are no record.
    case tlbFlushRemote
    case xenFlushOthers
    case xenFlushOne
    case xenFlushAll
    /// xen_mmu_pgd_pin / unpin: the pgd as `pgd:ADDRESS`.
    case xenPgdPin(page: Symbol)
    case xenPgdUnpin(page: Symbol)
    /// xen_mmu_alloc_ptpage / xen_mmu_release_ptpage of a pinned mm, the page as `pfn:PFN`
    /// (those of an unpinned mm are no record).
    case xenPtpage(alloc: Bool, page: Symbol, level: PageTableLevel)
    case schedSwitch

    /// The tracepoints pgtrace reads, by the name both recordings give them.
    enum Name: String, CaseIterable {
        case lockAcquire = "lock_acquire", lockRelease = "lock_release"
        case lockContended = "lock_contended", lockAcquired = "lock_acquired"
        case contentionBegin = "contention_begin", contentionEnd = "contention_end"
        case irqDisable = "irq_disable", irqEnable = "irq_enable"
        case preemptDisable = "preempt_disable", preemptEnable = "preempt_enable"
        case irqHandlerEntry = "irq_handler_entry", irqHandlerExit = "irq_handler_exit"
        case softirqEntry = "softirq_entry", softirqExit = "softirq_exit", softirqRaise = "softirq_raise"
        case ipiEntry = "ipi_entry", ipiExit = "ipi_exit"
        case csdFunctionEntry = "csd_function_entry", csdFunctionExit = "csd_function_exit"
        case ipiSendCPU = "ipi_send_cpu", ipiSendCPUMask = "ipi_send_cpumask", csdQueueCPU = "csd_queue_cpu"
        case ipiRaise = "ipi_raise"
        case tlbFlush = "tlb_flush"
        case xenFlushOthers = "xen_mmu_flush_tlb_others", xenFlushMulti = "xen_mmu_flush_tlb_multi"
        case xenFlushOneUser = "xen_mmu_flush_tlb_one_user", xenFlushOneKernel = "xen_mmu_flush_tlb_one_kernel"
        case xenFlushAll = "xen_mmu_flush_tlb_all"
        case xenPgdPin = "xen_mmu_pgd_pin", xenPgdUnpin = "xen_mmu_pgd_unpin"
        case xenAllocPtpage = "xen_mmu_alloc_ptpage", xenReleasePtpage = "xen_mmu_release_ptpage"
        case schedSwitch = "sched_switch"

        static let byName: [String: Name] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

        /// The tracepoint named by `bytes`, if pgtrace reads it: by length, then bytes (no
        /// string is made and no table is consulted: this runs for every line).
        static func named(_ bytes: UnsafeBufferPointer<UInt8>) -> Name? {
            switch bytes.count {
            case 8:
                if bytes.equals("ipi_exit") { return .ipiExit }
                return nil
            case 9:
                if bytes.equals("ipi_entry") { return .ipiEntry }
                if bytes.equals("ipi_raise") { return .ipiRaise }
                if bytes.equals("tlb_flush") { return .tlbFlush }
                return nil
            case 10:
                if bytes.equals("irq_enable") { return .irqEnable }
                return nil
            case 11:
                if bytes.equals("irq_disable") { return .irqDisable }
                return nil
            case 12:
                if bytes.equals("lock_acquire") { return .lockAcquire }
                if bytes.equals("lock_release") { return .lockRelease }
                if bytes.equals("softirq_exit") { return .softirqExit }
                if bytes.equals("ipi_send_cpu") { return .ipiSendCPU }
                if bytes.equals("sched_switch") { return .schedSwitch }
                return nil
            case 13:
                if bytes.equals("lock_acquired") { return .lockAcquired }
                if bytes.equals("softirq_entry") { return .softirqEntry }
                if bytes.equals("softirq_raise") { return .softirqRaise }
                if bytes.equals("csd_queue_cpu") { return .csdQueueCPU }
                return nil
            case 14:
                if bytes.equals("lock_contended") { return .lockContended }
                if bytes.equals("contention_end") { return .contentionEnd }
                if bytes.equals("preempt_enable") { return .preemptEnable }
                return nil
            case 15:
                if bytes.equals("preempt_disable") { return .preemptDisable }
                if bytes.equals("xen_mmu_pgd_pin") { return .xenPgdPin }
                return nil
            case 16:
                if bytes.equals("contention_begin") { return .contentionBegin }
                if bytes.equals("irq_handler_exit") { return .irqHandlerExit }
                if bytes.equals("ipi_send_cpumask") { return .ipiSendCPUMask }
                return nil
            case 17:
                if bytes.equals("irq_handler_entry") { return .irqHandlerEntry }
                if bytes.equals("csd_function_exit") { return .csdFunctionExit }
                if bytes.equals("xen_mmu_pgd_unpin") { return .xenPgdUnpin }
                return nil
            case 18:
                if bytes.equals("csd_function_entry") { return .csdFunctionEntry }
                return nil
            case 20:
                if bytes.equals("xen_mmu_alloc_ptpage") { return .xenAllocPtpage }
                return nil
            case 21:
                if bytes.equals("xen_mmu_flush_tlb_all") { return .xenFlushAll }
                return nil
            case 22:
                if bytes.equals("xen_mmu_release_ptpage") { return .xenReleasePtpage }
                return nil
            case 23:
                if bytes.equals("xen_mmu_flush_tlb_multi") { return .xenFlushMulti }
                return nil
            case 24:
                if bytes.equals("xen_mmu_flush_tlb_others") { return .xenFlushOthers }
                return nil
            case 26:
                if bytes.equals("xen_mmu_flush_tlb_one_user") { return .xenFlushOneUser }
                return nil
            case 28:
                if bytes.equals("xen_mmu_flush_tlb_one_kernel") { return .xenFlushOneKernel }
                return nil
            default: return nil
            }
        }

        /// Whether the record says where the cpu's irq context is (then the flags column's
        /// context is not followed into it: the record itself enters or leaves).
        var changesContext: Bool {
            switch self {
            case .irqHandlerEntry, .irqHandlerExit, .softirqEntry, .softirqExit, .ipiEntry, .ipiExit: return true
            default: return false
            }
        }

        /// Whether the record itself sets the irq state.
        var setsIrqState: Bool { self == .irqDisable || self == .irqEnable }
    }

    /// The kernel's softirq names by vector (softirq_to_name), as `[action=TIMER]` prints them.
    static let softirqNames = ["HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"]

    /// The name of softirq vector `vector` (`softirq` for one the kernel does not name).
    static func softirqName(_ vector: Int) -> String {
        softirqNames.indices.contains(vector) ? softirqNames[vector] : "softirq"
    }

    /// The record of a tracepoint whose fields pgtrace does not need, for either reader.
    static func withoutFields(_ name: Name) -> KernelRecord? {
        switch name {
        case .irqHandlerExit: return .irqHandlerExit
        case .softirqExit: return .softirqExit
        case .softirqRaise: return .softirqRaise
        case .ipiEntry: return .ipiEntry
        case .ipiExit: return .ipiExit
        case .csdFunctionEntry, .csdFunctionExit: return .csdFunction
        case .xenFlushOthers, .xenFlushMulti: return .xenFlushOthers
        case .xenFlushOneUser, .xenFlushOneKernel: return .xenFlushOne
        case .xenFlushAll: return .xenFlushAll
        case .schedSwitch: return .schedSwitch
        default: return nil
        }
    }

    /// Old kernels wrap a spinlock's class as `&(&X)->rlock` (and split pte locks as
    /// `&(ptlock_ptr(page))->rlock`): the name is X.
    static func lockName(_ name: UnsafeBufferPointer<UInt8>, raw: Bool, symbols: SymbolTable) -> Symbol {
        var hint: Symbol?
        return lockName(name, raw: raw, symbols: symbols, hint: &hint)
    }

    /// The same, trying `hint` (the name last seen at this place) first: one compare, no hash.
    static func lockName(_ name: UnsafeBufferPointer<UInt8>, raw: Bool, symbols: SymbolTable, hint: inout Symbol?) -> Symbol {
        var lower = name.startIndex
        var upper = name.endIndex
        if !raw {
            while upper - lower > 10, name[lower] == UInt8(ascii: "&"), name[lower + 1] == UInt8(ascii: "("),
                UnsafeBufferPointer(rebasing: name[(upper - 8)..<upper]).equals(")->rlock")
            {
                lower += 2
                upper -= 8
            }
        }
        return symbols.intern(bytes: UnsafeBufferPointer(rebasing: name[lower..<upper]), hint: &hint)
    }

    /// An IPI send as the recordings give it, its names interned: nil for one with no target.
    /// A cross-call's sender waits for the targets if its callback is one of
    /// `synchronousCallbacks`; an ipi_raise only names its reason (`raise`).
    static func ipiSend(
        targets: [Int], callback: String?, callsite: String?, raise: Bool, symbols: SymbolTable
    ) -> KernelRecord? {
        guard !targets.isEmpty else { return nil }
        let function = callback.map { String($0.prefix { $0 != "+" }) }
        let wait = !raise && function.map { synchronousCallbacks.contains($0) } == true
        return .ipiSend(
            targets: CPUList(targets), wait: wait, reason: function.map(symbols.intern), callsite: callsite.map(symbols.intern))
    }

    /// A Xen pgd pin or unpin of the pgd at `pgd` (hexadecimal, as printed).
    static func xenPgd(pin: Bool, pgd: String, symbols: SymbolTable) -> KernelRecord {
        let page = symbols.intern("pgd:" + pgd)
        return pin ? .xenPgdPin(page: page) : .xenPgdUnpin(page: page)
    }

    /// A Xen page-table page allocated or released (`pfn` hexadecimal, as printed), or nil
    /// for one of an unpinned mm: the hypervisor checks only pinned tables.
    static func xenPtpage(alloc: Bool, pfn: String, level: Int?, pinned: Bool, symbols: SymbolTable) -> KernelRecord? {
        guard pinned else { return nil }
        return .xenPtpage(alloc: alloc, page: symbols.intern("pfn:" + pfn), level: level.map(Self.xenLevel) ?? .pte)
    }

    /// Xen's page-table levels as kernels since 4.12 number them (enum pt_level: PT_PGD 0,
    /// PT_P4D 1, PT_PUD 2, PT_PMD 3, PT_PTE 4; a p4d counts as a pud here).
    static func xenLevel(_ number: Int) -> PageTableLevel {
        switch number {
        case 0: return .pgd
        case 1, 2: return .pud
        case 3: return .pmd
        default: return .pte
        }
    }

    /// Callbacks of cross-calls whose sender waits for every target (smp_call_function with
    /// wait, the native TLB shootdown, the RCU table-free sync).
    static let synchronousCallbacks: Set<String> = [
        "flush_tlb_func", "flush_tlb_func_remote", "do_flush_tlb_all", "tlb_remove_table_smp_sync",
        "do_kernel_range_flush", "do_sync_core",
    ]
}
