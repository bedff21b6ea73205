/// Translates the events of a kernel text trace into elements of trace format v1, keeping
/// per-cpu irq state and irq context: from explicit events (irq_disable, irq_handler_entry,
/// softirq_entry, …) and, where the format has one, from the latency flags column, which
/// samples the real hardware state at every event.
struct EventTranslator {
    enum Frame: Equatable { case softirq, hardirq }

    struct CPU {
        var irqsOff = false
        var bhOff = false
        var frames: [Frame] = []
        /// The irq state each frame found at its entry, restored at its exit (as the replay does).
        var saved: [Bool] = []
        /// Locks taken and not yet released in each frame (index 0: the task), so that an
        /// irq is never closed over a lock it still holds.
        var held: [Int] = [0]
    }

    let format: TextTraceFormat
    let rawNames: Bool
    private var cpus: [Int: CPU] = [:]

    init(format: TextTraceFormat, rawNames: Bool) {
        self.format = format
        self.rawNames = rawNames
    }

    /// Callbacks of cross-calls whose sender waits for every target (smp_call_function with
    /// wait, the native TLB shootdown, the RCU table-free sync).
    static let synchronousCallbacks = [
        "flush_tlb_func", "flush_tlb_func_remote", "do_flush_tlb_all", "tlb_remove_table_smp_sync",
        "do_kernel_range_flush", "do_sync_core",
    ]

