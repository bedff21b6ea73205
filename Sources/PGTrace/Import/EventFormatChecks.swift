/// The event formats of a trace.dat (`header_page`, `header_event` and each event's
/// `format` text), checked as `TraceDatLayout` walks to them, before libtraceevent parses them
/// all as libtracecmd opens the file. What is checked is what crashed libtraceevent, or was
/// read wrong without a word, in fuzzers' corrupted copies of real captures:
///
/// * the text is printable ASCII, tabs and line ends: libtraceevent reads any other byte as
///   an empty token, and one in a field's declaration (`dst[\xff]`, `dst[é]`, 0x01, 0x7f) was
///   SIGSEGV in strcmp (the kernel writes its formats in ASCII);
/// * each event's id is given once (libtraceevent finds a record's format by it);
/// * the common fields are declared alike by every event (pgtrace reads them where the first
///   format places them);
/// * the field `__print_flags` and `__print_symbolic` name is declared (libtraceevent writes
///   through the field it looks up, found or not).
///
/// Each is an error at the byte where the text is corrupt.
struct EventFormatChecks {
    /// The file, as errors name it.
    let displayName: String
    /// The event ids the formats gave so far.
    private var eventIDs: Set<Int> = []
    /// The first format's declarations of the common fields, and its name.
    private var commonFields: (declarations: [ArraySlice<UInt8>], event: String)?

    init(displayName: String) { self.displayName = displayName }

    /// Checks `text`, the format (`ofEvent`) or header text that begins at byte `start`,
    /// which the file calls `what`.
    mutating func check(_ text: ArraySlice<UInt8>, at start: Int, _ what: String, ofEvent: Bool) throws(TraceInputError) {
        if let bad = text.firstIndex(where: { !((0x20...0x7e).contains($0) || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d) }) {
            throw error(
                at: start + (bad - text.startIndex),
                "\(what) holds the byte 0x\(String(text[bad], radix: 16)), where an event format is ASCII text: the trace.dat is corrupt")
        }
        guard ofEvent else { return }
        let text = Array(text)
        try checkIdentity(text, at: start, what)
        try checkFlagFields(text, at: start, what)
    }

    private func error(at offset: Int, _ message: String) -> TraceInputError {
        TraceInputError(file: displayName, byteOffset: offset, message: message)
    }

