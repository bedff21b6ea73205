/// Reads the info of a text line (each tracepoint's TP_printk output) into a typed record.
struct TextRecords {
    let symbols: SymbolTable
    /// The cpus a cpumask may name: what the capture declares, at most what pgtrace models.
    var declaredCPUs: Int?
    private var locks: LockSymbols

    init(symbols: SymbolTable, rawNames: Bool) {
        self.symbols = symbols
        locks = LockSymbols(symbols: symbols, rawNames: rawNames)
    }

    /// The record of `name` with `info`; nil if the info is not what the tracepoint prints
    /// (counted as skipped). Throws for a cpu list naming cpus past the limit.
    mutating func record(_ name: KernelRecord.Name, _ info: UnsafeBufferPointer<UInt8>) throws -> KernelRecord? {
        switch name {
        case .lockAcquire:
            // "ADDR [try ][read ]NAME" (lockdep's TP_printk).
            guard let (address, rest) = Self.firstWord(info) else { return nil }
            var lock = rest
            var isTry = false
            var isRead = false
            if lock.hasPrefix("try ") {
                isTry = true
                lock = UnsafeBufferPointer(rebasing: lock[(lock.startIndex + 4)...])
            }
            if lock.hasPrefix("read ") {
                isRead = true
                lock = UnsafeBufferPointer(rebasing: lock[(lock.startIndex + 5)...])
            }
            guard !lock.isEmpty else { return nil }
            return .lockAcquire(lockRef(lock, address), isTry: isTry, isRead: isRead)
        case .lockRelease, .lockContended, .lockAcquired:
            guard let (address, lock) = Self.firstWord(info), !lock.isEmpty else { return nil }
            let ref = lockRef(lock, address)
            switch name {
            case .lockRelease: return .lockRelease(ref)
            case .lockContended: return .lockContended(ref)
            default: return .lockAcquired(ref)
            }
        case .contentionBegin, .contentionEnd:
            // "ADDR (flags=SPIN|READ)", "ADDR (ret=0)".
            let address = Self.firstWord(info)?.0 ?? info
            guard !address.isEmpty else { return nil }
            let symbols = self.symbols
            let instance = Self.hexValue(address).map { key in
                locks.instance(at: key) { symbols.intern(bytes: address, hint: &$0) }
            } ?? symbols.intern(bytes: address)
            return name == .contentionBegin ? .contentionBegin(instance: instance) : .contentionEnd(instance: instance)
        case .irqDisable: return .irqDisable(caller: caller(info))
        case .irqEnable: return .irqEnable(caller: caller(info))
        case .preemptDisable: return .preemptDisable(caller: caller(info))
        case .preemptEnable: return .preemptEnable(caller: caller(info))
        case .irqHandlerEntry: return .irqHandlerEntry(irq: Self.field(info, "irq").flatMap { Int($0) })
        case .softirqEntry:
            let vector = Self.bracketedAction(info) ?? KernelRecord.softirqName(Self.field(info, "vec").flatMap { Int($0) } ?? -1)
            return .softirqEntry(vector: symbols.intern(vector))
        case .ipiRaise:
            guard let mask = Self.field(info, "target_mask") else { return nil }
            return KernelRecord.ipiSend(
                targets: try cpuList(mask), callback: Self.parenthesized(info), callsite: nil, raise: true, symbols: symbols)
        case .ipiSendCPU, .ipiSendCPUMask, .csdQueueCPU:
            let targets: [Int]
            if let single = Self.field(info, "cpu") {
                targets = try cpuList(single)
            } else if let mask = Self.field(info, "cpumask") {
                targets = try cpuList(mask)
            } else {
                return nil
            }
            return KernelRecord.ipiSend(
                targets: targets, callback: Self.field(info, "callback") ?? Self.field(info, "func"),
                callsite: Self.field(info, "callsite"), raise: false, symbols: symbols)
        case .tlbFlush:
            // "pages:1 reason:remote ipi send (4)": only reason 4 sends IPIs to others.
            let remote = info.firstRange(of: "remote ipi send") != nil || info.firstRange(of: "(4)") == (info.count - 3)..<info.count
            return remote ? .tlbFlushRemote : nil
        case .xenPgdPin, .xenPgdUnpin:
            guard let pgd = Self.field(info, "pgd") else { return nil }
            return KernelRecord.xenPgd(pin: name == .xenPgdPin, pgd: pgd, symbols: symbols)
        case .xenAllocPtpage, .xenReleasePtpage:
            let text = String(decoding: info, as: UTF8.self)
            guard let pfn = Self.field(info, "pfn") else { return nil }
            return KernelRecord.xenPtpage(
                alloc: name == .xenAllocPtpage, pfn: pfn, level: Self.field(info, "level").flatMap { Int($0) },
                pinned: text.hasSuffix(" pinned") && !text.hasSuffix("unpinned"), symbols: symbols)
        case .irqHandlerExit, .softirqExit, .softirqRaise, .ipiEntry, .ipiExit, .csdFunctionEntry, .csdFunctionExit,
            .xenFlushOthers, .xenFlushMulti, .xenFlushOneUser, .xenFlushOneKernel, .xenFlushAll, .schedSwitch:
            return KernelRecord.withoutFields(name)
        }
    }

