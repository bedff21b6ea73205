import Foundation
import PGTrace
import Testing

/// What a CI job or a stranger may feed pgtrace: each is an input error naming
/// file:line:column (exit 2 at the command line), never a crash, a hang or a fetch.
@Suite struct HostileInputTests {
    private func expectInputError(_ bytes: [UInt8], line: Int? = nil, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try Analysis().analyze(bytes: bytes, displayName: "hostile.xml")
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch let error as TraceInputError {
            #expect(error.file == "hostile.xml", sourceLocation: sourceLocation)
            #expect(error.line != nil && error.column != nil, "\(error)", sourceLocation: sourceLocation)
            if let line { #expect(error.line == line, "\(error)", sourceLocation: sourceLocation) }
            #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    private func document(_ events: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<trace version=\"1\">\n<events>\n\(events)\n</events>\n</trace>\n"
    }

    @Test func invalidUTF8() {
        var bytes = Array(document("<acquire cpu=\"0\" lock=\"A\"/>").utf8)
        let index = bytes.firstIndex(of: UInt8(ascii: "A"))!
        bytes.replaceSubrange(index...index, with: [0xC3, 0x28])
        expectInputError(bytes, line: 4, "malformed XML")
    }

    @Test func binaryGarbage() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        expectInputError(bytes, "malformed XML")
        expectInputError([0x00, 0x01, 0x02], line: 1, "malformed XML")
    }

    @Test func aLocalExternalEntityIsNeverRead() throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-secret-\(getpid())")
        try "SECRET-LOCK-NAME".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE trace [<!ENTITY leak SYSTEM \"file://\(secret.path)\">]>\n<trace version=\"1\"><events><acquire cpu=\"0\" lock=\"&leak;\"/></events></trace>\n"
        expectInputError(Array(xml.utf8), line: 2, "a DOCTYPE is not allowed")
    }

    @Test func aNetworkEntityOrDTDIsNeverFetched() {
        let entity = "<?xml version=\"1.0\"?>\n<!DOCTYPE trace [<!ENTITY remote SYSTEM \"http://127.0.0.1:9/x\">]>\n<trace version=\"1\"><events><acquire cpu=\"0\" lock=\"&remote;\"/></events></trace>\n"
        expectInputError(Array(entity.utf8), line: 2, "a DOCTYPE is not allowed")
        let dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE trace SYSTEM \"http://127.0.0.1:9/trace.dtd\">\n<trace version=\"1\"><events/></trace>\n"
        expectInputError(Array(dtd.utf8), line: 2, "a DOCTYPE is not allowed")
    }

    @Test func billionLaughs() {
        var xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE trace [\n<!ENTITY lol \"lol\">\n"
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            xml += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">\n"
        }
        xml += "]>\n<trace version=\"1\"><events><acquire cpu=\"0\" lock=\"&lol9;\"/></events></trace>\n"
        expectInputError(Array(xml.utf8), line: 2, "a DOCTYPE is not allowed")
    }

    @Test func anUndefinedEntityIsNotExpanded() {
        expectInputError(Array(document("<acquire cpu=\"0\" lock=\"&unknown;\"/>").utf8), line: 4, "Entity 'unknown' not defined")
    }

    @Test func nestingBombs() {
        let deep = String(repeating: "<x-a>", count: 100_000) + String(repeating: "</x-a>", count: 100_000)
        expectInputError(Array(document(deep).utf8), line: 4, "nested more than 256 deep")
        let nestedEvents = String(repeating: "<acquire cpu=\"0\" lock=\"A\">", count: 1000)
        expectInputError(Array(document(nestedEvents).utf8), line: 4, "inside an event")
    }

    @Test func manyAttributesAndHugeValues() throws {
        let name = String(repeating: "n", count: 5_000_000)
        try Analysis().analyze(bytes: Array(document("<acquire cpu=\"0\" lock=\"\(name)\"/>").utf8), displayName: "big.xml")
        // As many attributes as an element may carry: cpu, lock and 998 x- attributes.
        let attributes = (0..<998).map { " x-a\($0)=\"v\"" }.joined()
        try Analysis().analyze(bytes: Array(document("<acquire cpu=\"0\" lock=\"A\"\(attributes)/>").utf8), displayName: "wide.xml")
        expectInputError(Array(document("<acquire cpu=\"0\" cpu=\"1\" lock=\"A\"/>").utf8), line: 4, "malformed XML")
    }

    /// The error of analysing `bytes`, with or without the schema.
    private func inputError(_ bytes: [UInt8], validating: Bool = false) -> TraceInputError? {
        do {
            try Analysis(options: AnalysisOptions(validatesSchema: validating)).analyze(bytes: bytes, displayName: "hostile.xml")
        } catch let error as TraceInputError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    private func attributes(_ count: Int) -> String {
        (0..<count).map { " x-a\($0)=\"v\"" }.joined()
    }

    /// libxml2 compares each attribute of a start tag with every one before it, before any
    /// callback: an element of 150,000 attributes took some 6 s, ten times as many a hundred
    /// times as long. More than 1,000 is refused at the tag, however the file is cut into
    /// chunks: a tag that came whole at its callback, one still arriving before libxml2
    /// parses it.
    @Test func anElementOfMoreThanAThousandAttributesIsRefusedAtItsTag() {
        // Column 14, in characters: 'é' is two bytes.
        let place = "<!-- ééé --> "
        let expected = TraceInputError(file: "hostile.xml", line: 4, column: 14, message: "<acquire> has more than 1000 attributes")
        // 1,001: cpu, lock and 999 x- attributes, whole within the first chunk.
        let small = Array(document(place + "<acquire cpu=\"0\" lock=\"A\"\(attributes(999))/>").utf8)
        #expect(small.count < TraceReader.chunkSize)
        #expect(inputError(small) == expected)
        #expect(inputError(small, validating: true) == expected)
        // 150,000 (2 MB), arriving over many chunks.
        let large = Array(document(place + "<acquire cpu=\"0\" lock=\"A\"\(attributes(150_000))/>").utf8)
        #expect(inputError(large) == expected)
        #expect(inputError(large, validating: true) == expected)
        // On the root, and on an x- element, whose attributes are otherwise not looked at;
        // namespace declarations are attributes too.
        let root = "<?xml version=\"1.0\"?>\n<trace version=\"1\"\(attributes(5_000))><events/></trace>\n"
        #expect(inputError(Array(root.utf8)) == TraceInputError(file: "hostile.xml", line: 2, column: 1, message: "<trace> has more than 1000 attributes"))
        let declarations = (0..<500).map { " xmlns:p\($0)=\"urn:\($0)\"" }.joined()
        for count in [501, 5_000] {
            let vendor = document("<x-vendor\(declarations)\(attributes(count))/>")
            #expect(inputError(Array(vendor.utf8)) == TraceInputError(file: "hostile.xml", line: 4, column: 1, message: "<x-vendor> has more than 1000 attributes"))
        }
        let atTheLimit = document("<x-vendor\((0..<64).map { " xmlns:p\($0)=\"urn:\($0)\"" }.joined())\(attributes(936))/>")
        #expect(inputError(Array(atTheLimit.utf8)) == nil)
        // libxml2 resolves a prefix by a scan of every namespace in scope: nested elements of
        // many declarations each (255 deep, 999 each) made every tag below them cost a scan of
        // 255,000 (a reviewer's 6.9 MB trace: 73 s). More than 64 in scope is refused.
        let nested = document("<x-a\((0..<40).map { " xmlns:a\($0)=\"urn:a\($0)\"" }.joined())><x-b\((0..<25).map { " xmlns:b\($0)=\"urn:b\($0)\"" }.joined())/></x-a>")
        let refused = inputError(Array(nested.utf8))
        #expect(refused?.message == "<x-b> puts more than 64 namespace declarations in scope; trace format v1 has none (xsi and extensions need a few)")
        // At <x-b>'s '<', on the line of both.
        #expect(refused?.line == 4)
        #expect(refused?.column == nested.split(separator: "\n")[3].utf8.firstRange(of: "<x-b".utf8).map { nested.split(separator: "\n")[3].utf8.distance(from: nested.split(separator: "\n")[3].utf8.startIndex, to: $0.lowerBound) + 1 })
    }

