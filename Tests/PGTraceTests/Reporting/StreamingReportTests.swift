import Foundation
@testable import PGTrace
import Testing

/// Reports are written a finding at a time, so that thousands of findings never make one
/// string in memory, and the pieces make the same bytes as the whole.
@Suite struct StreamingReportTests {
    /// Many short AB-BA cycles, one finding each.
    static func cycles(_ count: Int) throws -> AnalysisReport {
        var trace = TraceBuilder()
        for index in 0..<count {
            for (outer, inner) in [("A\(index)", "B\(index)"), ("B\(index)", "A\(index)")] {
                trace.acquire(outer)
                trace.acquire(inner)
                trace.release(inner)
                trace.release(outer)
            }
        }
        return AnalysisReport(try analyze(trace))
    }

    @Test func textAndJSONComeAFindingAtATime() throws {
        let report = try Self.cycles(50)
        #expect(report.findings.count == 50)
        var textPieces: [String] = []
        TextReporter().write(report) { textPieces.append($0) }
        #expect(textPieces.count == 51)
        #expect(textPieces.joined() == TextReporter().render(report))
        var jsonPieces: [String] = []
        JSONReporter().write(report) { jsonPieces.append($0) }
        #expect(jsonPieces.count > 50)
        #expect(jsonPieces.allSatisfy { $0.utf8.count < 8192 }, "no piece holds many findings")
        let json = jsonPieces.joined()
        let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect((document?["findings"] as? [Any])?.count == 50)
        #expect(((document?["graph"] as? [String: Any])?["dependencies"] as? [Any])?.count == 100)
    }

    /// `pgtrace graph --format json` writes a class and a dependency at a time too (the
    /// encoder's tree of a million dependencies took gigabytes).
    @Test func theGraphComesADependencyAtATime() throws {
        let view = LockGraphView(try Self.cycles(50))
        #expect(view.edges.count == 100)
        var pieces: [String] = []
        JSONReporter().write(view) { pieces.append($0) }
        #expect(pieces.count > 200)
        #expect(pieces.allSatisfy { $0.utf8.count < 8192 }, "no piece holds many dependencies")
        // The bytes against the encoder's whole document: the golden seeds.graph.json
        // (ReportFormatTests, written whole before) and the empty graph below.
        let document = try JSONSerialization.jsonObject(with: Data(pieces.joined().utf8)) as? [String: Any]
        #expect((document?["dependencies"] as? [[String: Any]])?.filter { $0["flaggedBy"] != nil }.count == 100)
        #expect((document?["classes"] as? [Any])?.count == 100)
    }

    @Test func anEmptyGraphIsTheEncodersEmptyDocument() throws {
        struct Empty: Encodable { var classes: [Int] = []; var dependencies: [Int] = [] }
        let view = LockGraphView(AnalysisReport(try analyze(TraceBuilder())))
        #expect(view.nodes.isEmpty && view.edges.isEmpty)
        #expect(JSONReporter().render(view) == prettyJSON(Empty()))
    }

    @Test func anEmptyReportIsTheEncodersEmptyDocument() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.release("A")
        let json = JSONReporter().render(AnalysisReport(try analyze(trace)))
        #expect(json.hasPrefix("{\n  \"findings\" : [\n\n  ],\n  \"graph\" : {\n    \"classes\" : [\n      {\n"))
        #expect(json.contains("    \"dependencies\" : [\n\n    ]\n  },\n  \"notes\" : [\n\n  ],\n  \"summary\" : {\n"))
        #expect(json.hasSuffix("    \"warnings\" : 0\n  }\n}\n"))
    }

    /// The writer's splicing against the encoder's own print of the whole document: nested
    /// objects, empty and nested empty arrays, escapes and unicode.
    @Test func piecesSplicedAreTheEncodersWholeDocument() {
        struct Leaf: Encodable { var name: String; var empty: [Int]; var nested: [[String]] }
        struct Document: Encodable { var items: [Leaf]; var none: [Leaf]; var tail: [String: [Int]] }
        let leaves = [
            Leaf(name: "a\n\"b\"/c \u{e9}", empty: [], nested: [[], ["x"]]),
            Leaf(name: "", empty: [], nested: []),
        ]
        let whole = prettyJSON(Document(items: leaves, none: [], tail: ["k": [], "l": [1, 2]]))
        let json = PrettyJSONWriter()
        var pieces = "{\n  \"items\" : "
        json.writeArray(leaves, depth: 1) { pieces += $0 }
        pieces += ",\n  \"none\" : "
        json.writeArray([Leaf](), depth: 1) { pieces += $0 }
        pieces += ",\n  \"tail\" : " + json.encode(["k": [Int](), "l": [1, 2]], depth: 1) + "\n}\n"
        #expect(pieces == whole)
    }
}
