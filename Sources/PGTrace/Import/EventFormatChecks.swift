/// The event formats of a trace.dat (`header_page`, `header_event` and each event's
/// `format` text), checked as `TraceDatLayout` walks to them, before libtraceevent parses them
/// all as libtracecmd opens the file. What is checked is what crashed libtraceevent, or was
/// read wrong without a word, in fuzzers' corrupted copies of real captures:
///
/// * the text is printable ASCII, tabs and line ends (but a print fmt, whose literals may say
///   "µs"): libtraceevent reads any other byte as an empty token, and one in a field's
///   declaration (`dst[\xff]`, `dst[é]`, 0x01, 0x7f) was SIGSEGV in strcmp;
/// * each event's id is given once, in decimal (libtraceevent finds a record's format by it);
/// * the common fields lie alike in every event (pgtrace reads them where one format places
///   them, for every record);
/// * the field `__print_flags` and `__print_symbolic` name is declared (libtraceevent writes
///   through the field it looks up, found or not).
///
/// Each is an error at the byte where the text is corrupt. libtraceevent may trip on more
/// than this; `TraceDatFile` tries its parse in a process of its own first.
struct EventFormatChecks {
    /// The file, as errors name it.
    let displayName: String
    /// The event ids the formats gave so far.
    private var eventIDs: Set<Int> = []
    /// The common fields (name, offset, size) of the first format, its name and where they are.
    private var commonFields: (fields: [CommonField], event: String, at: Int)?

    private struct CommonField: Equatable {
        let name: ArraySlice<UInt8>
        let offset: ArraySlice<UInt8>
        let size: ArraySlice<UInt8>
    }

    init(displayName: String) { self.displayName = displayName }

    /// Checks `text`, the format (`ofEvent`) or header text that begins at byte `start`,
    /// which the file calls `what`.
    mutating func check(_ text: ArraySlice<UInt8>, at start: Int, _ what: String, ofEvent: Bool) throws(TraceInputError) {
        let text = Array(text)
        let lines = text.split(separator: Self.newline, omittingEmptySubsequences: false)
        for line in lines {
            let isPrintFormat = line.starts(with: "print fmt:".utf8)
            if let bad = line.firstIndex(where: { !Self.isText($0, inPrintFormat: isPrintFormat) }) {
                throw error(
                    at: start + bad,
                    "\(what) holds the byte 0x\(String(text[bad], radix: 16)), where an event format is ASCII text: the trace.dat is corrupt")
            }
        }
        // An empty format (of an event with no records, in a file trace-cmd reads) says nothing
        // to check: libtraceevent, tried apart, fails to parse it and goes on.
        guard ofEvent, lines.contains(where: { !$0.allSatisfy(Self.blanks.contains) }) else { return }
        let event = Self.describe(text, otherwise: what)
        try checkID(lines, at: start, event)
        try checkCommonFields(lines, at: start, event)
        if let printFormat = lines.first(where: { $0.starts(with: "print fmt:".utf8) }) {
            try checkFlagFields(printFormat, of: lines, at: start, event)
        }
    }

    /// What errors call the format `text`: "the format of" its name line's name, else `what`.
    static func describe(_ text: some Collection<UInt8>, otherwise what: String) -> String {
        let first = text.prefix(while: { $0 != newline })
        guard first.starts(with: "name: ".utf8) else { return what }
        return "the format of " + String(decoding: first.dropFirst(6), as: UTF8.self)
    }

    private func error(at offset: Int, _ message: String) -> TraceInputError {
        TraceInputError(file: displayName, byteOffset: offset, message: message)
    }

    private static let newline = UInt8(ascii: "\n")
    private static let blanks: Set<UInt8> = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")]

    /// Printable ASCII, tab, CR; and in a print fmt any byte past ASCII (a literal's text,
    /// which libtraceevent reads whole).
    @inline(__always) private static func isText(_ byte: UInt8, inPrintFormat: Bool) -> Bool {
        (0x20...0x7e).contains(byte) || byte == 0x09 || byte == 0x0d || (inPrintFormat && byte >= 0x80)
    }

    /// The format's id: libtraceevent reads the first `ID`, `:` and a token, blanks between, as
    /// C's strtoul reads a number (`095` as 0, `-95` as none), so it must be in decimal as the
    /// kernel writes it for both to read the same; and no other format's.
    private mutating func checkID(_ lines: [ArraySlice<UInt8>], at start: Int, _ event: String) throws(TraceInputError) {
        guard
            let line = lines.first(where: {
                $0.starts(with: "ID".utf8) && $0.dropFirst(2).drop(while: Self.blanks.contains).first == UInt8(ascii: ":")
            })
        else { throw error(at: start, "\(event) has no ID line: the trace.dat is corrupt") }
        let written = line.dropFirst(2).drop(while: Self.blanks.contains).dropFirst().drop(while: Self.blanks.contains)
        let digits = String(decoding: written.reversed().drop(while: Self.blanks.contains).reversed(), as: UTF8.self)
        guard let id = Int(digits), digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            digits == "0" || !digits.hasPrefix("0")
        else {
            throw error(at: start + line.startIndex, "\(event) gives the ID \"\(digits.prefix(40))\", not a decimal number: the trace.dat is corrupt")
        }
        guard eventIDs.insert(id).inserted else {
            throw error(at: start + line.startIndex, "\(event) gives the ID \(id), as another format does: the trace.dat is corrupt")
        }
    }