    /// A tag of too many attributes is refused while it arrives: the reader stops asking for
    /// chunks before the tag's end, which would have had libxml2 parse it.
    @Test func aTagOfTooManyAttributesStopsTheReadBeforeItsEnd() throws {
        let bytes = Array(document("<acquire cpu=\"0\" lock=\"A\"\(attributes(100_000))/>").utf8)
        var offset = 0
        var chunks = 0
        let reader = TraceReader(displayName: "hostile.xml", fileIndex: 0, symbols: SymbolTable())
        do {
            try reader.read(
                chunks: {
                    guard offset < bytes.count else { return nil }
                    chunks += 1
                    let end = min(offset + TraceReader.chunkSize, bytes.count)
                    defer { offset = end }
                    return bytes[offset..<end]
                },
                header: { _ in }, event: { _ in })
            Issue.record("accepted")
        } catch let error as TraceInputError {
            // Generated XML (an import) reports column 1.
            #expect(error == TraceInputError(file: "hostile.xml", line: 4, column: 1, message: "<acquire> has more than 1000 attributes"))
        }
        #expect(bytes.count > 10 * TraceReader.chunkSize)
        #expect(chunks <= 2, "\(chunks) chunks read")
        // A file that ends inside such a tag says what is wrong with it, not that it ended.
        let cut = Array(bytes.prefix(bytes.count / 2))
        #expect(inputError(cut)?.message == "<acquire> has more than 1000 attributes")
    }

