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
        let attributes = (0..<10_000).map { " x-a\($0)=\"v\"" }.joined()
        try Analysis().analyze(bytes: Array(document("<acquire cpu=\"0\" lock=\"A\"\(attributes)/>").utf8), displayName: "wide.xml")
        expectInputError(Array(document("<acquire cpu=\"0\" cpu=\"1\" lock=\"A\"/>").utf8), line: 4, "malformed XML")
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
