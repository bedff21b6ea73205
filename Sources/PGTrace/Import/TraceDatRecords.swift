/// Reads a trace.dat record's fields, by the names the kernel's event formats give them
/// (include/trace/events/{lock,irq,ipi,csd,tlb,xen,preemptirq}.h), into a typed record.
struct TraceDatRecords {
    let file: TraceDatFile
    let symbols: SymbolTable
    var declaredCPUs: Int?

    /// The fields pgtrace reads, by the names the kernel's formats give them.
    enum FieldKey: Int, CaseIterable {
        case lockdepAddr, flags, name, lockAddr, irq, vec, targetCPUs, cpu, callsite, callback, function
        case cpumask, reason, pgd, pfn, level, pinned, nextComm, nextPid

        var kernelName: String {
            switch self {
            case .lockdepAddr: return "lockdep_addr"
            case .flags: return "flags"
            case .name: return "name"
            case .lockAddr: return "lock_addr"
            case .irq: return "irq"
            case .vec: return "vec"
            case .targetCPUs: return "target_cpus"
            case .cpu: return "cpu"
            case .callsite: return "callsite"
            case .callback: return "callback"
            case .function: return "func"
            case .cpumask: return "cpumask"
            case .reason: return "reason"
            case .pgd: return "pgd"
            case .pfn: return "pfn"
            case .level: return "level"
            case .pinned: return "pinned"
            case .nextComm: return "next_comm"
            case .nextPid: return "next_pid"
            }
        }
    }

    /// An event format pgtrace reads: its name, and where the fields it has, found once, lie
    /// in `fields` (a small value: a record's reading is copied without a reference count).
    struct Reading {
        let name: KernelRecord.Name
        fileprivate let firstField: Int
    }

    /// The fields of every format read, `FieldKey.allCases.count` per format, by
    /// `FieldKey.rawValue`; nil where the format has no such field.
    private var fields: [TraceDatFile.Field?] = []
    /// Where the fields of a format whose id is past the table lie (see `reading(of:)`).
    private var scratch: Int?

    func field(_ key: FieldKey, of reading: Reading) -> TraceDatFile.Field? { fields[reading.firstField + key.rawValue] }

    /// By event id: whether the format is known, what pgtrace reads of it (nil: nothing),
    /// and its name.
    private var known: [Bool] = []
    private var readings: [Reading?] = []
    private var names: [String] = []
    private var locks: LockSymbols

    init(file: TraceDatFile, symbols: SymbolTable, rawNames: Bool) {
        self.file = file
        self.symbols = symbols
        locks = LockSymbols(symbols: symbols, rawNames: rawNames)
    }

    /// What pgtrace reads of `record`'s event (nil if nothing), found by its id once per
    /// format; `known` false for a record of no format the file carries.
    mutating func reading(of record: TraceDatFile.Record) throws(DecodeFailure) -> (reading: Reading?, known: Bool) {
        let id = Int(file.eventID(of: record))
        if id >= 0, id < known.count, known[id] { return (readings[id], true) }
        guard let format = file.format(of: record) else { return (nil, false) }
        var reading: Reading?
        if let name = KernelRecord.Name.byName[format.name] {
            var found: [TraceDatFile.Field?] = []
            for key in FieldKey.allCases { found.append(try file.field(key.kernelName, of: format)) }
            if id >= 0, id < 1 << 16 {
                reading = Reading(name: name, firstField: fields.count)
                fields += found
            } else {
                // An id past the table is looked up at each record: its fields take one
                // scratch place in the table, read before the next record's replace them.
                if scratch == nil {
                    scratch = fields.count
                    fields += found
                } else {
                    fields.replaceSubrange(scratch!..<(scratch! + found.count), with: found)
                }
                reading = Reading(name: name, firstField: scratch!)
            }
        }
        if id >= 0, id < 1 << 16 {
            while known.count <= id {
                known.append(false)
                readings.append(nil)
                names.append("")
            }
            known[id] = true
            readings[id] = reading
            names[id] = format.name
        }
        return (reading, true)
    }

    /// The name of `record`'s event (for what is counted as skipped).
    func eventName(of record: TraceDatFile.Record) -> String {
        let id = Int(file.eventID(of: record))
        if id >= 0, id < known.count, known[id] { return names[id] }
        return file.format(of: record)?.name ?? "unknown"
    }