    /// Comments, processing instructions, CDATA sections and values of any length are
    /// counted as nothing: an '=' or a '>' in them is not an attribute, nor an end.
    @Test func longCommentsAndValuesAreNotCountedAsAttributes() throws {
        let markup = String(repeating: "<acquire cpu=\"0\" lock='A' x=1> ", count: 10_000)
        let value = String(repeating: "a=b>c 'q' ", count: 30_000)
        let quoted = String(repeating: "a=b>c \"q\" ", count: 30_000)
        let body = "<!-- \(markup) -->\n<?pgtrace \(markup)?>\n<![CDATA[\(String(repeating: " ", count: 200_000))]]>\n"
            + "<acquire cpu=\"0\" lock=\"A\" x-v=\"\(value)\" x-w='\(quoted)'/>\n<release cpu=\"0\" lock=\"A\"/>"
        let bytes = Array(document(body).utf8)
        #expect(bytes.count > 16 * TraceReader.chunkSize)
        for validating in [false, true] {
            #expect(inputError(bytes, validating: validating) == nil)
        }
        var events: [Event] = []
        try TraceReader(displayName: "long.xml", fileIndex: 0, symbols: SymbolTable())
            .read(bytes: bytes, header: { _ in }, event: { events.append($0) })
        #expect(events.count == 2)
        #expect(events.first?.position.line == 7)
    }

    @Test func hugeNumbersAreRefusedNotWrapped() {
        expectInputError(Array(document("<acquire cpu=\"99999999999999999999999\" lock=\"A\"/>").utf8), line: 4, "is too large: '99999999999999999999999' (at most 9223372036854775807)")
        expectInputError(Array(document("<pgd-populate cpu=\"0\" pgd=\"P\" index=\"-1\"/>").utf8), line: 4, "must be an integer >= 0, not '-1'")
    }

    @Test func aTraceThatStopsMidTagOrMidAttribute() {
        let whole = document("<acquire cpu=\"0\" lock=\"A\"/>")
        for cut in [whole.count - 3, whole.count - 30, 60, 75] {
            let bytes = Array(whole.utf8.prefix(cut))
            do {
                try Analysis().analyze(bytes: bytes, displayName: "cut.xml")
                Issue.record("a trace cut at \(cut) bytes was accepted")
            } catch let error as TraceInputError {
                #expect(error.line != nil, "\(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func replayingNonsenseInOrderIsAnErrorNotACrash() {
        expectInputError(Array(document("<softirq-exit cpu=\"3\"/>").utf8), line: 4, "outside any softirq")
        expectInputError(Array(document("<hardirq-enter cpu=\"0\"/><softirq-exit cpu=\"0\"/>").utf8), line: 4, "inside a hardirq")
        expectInputError(Array(document("<lockless-walk-begin cpu=\"0\"/><lockless-walk-begin cpu=\"0\"/>").utf8), line: 4, "inside another")
    }
}
