import Foundation
import PGTrace
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

    @Test func anEmptyReportIsTheEncodersEmptyDocument() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.release("A")
        let json = JSONReporter().render(AnalysisReport(try analyze(trace)))
        #expect(json.hasPrefix("{\n  \"findings\" : [\n\n  ],\n  \"graph\" : {\n    \"classes\" : [\n      {\n"))
        #expect(json.contains("    \"dependencies\" : [\n\n    ]\n  },\n  \"notes\" : [\n\n  ],\n  \"summary\" : {\n"))
        #expect(json.hasSuffix("    \"warnings\" : 0\n  }\n}\n"))
    }
}
