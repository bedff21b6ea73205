import FoundationEssentials

/// Summary lines to and from JSON without Foundation's coders on the hot path: a summary of a
/// kernel-sized graph is hundreds of thousands of lines of numbers, and JSONEncoder and
/// JSONDecoder spend some 20 us on each. The flat lines (symbols, classes, moments, facts)
/// are written and read here; a line with a nested object (a finding, a note's evidence, a
/// declaration, the end) goes through Foundation's coders, and so does any line this reader
/// does not take (it then reads it as JSONDecoder would, or refuses it as malformed).
extension SummaryLine {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The line as JSON, keys sorted, without its newline.
    func encoded() throws -> String {
        if finding != nil || note != nil || evidence != nil || declared != nil || end != nil {
            return String(decoding: try Self.encoder.encode(self), as: UTF8.self)
        }
        var out = JSONObjectText()
        // The header starts with its magic (`SummaryLine.magic`: how a summary is known).
        out.int("pgtrace-summary", header)
        // Then keys in sorted order (by their bytes), as JSONEncoder's .sortedKeys writes them.
        out.bool("afterUse", afterUse)
        out.int("bit", bit)
        out.int("class", `class`)
        out.int("classId", classID)
        out.int("count", count)
        out.int("cpu", cpu)
        out.bool("declaration", declaration)
        out.int("events", events)
        out.string("fact", fact)
        out.int("file", file)
        out.int("from", from)
        out.intArrays("held", held)
        out.int("heldNotListed", heldNotListed)
        out.string("holderMode", holderMode)
        out.ints("holderSite", holderSite)
        out.ints("irq", irq)
        out.string("kind", kind)
        out.ints("lockSite", lockSite)
        out.int("maxDepth", maxDepth)
        out.bool("mayMissHeldLocks", mayMissHeldLocks)
        out.string("mode", mode)
        out.int("moment", moment)
        out.int("momentRef", momentRef)
        out.string("name", name)
        out.int("nameSym", nameSym)
        out.string("nextMode", nextMode)
        out.string("policy", policy)
        out.bool("proveRawLockNesting", proveRawLockNesting)
        out.bool("pseudo", pseudo)
        out.bool("read", read)
        out.int("seq", seq)
        out.ints("site", site)
        out.int("subclass", subclass)
        out.int("sym", sym)
        out.int("task", task)
        out.int("to", to)
        out.string("type", type)
        out.int("types", types)
        return out.finished
    }

    /// Reads a line: the flat ones here, the others with `fallback`.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, fallback: (UnsafeBufferPointer<UInt8>) throws -> SummaryLine) throws -> SummaryLine {
        var parser = FlatJSONParser(bytes: bytes)
        if let line = parser.parseLine() { return line }
        return try fallback(bytes)
    }
}

/// A JSON object written key by key (keys given in order, absent values skipped).
private struct JSONObjectText {
    private var text = "{"
    private var empty = true

    private mutating func key(_ key: String) {
        text += empty ? "\"" : ",\""
        text += key
        text += "\":"
        empty = false
    }

    mutating func int(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        text += String(value)
    }

    mutating func bool(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        text += value ? "true" : "false"
    }

    mutating func string(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        text += JSONText.quoted(value)
    }

    mutating func ints(_ name: String, _ value: [Int]?) {
        guard let value else { return }
        key(name)
        text += "[" + value.map(String.init).joined(separator: ",") + "]"
    }

    mutating func intArrays(_ name: String, _ value: [[Int]]?) {
        guard let value else { return }
        key(name)
        text += "[" + value.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
    }

    var finished: String { text + "}" }
}