    /// The name, offset and size of each field whose name begins `common_`, as the first
    /// format gives them: pgtrace reads a record's type, flags, preempt count and pid there.
    private mutating func checkCommonFields(_ lines: [ArraySlice<UInt8>], at start: Int, _ event: String) throws(TraceInputError) {
        var fields: [CommonField] = []
        var first: Int?
        for line in lines {
            guard Self.find("common_", in: line) != nil, let declaration = Self.declaration(line),
                Self.name(declaration).starts(with: "common_".utf8)
            else { continue }
            first = first ?? line.startIndex
            func value(_ key: StaticString) -> ArraySlice<UInt8> {
                guard let found = Self.find(key, in: line) else { return [] }
                return line[(found + key.utf8CodeUnitCount)...].prefix { $0 != UInt8(ascii: ";") }.filter { !Self.blanks.contains($0) }[...]
            }
            fields.append(CommonField(name: Self.name(declaration), offset: value("offset:"), size: value("size:")))
        }
        guard let reference = commonFields else {
            commonFields = (fields, event, start + (first ?? 0))
            return
        }
        guard fields == reference.fields else {
            throw error(
                at: start + (first ?? 0),
                "\(event) places the common fields otherwise than \(reference.event) does (at byte \(reference.at)), where every event shares them: the trace.dat is corrupt")
        }
    }

    /// The field of each `__print_flags` and `__print_symbolic` (and their `_u64`), the name
    /// after the next `->` outside literals, must be one the format declares: libtraceevent
    /// looks that name up and writes through what it finds, a null pointer for no field
    /// (process_entry): `REC->3tate` for `REC->state` crashed it, and `REC-> tate`. (Other
    /// references it only prints, and a kernel's macros may print `REC->__data_loc_name`.)
    /// In one pass over the print fmt: its arrows outside literals, then each use's next.
    private func checkFlagFields(
        _ printFormat: ArraySlice<UInt8>, of lines: [ArraySlice<UInt8>], at start: Int, _ event: String
    ) throws(TraceInputError) {
        var uses: [Int] = []
        var arrows: [Int] = []
        var at = printFormat.startIndex
        while at < printFormat.endIndex {
            let byte = printFormat[at]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                at += 1
                while at < printFormat.endIndex, printFormat[at] != byte { at += printFormat[at] == UInt8(ascii: "\\") ? 2 : 1 }
            } else if byte == UInt8(ascii: "-"), at + 1 < printFormat.endIndex, printFormat[at + 1] == UInt8(ascii: ">") {
                arrows.append(at)
            } else if byte == UInt8(ascii: "_"), at == printFormat.startIndex || !Self.isNamePart(printFormat[at - 1]),
                printFormat[at...].starts(with: "__print_flags".utf8) || printFormat[at...].starts(with: "__print_symbolic".utf8)
            {
                uses.append(at)
            }
            at += 1
        }
        guard !uses.isEmpty else { return }
        let declared = Self.fieldNames(lines)
        var next = 0
        for use in uses {
            while next < arrows.count, arrows[next] < use { next += 1 }
            guard next < arrows.count else { return }
            // libtraceevent's tokens: blanks between are skipped (`REC-> name`, `REC ->name`).
            let reference = printFormat[(arrows[next] + 2)...].firstIndex { !Self.blanks.contains($0) } ?? printFormat.endIndex
            let name = printFormat[reference...].prefix(while: Self.isNamePart)
            guard !name.isEmpty, !declared.contains(name) else { continue }
            throw error(
                at: start + reference,
                "\(event): its print fmt reads the field \"\(String(decoding: name, as: UTF8.self))\" for \(String(decoding: printFormat[use...].prefix(while: Self.isNamePart), as: UTF8.self)), which it does not declare: the trace.dat is corrupt")
        }
    }

    /// The names a format's field lines declare.
    private static func fieldNames(_ lines: [ArraySlice<UInt8>]) -> Set<ArraySlice<UInt8>> {
        var names: Set<ArraySlice<UInt8>> = []
        for line in lines {
            guard let declaration = declaration(line) else { continue }
            let name = self.name(declaration)
            if !name.isEmpty { names.insert(name) }
        }
        return names
    }

    /// A field line's declaration, up to its `;`, without its array's brackets: `field:` and
    /// old kernels' `field special:`.
    private static func declaration(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        let entry = line.drop { $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: " ") }
        guard entry.starts(with: "field".utf8), let colon = entry.firstIndex(of: UInt8(ascii: ":")),
            entry[entry.startIndex..<colon].allSatisfy({ isNamePart($0) || $0 == UInt8(ascii: " ") })
        else { return nil }
        var text: [UInt8] = []
        var depth = 0
        for byte in entry[(colon + 1)...].prefix(while: { $0 != UInt8(ascii: ";") }) {
            if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "]") {
                depth -= 1
            } else if depth == 0 {
                text.append(byte)
            }
        }
        return text
    }

    /// A declaration's last word: the field's name (`char comm`, `__data_loc char name`).
    private static func name(_ declaration: [UInt8]) -> ArraySlice<UInt8> {
        ArraySlice(declaration.reversed().drop { !isNamePart($0) }.prefix(while: isNamePart).reversed())
    }

    /// Where `pattern` first is in `text`.
    private static func find(_ pattern: StaticString, in text: ArraySlice<UInt8>) -> Int? {
        pattern.withUTF8Buffer { pattern in
            var at = text.startIndex
            while text.endIndex - at >= pattern.count, let first = text[at...(text.endIndex - pattern.count)].firstIndex(of: pattern[0]) {
                if text[first..<(first + pattern.count)].elementsEqual(pattern) { return first }
                at = first + 1
            }
            return nil
        }
    }

    @inline(__always) private static func isNamePart(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