    /// The XML of one line (maybe several elements, maybe none), how many events it holds,
    /// and whether the line's event was one pgtrace does not use.
    mutating func translate(_ line: TraceLine, time: Int64?) -> (xml: String, count: Int, skipped: Bool) {
        var out = ""
        var count = 0
        let task = line.pid == 0 ? "swapper/\(line.cpu)" : "\(line.command)-\(line.pid)"
        var state = cpus[line.cpu] ?? CPU()
        func emit(_ element: String, _ attributes: [(String, String)] = [], at: String? = nil) {
            var text = "<\(element) cpu=\"\(line.cpu)\" task=\"\(Self.escape(task))\""
            if let time { text += " t=\"\(time)\"" }
            for (name, value) in attributes { text += " \(name)=\"\(Self.escape(value))\"" }
            if let at { text += " at=\"\(Self.escape(at))\"" }
            out += text + "/>"
            count += 1
        }
        let explicitContext = ["irq_handler_entry", "irq_handler_exit", "softirq_entry", "softirq_exit"].contains(line.event)
        let explicitIrq = ["irq_disable", "irq_enable"].contains(line.event)
        if let flags = line.flags, flags.count >= 3 {
            // Leave irq frames, then set the irq state, then enter frames: the order in which
            // the kernel gets there.
            let characters = Array(flags)
            if !explicitContext { syncContext(characters[2], &state, emit, entering: false) }
            if !explicitIrq { syncIrqs(characters[0], &state, emit) }
            if !explicitContext { syncContext(characters[2], &state, emit, entering: true) }
        }
        var skipped = false
        let info = Substring(line.info)
        switch line.event {
        case "lock_acquire":
            var words = info.split(separator: " ", maxSplits: 1).map { $0 }
            guard words.count == 2 else { skipped = true; break }
            let address = String(words[0])
            var name = words[1]
            var isTry = false
            var isRead = false
            if name.hasPrefix("try ") { isTry = true; name = name.dropFirst(4) }
            if name.hasPrefix("read ") { isRead = true; name = name.dropFirst(5) }
            words = []
            var attributes = [("lock", normalize(name)), ("instance", address)]
            // lockdep prints "read " for read=1 and read=2 alike: recursive, the reading that
            // invents no deadlock (an rwsem reader's cycles are missed, none is made up).
            if isRead { attributes.append(("mode", "recursive-read")) }
            if isTry { attributes.append(("try", "true")) }
            emit("acquire", attributes)
            state.held[state.held.count - 1] += 1
        case "lock_release", "lock_contended":
            let words = info.split(separator: " ", maxSplits: 1)
            guard words.count == 2 else { skipped = true; break }
            emit(line.event == "lock_release" ? "release" : "contended", [("lock", normalize(words[1])), ("instance", String(words[0]))])
            if line.event == "lock_release" { state.held[state.held.count - 1] = max(0, state.held[state.held.count - 1] - 1) }
        case "irq_disable":
            if !state.irqsOff {
                emit("irq-disable", at: Self.field(info, "caller"))
                state.irqsOff = true
            }
        case "irq_enable":
            if state.irqsOff, state.frames.last != .hardirq {
                emit("irq-enable", at: Self.field(info, "caller"))
                state.irqsOff = false
            }
        case "irq_handler_entry":
            if state.frames.last != .hardirq {
                emit("hardirq-enter", Self.field(info, "irq").map { [("irq", $0)] } ?? [])
                enter(.hardirq, &state)
            }
        case "irq_handler_exit":
            closeFrame(.hardirq, &state, emit)
        case "softirq_entry":
            if state.frames.last != .softirq {
                let vector = info.split(separator: " ").first { $0.hasPrefix("[action=") }
                    .map { String($0.dropFirst(8).dropLast()) } ?? Self.field(info, "vec") ?? "softirq"
                emit("softirq-enter", [("vec", vector)])
                enter(.softirq, &state)
            }
        case "softirq_exit":
            closeFrame(.softirq, &state, emit)
        case "ipi_send_cpu", "ipi_send_cpumask", "csd_queue_cpu", "ipi_raise":
            let targets: String?
            let callback: String?
            if line.event == "ipi_raise" {
                targets = Self.field(info, "target_mask").flatMap(Self.cpuList)
                callback = info.split(separator: "(").last.map { String($0.dropLast()) }
            } else {
                targets = (Self.field(info, "cpu") ?? Self.field(info, "cpumask").flatMap(Self.cpuList))
                callback = Self.field(info, "callback") ?? Self.field(info, "func")
            }
            guard let targets, !targets.isEmpty else { skipped = true; break }
            let function = callback.map { String($0.prefix { $0 != "+" }) }
            let wait = line.event != "ipi_raise" && function.map { Self.synchronousCallbacks.contains($0) } == true
            var attributes = [("targets", targets), ("wait", wait ? "true" : "false")]
            if let function { attributes.append(("reason", function)) }
            emit("ipi-send", attributes, at: Self.field(info, "callsite"))
        case "tlb_flush":
            // reason 1/4 (remote shootdown, remote ipi send): the native flush waits for every
            // target; local flushes touch no other cpu.
            if info.lowercased().contains("remote ipi send") || info.hasSuffix("(4)") {
                emit("tlb-flush", [("targets", "others"), ("mode", "ipi"), ("wait", "true")])
            } else {
                skipped = true
            }
        case "xen_mmu_flush_tlb_others", "xen_mmu_flush_tlb_multi":
            emit("tlb-flush", [("targets", "others"), ("mode", "hypercall")])
        case "xen_mmu_flush_tlb_one_user", "xen_mmu_flush_tlb_one_kernel", "xen_mmu_flush_tlb_all":
            emit("tlb-flush", [("targets", line.event == "xen_mmu_flush_tlb_all" ? "all" : "local"), ("mode", "hypercall")])
        case "xen_mmu_pgd_pin", "xen_mmu_pgd_unpin":
            guard let pgd = Self.field(info, "pgd") else { skipped = true; break }
            emit(line.event == "xen_mmu_pgd_pin" ? "pin" : "unpin", [("page", "pgd:" + pgd), ("level", "pgd")])
        case "xen_mmu_alloc_ptpage", "xen_mmu_release_ptpage":
            guard let pfn = Self.field(info, "pfn"), info.hasSuffix(" pinned"), !info.hasSuffix("unpinned") else {
                skipped = true
                break
            }
            let level = Self.field(info, "level").flatMap(Int.init).map(Self.level) ?? "pte"
            if line.event == "xen_mmu_alloc_ptpage" {
                emit("set-ro", [("page", "pfn:" + pfn), ("level", level)])
                emit("pin", [("page", "pfn:" + pfn), ("level", level)])
            } else {
                emit("unpin", [("page", "pfn:" + pfn), ("level", level)])
                emit("set-rw", [("page", "pfn:" + pfn), ("level", level)])
            }
        case "sched_switch":
            break  // the task of every line comes from its TASK-PID column
        default:
            skipped = true
        }
        cpus[line.cpu] = state
        return (out, count, skipped)
    }

    /// Follows the flags' irq context: 'h' hardirq, 's' softirq, 'H' hardirq in a softirq,
    /// 'z'/'Z' NMI (as a hardirq), '.' task.
    private func syncContext(
        _ flag: Character, _ state: inout CPU, _ emit: (String, [(String, String)], String?) -> Void, entering: Bool
    ) {
        let wanted: [Frame]
        switch flag {
        case ".": wanted = []
        case "s": wanted = [.softirq]
        case "h", "z", "Z": wanted = state.frames.first == .softirq ? [.softirq, .hardirq] : [.hardirq]
        case "H": wanted = [.softirq, .hardirq]
        default: return
        }
        var common = 0
        while common < min(wanted.count, state.frames.count), wanted[common] == state.frames[common] { common += 1 }
        if !entering {
            // Leave what is no longer running (unless it still holds a lock: then the trace
            // lost its release, and closing the frame would be a lie).
            while state.frames.count > common {
                guard state.held.last == 0 else { return }
                emit(state.frames.last == .hardirq ? "hardirq-exit" : "softirq-exit", [], nil)
                exit(&state)
            }
            return
        }
        guard state.frames.count == common else { return }
        for frame in wanted[common...] {
            emit(frame == .hardirq ? "hardirq-enter" : "softirq-enter", [], nil)
            enter(frame, &state)
        }
    }

