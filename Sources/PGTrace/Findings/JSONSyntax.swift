/// Where a document stops being JSON that `JSONDecoder` reads, and what was expected there:
/// for the error of a baseline the decoder refused as malformed, since FoundationEssentials'
/// decoder says only that it is, not where.
///
/// RFC 8259's grammar, with the decoder's own allowances and limits: a UTF-8 byte order mark,
/// a comma before a closing bracket, and no more than 512 objects and arrays open at once. A
/// string must be UTF-8 and its escapes whole (a surrogate escape paired): the decoder
/// refuses them in the strings it reads. UTF-8 only: a document in UTF-16 or UTF-32, which
/// the decoder also reads, is not placed (`isUTF8`); pgtrace writes its baselines in UTF-8.
///
/// It also finds a key given twice in one object, which the decoder takes (its first value)
/// where other readers take the last (jq, Python's json): a file two tools read two ways.
enum JSONSyntax {
    static func firstError(in document: [UInt8]) -> (line: Int, column: Int, problem: String)? {
        var checker = Checker(bytes: document)
        if document.starts(with: byteOrderMark) { checker.index = byteOrderMark.count }
        guard let (offset, problem) = checker.firstError() else { return nil }
        let (line, column) = JSONPlace.place(of: offset, in: document)
        return (line, column, problem)
    }

    /// The first key given twice in one object (as decoded: `"a"` and `"\u0061"` are one),
    /// where the document is JSON up to it; nil otherwise.
    static func firstRepeatedKey(in document: [UInt8]) -> (line: Int, column: Int, key: String)? {
        var checker = Checker(bytes: document)
        if document.starts(with: byteOrderMark) { checker.index = byteOrderMark.count }
        guard checker.firstError() != nil, let (offset, key) = checker.repeatedKey else { return nil }
        let (line, column) = JSONPlace.place(of: offset, in: document)
        return (line, column, key)
    }

    /// UTF-8's byte order mark, which the decoder skips at a document's start (a place's
    /// column counts its bytes, as it counts every byte of a line).
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The decoder's deepest nesting of objects and arrays.
    static let maximumDepth = 512

    /// False for what may be UTF-16 or UTF-32, as a decoder tells them: a byte order mark of
    /// theirs, or a zero byte among the first four (which JSON in UTF-8 never has there).
    static func isUTF8(_ document: [UInt8]) -> Bool {
        !(document.starts(with: [0xFE, 0xFF]) || document.starts(with: [0xFF, 0xFE]) || document.prefix(4).contains(0))
    }

    /// The grammar, without recursion (a hostile document may nest deeply): the open objects
    /// and arrays, and what may come next.
    private struct Checker {
        let bytes: [UInt8]
        var index = 0
        /// The keys of each object open, decoded.
        private var keys: [Set<[UInt8]>]
        /// A key given twice in one object: where, and which (its bytes as text).
        private(set) var repeatedKey: (offset: Int, key: String)?

        init(bytes: [UInt8]) {
            self.bytes = bytes
            keys = []
        }

        private enum Next { case value, valueOrClose, keyOrClose, colon, commaOrClose, end }