    /// The typed record; nil if a field it needs is missing or out of the record.
    mutating func record(_ reading: Reading, _ record: TraceDatFile.Record) throws -> KernelRecord? {
        func number(_ key: FieldKey) -> UInt64? { field(key, of: reading).flatMap { file.number($0, in: record) } }
        let symbols = self.symbols
        /// A pointer, spelled as trace-cmd report prints it (one spelling per value, so the
        /// symbol last given for it is it).
        func pointer(_ value: UInt64) -> (inout Symbol?) -> Symbol {
            { hint in hint ?? symbols.intern("0x" + String(value, radix: 16)) }
        }
        func address(_ key: FieldKey) -> Symbol? {
            guard let value = number(key) else { return nil }
            return locks.instance(at: value, pointer(value))
        }
        func lock() -> LockRef? {
            guard let nameField = field(.name, of: reading), let name = file.string(nameField, in: record), !name.isEmpty,
                let value = number(.lockdepAddr)
            else { return nil }
            return name.withMemoryRebound(to: UInt8.self) { locks.lock(name: $0, at: value, instance: pointer(value)) }
        }
        func function(_ key: FieldKey) -> String? { number(key).flatMap { file.function(at: $0) } }
        func cpus(_ key: FieldKey) throws -> [Int]? {
            guard let maskField = field(key, of: reading), let bytes = file.bytes(maskField, in: record) else { return nil }
            return try file.cpus(inMask: bytes).map { try CPULimit.check($0, declared: declaredCPUs) }
        }
        switch reading.name {
        case .lockAcquire:
            guard let ref = lock(), let flags = number(.flags) else { return nil }
            return .lockAcquire(ref, isTry: flags & 1 != 0, isRead: flags & 2 != 0)
        case .lockRelease: return lock().map { .lockRelease($0) }
        case .lockContended: return lock().map { .lockContended($0) }
        case .lockAcquired: return lock().map { .lockAcquired($0) }
        case .contentionBegin: return address(.lockAddr).map { .contentionBegin(instance: $0) }
        case .contentionEnd: return address(.lockAddr).map { .contentionEnd(instance: $0) }
        // preemptirq's callers are offsets from _stext, which the file does not carry.
        case .irqDisable: return .irqDisable(caller: nil)
        case .irqEnable: return .irqEnable(caller: nil)
        case .preemptDisable: return .preemptDisable(caller: nil)
        case .preemptEnable: return .preemptEnable(caller: nil)
        case .irqHandlerEntry: return .irqHandlerEntry(irq: number(.irq).map { Int(Int32(truncatingIfNeeded: $0)) })
        case .softirqEntry:
            guard let vector = number(.vec) else { return nil }
            return .softirqEntry(vector: symbols.intern(KernelRecord.softirqName(Int(clamping: vector))))
        case .ipiRaise:
            // Its reason is a pointer to a kernel string the file does not carry.
            guard let targets = try cpus(.targetCPUs) else { return nil }
            return KernelRecord.ipiSend(targets: targets, callback: nil, callsite: nil, raise: true, symbols: symbols)
        case .ipiSendCPU, .csdQueueCPU:
            guard let cpu = number(.cpu) else { return nil }
            let target = try CPULimit.check(Int(clamping: cpu), declared: declaredCPUs)
            return KernelRecord.ipiSend(
                targets: [target], callback: function(reading.name == .csdQueueCPU ? .function : .callback),
                callsite: function(.callsite), raise: false, symbols: symbols)
        case .ipiSendCPUMask:
            guard let targets = try cpus(.cpumask) else { return nil }
            return KernelRecord.ipiSend(
                targets: targets, callback: function(.callback), callsite: function(.callsite), raise: false, symbols: symbols)
        case .tlbFlush:
            guard let reason = number(.reason) else { return nil }
            return reason == 4 ? .tlbFlushRemote : nil  // TLB_REMOTE_SEND_IPI
        case .xenPgdPin, .xenPgdUnpin:
            guard let pgd = number(.pgd) else { return nil }
            return KernelRecord.xenPgd(pin: reading.name == .xenPgdPin, pgd: String(pgd, radix: 16), symbols: symbols)
        case .xenAllocPtpage, .xenReleasePtpage:
            guard let pfn = number(.pfn) else { return nil }
            return KernelRecord.xenPtpage(
                alloc: reading.name == .xenAllocPtpage, pfn: String(pfn, radix: 16), level: number(.level).map { Int($0) },
                pinned: number(.pinned).map { $0 != 0 } ?? false, symbols: symbols)
        case .schedSwitch:
            // trace-cmd report's sched_switch plugin names the task switched in after next_comm
            // where the file's saved cmdlines do not (a kernel thread started while tracing):
            // the records after it then name their task as the report does.
            if let commField = field(.nextComm, of: reading), let comm = file.string(commField, in: record), let pid = number(.nextPid) {
                file.learnCommand(comm, pid: Int(Int32(truncatingIfNeeded: pid)))
            }
            return KernelRecord.withoutFields(reading.name)
        case .irqHandlerExit, .softirqExit, .softirqRaise, .ipiEntry, .ipiExit, .csdFunctionEntry, .csdFunctionExit,
            .xenFlushOthers, .xenFlushMulti, .xenFlushOneUser, .xenFlushOneKernel, .xenFlushAll:
            return KernelRecord.withoutFields(reading.name)
        }
    }

    /// The flags column the kernel would print for `common_flags` (trace_output.c's
    /// trace_print_lat_fmt): the irqs-off character and the context character.
    static func flagCharacters(_ flags: Int) -> (irqs: UInt8, context: UInt8) {
        // 0x02 was TRACE_FLAG_IRQS_NOSUPPORT; since 6.13 it is NEED_RESCHED_LAZY. Lockdep,
        // whose events pgtrace reads, needs irq-flags support, so it means nothing here.
        let irqsOff = flags & 0x01 != 0
        let hardirq = flags & 0x08 != 0, softirq = flags & 0x10 != 0, nmi = flags & 0x40 != 0
        let bhOff = flags & 0x80 != 0
        let irqs: Unicode.Scalar = irqsOff && bhOff ? "D" : irqsOff ? "d" : bhOff ? "b" : "."
        let context: Unicode.Scalar = nmi && hardirq ? "Z" : nmi ? "z" : hardirq && softirq ? "H" : hardirq ? "h" : softirq ? "s" : "."
        return (UInt8(ascii: irqs), UInt8(ascii: context))
    }
}
