/// Turns the event lines of a kernel text trace into typed events, keeping per-cpu irq
/// state and irq context: from explicit events (irq_disable, irq_handler_entry,
/// softirq_entry, ipi_entry, …) and, where the format has one, from the latency flags column,
/// which samples the real hardware state at every event. Nothing is said that the capture
/// does not say: without flags and explicit events, irq state stays unknown (the trace is
/// partial).
struct EventTranslator {
    enum Frame: Equatable { case softirq, hardirq }

    struct CPU {
        /// Nil until the capture states it (on this cpu, for the task running).
        var irqsOff: Bool?
        var bhOff = false
        var frames: [Frame] = []
        /// The irq state each frame found at its entry, restored at its exit (as the replay does).
        var saved: [Bool?] = []
        /// Locks taken and not yet released in each frame (index 0: the task), so that an
        /// irq is never closed over a lock it still holds.
        var held: [Int] = [0]
        /// The task of the last line, and whether an `ipi_entry` opened the hardirq on top.
        var task: Symbol?
        var ipiFrame = false
    }

    private let symbols: SymbolTable
    private let fileIndex: Int
    let rawNames: Bool
    /// Declared by the capture's header (`#P:4`, `cpus=4`), if it says.
    var declaredCPUs: Int?
    private var cpus: [CPU] = []
    /// Task symbols by pid (idle tasks by cpu): a task keeps the name it was first seen with,
    /// whatever `<...>` or exec'd comm later lines print.
    private var tasks: [Int: Symbol] = [:]
    private var idleTasks: [Int: Symbol] = [:]
    private var eventIndex = 0
    private var lastTime: Int64 = .min
    private var line = 0
    private var cpu = 0
    private var task: Symbol?
    private var time: Int64?

    init(symbols: SymbolTable, fileIndex: Int, rawNames: Bool) {
        self.symbols = symbols
        self.fileIndex = fileIndex
        self.rawNames = rawNames
    }

    /// How many events were emitted.
    var eventCount: Int { eventIndex }

    /// Callbacks of cross-calls whose sender waits for every target (smp_call_function with
    /// wait, the native TLB shootdown, the RCU table-free sync).
    static let synchronousCallbacks: Set<String> = [
        "flush_tlb_func", "flush_tlb_func_remote", "do_flush_tlb_all", "tlb_remove_table_smp_sync",
        "do_kernel_range_flush", "do_sync_core",
    ]

    /// The events this translator reads; any other is counted as skipped.
    enum Known: String, CaseIterable {
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

