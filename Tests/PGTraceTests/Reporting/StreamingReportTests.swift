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

    /// `lint`'s SARIF and JUnit too: the encoder's tree of a whole SARIF log took 420 MB for 16k
    /// findings, and JUnit's document was one string.
    @Test func sarifAndJUnitComeAFindingAtATime() throws {
        let report = try Self.cycles(50)
        var sarifPieces: [String] = []
        SARIFReporter().write(report) { sarifPieces.append($0) }
        #expect(sarifPieces.count > 50)
        #expect(sarifPieces.allSatisfy { $0.utf8.count < 16384 }, "no piece holds many findings")
        #expect(sarifPieces.joined() == SARIFReporter().render(report))
        let log = try JSONSerialization.jsonObject(with: Data(sarifPieces.joined().utf8)) as? [String: Any]
        #expect(((log?["runs"] as? [[String: Any]])?.first?["results"] as? [Any])?.count == 50)

        var junitPieces: [String] = []
        JUnitReporter().write(report) { junitPieces.append($0) }
        #expect(junitPieces.count > 50)
        #expect(junitPieces.allSatisfy { $0.utf8.count < 16384 }, "no piece holds many findings")
        let junit = junitPieces.joined()
        #expect(junit == JUnitReporter().render(report))
        #expect(junit.contains("<testsuites name=\"pgtrace\" tests=\"50\" failures=\"50\" errors=\"0\">\n"))
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

    /// DOT and GraphML too: a kernel's graph of tens of thousands of dependencies is never
    /// one string in memory.
    @Test func dotAndGraphMLComeADependencyAtATime() throws {
        let view = LockGraphView(try Self.cycles(50))
        for (name, write, render) in [
            ("dot", { DOTWriter().write(view, to: $0) }, DOTWriter().render(view)),
            ("graphml", { GraphMLWriter().write(view, to: $0) }, GraphMLWriter().render(view)),
        ] as [(String, ((String) -> Void) -> Void, String)] {
            var pieces: [String] = []
            write { pieces.append($0) }
            #expect(pieces.count > 200, "\(name)")
            #expect(pieces.allSatisfy { $0.utf8.count < 4096 }, "\(name): no piece holds many dependencies")
            #expect(pieces.joined() == render, "\(name)")
            // Every edge written: a DOT edge line holds " -> ", a GraphML one "<edge ".
            let marker = name == "dot" ? " -> " : "<edge "
            #expect(pieces.filter { $0.contains(marker) }.count == view.edges.count, "\(name)")
        }
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

    /// The hand-written JSON against the encoder's own print of the same values: nested
    /// objects, empty and nested empty arrays and objects, nil left out, every control
    /// character, quotes, backslashes, slashes, unicode; and a document spliced from pieces.
    @Test func handWrittenJSONIsTheEncodersByteForByte() {
        struct Leaf: Encodable, JSONWritable {
            var empty: [Int]
            var flag: Bool?
            var name: String
            var nested: [[String]]
            var number: Int

            func write(to json: inout PrettyJSONText) {
                json.beginObject()
                json.field("empty", empty)
                json.field("flag", flag)
                json.field("name", name)
                json.field("nested", nested)
                json.field("number", number)
                json.endObject()
            }
        }
        struct Document: Encodable, JSONWritable {
            var items: [Leaf]
            var map: [String: String]
            var none: [Leaf]
            var nothing: [String: String]

            func write(to json: inout PrettyJSONText) {
                json.beginObject()
                json.field("items", items)
                json.field("map", map)
                json.field("none", none)
                json.field("nothing", nothing)
                json.endObject()
            }
        }
        let controls = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let leaves = [
            Leaf(empty: [], flag: true, name: "a\n\"b\"/c\\d \u{e9}\u{7f}\u{2028}\u{1F600}" + controls, nested: [[], ["x"]], number: -42),
            Leaf(empty: [1], flag: nil, name: "", nested: [], number: Int.max),
            Leaf(empty: [], flag: false, name: "plain", nested: [[""]], number: 0),
        ]
        let document = Document(items: leaves, map: ["b": "2", "B": "\"", "$": "", "a/": "x"], none: [], nothing: [:])
        #expect(PrettyJSONText.text(of: document) + "\n" == prettyJSON(document))

        var pieces = "{\n  \"items\" : "
        PrettyJSONText.writeArray(leaves, depth: 1) { pieces += $0 }
        pieces += ",\n  \"none\" : "
        PrettyJSONText.writeArray([Leaf](), depth: 1) { pieces += $0 }
        pieces += ",\n  \"tail\" : " + PrettyJSONText.text(of: ["k": "", "l": "1"], depth: 1) + "\n}\n"
        struct Spliced: Encodable { var items: [Leaf]; var none: [Leaf]; var tail: [String: String] }
        #expect(pieces == prettyJSON(Spliced(items: leaves, none: [], tail: ["k": "", "l": "1"])))
    }
}
