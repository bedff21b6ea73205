import FoundationEssentials

/// `value` as the pretty-printed JSON every report and baseline file uses: sorted keys,
/// slashes unescaped, a trailing newline.
func prettyJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try! encoder.encode(value), as: UTF8.self) + "\n"
}

/// A value of a report that writes itself as pretty JSON, its keys in sorted order.
protocol JSONWritable {
    func write(to json: inout PrettyJSONText)
}

/// Pretty-printed JSON written straight into text, byte for byte as `prettyJSON`'s encoder
/// writes it (two-space indent, `"key" : value`, empty containers on two lines, sorted keys,
/// nil left out, slashes unescaped): the reports' findings, classes and dependencies are
/// written this way because the encoder's tree of each cost some 30x the text it made (16k
/// findings: 77 MB of JSON in 1.9 s).
///
/// A value's fields must be written in sorted order of their keys (by UTF-8 bytes, as the
/// encoder sorts them); debug builds check it.
struct PrettyJSONText {
    /// What is written so far (bytes: appending to a String cost more than the encoding).
    private var bytes: [UInt8] = []
    /// For each open container, how many members it has so far (the levels a value written
    /// alone is nested in, `init(depth:)`'s, count only for its indentation).
    private var counts: [Int] = []
    #if DEBUG
    private var lastKeys: [String] = []
    #endif

    /// Starts at `depth` levels of nesting (a document's top level is 0).
    init(depth: Int = 0) {
        bytes.reserveCapacity(1 << 12)
        counts = Array(repeating: 1, count: depth)
        #if DEBUG
        lastKeys = Array(repeating: "", count: depth)
        #endif
    }

    /// Hands the text written so far to `out` and starts the next piece empty.
    mutating func flush(to out: (String) throws -> Void) rethrows {
        guard !bytes.isEmpty else { return }
        try out(text)
        bytes.removeAll(keepingCapacity: true)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    mutating func beginObject() { open("{") }
    mutating func endObject() { close("}") }
    mutating func beginArray() { open("[") }
    mutating func endArray() { close("]") }

    /// Starts the next member of the open array.
    mutating func element() {
        newMember()
    }

    /// Writes the key of the next member of the open object.
    mutating func key(_ key: StaticString) {
        #if DEBUG
        let name = key.description
        precondition(
            counts.last == 0 || lastKeys[lastKeys.count - 1].utf8.lexicographicallyPrecedes(name.utf8),
            "JSON key \(name) written after \(lastKeys[lastKeys.count - 1]): keys go in sorted order")
        lastKeys[lastKeys.count - 1] = name
        #endif
        newMember()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        append("\" : ")
    }

    mutating func field<T: JSONWritable>(_ key: StaticString, _ value: T?) {
        guard let value else { return }
        self.key(key)
        value.write(to: &self)
    }

    /// An object whose keys are not known ahead (SARIF's partialFingerprints).
    mutating func object(_ members: [String: String]) {
        beginObject()
        for (key, value) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            newMember()
            string(key)
            append(" : ")
            string(value)
        }
        endObject()
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for index in utf8.indices {
                let byte = utf8[index]
                let escape: StaticString
                var hexDigits = false
                switch byte {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case 0x08: escape = "\\b"
                case 0x0C: escape = "\\f"
                case 0x0A: escape = "\\n"
                case 0x0D: escape = "\\r"
                case 0x09: escape = "\\t"
                case 0..<0x20:
                    escape = "\\u00"
                    hexDigits = true
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                append(escape)
                if hexDigits {
                    let hex: StaticString = "0123456789abcdef"
                    hex.withUTF8Buffer { digits in
                        bytes.append(digits[Int(byte >> 4)])
                        bytes.append(digits[Int(byte & 0xF)])
                    }
                }
                runStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func integer(_ value: Int) { bytes.append(contentsOf: String(value).utf8) }

    mutating func boolean(_ value: Bool) { append(value ? "true" : "false") }

    private mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func open(_ bracket: StaticString) {
        append(bracket)
        counts.append(0)
        #if DEBUG
        lastKeys.append("")
        #endif
    }

    /// Ends the open container: its last member's line, or the empty line of an empty one.
    private mutating func close(_ bracket: StaticString) {
        let count = counts.removeLast()
        #if DEBUG
        lastKeys.removeLast()
        #endif
        append(count == 0 ? "\n\n" : "\n")
        indent(counts.count)
        append(bracket)
    }

    private mutating func newMember() {
        append(counts[counts.count - 1] == 0 ? "\n" : ",\n")
        counts[counts.count - 1] += 1
        indent(counts.count)
    }

    private mutating func indent(_ levels: Int) {
        for _ in 0..<2 * levels { bytes.append(UInt8(ascii: " ")) }
    }
}

extension String: JSONWritable {
    func write(to json: inout PrettyJSONText) { json.string(self) }
}

extension Int: JSONWritable {
    func write(to json: inout PrettyJSONText) { json.integer(self) }
}

extension Bool: JSONWritable {
    func write(to json: inout PrettyJSONText) { json.boolean(self) }
}

extension Dictionary: JSONWritable where Key == String, Value == String {
    func write(to json: inout PrettyJSONText) { json.object(self) }
}

extension Array: JSONWritable where Element: JSONWritable {
    func write(to json: inout PrettyJSONText) {
        json.beginArray()
        for element in self {
            json.element()
            element.write(to: &json)
        }
        json.endArray()
    }
}

extension PrettyJSONText {
    /// `value` alone, as it reads nested `depth` levels deep (no trailing newline).
    static func text(of value: some JSONWritable, depth: Int = 0) -> String {
        var json = PrettyJSONText(depth: depth)
        value.write(to: &json)
        return json.text
    }

    /// A JSON array `depth` levels deep, handed to `out` an element at a time (a report of a
    /// million findings is never one string in memory).
    static func writeArray<Element: JSONWritable>(
        _ elements: some Sequence<Element>, depth: Int, to out: (String) throws -> Void
    ) rethrows {
        var json = PrettyJSONText(depth: depth)
        json.beginArray()
        for element in elements {
            json.element()
            element.write(to: &json)
            try json.flush(to: out)
        }
        json.endArray()
        try json.flush(to: out)
    }
}