        mutating func firstError() -> (offset: Int, problem: String)? {
            var open: [UInt8] = []
            var next = Next.value
            while true {
                while index < bytes.count, bytes[index].isJSONBlank { index += 1 }
                guard index < bytes.count else {
                    return next == .end ? nil : (index, "it ends before its last value is complete")
                }
                let byte = bytes[index]
                if byte == Self.closer(of: open.last), next == .valueOrClose || next == .keyOrClose || next == .commaOrClose {
                    // The end of an object or array: after a value, or empty, or (as the
                    // decoder allows) after a comma.
                    index += 1
                    if open.removeLast() == UInt8(ascii: "{") { keys.removeLast() }
                    next = open.isEmpty ? .end : .commaOrClose
                    continue
                }
                switch next {
                case .end:
                    return (index, "more follows the document's value")
                case .colon:
                    guard byte == UInt8(ascii: ":") else { return (index, "expected ':' after a key") }
                    index += 1
                    next = .value
                case .commaOrClose:
                    guard byte == UInt8(ascii: ",") else {
                        return (index, "expected ',' or '\(Character(Unicode.Scalar(Self.closer(of: open.last))))'")
                    }
                    index += 1
                    next = open.last == UInt8(ascii: "{") ? .keyOrClose : .valueOrClose
                case .keyOrClose:
                    guard byte == UInt8(ascii: "\"") else { return (index, "expected a key (a string in double quotes)") }
                    let start = index
                    if let error = string() { return error }
                    let key = Self.decoded(bytes[(start + 1)..<(index - 1)])
                    guard keys[keys.count - 1].insert(key).inserted else {
                        let text = String(decoding: key, as: UTF8.self)
                        repeatedKey = (start, text)
                        return (start, "the key \"\(text)\" is given twice in one object")
                    }
                    next = .colon
                case .value, .valueOrClose:
                    switch byte {
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        guard open.count < JSONSyntax.maximumDepth else {
                            return (index, "objects and arrays nested more than \(JSONSyntax.maximumDepth) deep")
                        }
                        open.append(byte)
                        if byte == UInt8(ascii: "{") { keys.append([]) }
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

        /// The escapes of one character that stand for another.
        private static let escapes: [UInt8: UInt8] = [
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]

        /// A string's bytes (checked: its escapes whole, surrogates paired) with its escapes
        /// made the characters they stand for, as a decoder compares keys.
        private static func decoded(_ string: ArraySlice<UInt8>) -> [UInt8] {
            guard string.contains(UInt8(ascii: "\\")) else { return Array(string) }
            var result: [UInt8] = []
            var index = string.startIndex
            func unit(at start: Int) -> UInt32 { UInt32(String(decoding: string[start..<(start + 4)], as: UTF8.self), radix: 16)! }
            while index < string.endIndex {
                guard string[index] == UInt8(ascii: "\\") else {
                    result.append(string[index])
                    index += 1
                    continue
                }
                let kind = string[index + 1]
                guard kind == UInt8(ascii: "u") else {
                    result.append(escapes[kind] ?? kind)  // \" \\ \/ stand for themselves
                    index += 2
                    continue
                }
                var scalar = unit(at: index + 2)
                index += 6
                if (0xD800..<0xDC00).contains(scalar) {
                    scalar = 0x10000 + (scalar - 0xD800) << 10 + (unit(at: index + 2) - 0xDC00)
                    index += 6
                }
                result += Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
            }
            return result
        }

        private static func closer(of opener: UInt8?) -> UInt8 {
            opener == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
        }

        /// Steps over a string from its opening quote.
        private mutating func string() -> (offset: Int, problem: String)? {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return nil
                case UInt8(ascii: "\\"):
                    if let error = escape() { return error }
                case 0..<0x20:
                    return (index, "a control character in a string (write it as an escape)")
                case 0x80...:
                    guard let length = Self.utf8Length(bytes, at: index) else { return (index, "not UTF-8") }
                    index += length
                default:
                    index += 1
                }
            }
            return (bytes.count, "it ends inside a string")
        }

        /// Steps over an escape from its backslash; a high surrogate's must be followed by a
        /// low one's, and a low one's cannot stand alone.
        private mutating func escape() -> (offset: Int, problem: String)? {
            let start = index
            guard index + 1 < bytes.count else { return (bytes.count, "it ends inside a string") }
            guard bytes[index + 1] == UInt8(ascii: "u") else {
                guard "\"\\/bfnrt".utf8.contains(bytes[index + 1]) else { return (start, "not an escape of JSON") }
                index += 2
                return nil
            }
            guard let unit = hex(at: index + 2) else { return (start, "expected four hex digits after \\u") }
            index += 6
            switch unit {
            case 0xD800..<0xDC00:
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                    let low = hex(at: index + 2), (0xDC00..<0xE000).contains(low)
                else { return (start, "a high surrogate escape without its low one") }
                index += 6
            case 0xDC00..<0xE000:
                return (start, "a low surrogate escape without its high one")
            default:
                break
            }
            return nil
        }

        private func hex(at start: Int) -> UInt32? {
            guard start + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[start..<start + 4] {
                guard let digit = byte.hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        /// The length of the UTF-8 sequence at `start`, if it is one (shortest form, no
        /// surrogates, at most U+10FFFF).
        private static func utf8Length(_ bytes: [UInt8], at start: Int) -> Int? {
            let lead = bytes[start]
            let (length, low, high): (Int, UInt8, UInt8)
            switch lead {
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xE1...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            default: return nil
            }
            guard start + length <= bytes.count, (low...high).contains(bytes[start + 1]) else { return nil }
            for offset in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[start + offset]) { return nil }
            return length
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
    }
}

extension UInt8 {
    /// JSON's white space (RFC 8259's ws: space, tab, line feed, carriage return).
    var isJSONBlank: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
