/// Text made safe for XML character data and attribute values, for every writer of XML
/// (GraphML, JUnit, and the importer's traces).
enum XMLText {
    /// `text` with `& < > " '` as entities and each control character XML 1.0 cannot carry
    /// (all below 0x20 but tab, newline and carriage return; not even as a character
    /// reference) as `\xHH`, as the text report shows it (`TerminalText`), and so the two
    /// noncharacters it cannot carry either, U+FFFE and U+FFFF, as their UTF-8 bytes
    /// (`\xef\xbf\xbe`; a task may name itself with any bytes): a capture's names
    /// are the kernel's bytes, and two names that differ only there stay two (`lock\x01` and
    /// `lock\x02` were both `lock` and U+FFFD, one class, after an import). In an attribute
    /// (`attribute`), tab, newline and carriage return too, as character references: a parser
    /// reads them raw there as spaces (and a carriage return in text as a newline). Byte by byte: the five and the controls are ASCII,
    /// never part of a longer UTF-8 sequence, so the rest is copied in runs (by Character, a
    /// 30 MB JUnit report spent seconds here).
    static func escaped(_ text: String, attribute: Bool = false) -> String {
        let needsEscape = attribute ? needsEscapeInAttribute : needsEscapeInText
        guard text.utf8.contains(where: { needsEscape($0) || $0 == UInt8(ascii: "\\") || $0 == 0xEF }) else { return text }
        var text = text
        return text.withUTF8 { bytes in
            // U+FFFE or U+FFFF at `index`: EF BF BE or EF BF BF.
            func isNoncharacter(_ index: Int) -> Bool {
                bytes[index] == 0xEF && index + 2 < bytes.count && bytes[index + 1] == 0xBF
                    && (bytes[index + 2] == 0xBE || bytes[index + 2] == 0xBF)
            }
            // A backslash before 'x', another backslash or anything written `\xHH` is doubled,
            // so that a `\xHH` is never a name's own text: lock\x01 typed out and lock with the
            // byte 0x01 stay two names (`\\` reads back as one backslash, `\xHH` as the byte,
            // a lone backslash as itself). Any other backslash is left as it is.
            func isEscaped(_ index: Int) -> Bool {
                guard bytes[index] == UInt8(ascii: "\\") else { return needsEscape(bytes[index]) || isNoncharacter(index) }
                guard index + 1 < bytes.count else { return false }
                let next = bytes[index + 1]
                return next == UInt8(ascii: "x") || next == UInt8(ascii: "\\") || (next < 0x20 && next != 0x09 && next != 0x0A && next != 0x0D)
                    || isNoncharacter(index + 1)
            }
            guard bytes.indices.contains(where: isEscaped) else { return String(decoding: bytes, as: UTF8.self) }
            var out = ""
            out.reserveCapacity(bytes.count + bytes.count / 8)
            var runStart = 0
            var index = 0
            while index < bytes.count {
                guard isEscaped(index) else {
                    index += 1
                    continue
                }
                out += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<index]), as: UTF8.self)
                if isNoncharacter(index) {
                    out += bytes[index..<index + 3].map { "\\x" + String($0, radix: 16) }.joined()
                    index += 3
                    runStart = index
                    continue
                }
                switch bytes[index] {
                case UInt8(ascii: "&"): out += "&amp;"
                case UInt8(ascii: "<"): out += "&lt;"
                case UInt8(ascii: ">"): out += "&gt;"
                case UInt8(ascii: "\""): out += "&quot;"
                case UInt8(ascii: "'"): out += "&apos;"
                case 0x09: out += "&#9;"
                case 0x0A: out += "&#10;"
                case 0x0D: out += "&#13;"
                case UInt8(ascii: "\\"): out += "\\\\"
                case let control:
                    let digits = String(control, radix: 16)
                    out += (digits.count < 2 ? "\\x0" : "\\x") + digits
                }
                index += 1
                runStart = index
            }
            out += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart...]), as: UTF8.self)
            return out
        }
    }

    private static func needsEscapeInText(_ byte: UInt8) -> Bool {
        switch byte {
        // A raw carriage return reads back as a newline (XML normalizes line ends): `&#13;`.
        case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"), 0x0D: return true
        case 0x09, 0x0A: return false
        default: return byte < 0x20
        }
    }

    private static func needsEscapeInAttribute(_ byte: UInt8) -> Bool {
        byte < 0x20 || needsEscapeInText(byte)
    }
}