    /// preemptirq's "caller=func+0x4d/0x60 parent=…": the caller, interned from the line.
    private func caller(_ info: UnsafeBufferPointer<UInt8>) -> Symbol? {
        guard info.hasPrefix("caller=") else { return nil }
        let start = info.startIndex + 7
        let end = info[start...].firstIndex(where: LineColumns.isBlank) ?? info.endIndex
        guard end > start else { return nil }
        return symbols.intern(bytes: UnsafeBufferPointer(rebasing: info[start..<end]))
    }

    private mutating func lockRef(_ name: UnsafeBufferPointer<UInt8>, _ address: UnsafeBufferPointer<UInt8>) -> LockRef {
        let symbols = self.symbols
        return locks.lock(name: name, at: Self.hexValue(address)) { symbols.intern(bytes: address, hint: &$0) }
    }

    /// "00000000a1b2c3d4" or "0xffff88810a5d0f50" as a number (its low 64 bits), if it is hex.
    private static func hexValue(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var digits = bytes[...]
        if digits.count > 2, digits[digits.startIndex] == UInt8(ascii: "0"), digits[digits.startIndex + 1] == UInt8(ascii: "x") {
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }

    /// The first word of `info` and the rest after its blanks.
    static func firstWord(_ info: UnsafeBufferPointer<UInt8>) -> (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>)? {
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
        guard let range = info.firstRange(of: "[action=") else { return nil }
        let rest = info[(info.startIndex + range.upperBound)...]
        return String(decoding: rest.prefix { $0 != UInt8(ascii: "]") }, as: UTF8.self)
    }

    /// ipi_raise's "(Function call interrupts)": the reason.
    private static func parenthesized(_ info: UnsafeBufferPointer<UInt8>) -> String? {
        let text = String(decoding: info, as: UTF8.self)
        guard let open = text.lastIndex(of: "("), text.hasSuffix(")") else { return nil }
        return String(text[text.index(after: open)..<text.index(before: text.endIndex)])
    }

    /// A cpumask as the kernel prints it ("0-3,6" or 32-bit hex words "00000000,0000000f"),
    /// checked against the cpus pgtrace models and the capture declares; linear in its length.
    func cpuList(_ mask: String) throws -> [Int] {
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
                _ = try CPULimit.check(high, declared: declaredCPUs)
                cpus.append(contentsOf: low...high)
            }
        } else {
            // Hex words, most significant first, 32 bits each.
            for (position, word) in groups.reversed().enumerated() {
                guard word.count <= 8, let value = UInt32(word, radix: 16) else {
                    throw DecodeFailure("cpu mask '\(mask.prefix(80))' is not 32-bit hex words")
                }
                for bit in 0..<32 where value & (1 << UInt32(bit)) != 0 {
                    cpus.append(try CPULimit.check(position * 32 + bit, declared: declaredCPUs))
                }
            }
            cpus.sort()
        }
        return cpus
    }
}

/// The cpus a capture may name: those its header declares, and never more than pgtrace models.
enum CPULimit {
    /// "WHAT is more than the 8192 cpus pgtrace models (…)".
    static func beyondModel(_ what: String) -> String {
        "\(what) is more than the \(TraceDecoder.maximumCPUs) cpus pgtrace models (x86's largest NR_CPUS)"
    }

    /// A capture that declares a cpu count pgtrace cannot model.
    static func declaredBeyondModel(_ who: String, _ count: Int) -> String {
        "\(who) declares \(count) cpus; pgtrace models 1 to \(TraceDecoder.maximumCPUs) (x86's largest NR_CPUS)"
    }

    static func check(_ cpu: Int, declared: Int?) throws -> Int {
        let limit = min(declared ?? TraceDecoder.maximumCPUs, TraceDecoder.maximumCPUs)
        guard cpu < limit else {
            throw DecodeFailure(
                declared != nil && cpu < TraceDecoder.maximumCPUs
                    ? "target cpu \(cpu) is past the \(limit) cpus the capture's header declares"
                    : beyondModel("target cpu \(cpu)"))
        }
        return cpu
    }
}