    /// Follows the flags' first column: 'd' irqs off, 'D' irqs and bh off, 'b' bh off, '.'
    /// neither, 'X' unknown (left as it was).
    private func syncIrqs(_ flag: Character, _ state: inout CPU, _ emit: (String, [(String, String)], String?) -> Void) {
        guard flag != "X", state.frames.last != .hardirq else { return }
        let irqsOff = flag == "d" || flag == "D"
        if irqsOff != state.irqsOff {
            emit(irqsOff ? "irq-disable" : "irq-enable", [], nil)
            state.irqsOff = irqsOff
        }
        // In a softirq, bh is off by being in it.
        guard state.frames.isEmpty else { return }
        let bhOff = flag == "b" || flag == "D"
        if bhOff != state.bhOff {
            emit(bhOff ? "bh-disable" : "bh-enable", [], nil)
            state.bhOff = bhOff
        }
    }

    private mutating func closeFrame(_ frame: Frame, _ state: inout CPU, _ emit: (String, [(String, String)], String?) -> Void) {
        guard state.frames.last == frame, state.held.last == 0 else { return }
        emit(frame == .hardirq ? "hardirq-exit" : "softirq-exit", [], nil)
        exit(&state)
    }

    private func enter(_ frame: Frame, _ state: inout CPU) {
        state.saved.append(state.irqsOff)
        state.frames.append(frame)
        state.held.append(0)
        if frame == .hardirq { state.irqsOff = true }
    }

    private func exit(_ state: inout CPU) {
        state.frames.removeLast()
        state.held.removeLast()
        state.irqsOff = state.saved.removeLast()
    }

    /// Old kernels wrap a spinlock's class as `&(&X)->rlock` (and split pte locks as
    /// `&(ptlock_ptr(page))->rlock`): the name is X.
    func normalize(_ name: Substring) -> String {
        var name = name
        guard !rawNames else { return String(name) }
        while name.hasPrefix("&("), name.hasSuffix(")->rlock"), name.count > 10 {
            name = name.dropFirst(2).dropLast(8)
        }
        return String(name)
    }

    /// The value of `key=value` in an info string.
    static func field(_ info: Substring, _ key: String) -> String? {
        for word in info.split(separator: " ") where word.hasPrefix(key + "=") {
            var value = word.dropFirst(key.count + 1)
            if value.hasSuffix(",") { value = value.dropLast() }
            return String(value)
        }
        // Xen's "pfn 1a2b  level 1": key and value as separate words.
        let words = info.split(separator: " ")
        if let index = words.firstIndex(where: { $0 == key }), index + 1 < words.count {
            return String(words[index + 1])
        }
        return nil
    }

    /// A cpumask as the kernel prints it ("0-3,6" or a hex mask "0000000f") to "0,1,2,3,6".
    static func cpuList(_ mask: String) -> String? {
        // A bitmask prints as 32-bit hex groups ("00000000,00000006"); a list as "0-3,6".
        let groups = mask.split(separator: ",")
        let isHex = groups.allSatisfy { $0.count == 8 && $0.allSatisfy(\.isHexDigit) }
            || mask.contains { "abcdefABCDEF".contains($0) }
        if !isHex, mask.allSatisfy({ $0.isNumber || $0 == "," || $0 == "-" }) {
            var cpus: [Int] = []
            for part in mask.split(separator: ",") {
                let bounds = part.split(separator: "-").compactMap { Int($0) }
                if bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < 4096 {
                    cpus += Array(bounds[0]...bounds[1])
                } else if bounds.count == 1 {
                    cpus.append(bounds[0])
                } else {
                    return nil
                }
            }
            return cpus.isEmpty ? nil : cpus.map(String.init).joined(separator: ",")
        }
        // Hex words, most significant first, 32 bits each.
        var cpus: [Int] = []
        for (position, word) in groups.reversed().enumerated() {
            guard word.count <= 8, let value = UInt32(word, radix: 16) else { return nil }
            cpus += (0..<32).filter { value & (1 << UInt32($0)) != 0 }.map { position * 32 + $0 }
        }
        return cpus.isEmpty ? nil : cpus.sorted().map(String.init).joined(separator: ",")
    }

    /// Xen's page-table levels as kernels since 4.12 number them (enum pt_level: PT_PGD 0,
    /// PT_P4D 1, PT_PUD 2, PT_PMD 3, PT_PTE 4; a p4d counts as a pud here).
    static func level(_ number: Int) -> String {
        switch number {
        case 0: return "pgd"
        case 1, 2: return "pud"
        case 3: return "pmd"
        default: return "pte"
        }
    }

    static func escape(_ text: String) -> String { XMLText.escaped(text) }
}
