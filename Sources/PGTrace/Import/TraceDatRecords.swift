/// Reads a trace.dat record's fields, by the names the kernel's event formats give them
/// (include/trace/events/{lock,irq,ipi,csd,tlb,xen,preemptirq}.h), into a typed record.
struct TraceDatRecords {
    let file: TraceDatFile
    let symbols: SymbolTable
    let rawNames: Bool
    var declaredCPUs: Int?

    /// An event format pgtrace reads, with its fields found once.
    struct Reading {
        let name: KernelRecord.Name
        let fields: [String: TraceDatFile.Field]
    }

    private var readings: [Int32: Reading?] = [:]

    init(file: TraceDatFile, symbols: SymbolTable, rawNames: Bool) {
        self.file = file
        self.symbols = symbols
        self.rawNames = rawNames
    }

    /// What pgtrace reads of `format`, nil if nothing.
    mutating func reading(_ format: TraceDatFile.Format) -> Reading? {
        if let known = readings[format.id] { return known }
        var reading: Reading?
        if let name = KernelRecord.Name.byName[format.name] {
            var fields: [String: TraceDatFile.Field] = [:]
            for field in Self.fieldNames(name) {
                if let found = file.field(field, of: format) { fields[field] = found }
            }
            reading = Reading(name: name, fields: fields)
        }
        readings[format.id] = reading
        return reading
    }

    private static func fieldNames(_ name: KernelRecord.Name) -> [String] {
        switch name {
        case .lockAcquire: return ["lockdep_addr", "flags", "name"]
        case .lockRelease, .lockContended, .lockAcquired: return ["lockdep_addr", "name"]
        case .contentionBegin, .contentionEnd: return ["lock_addr"]
        case .irqHandlerEntry: return ["irq"]
        case .softirqEntry: return ["vec"]
        case .ipiRaise: return ["target_cpus"]
        case .ipiSendCPU: return ["cpu", "callsite", "callback"]
        case .ipiSendCPUMask: return ["cpumask", "callsite", "callback"]
        case .csdQueueCPU: return ["cpu", "callsite", "func"]
        case .tlbFlush: return ["reason"]
        case .xenPgdPin, .xenPgdUnpin: return ["pgd"]
        case .xenAllocPtpage, .xenReleasePtpage: return ["pfn", "level", "pinned"]
        default: return []
        }
    }

