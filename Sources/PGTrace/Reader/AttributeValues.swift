import Glibc

/// The attributes of one element, checked against what the element takes and decoded into
/// typed values with errors that say what was expected. Values are the parser's bytes,
/// valid while the element is being decoded; nothing is copied unless a value holds '&'.
struct AttributeValues {
    private(set) var element: ElementName = .trace
    private var allowed: UInt64 = 0
    private var present: UInt64 = 0
    /// Where each attribute's value is: fixed storage, written once per attribute.
    private let slots = ValueSlots()

    mutating func reset(for element: ElementName, allowed: UInt64) {
        self.element = element
        self.allowed = allowed
        present = 0
        slots.unescaped.removeAll()
    }

    /// Stores one attribute; throws for an attribute the element does not take.
    /// `mayHoldReference`: false where the parser says the value cannot hold '&' (it was
    /// handed over in place), which spares a scan of every value.
    mutating func set(
        _ name: AttributeName?, rawName: () -> String, start: UnsafePointer<UInt8>, count: Int,
        mayHoldReference: Bool = true
    ) throws(DecodeFailure) {
        guard let name, allowed & name.bit != 0 else {
            let raw = rawName()
            if raw.hasPrefix("x-") { return }
            let takes = AttributeName.allCases.filter { allowed & $0.bit != 0 }.map(\.name).sorted()
            throw DecodeFailure(
                "unknown attribute '\(raw)' on <\(element.rawValue)>; it takes "
                    + (takes.isEmpty ? "no attributes" : takes.joined(separator: ", ")))
        }
        let index = name.rawValue
        present |= name.bit
        if UnescapedValues.holdAmpersand(start, count: count, mayHoldReference: mayHoldReference) {
            (slots.starts[index], slots.counts[index]) = slots.unescaped.append(start, count: count)
        } else {
            slots.starts[index] = start
            slots.counts[index] = count
        }
    }

    func has(_ name: AttributeName) -> Bool { present & name.bit != 0 }

    /// The bytes the element's decoded '&' values take (for tests).
    var unescapedBytes: Int { slots.unescaped.bytesHeld }

    /// Whether a present attribute's value is empty.
    func isEmpty(_ name: AttributeName) -> Bool { slots.counts[name.rawValue] == 0 }

    /// Runs `body` over the value's bytes, if the attribute is present.
    @inline(__always)
    func withBytes<R>(_ name: AttributeName, _ body: (UnsafeBufferPointer<UInt8>) throws(DecodeFailure) -> R) throws(DecodeFailure) -> R? {
        guard present & name.bit != 0 else { return nil }
        return try body(UnsafeBufferPointer(start: slots.starts[name.rawValue], count: slots.counts[name.rawValue]))
    }

    subscript(name: AttributeName) -> String? {
        try? withBytes(name) { String(decoding: $0, as: UTF8.self) }
    }

    func required(_ name: AttributeName) throws(DecodeFailure) -> String {
        guard let value = self[name] else { throw missing(name) }
        return value
    }

    func missing(_ name: AttributeName) -> DecodeFailure {
        DecodeFailure("<\(element.rawValue)> needs attribute '\(name.name)'")
    }

    /// An integer attribute, nil if absent. Read in place: nearly every value is a few plain
    /// digits (a cpu, a time stamp), and the call through `withBytes` cost as much as the
    /// reading; anything else (blanks, a sign, an '&', an error) goes the long way.
    @inline(__always)
    func integer(_ name: AttributeName, minimum: Int = 0) throws(DecodeFailure) -> Int? {
        guard present & name.bit != 0 else { return nil }
        if let start = slots.starts[name.rawValue],
            let value = Self.parseDigits(start, count: slots.counts[name.rawValue]), value >= minimum
        {
            return value
        }
        return try presentInteger(name, minimum: minimum)
    }

    /// Up to eighteen plain digits (which cannot overflow); nil for anything else.
    @inline(__always)
    static func parseDigits(_ start: UnsafePointer<UInt8>, count: Int) -> Int? {
        guard count > 0, count <= 18 else { return nil }
        var value = 0
        for index in 0..<count {
            let digit = UInt(start[index]) &- 48
            guard digit <= 9 else { return nil }
            value = value &* 10 &+ Int(digit)
        }
        return value
    }

