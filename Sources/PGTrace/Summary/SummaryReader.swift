/// Reads a summary a line at a time, on the reading thread: checks its version, that every
/// symbol is written before it is used and that its last line accounts for all the others
/// (a summary cut short is refused, never read as a smaller one), interns its symbols into
/// the analysis's table, and hands over every other line with its symbols made the
/// analysis's (`SummaryMerge` maps its traces and classes on the replay's side).
struct SummaryReader {
    /// A summary's lines may be long: a finding through a thousand classes cites two thousand
    /// events.
    static let maximumLineLength = 256 << 20

    let name: String
    let symbols: SymbolTable
    /// Reads the next bytes into a buffer; 0 at the end.
    let next: (UnsafeMutableRawBufferPointer) throws -> Int

    init(input: TraceInput, symbols: SymbolTable) {
        name = input.displayName
        self.symbols = symbols
        next = { buffer in try input.read(into: buffer) }
    }

    /// A summary held in memory.
    init(bytes: [UInt8], name: String, symbols: SymbolTable) {
        self.name = name
        self.symbols = symbols
        var offset = 0
        next = { buffer in
            let count = min(buffer.count, bytes.count - offset)
            bytes[offset..<(offset + count)].withUnsafeBytes { buffer.copyMemory(from: $0) }
            offset += count
            return count
        }
    }

    func read(_ body: (SummaryLine, _ line: Int) throws -> Void) throws {
        let name = self.name
        let decoder = JSONDecoderForSummaries()
        var symbolMap: [Symbol] = []
        var seen = SummaryLine.Counts()
        var ended = false
        var lastLine = 0
        var reader = LineReader(limit: Self.maximumLineLength, read: next)
        func fail(_ line: Int, _ message: String) -> TraceInputError {
            TraceInputError(file: name, line: line, column: 1, message: message)
        }
        do {
            try reader.forEachLine { bytes, number, _ in
                lastLine = number
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    if number == 1 { throw fail(number, "not a pgtrace summary: its first line is blank") }
                    return
                }
                guard !ended else { throw fail(number, "a line after the summary's end line") }
                var line: SummaryLine
                do {
                    line = try SummaryLine.decode(bytes, fallback: decoder.decode)
                } catch {
                    throw fail(number, "not a summary line (\(decoder.describe(error))); the summary is corrupt")
                }
                if number == 1 {
                    guard let version = line.header else { throw fail(number, "not a pgtrace summary: its first line has no \"pgtrace-summary\"") }
                    guard version == SummaryLine.version else {
                        throw fail(number, "a summary of format version \(version); this pgtrace reads version \(SummaryLine.version): make it again with this pgtrace's `summarize`")
                    }
                    try body(line, number)
                    return
                }
                if line.header != nil { throw fail(number, "a second summary header; summaries are merged with `pgtrace merge`, not joined") }
                let bytesLine = number
                func resolve(_ number: Int?) throws -> Int? {
                    guard let number, number >= 0 else { return number }
                    guard number < symbolMap.count else { throw fail(bytesLine, "symbol \(number) is used before it is written") }
                    return Int(symbolMap[number].rawValue)
                }
                func resolveSite(_ site: [Int]?, at offset: Int = 0) throws -> [Int]? {
                    guard var site else { return nil }
                    guard site.count == offset + 8 else { throw fail(bytesLine, "a site of \(site.count - offset) numbers; a site has 8") }
                    for index in (offset + 5)..<(offset + 8) { site[index] = try resolve(site[index])! }
                    return site
                }
                if let sym = line.sym {
                    guard sym == symbolMap.count, let text = line.name else { throw fail(number, "symbol \(sym) out of order") }
                    symbolMap.append(symbols.intern(text))
                    seen.symbols += 1
                    return
                }
                if let end = line.end {
                    guard end == seen else {
                        throw fail(number, "the end line counts \(end) but the summary holds \(seen); the summary is corrupt")
                    }
                    ended = true
                    return
                }
                line.nameSym = try resolve(line.nameSym)
                line.task = try resolve(line.task)
                line.site = try resolveSite(line.site)
                line.lockSite = try resolveSite(line.lockSite)
                line.holderSite = try resolveSite(line.holderSite)
                if let held = line.held { line.held = try held.map { try resolveSite($0, at: 1)! } }
                if line.file != nil, line.fact == nil { seen.files += 1 }
                if line.class != nil { seen.classes += 1 }
                if line.moment != nil { seen.moments += 1 }
                if line.fact != nil { seen.facts += 1 }
                if line.finding != nil { seen.findings += 1 }
                if line.note != nil { seen.notes += 1 }
                try body(line, number)
            }
        } catch let error as LineTooLong {
            throw fail(error.line, "a line longer than \(Self.maximumLineLength >> 20) MiB; the summary is corrupt")
        }
        guard ended else {
            throw TraceInputError(
                file: name, line: lastLine, column: 1,
                message: "the summary has no end line after this one: it was cut short (a write that did not finish?)")
        }
    }
}

import FoundationEssentials

/// A JSON decoder for summary lines, and its errors in a few words.
struct JSONDecoderForSummaries {
    private let decoder = JSONDecoder()

    func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws -> SummaryLine {
        // A key given twice (which the flat reader leaves to this one) is the decoder's first
        // value, and another reader's last: refused.
        if let repeated = JSONSyntax.firstRepeatedKey(in: Array(bytes)) { throw RepeatedKey(key: repeated.key) }
        let data = Data(bytes)
        // JSONDecoder passes over keys it does not know: a summary has none (a later format
        // raises the version), so one is a corrupt line, not a line to read without it.
        let keys: [String]
        do {
            keys = try decoder.decode(ObjectKeys.self, from: data).keys
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            // An array is JSON but no object; a lone string, number or boolean is taken for
            // malformed JSON, as JSON without fragments has it.
            if bytes.first(where: { !$0.isJSONBlank }) == UInt8(ascii: "[") { throw UnknownKey(key: nil) }
            throw DecodingError.dataCorrupted(context)
        }
        if let unknown = keys.sorted().first(where: { !SummaryLine.keys.contains($0) }) { throw UnknownKey(key: unknown) }
        return try decoder.decode(SummaryLine.self, from: data)
    }

    struct UnknownKey: Error {
        var key: String?
    }

    struct RepeatedKey: Error {
        var key: String
    }

    /// The keys of a JSON object, whatever they are.
    private struct ObjectKeys: Decodable {
        let keys: [String]

        init(from decoder: Decoder) throws {
            keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        }

        private struct AnyKey: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
    }

    func describe(_ error: Error) -> String {
        switch error {
        case let error as UnknownKey:
            return error.key.map { "unknown key '\($0)'" } ?? "not a JSON object"
        case let error as RepeatedKey:
            return "the key '\(error.key)' is given twice in one object"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.keyNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "malformed JSON" : "bad value at \(path)"
        default:
            return "malformed JSON"
        }
    }
}