    /// The typed record; nil if a field it needs is missing or out of the record.
    func record(_ reading: Reading, _ record: TraceDatFile.Record) throws -> KernelRecord? {
        func number(_ name: String) -> UInt64? { reading.fields[name].flatMap { file.number($0, in: record) } }
        func address(_ name: String) -> Symbol? {
            number(name).map { symbols.intern("0x" + String($0, radix: 16)) }
        }
        func lock() -> LockRef? {
            guard let field = reading.fields["name"], let name = file.string(field, in: record), !name.isEmpty,
                let instance = address("lockdep_addr")
            else { return nil }
            let lockName = name.withMemoryRebound(to: UInt8.self) { KernelRecord.lockName($0, raw: rawNames, symbols: symbols) }
            return LockRef(name: lockName, instance: instance)
        }
        func function(_ name: String) -> String? { number(name).flatMap { file.function(at: $0) } }
        func cpus(_ name: String) throws -> [Int]? {
            guard let field = reading.fields[name], let bytes = file.bytes(field, in: record) else { return nil }
            return try file.cpus(inMask: bytes).map { try CPULimit.check($0, declared: declaredCPUs) }
        }
        switch reading.name {
        case .lockAcquire:
            guard let ref = lock(), let flags = number("flags") else { return nil }
            return .lockAcquire(ref, isTry: flags & 1 != 0, isRead: flags & 2 != 0)
        case .lockRelease: return lock().map { .lockRelease($0) }
        case .lockContended: return lock().map { .lockContended($0) }
        case .lockAcquired: return lock().map { .lockAcquired($0) }
        case .contentionBegin: return address("lock_addr").map { .contentionBegin(instance: $0) }
        case .contentionEnd: return address("lock_addr").map { .contentionEnd(instance: $0) }
        // preemptirq's callers are offsets from _stext, which the file does not carry.
        case .irqDisable: return .irqDisable(caller: nil)
        case .irqEnable: return .irqEnable(caller: nil)
        case .preemptDisable: return .preemptDisable(caller: nil)
        case .preemptEnable: return .preemptEnable(caller: nil)
        case .irqHandlerEntry: return .irqHandlerEntry(irq: number("irq").map { Int(Int32(truncatingIfNeeded: $0)) })
        case .irqHandlerExit: return .irqHandlerExit
        case .softirqEntry:
            guard let vector = number("vec") else { return nil }
            let index = Int(vector)
            return .softirqEntry(vector: KernelRecord.softirqNames.indices.contains(index) ? KernelRecord.softirqNames[index] : "softirq")
        case .softirqExit: return .softirqExit
        case .softirqRaise: return .softirqRaise
        case .ipiEntry: return .ipiEntry
        case .ipiExit: return .ipiExit
        case .csdFunctionEntry, .csdFunctionExit: return .csdFunction
        case .ipiRaise:
            // Its reason is a pointer to a kernel string the file does not carry.
            guard let targets = try cpus("target_cpus") else { return nil }
            return .ipiSend(targets: targets, callback: nil, callsite: nil, raise: true)
        case .ipiSendCPU, .csdQueueCPU:
            guard let cpu = number("cpu") else { return nil }
            let target = try CPULimit.check(Int(clamping: cpu), declared: declaredCPUs)
            return .ipiSend(
                targets: [target], callback: function(reading.name == .csdQueueCPU ? "func" : "callback"),
                callsite: function("callsite"), raise: false)
        case .ipiSendCPUMask:
            guard let targets = try cpus("cpumask") else { return nil }
            return .ipiSend(targets: targets, callback: function("callback"), callsite: function("callsite"), raise: false)
        case .tlbFlush:
            guard let reason = number("reason") else { return nil }
            return .tlbFlush(remoteIPI: reason == 4)  // TLB_REMOTE_SEND_IPI
        case .xenFlushOthers, .xenFlushMulti: return .xenFlushOthers
        case .xenFlushOneUser, .xenFlushOneKernel: return .xenFlushOne
        case .xenFlushAll: return .xenFlushAll
        case .xenPgdPin, .xenPgdUnpin:
            guard let pgd = number("pgd") else { return nil }
            let text = String(pgd, radix: 16)
            return reading.name == .xenPgdPin ? .xenPgdPin(pgd: text) : .xenPgdUnpin(pgd: text)
        case .xenAllocPtpage, .xenReleasePtpage:
            guard let pfn = number("pfn") else { return nil }
            return .xenPtpage(
                alloc: reading.name == .xenAllocPtpage, pfn: String(pfn, radix: 16), level: number("level").map { Int($0) },
                pinned: number("pinned").map { $0 != 0 } ?? false)
        case .schedSwitch: return .schedSwitch
        }
    }

    /// The flags column the kernel would print for `common_flags` (trace_output.c's
    /// trace_print_lat_fmt): the irqs-off character and the context character.
    static func flagCharacters(_ flags: Int) -> (irqs: UInt8, context: UInt8) {
        let irqsOff = flags & 0x01 != 0, noSupport = flags & 0x02 != 0
        let hardirq = flags & 0x08 != 0, softirq = flags & 0x10 != 0, nmi = flags & 0x40 != 0
        let bhOff = flags & 0x80 != 0
        let irqs: Character = noSupport ? "X" : irqsOff && bhOff ? "D" : irqsOff ? "d" : bhOff ? "b" : "."
        let context: Character = nmi && hardirq ? "Z" : nmi ? "z" : hardirq && softirq ? "H" : hardirq ? "h" : softirq ? "s" : "."
        return (irqs.asciiValue!, context.asciiValue!)
    }
}