    @inline(never)
    private func presentInteger(_ name: AttributeName, minimum: Int) throws(DecodeFailure) -> Int? {
        try withBytes(name) { (bytes) throws(DecodeFailure) -> Int in
            let parsed = Self.parseInteger(bytes)
            guard let value = parsed, value >= minimum else {
                let text = String(decoding: bytes, as: UTF8.self)
                // Digits past Int say so: they are an integer >= 0, only too large.
                let trimmed = bytes[Self.trimmedRange(bytes)]
                let digits = trimmed.first == UInt8(ascii: "+") ? trimmed.dropFirst() : trimmed
                if parsed == nil, !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    throw DecodeFailure(
                        "attribute '\(name.name)' of <\(element.rawValue)> is too large: '\(text)' (at most \(Int.max))")
                }
                throw DecodeFailure(
                    "attribute '\(name.name)' of <\(element.rawValue)> must be an integer >= \(minimum), not '\(text)'"
                )
            }
            return value
        }
    }

    func requiredInteger(_ name: AttributeName, minimum: Int = 0) throws(DecodeFailure) -> Int {
        guard let value = try integer(name, minimum: minimum) else { throw missing(name) }
        return value
    }

    /// A decimal integer with an optional sign, and blanks around it as XML Schema allows;
    /// nil for anything else or on overflow.
    static func parseInteger(_ raw: UnsafeBufferPointer<UInt8>) -> Int? {
        // Blanks are rare: look for them only when the ends are not digits.
        let bytes = raw.first.map { $0 >= 0x30 && $0 <= 0x39 } == true && raw.last.map { $0 >= 0x30 && $0 <= 0x39 } == true
            ? raw : UnsafeBufferPointer(rebasing: raw[trimmedRange(raw)])
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        guard index < bytes.count, let base = bytes.baseAddress else { return nil }
        // Eighteen digits or fewer cannot overflow (a time stamp, a cpu, an irq): read as the
        // in-place path reads them, without a check per digit.
        if bytes.count - index <= 18 {
            guard let value = parseDigits(base + index, count: bytes.count - index) else { return nil }
            return negative ? -value : value
        }
        var value = 0
        while index < bytes.count {
            let digit = Int(bytes[index]) &- 48
            guard UInt(bitPattern: digit) <= 9 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return negative ? -value : value
    }

    /// A boolean attribute, false if absent (most are: `try`, `bh`, `wait`).
    @inline(__always)
    func boolean(_ name: AttributeName) throws(DecodeFailure) -> Bool {
        guard present & name.bit != 0 else { return false }
        return try presentBoolean(name)
    }

    @inline(never)
    private func presentBoolean(_ name: AttributeName) throws(DecodeFailure) -> Bool {
        try withBytes(name) { (raw) throws(DecodeFailure) -> Bool in
            let bytes = UnsafeBufferPointer(rebasing: raw[Self.trimmedRange(raw)])
            switch bytes.count {
            case 1 where bytes[0] == UInt8(ascii: "1"): return true
            case 1 where bytes[0] == UInt8(ascii: "0"): return false
            case 4 where bytes.elementsEqual("true".utf8): return true
            case 5 where bytes.elementsEqual("false".utf8): return false
            default:
                throw DecodeFailure(
                    "attribute '\(name.name)' of <\(element.rawValue)> must be true or false, not '\(String(decoding: bytes, as: UTF8.self))'"
                )
            }
        } ?? false
    }

    /// One of `T`'s cases by name, nil if absent (most are: `mode`, `irq`).
    @inline(__always)
    func choice<T: RawRepresentable & CaseIterable>(
        _ name: AttributeName, as type: T.Type
    ) throws(DecodeFailure) -> T? where T.RawValue == String {
        guard present & name.bit != 0 else { return nil }
        return try presentChoice(name, as: type)
    }

    @inline(never)
    private func presentChoice<T: RawRepresentable & CaseIterable>(
        _ name: AttributeName, as type: T.Type
    ) throws(DecodeFailure) -> T? where T.RawValue == String {
        // Compare the bytes with each case's name, lengths first; a String only for the error.
        let found = try withBytes(name) { bytes in
            T.allCases.first { choice in
                var raw = choice.rawValue
                return raw.withUTF8 { $0.count == bytes.count && ($0.isEmpty || memcmp($0.baseAddress!, bytes.baseAddress!, $0.count) == 0) }
            }
        }
        if let found, let found { return found }
        let text = self[name] ?? ""
        guard let value = T(rawValue: text) else {
            let choices = T.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw DecodeFailure(
                "attribute '\(name.name)' of <\(element.rawValue)> must be one of \(choices), not '\(text)'"
            )
        }
        return value
    }

    /// The range of `bytes` without leading and trailing XML blanks.
    static func trimmedRange(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start].isXMLBlank { start += 1 }
        while end > start, bytes[end - 1].isXMLBlank { end -= 1 }
        return start..<end
    }

    /// The value interned as a symbol, straight from the bytes, trying the attribute's last
    /// two values first; nil if absent (`at` nearly always is).
    @inline(__always)
    func symbol(_ name: AttributeName, in symbols: SymbolTable) -> Symbol? {
        symbol(name, in: symbols, hint: hint(name))
    }

    /// The value interned as a symbol, trying the two symbols at `hint` first; nil if absent.
    @inline(__always)
    func symbol(_ name: AttributeName, in symbols: SymbolTable, hint: UnsafeMutablePointer<Symbol?>) -> Symbol? {
        guard present & name.bit != 0 else { return nil }
        return presentSymbol(name, in: symbols, hint: hint)
    }

    @inline(never)
    private func presentSymbol(_ name: AttributeName, in symbols: SymbolTable, hint: UnsafeMutablePointer<Symbol?>) -> Symbol? {
        try? withBytes(name) { symbols.intern(bytes: $0, recent: hint) }
    }

    /// The last two symbols each attribute was interned as, tried first next time (but an
    /// event's `task`, which `taskHint` guesses).
    func hint(_ name: AttributeName) -> UnsafeMutablePointer<Symbol?> { slots.hints + 2 * name.rawValue }

    /// The last two tasks interned for `cpu` (cpus `ValueSlots.cpuSlotCount` apart share
    /// them), tried first for the event's `task`. Events interleave cpus, each running one task for
    /// a stretch: of the events naming a task on the kernel-shaped benchmark, 13% repeat the
    /// attribute's last value (some other cpu's task) and 81% their own cpu's last task; on
    /// the five imported kernel captures with 100 or more, 18-62% against 58-89%.
    func taskHint(cpu: Int) -> UnsafeMutablePointer<Symbol?> {
        slots.taskHints + 2 * (cpu & (ValueSlots.cpuSlotCount - 1))
    }

    /// The locks last seen taken on `cpu` (cpus `ValueSlots.cpuSlotCount` apart share them),
    /// tried first for a release's lock and instance.
    func held(cpu: Int) -> HeldNames {
        HeldNames(slots.held + 2 * HeldNames.depth * (cpu & (ValueSlots.cpuSlotCount - 1)))
    }
}