/// Reads a flat summary line: an object whose values are integers, booleans, strings without
/// escapes, arrays of integers or arrays of such arrays. Nil for anything else (the caller
/// then reads it with JSONDecoder, which also judges what is malformed).
private struct FlatJSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private mutating func skipBlanks() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0D { index += 1 }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        skipBlanks()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            // Escapes and control characters: left to JSONDecoder.
            if bytes[index] == UInt8(ascii: "\\") || bytes[index] < 0x20 { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        index += 1
        return text
    }

    private mutating func integer() -> Int? {
        skipBlanks()
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var value = 0
        var digits = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (plus, overflowPlus) = times.addingReportingOverflow(Int(bytes[index] - 0x30))
            if overflowTimes || overflowPlus { return nil }
            value = plus
            digits += 1
            index += 1
        }
        // A fraction or an exponent is no integer of a summary: JSONDecoder says what it is.
        if digits == 0 || (index < bytes.count && [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index])) {
            return nil
        }
        return negative ? -value : value
    }

    private mutating func integers() -> [Int]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [Int] = []
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            guard let value = integer() else { return nil }
            values.append(value)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? values : nil
    }

    private mutating func integerArrays() -> [[Int]]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [[Int]] = []
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            guard let value = integers() else { return nil }
            values.append(value)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? values : nil
    }

    private mutating func boolean() -> Bool? {
        skipBlanks()
        if bytes[index...].starts(with: "true".utf8) {
            index += 4
            return true
        }
        if bytes[index...].starts(with: "false".utf8) {
            index += 5
            return false
        }
        return nil
    }

    mutating func parseLine() -> SummaryLine? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var line = SummaryLine()
        if take(UInt8(ascii: "}")) { return finish(line) }
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")) else { return nil }
            // A key given twice: JSONDecoder's judgement.
            func set<T>(_ path: WritableKeyPath<SummaryLine, T?>, _ value: T?) -> Bool {
                guard let value, line[keyPath: path] == nil else { return false }
                line[keyPath: path] = value
                return true
            }
            let ok: Bool
            switch key {
            case "afterUse": ok = set(\.afterUse, boolean())
            case "bit": ok = set(\.bit, integer())
            case "count": ok = set(\.count, integer())
            case "class": ok = set(\.class, integer())
            case "classId": ok = set(\.classID, integer())
            case "cpu": ok = set(\.cpu, integer())
            case "declaration": ok = set(\.declaration, boolean())
            case "events": ok = set(\.events, integer())
            case "fact": ok = set(\.fact, string())
            case "file": ok = set(\.file, integer())
            case "from": ok = set(\.from, integer())
            case "held": ok = set(\.held, integerArrays())
            case "heldNotListed": ok = set(\.heldNotListed, integer())
            case "holderMode": ok = set(\.holderMode, string())
            case "holderSite": ok = set(\.holderSite, integers())
            case "irq": ok = set(\.irq, integers())
            case "kind": ok = set(\.kind, string())
            case "lockSite": ok = set(\.lockSite, integers())
            case "mayMissHeldLocks": ok = set(\.mayMissHeldLocks, boolean())
            case "maxDepth": ok = set(\.maxDepth, integer())
            case "policy": ok = set(\.policy, string())
            case "mode": ok = set(\.mode, string())
            case "moment": ok = set(\.moment, integer())
            case "momentRef": ok = set(\.momentRef, integer())
            case "name": ok = set(\.name, string())
            case "nameSym": ok = set(\.nameSym, integer())
            case "nextMode": ok = set(\.nextMode, string())
            case "pgtrace-summary": ok = set(\.header, integer())
            case "proveRawLockNesting": ok = set(\.proveRawLockNesting, boolean())
            case "pseudo": ok = set(\.pseudo, boolean())
            case "read": ok = set(\.read, boolean())
            case "seq": ok = set(\.seq, integer())
            case "site": ok = set(\.site, integers())
            case "subclass": ok = set(\.subclass, integer())
            case "sym": ok = set(\.sym, integer())
            case "task": ok = set(\.task, integer())
            case "to": ok = set(\.to, integer())
            case "type": ok = set(\.type, string())
            case "types": ok = set(\.types, integer())
            default: ok = false
            }
            guard ok else { return nil }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        return finish(line)
    }

    private mutating func finish(_ line: SummaryLine) -> SummaryLine? {
        skipBlanks()
        return index == bytes.count ? line : nil
    }
}
