/// Where a value sits in a JSON document, by the path `JSONDecoder` names it with (keys and
/// array indices): its line and column (1-based, in bytes), so that an error in a baseline
/// cites file:line:column as every other input error does. Reads valid JSON only (the
/// decoder has parsed it already); nil where the path is not there. (Where a document stops
/// being JSON: `JSONSyntax`.)
enum JSONPlace {
    static func of(_ path: [CodingKey], in json: [UInt8]) -> (line: Int, column: Int)? {
        offset(of: path, in: json).map { place(of: $0, in: json) }
    }

    /// The byte offset where the value at `path` starts.
    static func offset(of path: [CodingKey], in json: [UInt8]) -> Int? {
        var scanner = Scanner(bytes: json)
        if json.starts(with: JSONSyntax.byteOrderMark) { scanner.index = JSONSyntax.byteOrderMark.count }
        scanner.skipBlanks()
        for component in path {
            guard scanner.index < json.count else { return nil }
            if let index = component.intValue {
                guard scanner.enter(UInt8(ascii: "[")) else { return nil }
                for _ in 0..<index {
                    guard scanner.skipValue(), scanner.enter(UInt8(ascii: ",")) else { return nil }
                }
            } else {
                guard scanner.enter(UInt8(ascii: "{")) else { return nil }
                while true {
                    guard let key = scanner.string(), scanner.enter(UInt8(ascii: ":")) else { return nil }
                    if key == component.stringValue { break }
                    guard scanner.skipValue(), scanner.enter(UInt8(ascii: ",")) else { return nil }
                }
            }
        }
        guard scanner.index <= json.count else { return nil }
        return scanner.index
    }

    /// The line and column of byte `offset` (the end, if it is the count).
    static func place(of offset: Int, in json: [UInt8]) -> (line: Int, column: Int) {
        let before = json[..<offset]
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return (before.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }, offset - lineStart + 1)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        mutating func skipBlanks() {
            while index < bytes.count, bytes[index].isJSONBlank { index += 1 }
        }

        /// Steps over `byte` and the blanks after it, if it is next.
        mutating func enter(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            skipBlanks()
            return true
        }

        /// A string's text (escapes kept as written: keys are plain), and the blanks after it.
        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            index += 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard index < bytes.count else { return nil }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            index += 1
            skipBlanks()
            return text
        }

        /// Steps over one value and the blanks after it.
        mutating func skipValue() -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                index += 1
                skipBlanks()
                if enter(close) { return true }
                while true {
                    if close == UInt8(ascii: "}") {
                        guard string() != nil, enter(UInt8(ascii: ":")) else { return false }
                    }
                    guard skipValue() else { return false }
                    if enter(close) { return true }
                    guard enter(UInt8(ascii: ",")) else { return false }
                }
            default:
                // A number, true, false or null: up to the next delimiter.
                while index < bytes.count, !",]} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
                skipBlanks()
                return true
            }
        }
    }
}