    /// A format's id, which no other format may give (libtraceevent finds a record's
    /// format by it: two formats of one id, and one's records were read as the other's),
    /// and its common fields, which every event shares (pgtrace reads them at the places
    /// the first format gives, for every record).
    private mutating func checkIdentity(_ text: [UInt8], at start: Int, _ what: String) throws(TraceInputError) {
        let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let event = lines.first.flatMap { $0.starts(with: "name: ".utf8) ? "the format of " + String(decoding: $0.dropFirst(6), as: UTF8.self) : nil } ?? what
        guard let idLine = lines.first(where: { $0.starts(with: "ID: ".utf8) }) else {
            throw error(at: start, "\(event) has no ID line: the trace.dat is corrupt")
        }
        guard let id = Int(String(decoding: idLine.dropFirst(4), as: UTF8.self)), eventIDs.insert(id).inserted else {
            throw error(
                at: start + idLine.startIndex,
                "\(event) gives the ID \"\(String(decoding: idLine.dropFirst(4).prefix(40), as: UTF8.self))\", \(Int(String(decoding: idLine.dropFirst(4), as: UTF8.self)) == nil ? "not a number" : "as another format does"): the trace.dat is corrupt")
        }
        let declarations = lines.filter { line in
            let entry = line.drop { $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: " ") }
            return entry.starts(with: "field:".utf8) && Self.find("common_", in: Array(entry), from: 0, to: entry.count) != nil
        }
        guard let first = commonFields else {
            commonFields = (declarations, event)
            return
        }
        guard declarations.elementsEqual(first.declarations, by: { $0.elementsEqual($1) }) else {
            let differing = zip(declarations, first.declarations).first { !$0.0.elementsEqual($0.1) }?.0 ?? declarations.last ?? lines[0]
            throw error(
                at: start + differing.startIndex,
                "\(event) declares the common fields otherwise than \(first.event) does, where every event shares them: the trace.dat is corrupt")
        }
    }

    /// The field of each `__print_flags(` and `__print_symbolic(` (and their `_u64`) in a
    /// print fmt, the name after the next `->`, must be one the format declares:
    /// libtraceevent looks that name up and writes through what it finds, a null pointer
    /// for no field (process_entry): `REC->3tate` for `REC->state` crashed it. (Other
    /// references it only prints, and a kernel's macros may name `__data_loc_name`.)
    private func checkFlagFields(_ text: [UInt8], at start: Int, _ what: String) throws(TraceInputError) {
        guard let printFormat = Self.find("\nprint fmt:", in: text, from: 0, to: text.count).map({ $0 + 1 }) else { return }
        let end = text[printFormat...].firstIndex(of: UInt8(ascii: "\n")) ?? text.count
        var uses: [Int] = []
        for function in ["__print_flags", "__print_symbolic"] {
            var at = printFormat
            while let found = Self.find(function, in: text, from: at, to: end) {
                uses.append(found)
                at = found + 1
            }
        }
        guard !uses.isEmpty else { return }
        let fields = Self.fieldNames(text[..<printFormat])
        for use in uses {
            guard let arrow = Self.nextArrow(in: text, from: use, to: end) else { continue }
            // libtraceevent's tokens: blanks between are skipped (`REC-> name`, `REC ->name`).
            let reference = text[(arrow + 2)..<end].firstIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } ?? end
            let name = text[reference..<end].prefix(while: Self.isNamePart)
            guard !name.isEmpty, !fields.contains(name) else { continue }
            var event = what
            if text.starts(with: "name: ".utf8) {
                event = "the format of " + String(decoding: text[6...].prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
            }
            throw error(
                at: start + reference,
                "\(event): its print fmt reads the field \"\(String(decoding: name, as: UTF8.self))\" for \(String(decoding: text[use...].prefix(while: Self.isNamePart), as: UTF8.self)), which it does not declare: the trace.dat is corrupt")
        }
    }

    /// The names a format's `field:` lines declare: each declaration's last word, its
    /// array's brackets left out (`char comm[16]`, `__data_loc char[] name`).
    private static func fieldNames(_ lines: ArraySlice<UInt8>) -> Set<ArraySlice<UInt8>> {
        var names: Set<ArraySlice<UInt8>> = []
        for line in lines.split(separator: UInt8(ascii: "\n")) {
            let entry = line.drop { $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: " ") }
            guard entry.starts(with: "field:".utf8) else { continue }
            var words: [UInt8] = []
            var depth = 0
            for byte in entry.dropFirst(6).prefix(while: { $0 != UInt8(ascii: ";") }) {
                if byte == UInt8(ascii: "[") {
                    depth += 1
                } else if byte == UInt8(ascii: "]") {
                    depth -= 1
                } else if depth == 0 {
                    words.append(byte)
                }
            }
            let name = words.reversed().drop { !isNamePart($0) }.prefix(while: isNamePart).reversed()
            if !name.isEmpty { names.insert(ArraySlice(name)) }
        }
        return names
    }

    @inline(__always) private static func isNamePart(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// Where the first `->` of `text[from..<to]` is, outside the print fmt's string and
    /// character literals: the field reference libtraceevent meets next, whatever comes
    /// before it (`REC->`, `REC ->`, `(REC)->`).
    private static func nextArrow(in text: [UInt8], from: Int, to: Int) -> Int? {
        var at = from
        while at + 1 < to {
            let byte = text[at]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                at += 1
                while at < to, text[at] != byte { at += text[at] == UInt8(ascii: "\\") ? 2 : 1 }
            } else if byte == UInt8(ascii: "-"), text[at + 1] == UInt8(ascii: ">") {
                return at
            }
            at += 1
        }
        return nil
    }

    /// Where `pattern` first is in `text[from..<to]`.
    private static func find(_ pattern: String, in text: [UInt8], from: Int, to: Int) -> Int? {
        let pattern = Array(pattern.utf8)
        var at = from
        while at + pattern.count <= to, let first = text[at..<(to - pattern.count + 1)].firstIndex(of: pattern[0]) {
            if text[first..<(first + pattern.count)].elementsEqual(pattern) { return first }
            at = first + 1
        }
        return nil
    }
}
