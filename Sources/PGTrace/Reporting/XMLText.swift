/// Text made safe for XML character data and attribute values, for every writer of XML
/// (GraphML, JUnit, and the importer's traces).
enum XMLText {
    /// `text` with `& < > " '` as entities and the control characters XML 1.0 cannot carry
    /// (all below 0x20 but tab, newline and carriage return) as U+FFFD. Byte by byte: the
    /// five and the controls are ASCII, never part of a longer UTF-8 sequence, so the rest is
    /// copied in runs (by Character, a 30 MB JUnit report spent seconds here).
    static func escaped(_ text: String) -> String {
        guard text.utf8.contains(where: needsEscape) else { return text }
        var text = text
        return text.withUTF8 { bytes in
            var out = ""
            out.reserveCapacity(bytes.count + bytes.count / 8)
            var runStart = 0
            for index in bytes.indices where needsEscape(bytes[index]) {
                out += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<index]), as: UTF8.self)
                switch bytes[index] {
                case UInt8(ascii: "&"): out += "&amp;"
                case UInt8(ascii: "<"): out += "&lt;"
                case UInt8(ascii: ">"): out += "&gt;"
                case UInt8(ascii: "\""): out += "&quot;"
                case UInt8(ascii: "'"): out += "&apos;"
                default: out += "\u{FFFD}"
                }
                runStart = index + 1
            }
            out += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart...]), as: UTF8.self)
            return out
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"): return true
        case 0x09, 0x0A, 0x0D: return false
        default: return byte < 0x20
        }
    }
}
