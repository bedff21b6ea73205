import Foundation

/// `value` as the pretty-printed JSON every report and baseline file uses: sorted keys,
/// slashes unescaped, a trailing newline.
func prettyJSON<T: Encodable>(_ value: T) -> String {
    PrettyJSONWriter().encode(value) + "\n"
}

/// Writes a pretty-printed JSON document piece by piece, byte for byte as `prettyJSON` would
/// write it whole: a report with a million findings is never one string in memory.
struct PrettyJSONWriter {
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// `value` alone, without a trailing newline.
    func encode<T: Encodable>(_ value: T) -> String {
        String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    /// `value` as it reads nested `depth` levels deep: its lines after the first indented (the
    /// empty line of an empty array stays empty).
    func encode<T: Encodable>(_ value: T, depth: Int) -> String {
        let data = try! encoder.encode(value)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count + data.count / 8)
        var lineStart = false
        // Through a buffer: Data's iterator cost as much as the indenting.
        data.withUnsafeBytes { (encoded: UnsafeRawBufferPointer) in
            for byte in encoded {
                if lineStart, byte != UInt8(ascii: "\n") {
                    for _ in 0..<(2 * depth) { bytes.append(UInt8(ascii: " ")) }
                }
                bytes.append(byte)
                lineStart = byte == UInt8(ascii: "\n")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A JSON array, `depth` levels deep, written element by element.
    func writeArray<Element: Encodable>(
        _ elements: some Sequence<Element>, depth: Int, to out: (String) throws -> Void
    ) rethrows {
        let indent = String(repeating: "  ", count: depth + 1)
        try out("[\n")
        var first = true
        for element in elements {
            try out((first ? "" : ",\n") + indent + encode(element, depth: depth + 1))
            first = false
        }
        try out("\n" + String(repeating: "  ", count: depth) + "]")
    }
}
