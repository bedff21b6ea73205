/// Where a value sits in a JSON document, by the path `JSONDecoder` names it with (keys and
/// array indices): its line and column (1-based, in bytes), so that an error in a baseline
/// cites file:line:column as every other input error does. Reads valid JSON only (the
/// decoder has parsed it already); nil where the path is not there.
enum JSONPlace {
    static func of(_ path: [CodingKey], in json: [UInt8]) -> (line: Int, column: Int)? {
        var scanner = Scanner(bytes: json)
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
        return place(of: scanner.index, in: json)
    }

    /// The line and column of byte `offset` (the end, if it is the count).
    private static func place(of offset: Int, in json: [UInt8]) -> (line: Int, column: Int) {
        let before = json[..<offset]
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return (before.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }, offset - lineStart + 1)
    }

    /// Where a document stops being JSON (RFC 8259), and what was expected there; nil if it
    /// is JSON. For the error of a document the decoder refused as malformed:
    /// FoundationEssentials' decoder says only that it is, not where.
    static func syntaxError(in json: [UInt8]) -> (line: Int, column: Int, problem: String)? {
        var checker = SyntaxChecker(bytes: json)
        guard let (offset, problem) = checker.firstError() else { return nil }
        let (line, column) = place(of: offset, in: json)
        return (line, column, problem)
    }

    /// A JSON grammar, without recursion (a hostile document may nest deeply): a stack of
    /// the open objects and arrays, and what may come next.
    private struct SyntaxChecker {
        let bytes: [UInt8]
        var index = 0

        private enum Next { case value, valueOrClose, key, keyOrClose, colon, commaOrClose, end }

        mutating func firstError() -> (offset: Int, problem: String)? {
            var open: [UInt8] = []
            var next = Next.value
            while true {
                while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
                guard index < bytes.count else {
                    return next == .end ? nil : (index, "it ends before its last value is complete")
                }
                let byte = bytes[index]
                let closer = open.last == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                switch next {
                case .end:
                    return (index, "more follows the document's value")
                case .colon:
                    guard byte == UInt8(ascii: ":") else { return (index, "expected ':' after a key") }
                    index += 1
                    next = .value
                case .commaOrClose:
                    if byte == UInt8(ascii: ",") {
                        index += 1
                        next = open.last == UInt8(ascii: "{") ? .key : .value
                    } else if byte == closer {
                        index += 1
                        open.removeLast()
                        next = open.isEmpty ? .end : .commaOrClose
                    } else {
                        return (index, "expected ',' or '\(Character(Unicode.Scalar(closer)))'")
                    }
                case .key, .keyOrClose:
                    if next == .keyOrClose, byte == UInt8(ascii: "}") {
                        index += 1
                        open.removeLast()
                        next = open.isEmpty ? .end : .commaOrClose
                    } else if byte == UInt8(ascii: "\"") {
                        if let error = string() { return error }
                        next = .colon
                    } else {
                        return (index, "expected a key (a string in double quotes)")
                    }
                case .value, .valueOrClose:
                    if next == .valueOrClose, byte == UInt8(ascii: "]") {
                        index += 1
                        open.removeLast()
                        next = open.isEmpty ? .end : .commaOrClose
                        continue
                    }
                    switch byte {
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        open.append(byte)
                        index += 1
                        next = byte == UInt8(ascii: "{") ? .keyOrClose : .valueOrClose
                        continue
                    case UInt8(ascii: "\""):
                        if let error = string() { return error }
                    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                        if let error = number() { return error }
                    default:
                        guard let word = ["true", "false", "null"].first(where: { bytes[index...].starts(with: $0.utf8) }) else {
                            return (index, "expected a value")
                        }
                        index += word.utf8.count
                    }
                    next = open.isEmpty ? .end : .commaOrClose
                }
            }
        }

        /// Steps over a string from its opening quote.
        private mutating func string() -> (offset: Int, problem: String)? {
            index += 1
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return nil
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { break }
                    if bytes[index] == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            index += 1
                            guard index < bytes.count else { break }
                            guard Self.isHexDigit(bytes[index]) else { return (index, "expected a hex digit of a \\u escape") }
                        }
                    } else if !"\"\\/bfnrt".utf8.contains(bytes[index]) {
                        return (index, "not an escape of JSON")
                    }
                    index += 1
                case 0..<0x20:
                    return (index, "a control character in a string (write it as an escape)")
                default:
                    index += 1
                }
            }
            return (bytes.count, "it ends inside a string")
        }

        /// Steps over a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        private mutating func number() -> (offset: Int, problem: String)? {
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            if index < bytes.count, bytes[index] == UInt8(ascii: "0") {
                index += 1
                let after = index
                if digits() > 0 { return (after, "a number does not start with 0") }
            } else {
                guard digits() > 0 else { return (index, "expected a digit") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { return (index, "expected a digit after '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return (index, "expected a digit of the exponent") }
            }
            return nil
        }

        /// Steps over digits; how many.
        private mutating func digits() -> Int {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }

        private static func isHexDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        mutating func skipBlanks() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
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
