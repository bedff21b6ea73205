import Testing

@testable import PGTrace

/// What `pgtrace summarize` writes, line by line, where its order is its own to choose.
@Suite struct SummaryWriterTests {
    @Test func declaredClassesWhoseNamesReadTheSameComeInTheOrderDeclared() throws {
        // Three spellings of "LÅ" (U+00C5, U+212B, A + U+030A), declared and never taken:
        // equal to String's order, they came out in the hash table's order, another each run.
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <trace version="1" cpus="1"><classes>
            <class name="L\u{00C5}" type="mutex"/>
            <class name="L\u{212B}" type="mutex"/>
            <class name="LA\u{030A}" type="mutex"/>
            </classes><events>
            <acquire cpu="0" lock="x"/><release cpu="0" lock="x"/>
            </events></trace>
            """
        let summary = try SummaryMergeTests.summary([(name: "declared.xml", xml: xml)])
        let declared = summary.split(separator: "\n").filter { $0.contains("\"declaration\":true") }
        #expect(declared == [
            #"{"declaration":true,"declared":{"at":[0,3,1]},"nameSym":2,"type":"mutex"}"#,
            #"{"declaration":true,"declared":{"at":[0,4,1]},"nameSym":3,"type":"mutex"}"#,
            #"{"declaration":true,"declared":{"at":[0,5,1]},"nameSym":4,"type":"mutex"}"#,
        ])
    }
}