/// A decoding error before it is given its place in the file.
struct DecodeFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Fixed storage for the value pointers of one element's attributes.
final class ValueSlots {
    let starts: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    let counts: UnsafeMutablePointer<Int>
    let hints: UnsafeMutablePointer<Symbol?>
    /// How many cpus have hints of their own (their tasks, the locks they took): a power of
    /// two; a cpu's slot is `cpu & (cpuSlotCount - 1)`, its cpu number modulo this.
    static let cpuSlotCount = 64
    let taskHints: UnsafeMutablePointer<Symbol?>
    let held = HeldNames.allocate(cpus: ValueSlots.cpuSlotCount)
    /// The element's values that held an '&', decoded (`UnescapedValues`).
    let unescaped = UnescapedValues()

    init() {
        let count = AttributeName.allCases.count
        starts = .allocate(capacity: count)
        starts.initialize(repeating: nil, count: count)
        counts = .allocate(capacity: count)
        counts.initialize(repeating: 0, count: count)
        hints = .allocate(capacity: 2 * count)
        hints.initialize(repeating: nil, count: 2 * count)
        taskHints = .allocate(capacity: 2 * Self.cpuSlotCount)
        taskHints.initialize(repeating: nil, count: 2 * Self.cpuSlotCount)
    }

    deinit {
        starts.deallocate()
        counts.deallocate()
        hints.deallocate()
        taskHints.deallocate()
        held.deallocate()
    }
}