        static let byName: [String: Known] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })
    }

    /// Translates one event line. Returns whether its event was one pgtrace reads (false:
    /// counted as skipped). Throws a message for a line whose event pgtrace reads but whose
    /// fields say something impossible.
    mutating func translate(
        _ b: UnsafeBufferPointer<UInt8>, _ columns: LineColumns, line: Int, known: Known?,
        emit: (Event) throws -> Void
    ) throws -> Bool {
        self.line = line
        cpu = columns.cpu
        if columns.timestamp >= lastTime {
            time = columns.timestamp
            lastTime = columns.timestamp
        } else {
            time = nil  // per-cpu buffers merged out of order: the order of lines stands
        }
        while cpus.count <= cpu { cpus.append(CPU()) }
        task = taskSymbol(b, columns)
        var state = cpus[cpu]
        defer { cpus[cpu] = state }
        if state.task != task {
            // The replay restores each task's own state: state this one's again.
            state.task = task
            state.irqsOff = nil
        }
        let explicitContext: Bool
        switch known {
        case .irqHandlerEntry, .irqHandlerExit, .softirqEntry, .softirqExit, .ipiEntry, .ipiExit: explicitContext = true
        default: explicitContext = false
        }
        let explicitIrq = known == .irqDisable || known == .irqEnable
        if let flagsRange = columns.flags, flagsRange.count >= 3 {
            // Leave irq frames, then set the irq state, then enter frames: the order in which
            // the kernel gets there. Inside __schedule irqs are off; that says nothing of the
            // task switched out, and the task switched in states its own.
            let irqFlag = b[flagsRange.lowerBound]
            let contextFlag = b[flagsRange.lowerBound + 2]
            try syncContext(contextFlag, &state, emit, entering: false)
            if !explicitIrq, known != .schedSwitch { try syncIrqs(irqFlag, &state, emit) }
            if !explicitContext { try syncContext(contextFlag, &state, emit, entering: true) }
        }
        guard let known else { return false }
        let info = columns.info.map { UnsafeBufferPointer(rebasing: b[$0]) } ?? UnsafeBufferPointer(start: nil, count: 0)
        switch known {
        case .lockAcquire:
            // "ADDR [try ][read ]NAME" (lockdep's TP_printk).
            guard let (address, rest) = Self.firstWord(info) else { return false }
            var name = rest
            var isTry = false
            var isRead = false
            if name.starts(with: "try ".utf8) {
                isTry = true
                name = UnsafeBufferPointer(rebasing: name[(name.startIndex + 4)...])
            }
            if name.starts(with: "read ".utf8) {
                isRead = true
                name = UnsafeBufferPointer(rebasing: name[(name.startIndex + 5)...])
            }
            guard !name.isEmpty else { return false }
            // lockdep prints "read " for read=1 and read=2 alike: recursive, the reading that
            // invents no deadlock (an rwsem reader's cycles are missed, none is made up).
            let ref = LockRef(name: lockName(name), instance: symbols.intern(bytes: address))
            try emit(event(.acquire(ref, mode: isRead ? .recursiveRead : .write, isTry: isTry, irq: nil, bh: false, nest: nil)))
            state.held[state.held.count - 1] += 1
        case .lockRelease, .lockContended, .lockAcquired:
            guard let (address, name) = Self.firstWord(info), !name.isEmpty else { return false }
            let ref = LockRef(name: lockName(name), instance: symbols.intern(bytes: address))
            switch known {
            case .lockRelease:
                try emit(event(.release(ref, irq: nil, bh: false)))
                state.held[state.held.count - 1] = max(0, state.held[state.held.count - 1] - 1)
            case .lockContended: try emit(event(.contended(ref)))
            default: try emit(event(.acquired(ref)))
            }
        case .contentionBegin, .contentionEnd:
            // "ADDR (flags=SPIN|READ)", "ADDR (ret=0)": a lock known by its address only.
            guard let (address, _) = Self.firstWord(info) ?? (info.isEmpty ? nil : (info, info)) else { return false }
            let instance = symbols.intern(bytes: address)
            try emit(event(known == .contentionBegin ? .contentionBegin(instance: instance) : .contentionEnd(instance: instance)))
        case .irqDisable:
            if state.irqsOff != true, state.frames.last != .hardirq {
                try emit(event(.irqDisable, at: Self.field(info, "caller")))
                state.irqsOff = true
            }
        case .irqEnable:
            if state.irqsOff != false, state.frames.last != .hardirq {
                try emit(event(.irqEnable, at: Self.field(info, "caller")))
                state.irqsOff = false
            }
        case .preemptDisable:
            try emit(event(.preemptDisable, at: Self.field(info, "caller")))
        case .preemptEnable:
            try emit(event(.preemptEnable, at: Self.field(info, "caller")))
        case .irqHandlerEntry:
            if state.frames.last != .hardirq {
                try emit(event(.hardirqEnter(irq: Self.field(info, "irq").flatMap { Int($0) })))
                enter(.hardirq, &state)
            }
        case .irqHandlerExit:
            try closeFrame(.hardirq, &state, emit)
        case .ipiEntry:
            // An IPI's handler runs in hardirq context, inside the arch's irq entry.
            if state.frames.last != .hardirq {
                try emit(event(.hardirqEnter(irq: nil)))
                enter(.hardirq, &state)
                state.ipiFrame = true
            }
        case .ipiExit:
            if state.ipiFrame { try closeFrame(.hardirq, &state, emit) }
        case .softirqEntry:
            if state.frames.last != .softirq {
                let vector = Self.bracketedAction(info) ?? Self.field(info, "vec") ?? "softirq"
                try emit(event(.softirqEnter(vector: symbols.intern(vector))))
                enter(.softirq, &state)
            }
        case .softirqExit:
            try closeFrame(.softirq, &state, emit)
        case .softirqRaise, .csdFunctionEntry, .csdFunctionExit, .schedSwitch:
            // Marks a softirq pending; runs a cross-call inside the IPI already entered; switches
            // tasks (every line's task comes from its own column): no state to change.
            break
        case .ipiSendCPU, .ipiSendCPUMask, .csdQueueCPU, .ipiRaise:
            let targets: [Int]?
            let callback: String?
            if known == .ipiRaise {
                targets = try Self.field(info, "target_mask").map { try cpuList($0) }
                callback = Self.parenthesized(info)
            } else if let single = Self.field(info, "cpu") {
                targets = try cpuList(single)
                callback = Self.field(info, "callback") ?? Self.field(info, "func")
            } else {
                targets = try Self.field(info, "cpumask").map { try cpuList($0) }
                callback = Self.field(info, "callback") ?? Self.field(info, "func")
            }
            guard let targets, !targets.isEmpty else { return false }
            let function = callback.map { String($0.prefix { $0 != "+" }) }
            let wait = known != .ipiRaise && function.map { Self.synchronousCallbacks.contains($0) } == true
            try emit(event(.ipiSend(targets: .list(targets), wait: wait, reason: function.map(symbols.intern)), at: Self.field(info, "callsite")))
        case .tlbFlush:
            // reason 1/4 (remote shootdown, remote ipi send): the native flush waits for every
            // target; local flushes touch no other cpu.
            let text = String(decoding: info, as: UTF8.self)
            guard text.lowercased().contains("remote ipi send") || text.hasSuffix("(4)") else { return false }
            try emit(event(.tlbFlush(targets: .others, mode: .ipi, wait: true)))
        case .xenFlushOthers, .xenFlushMulti:
            try emit(event(.tlbFlush(targets: .others, mode: .hypercall, wait: false)))
        case .xenFlushOneUser, .xenFlushOneKernel, .xenFlushAll:
            try emit(event(.tlbFlush(targets: known == .xenFlushAll ? .all : .local, mode: .hypercall, wait: false)))
        case .xenPgdPin, .xenPgdUnpin:
            guard let pgd = Self.field(info, "pgd") else { return false }
            let page = symbols.intern("pgd:" + pgd)
            try emit(event(known == .xenPgdPin ? .pin(page: page, level: .pgd) : .unpin(page: page, level: .pgd)))
        case .xenAllocPtpage, .xenReleasePtpage:
            let text = String(decoding: info, as: UTF8.self)
            guard let pfn = Self.field(info, "pfn"), text.hasSuffix(" pinned"), !text.hasSuffix("unpinned") else { return false }
            let level = Self.field(info, "level").flatMap { Int($0) }.map(Self.level) ?? .pte
            let page = symbols.intern("pfn:" + pfn)
            if known == .xenAllocPtpage {
                try emit(event(.setReadOnly(page: page, level: level, ptl: nil)))
                try emit(event(.pin(page: page, level: level)))
            } else {
                try emit(event(.unpin(page: page, level: level)))
                try emit(event(.setReadWrite(page: page, level: level, ptl: nil)))
            }
        }
        return true
    }

    /// A lost-events marker (`CPU:3 [LOST 120 EVENTS]`, a console's `Lost N message(s)!`).
    mutating func lost(cpu: Int?, count: Int?, line: Int, emit: (Event) throws -> Void) throws {
        self.line = line
        self.cpu = cpu ?? 0
        task = nil
        time = nil
        try emit(event(.eventsLost(cpu: cpu, count: count)))
    }

    private mutating func event(_ kind: EventKind, at: String? = nil) -> Event {
        defer { eventIndex += 1 }
        return Event(
            kind: kind, cpu: cpu, task: task, time: time, at: at.map(symbols.intern),
            position: TracePosition(file: fileIndex, line: line, column: 1, event: eventIndex))
    }

    /// The line's task: by pid (the idle task of each cpu is `swapper/N`, as the kernel names it).
    private mutating func taskSymbol(_ b: UnsafeBufferPointer<UInt8>, _ columns: LineColumns) -> Symbol? {
        guard let pid = columns.pid else { return nil }
        if pid == 0 {
            if let symbol = idleTasks[columns.cpu] { return symbol }
            let symbol = symbols.intern("swapper/\(columns.cpu)")
            idleTasks[columns.cpu] = symbol
            return symbol
        }
        if let symbol = tasks[pid] { return symbol }
        let command = columns.command.map { String(decoding: UnsafeBufferPointer(rebasing: b[$0]), as: UTF8.self) } ?? ""
        let symbol = symbols.intern("\(command)-\(pid)")
        tasks[pid] = symbol
        return symbol
    }

    /// Follows the flags' irq context: 'h' hardirq, 's' softirq, 'H' hardirq in a softirq,
    /// 'z'/'Z' NMI (as a hardirq), '.' task.
    private mutating func syncContext(_ flag: UInt8, _ state: inout CPU, _ emit: (Event) throws -> Void, entering: Bool) throws {
        let wanted: [Frame]
        switch flag {
        case UInt8(ascii: "."): wanted = []
        case UInt8(ascii: "s"): wanted = [.softirq]
        case UInt8(ascii: "h"), UInt8(ascii: "z"), UInt8(ascii: "Z"):
            wanted = state.frames.first == .softirq ? [.softirq, .hardirq] : [.hardirq]
        case UInt8(ascii: "H"): wanted = [.softirq, .hardirq]
        default: return
        }
        var common = 0
        while common < min(wanted.count, state.frames.count), wanted[common] == state.frames[common] { common += 1 }
        if !entering {
            // Leave what is no longer running (unless it still holds a lock: then the trace
            // lost its release, and closing the frame would be a lie).
            while state.frames.count > common {
                guard state.held.last == 0 else { return }
                try emit(event(state.frames.last == .hardirq ? .hardirqExit : .softirqExit))
                exit(&state)
            }
            return
        }
        guard state.frames.count == common else { return }
        for frame in wanted[common...] {
            try emit(event(frame == .hardirq ? .hardirqEnter(irq: nil) : .softirqEnter(vector: nil)))
            enter(frame, &state)
        }
    }

    /// Follows the flags' first column: 'd' irqs off, 'D' irqs and bh off, 'b' bh off, '.'
    /// neither, 'X' unknown (left as it was).
    private mutating func syncIrqs(_ flag: UInt8, _ state: inout CPU, _ emit: (Event) throws -> Void) throws {
        guard "dDb.".utf8.contains(flag), state.frames.last != .hardirq else { return }
        let irqsOff = flag == UInt8(ascii: "d") || flag == UInt8(ascii: "D")
        if irqsOff != state.irqsOff {
            try emit(event(irqsOff ? .irqDisable : .irqEnable))
            state.irqsOff = irqsOff
        }
        // In a softirq, bh is off by being in it.
        guard state.frames.isEmpty else { return }
        let bhOff = flag == UInt8(ascii: "b") || flag == UInt8(ascii: "D")
        if bhOff != state.bhOff {
            try emit(event(bhOff ? .bhDisable : .bhEnable))
            state.bhOff = bhOff
        }
    }

    private mutating func closeFrame(_ frame: Frame, _ state: inout CPU, _ emit: (Event) throws -> Void) throws {
        guard state.frames.last == frame, state.held.last == 0 else { return }
        try emit(event(frame == .hardirq ? .hardirqExit : .softirqExit))
        exit(&state)
    }

    private func enter(_ frame: Frame, _ state: inout CPU) {
        state.saved.append(state.irqsOff)
        state.frames.append(frame)
        state.held.append(0)
        if frame == .hardirq { state.irqsOff = true }
    }

    private func exit(_ state: inout CPU) {
        if state.frames.removeLast() == .hardirq { state.ipiFrame = false }
        state.held.removeLast()
        state.irqsOff = state.saved.removeLast()
    }

    /// Old kernels wrap a spinlock's class as `&(&X)->rlock` (and split pte locks as
    /// `&(ptlock_ptr(page))->rlock`): the name is X.
    private func lockName(_ name: UnsafeBufferPointer<UInt8>) -> Symbol {
        var lower = name.startIndex
        var upper = name.endIndex
        if !rawNames {
            let prefix = Array("&(".utf8)
            let suffix = Array(")->rlock".utf8)
            while upper - lower > 10, name[lower..<(lower + 2)].elementsEqual(prefix),
                name[(upper - 8)..<upper].elementsEqual(suffix)
            {
                lower += 2
                upper -= 8
            }
        }
        return symbols.intern(bytes: UnsafeBufferPointer(rebasing: name[lower..<upper]))
    }

    /// The first word of `info` and the rest after one blank.
    private static func firstWord(_ info: UnsafeBufferPointer<UInt8>) -> (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>)? {
        guard let blank = info.firstIndex(where: LineColumns.isBlank), blank > info.startIndex else { return nil }
        var rest = blank + 1
        while rest < info.endIndex, LineColumns.isBlank(info[rest]) { rest += 1 }
        return (UnsafeBufferPointer(rebasing: info[info.startIndex..<blank]), UnsafeBufferPointer(rebasing: info[rest...]))
    }

    /// The value of `key=value` in an info string, or of Xen's `key value`.
    static func field(_ info: UnsafeBufferPointer<UInt8>, _ key: String) -> String? {
        let words = info.split(whereSeparator: LineColumns.isBlank)
        let keyBytes = Array(key.utf8)
        for (index, word) in words.enumerated() {
            if word.count > keyBytes.count, word[word.startIndex + keyBytes.count] == UInt8(ascii: "="),
                word.starts(with: keyBytes)
            {
                var value = word.dropFirst(keyBytes.count + 1)
                if value.last == UInt8(ascii: ",") { value = value.dropLast() }
                return String(decoding: value, as: UTF8.self)
            }
            // Xen's "pfn 1a2b  level 1": key and value as separate words.
            if word.elementsEqual(keyBytes), index + 1 < words.count {
                return String(decoding: words[index + 1], as: UTF8.self)
            }
        }
        return nil
    }

    /// softirq's "vec=1 [action=TIMER]": the action.
    private static func bracketedAction(_ info: UnsafeBufferPointer<UInt8>) -> String? {
        let text = String(decoding: info, as: UTF8.self)
        guard let range = text.range(of: "[action=") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "]" })
    }

    /// ipi_raise's "(Function call interrupts)": the reason.
    private static func parenthesized(_ info: UnsafeBufferPointer<UInt8>) -> String? {
        let text = String(decoding: info, as: UTF8.self)
        guard let open = text.lastIndex(of: "("), text.hasSuffix(")") else { return nil }
        return String(text[text.index(after: open)..<text.index(before: text.endIndex)])
    }

    /// A cpumask as the kernel prints it ("0-3,6" or 32-bit hex words "00000000,0000000f"),
    /// checked against the cpus pgtrace models and the capture declares; linear in its length.
    private func cpuList(_ mask: String) throws -> [Int] {
        let limit = min(declaredCPUs ?? TraceDecoder.maximumCPUs, TraceDecoder.maximumCPUs)
        func check(_ cpu: Int) throws -> Int {
            guard cpu < limit else {
                throw DecodeFailure(
                    declaredCPUs != nil && cpu < TraceDecoder.maximumCPUs
                        ? "target cpu \(cpu) is past the \(limit) cpus the capture's header declares"
                        : "target cpu \(cpu) is more than the \(TraceDecoder.maximumCPUs) cpus pgtrace models (x86's largest NR_CPUS)")
            }
            return cpu
        }
        let groups = mask.split(separator: ",")
        let isHex = groups.allSatisfy { $0.count == 8 && $0.allSatisfy(\.isHexDigit) }
            || mask.contains { "abcdefABCDEF".contains($0) }
        var cpus: [Int] = []
        if !isHex {
            for part in groups {
                let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), low <= high else {
                    throw DecodeFailure("cpu list '\(mask.prefix(80))' is not a list of cpus like 0-3,6")
                }
                for cpu in try check(low)...(try check(high)) { cpus.append(cpu) }
            }
        } else {
            // Hex words, most significant first, 32 bits each.
            for (position, word) in groups.reversed().enumerated() {
                guard word.count <= 8, let value = UInt32(word, radix: 16) else {
                    throw DecodeFailure("cpu mask '\(mask.prefix(80))' is not 32-bit hex words")
                }
                for bit in 0..<32 where value & (1 << UInt32(bit)) != 0 { cpus.append(try check(position * 32 + bit)) }
            }
            cpus.sort()
        }
        return cpus
    }

    /// Xen's page-table levels as kernels since 4.12 number them (enum pt_level: PT_PGD 0,
    /// PT_P4D 1, PT_PUD 2, PT_PMD 3, PT_PTE 4; a p4d counts as a pud here).
    static func level(_ number: Int) -> PageTableLevel {
        switch number {
        case 0: return .pgd
        case 1, 2: return .pud
        case 3: return .pmd
        default: return .pte
        }
    }
}
