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

    /// The record of `name` with `info`; nil for a line the tracepoint prints that says
    /// nothing pgtrace uses (a local tlb_flush, an unpinned mm's page-table page, an IPI to no
    /// cpu), counted as skipped. Info that is not what the tracepoint prints throws
    /// `MalformedFields`: the event is one pgtrace reads, so dropping it, or reading half of
    /// it, would present what is left as the whole capture. Throws `DecodeFailure` for a cpu
    /// list naming cpus past the limit.
    mutating func record(_ name: KernelRecord.Name, _ info: UnsafeBufferPointer<UInt8>) throws -> KernelRecord? {
        switch name {
        case .lockAcquire:
            // "ADDR [try ][read ]NAME" (lockdep's TP_printk).
            let (address, key, rest) = try Self.addressAndName(name, info, expected: "'ADDRESS [try ][read ]CLASS'")
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
            guard !lock.isEmpty else {
                throw Self.malformed(name, info, at: info.count, expected: "a lock class after 'try ' or 'read '")
            }
            return .lockAcquire(lockRef(lock, address, key, acquiring: true), isTry: isTry, isRead: isRead)
        case .lockRelease, .lockContended, .lockAcquired:
            let (address, key, lock) = try Self.addressAndName(name, info, expected: "'ADDRESS CLASS'")
            let ref = lockRef(lock, address, key)
            switch name {
            case .lockRelease: return .lockRelease(ref)
            case .lockContended: return .lockContended(ref)
            default: return .lockAcquired(ref)
            }
        case .contentionBegin, .contentionEnd:
            // "ADDR (flags=SPIN|READ)", "ADDR (ret=0)".
            let address = Self.firstWord(info)?.0 ?? info
            guard let key = Self.hexValue(address) else {
                throw Self.malformed(
                    name, info, at: 0,
                    expected: name == .contentionBegin ? "'ADDRESS (flags=FLAGS)' (the lock's hex address)" : "'ADDRESS (ret=N)' (the lock's hex address)")
            }
            let symbols = self.symbols
            let instance = locks.instance(at: key) { symbols.intern(bytes: address, hint: &$0) }
            return name == .contentionBegin ? .contentionBegin(instance: instance) : .contentionEnd(instance: instance)
        case .irqDisable: return .irqDisable(caller: try caller(name, info))
        case .irqEnable: return .irqEnable(caller: try caller(name, info))
        case .preemptDisable: return .preemptDisable(caller: try caller(name, info))
        case .preemptEnable: return .preemptEnable(caller: try caller(name, info))
        case .irqHandlerEntry:
            // "irq=%d name=%s".
            let range = Self.fieldRange(info, "irq")
            guard let range, let irq = Int32(Self.text(info, range)) else {
                throw range.map { Self.malformed(name, info, found: $0, expected: "'irq=NUMBER' (the irq, in decimal)") }
                    ?? Self.malformed(name, info, at: 0, expected: "'irq=NUMBER name=HANDLER'")
            }
            return .irqHandlerEntry(irq: Int(irq))
        case .softirqEntry:
            // "vec=%u [action=%s]": the action, else the kernel's name of the vector.
            if let action = Self.bracketedAction(info), !action.isEmpty { return .softirqEntry(vector: symbols.intern(action)) }
            let range = Self.fieldRange(info, "vec")
            guard let range, let vector = UInt32(Self.text(info, range)) else {
                throw range.map { Self.malformed(name, info, found: $0, expected: "'vec=NUMBER' (the vector, in decimal)") }
                    ?? Self.malformed(name, info, at: 0, expected: "'vec=NUMBER [action=NAME]'")
            }
            return .softirqEntry(vector: symbols.intern(KernelRecord.softirqName(Int(vector))))
        case .ipiRaise:
            guard let mask = Self.field(info, "target_mask") else {
                throw Self.malformed(name, info, at: 0, expected: "'target_mask=CPUMASK (REASON)'")
            }
            return KernelRecord.ipiSend(
                targets: try cpuList(mask), callback: Self.parenthesized(info), callsite: nil, raise: true, symbols: symbols)
        case .ipiSendCPU, .ipiSendCPUMask, .csdQueueCPU:
            let targets: [Int]
            if let range = Self.fieldRange(info, "cpu") {
                // "cpu=%u": one cpu, in decimal (a cpumask is hex: "cpu=abc" is no cpu).
                let digits = Self.text(info, range)
                guard !digits.isEmpty, digits.utf8.allSatisfy(LineColumns.isDigit) else {
                    throw Self.malformed(name, info, found: range, expected: "'cpu=NUMBER' (a cpu, in decimal)")
                }
                // A number past Int is past every cpu count too.
                guard let cpu = Int(digits) else { throw DecodeFailure(CPULimit.beyondModel("target cpu \(digits.prefix(40))")) }
                targets = [try CPULimit.check(cpu, declared: declaredCPUs)]
            } else if let mask = Self.field(info, "cpumask") {
                targets = try cpuList(mask)
            } else {
                throw Self.malformed(
                    name, info, at: 0,
                    expected: name == .ipiSendCPUMask ? "'cpumask=CPUMASK callsite=FUNCTION callback=FUNCTION'"
                        : name == .csdQueueCPU ? "'cpu=NUMBER callsite=FUNCTION func=FUNCTION csd=ADDRESS'"
                        : "'cpu=NUMBER callsite=FUNCTION callback=FUNCTION'")
            }
            return KernelRecord.ipiSend(
                targets: targets, callback: Self.field(info, "callback") ?? Self.field(info, "func"),
                callsite: Self.field(info, "callsite"), raise: false, symbols: symbols)
        case .tlbFlush:
            // "pages:1 reason:remote ipi send (4)": only reason 4 sends IPIs to others.
            // trace-cmd without the event's print format: "[FAILED TO PARSE] pages=1 reason=4".
            if info.hasPrefix("[FAILED TO PARSE]"), let reasonStart = info.firstRange(of: "reason=")?.upperBound {
                let reason = UnsafeBufferPointer(rebasing: info[reasonStart...]).prefix { !LineColumns.isBlank($0) }
                guard !reason.isEmpty, reason.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                    throw Self.malformed(name, info, at: reasonStart - info.startIndex, expected: "'reason=NUMBER'")
                }
                return reason.elementsEqual("4".utf8) ? .tlbFlushRemote : nil
            }
            guard let reasonStart = info.firstRange(of: "reason:")?.upperBound else {
                throw Self.malformed(name, info, at: 0, expected: "'pages:NUMBER reason:REASON (NUMBER)'")
            }
            let reason = UnsafeBufferPointer(rebasing: info[reasonStart...])
            let remote = reason.firstRange(of: "remote ipi send") != nil || reason.firstRange(of: "(4)") == (reason.count - 3)..<reason.count
            return remote ? .tlbFlushRemote : nil
        case .xenPgdPin, .xenPgdUnpin:
            let range = Self.fieldRange(info, "pgd")
            guard let range, Self.hexValue(UnsafeBufferPointer(rebasing: info[range])) != nil else {
                throw range.map { Self.malformed(name, info, found: $0, expected: "'pgd ADDRESS' (the pgd's hex address)") }
                    ?? Self.malformed(name, info, at: 0, expected: "'mm ADDRESS pgd ADDRESS'")
            }
            let pgd = Self.text(info, range)
            return KernelRecord.xenPgd(pin: name == .xenPgdPin, pgd: pgd, symbols: symbols)
        case .xenAllocPtpage, .xenReleasePtpage:
            let text = String(decoding: info, as: UTF8.self)
            let expected = name == .xenAllocPtpage ? "'mm ADDRESS  pfn PFN  level NUMBER  [un]pinned'" : "'pfn PFN  level NUMBER  [un]pinned'"
            let pfnRange = Self.fieldRange(info, "pfn")
            guard let pfnRange, Self.hexValue(UnsafeBufferPointer(rebasing: info[pfnRange])) != nil else {
                throw pfnRange.map { Self.malformed(name, info, found: $0, expected: "'pfn PFN' (the page frame, in hex)") }
                    ?? Self.malformed(name, info, at: 0, expected: expected)
            }
            let pfn = Self.text(info, pfnRange)
            var level: Int?
            if let range = Self.fieldRange(info, "level") {
                guard let number = Int(Self.text(info, range)) else {
                    throw Self.malformed(name, info, found: range, expected: "'level NUMBER' (the page-table level, in decimal)")
                }
                level = number
            }
            return KernelRecord.xenPtpage(
                alloc: name == .xenAllocPtpage, pfn: pfn, level: level,
                pinned: text.hasSuffix(" pinned") && !text.hasSuffix("unpinned"), symbols: symbols)
        case .irqHandlerExit, .softirqExit, .softirqRaise, .ipiEntry, .ipiExit, .csdFunctionEntry, .csdFunctionExit,
            .xenFlushOthers, .xenFlushMulti, .xenFlushOneUser, .xenFlushOneKernel, .xenFlushAll, .schedSwitch:
            return KernelRecord.withoutFields(name)
        }
    }

    /// Info of a known tracepoint that is not what its TP_printk prints: where in the info (a
    /// byte offset) and what was expected there. The reader makes it an input error at the
    /// line's column (skipped and counted with `--lenient`).
    struct MalformedFields: Error {
        var offset: Int
        var message: String
    }

    /// "NAME: expected WHAT, found 'INFO'" (or "found nothing": perf script -F without trace),
    /// at `offset` in the info.
    private static func malformed(
        _ name: KernelRecord.Name, _ info: UnsafeBufferPointer<UInt8>, at offset: Int, expected: String
    ) -> MalformedFields {
        let found = info.isEmpty ? "nothing" : "'\(String(decoding: info.prefix(80), as: UTF8.self))'"
        return MalformedFields(offset: offset, message: "\(name.rawValue): expected \(expected), found \(found)")
    }

    /// "NAME: expected WHAT, found 'VALUE'": a field's value that is not what it should be.
    private static func malformed(
        _ name: KernelRecord.Name, _ info: UnsafeBufferPointer<UInt8>, found: Range<Int>, expected: String
    ) -> MalformedFields {
        let value = String(decoding: UnsafeBufferPointer(rebasing: info[found]).prefix(80), as: UTF8.self)
        return MalformedFields(offset: found.lowerBound, message: "\(name.rawValue): expected \(expected), found '\(value)'")
    }

    /// lockdep's "ADDR NAME": the hex address (the lockdep_map's), its value (nil for the
    /// boot's placeholder, `isPointerPlaceholder`), and the class after it. The value is read
    /// here once for the lock's record: every lock event of a capture has one.
    private static func addressAndName(
        _ name: KernelRecord.Name, _ info: UnsafeBufferPointer<UInt8>, expected: String
    ) throws(MalformedFields) -> (address: UnsafeBufferPointer<UInt8>, key: UInt64?, lock: UnsafeBufferPointer<UInt8>) {
        guard let (address, lock) = firstWord(info), !lock.isEmpty else {
            throw malformed(name, info, at: info.isEmpty || hexValue(info) == nil ? 0 : info.count, expected: expected)
        }
        if let key = hexValue(address) { return (address, key, lock) }
        guard isPointerPlaceholder(address) else {
            throw malformed(name, info, found: 0..<address.count, expected: "a hex address (the lockdep_map's) first, as in \(expected)")
        }
        return (address, nil, lock)
    }

    /// preemptirq's "caller=func+0x4d/0x60 parent=…": the caller, interned from the line.
    private func caller(_ name: KernelRecord.Name, _ info: UnsafeBufferPointer<UInt8>) throws(MalformedFields) -> Symbol {
        let start = info.startIndex + 7
        guard info.hasPrefix("caller="), start < info.endIndex, !LineColumns.isBlank(info[start]) else {
            throw Self.malformed(name, info, at: info.hasPrefix("caller=") ? 7 : 0, expected: "'caller=FUNCTION parent=FUNCTION'")
        }
        let end = info[start...].firstIndex(where: LineColumns.isBlank) ?? info.endIndex
        return symbols.intern(bytes: UnsafeBufferPointer(rebasing: info[start..<end]))
    }

    /// Early in boot, before the random pool is ready, %p prints "(____ptrval____)" for every
    /// address ("(ptrval)" on a 32-bit kernel): the class is known, the lock is not.
    private static func isPointerPlaceholder(_ address: UnsafeBufferPointer<UInt8>) -> Bool {
        address.elementsEqual("(____ptrval____)".utf8) || address.elementsEqual("(ptrval)".utf8)
    }

    /// Placeholder addresses acquired so far: each acquisition is a lock of its own.
    private var placeholders = 0

    /// The lock at `address` (whose value `addressAndName` read: nil for the placeholder).
    private mutating func lockRef(
        _ name: UnsafeBufferPointer<UInt8>, _ address: UnsafeBufferPointer<UInt8>, _ key: UInt64?, acquiring: Bool = false
    ) -> LockRef {
        guard let key else {
            // Every lock of the boot prints the same text, which cannot say which lock it is.
            // An acquisition is a lock of its own (`(ptrval) N`: two of a class held at once are
            // not one lock taken twice); a release names none, so it releases the last held of
            // its class, and one that matches nothing held is from before the capture.
            var hint: Symbol?
            let lockName = KernelRecord.lockName(name, raw: locks.rawNames, symbols: symbols, hint: &hint)
            guard acquiring else { return LockRef(name: lockName, instance: nil) }
            placeholders += 1
            return LockRef(name: lockName, instance: symbols.intern("(ptrval) \(placeholders)"))
        }
        let symbols = self.symbols
        return locks.lock(name: name, at: key) { symbols.intern(bytes: address, hint: &$0) }
    }

    /// "00000000a1b2c3d4" or "0xffff88810a5d0f50" as a number (its low 64 bits), if it is hex:
    /// how lockdep's and perf lock's `%p` print an address.
    private static func hexValue(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var digits = bytes[...]
        if digits.count > 2, digits[digits.startIndex] == UInt8(ascii: "0"), digits[digits.startIndex + 1] == UInt8(ascii: "x") {
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard let digit = byte.hexDigitValue else { return nil }
            value = value << 4 | UInt64(digit)
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
        fieldRange(info, key).map { text(info, $0) }
    }

    /// Where in `info` the value of `key=value` (without a trailing comma), or of Xen's
    /// `key value`, lies.
    static func fieldRange(_ info: UnsafeBufferPointer<UInt8>, _ key: String) -> Range<Int>? {
        let keyBytes = Array(key.utf8)
        var index = info.startIndex
        var previousWasKey = false
        while index < info.endIndex {
            while index < info.endIndex, LineColumns.isBlank(info[index]) { index += 1 }
            guard index < info.endIndex else { break }
            var end = index
            while end < info.endIndex, !LineColumns.isBlank(info[end]) { end += 1 }
            let word = info[index..<end]
            // Xen's "pfn 1a2b  level 1": key and value as separate words.
            if previousWasKey { return index..<end }
            if word.count > keyBytes.count, word[index + keyBytes.count] == UInt8(ascii: "="), word.starts(with: keyBytes) {
                var valueEnd = end
                if info[valueEnd - 1] == UInt8(ascii: ","), valueEnd > index + keyBytes.count + 1 { valueEnd -= 1 }
                return (index + keyBytes.count + 1)..<valueEnd
            }
            previousWasKey = word.elementsEqual(keyBytes)
            index = end
        }
        return nil
    }

    static func text(_ info: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: info[range]), as: UTF8.self)
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
