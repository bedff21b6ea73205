import Foundation
import PGTrace
import Testing

/// Every output format on the seed traces, against golden files, and checked by the tools
/// that read them: the OASIS SARIF schema, networkx for GraphML.
@Suite struct ReportFormatTests {
    static let seedTraces = [
        "traces/pgd-lock-abba.xml", "traces/thp-flush-under-page-table-lock.xml", "traces/pgd-free-in-irq.xml",
    ]

    private func report(_ traces: [String], policy: LockPolicy? = nil) throws -> AnalysisReport {
        let analysis = Analysis(options: AnalysisOptions(validatesSchema: true, policy: policy))
        for trace in traces { try analysis.analyze(path: Repository.path(trace), displayName: trace) }
        return AnalysisReport(analysis)
    }

    private func temporary(_ name: String, _ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-\(getpid())-\(name)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func goldenOutputs() throws {
        let seeds = try report(Self.seedTraces)
        expectGolden(DOTWriter().render(LockGraphView(seeds)), "seeds.dot")
        expectGolden(GraphMLWriter().render(LockGraphView(seeds)), "seeds.graphml")
        expectGolden(JSONReporter().render(LockGraphView(seeds)), "seeds.graph.json")
        expectGolden(JSONReporter().render(seeds), "seeds.analysis.json")
        expectGolden(TextReporter().render(seeds), "seeds.txt")
        expectGolden(SARIFReporter().render(seeds), "seeds.sarif")
        let junit = try report(["traces/pgd-lock-abba.xml", "traces/thp-flush-after-unlock.xml"])
        expectGolden(JUnitReporter().render(junit), "abba-and-fixed-thp.junit.xml")
    }

    /// The reports of the 2026-12 vocabulary as lockdep and the kernel print them: wait-type
    /// usage strings, held-lock lists ("no locks held by" too), `BUG:` headers and
    /// __might_resched's in_atomic()/preempt_count/RCU nest depth lines. Each trace alone.
    @Test func goldenLockdepShapedReports() throws {
        let traces = [
            "traces/raw-spinlock-then-spinlock.xml", "traces/mutex-in-rcu-read-side.xml",
            "traces/nmi-printk-logbuf-lock.xml", "traces/pgd-lock-rwlock-write-in-irq.xml",
            "traces/workqueue-flush-under-rtnl.xml",
        ]
        let text = try traces.map { TextReporter().render(try report([$0])) }.joined(separator: "\n")
        expectGolden(text, "lockdep-shaped.txt")
    }

    @Test func sarifValidatesAgainstTheOASISSchema() throws {
        let sarif = SARIFReporter().render(try report(Self.seedTraces), accepted: [], hasBaseline: true)
        let path = try temporary("seeds.sarif", sarif)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let check = try python(
            "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1]))); print('valid')",
            [Repository.path("Tests/PGTraceTests/Fixtures/sarif-2.1.0.json"), path])
        #expect(check.status == 0 && check.output.contains("valid"), "\(check.output)")
    }

    /// A baseline in SARIF and JUnit: accepted findings are "unchanged" results and skipped
    /// testcases, the others "new" and failures, or, below --fail-on, passing with their text.
    @Test func aBaselineMarksSARIFResultsAndSkipsJUnitTestcases() throws {
        let report = try report(["traces/pgd-lock-abba.xml", "traces/thp-flush-under-page-table-lock.xml"])
        try #require(report.findings.count == 2)
        let accepted: Set = [report.findings[0].fingerprint]

        let sarif = SARIFReporter().render(report, accepted: accepted, hasBaseline: true)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any])
        let results = try #require((json["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])
        #expect(results.map { $0["baselineState"] as? String } == ["unchanged", "new"])
        #expect(!SARIFReporter().render(report).contains("baselineState"))

        let failing = JUnitReporter().render(report, accepted: accepted, failOn: .error)
        #expect(failing.contains("<testsuites name=\"pgtrace\" tests=\"2\" failures=\"1\" errors=\"0\">\n"))
        #expect(failing.contains("<testsuite name=\"traces/pgd-lock-abba.xml\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\">\n"))
        #expect(failing.contains("<testsuite name=\"traces/thp-flush-under-page-table-lock.xml\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\">\n"))
        #expect(failing.components(separatedBy: "<skipped message=\"accepted in the baseline\"/>").count == 2)
        let never = JUnitReporter().render(report, accepted: accepted, failOn: nil)
        #expect(never.contains("<testsuites name=\"pgtrace\" tests=\"2\" failures=\"0\" errors=\"0\">\n"))
        #expect(!never.contains("<failure") && never.contains("<system-out>"))
    }

    /// Two paths Swift calls equal (`é` as one code point, and as `e` and a combining accent)
    /// are two files: each cited event's URI is made from its own path's bytes.
    @Test func sarifURIsComeFromEachPathsOwnBytes() throws {
        var report = try report(["traces/pgd-lock-abba.xml"])
        let composed = "caf\u{e9}.xml", decomposed = "cafe\u{301}.xml"
        try #require(composed == decomposed && !composed.utf8.elementsEqual(decomposed.utf8))
        report.files = [composed]
        var findings = Array(report.findings)
        findings[0].locations[0].file = decomposed
        findings[0].locations[1].file = composed
        report.findings = FindingList(findings)
        let sarif = SARIFReporter().render(report)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any])
        let result = try #require((json["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]).first
        let primary = (result?["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
        #expect((primary?["artifactLocation"] as? [String: Any])?["uri"] as? String == "cafe%CC%81.xml")
        let related = (result?["relatedLocations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
        #expect((related?["artifactLocation"] as? [String: Any])?["uri"] as? String == "caf%C3%A9.xml")
    }

    /// A trace path's URI holds what a path segment may hold as it is, every other byte as
    /// %XX, a colon too (so "C:x" is no scheme): Foundation's `urlPathAllowed` less ":",
    /// which pgtrace used until it left Foundation proper, compared here byte for byte.
    @Test func sarifURIsEncodeWhatAPathSegmentCannotHold() throws {
        var report = try report(["traces/pgd-lock-abba.xml"])
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":")
        let paths = ["dir/a b.xml", "C:\\traces\\x.xml", "100%.xml", "q?x#y[1]{2}|^`<>\"'.xml", "~user/-._!$&()*+,;=@.xml",
                     "tab\there\u{7F}\u{1}.xml", "caf\u{e9}/\u{1F600}.dat", String(decoding: (0x20...0x7E).map { UInt8($0) }, as: UTF8.self)]
        for path in paths {
            report.files = [path]
            var findings = Array(report.findings)
            for index in findings[0].locations.indices { findings[0].locations[index].file = path }
            report.findings = FindingList(findings)
            let sarif = SARIFReporter().render(report)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any])
            let result = try #require((json["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]).first
            let primary = (result?["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
            let expected = try #require(path.addingPercentEncoding(withAllowedCharacters: allowed))
            #expect((primary?["artifactLocation"] as? [String: Any])?["uri"] as? String == expected, "\(path)")
        }
    }

    @Test func sarifCarriesRulesLocationsAndFingerprints() throws {
        let sarif = SARIFReporter().render(try report(["traces/pgd-lock-abba.xml"]))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any])
        let run = try #require((json["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.map { $0["id"] as? String } == Rule.allCases.map(\.rawValue))
        #expect(rules.allSatisfy { ($0["help"] as? [String: Any])?["text"] != nil })
        let result = try #require((run["results"] as? [[String: Any]])?.first)
        #expect(result["ruleId"] as? String == "circular-dependency")
        let location = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect((location["artifactLocation"] as? [String: Any])?["uri"] as? String == "traces/pgd-lock-abba.xml")
        #expect((location["region"] as? [String: Any])?["startLine"] as? Int == 32)
        #expect(((result["relatedLocations"] as? [[String: Any]])?.count ?? 0) >= 3)
        #expect((result["partialFingerprints"] as? [String: String])?["pgtraceFinding/v2"]?.count == 16)
    }

    @Test func graphMLLoadsInNetworkx() throws {
        let path = try temporary("seeds.graphml", GraphMLWriter().render(LockGraphView(try report(Self.seedTraces))))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let check = try python(
            "import sys, networkx; g = networkx.read_graphml(sys.argv[1]); print(sorted(d['label'] for _, d in g.nodes(data=True))); print(g.number_of_edges())",
            [path])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("['(hardirqs off)', 'mm->page_table_lock', 'pgd_lock']"), "\(check.output)")
        #expect(check.output.hasSuffix("5\n"), "\(check.output)")
    }

    @Test func namesAreEscapedForEachFormat() {
        let name = "&(&mm->page_table_lock)->rlock"
        #expect(DOTWriter.quoted(name) == "\"&(&mm->page_table_lock)->rlock\"")
        #expect(DOTWriter.quoted("a \"quoted\" \\ name\nnext") == "\"a \\\"quoted\\\" \\\\ name\\nnext\"")
        // Found in review: a quote or backslash with a combining accent, and CR LF, are one
        // character each, and were passed over; a lone CR was dropped, making two names one.
        #expect(DOTWriter.quoted("q\"\u{301}b\\\u{301}") == "\"q\\\"\u{301}b\\\\\u{301}\"")
        #expect(DOTWriter.quoted("a\r\nb") == "\"a\\\\x0d\\nb\"")
        #expect(DOTWriter.quoted("cr\rret") != DOTWriter.quoted("crret"))
        // Controls as the text report shows them (then DOT's own escape of the backslash),
        // never raw: a graph printed to a terminal would obey an escape sequence. One text a
        // name: a typed-out `\x1b` stays apart.
        let dotNames = ["evil\u{1b}[2J", "evil\\x1b[2J", "bell\u{7}", "del\u{7f}", "c1\u{85}"]
        let dotQuoted = dotNames.map(DOTWriter.quoted)
        #expect(dotQuoted == ["\"evil\\\\x1b[2J\"", "\"evil\\\\\\\\x1b[2J\"", "\"bell\\\\x07\"", "\"del\\\\x7f\"", "\"c1\\\\u{85}\""])
        #expect(Set(dotQuoted).count == dotNames.count)
        #expect(!dotQuoted.joined().unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
        #expect(GraphMLWriter.escaped(name) == "&amp;(&amp;mm-&gt;page_table_lock)-&gt;rlock")
        #expect(GraphMLWriter.escaped("<'\">\u{1}") == "&lt;&apos;&quot;&gt;\\x01")
        // One text a name: a backslash is doubled where it could read as the start of \xHH
        // (before x, a backslash or such a control), and left alone elsewhere.
        let names = ["lock\\x01", "lock\u{1}", "lock\\\u{1}", "lock\\\\x01", "a\\b", "a\\", "\\x"]
        let escaped = names.map { GraphMLWriter.escaped($0) }
        #expect(escaped == ["lock\\\\x01", "lock\\x01", "lock\\\\\\x01", "lock\\\\\\\\x01", "a\\b", "a\\", "\\\\x"])
        #expect(Set(escaped).count == names.count)
        // A combining mark makes one Character of "&" and itself: the ampersand is still escaped.
        #expect(GraphMLWriter.escaped("&\u{301}<\u{301}x\r\n\t") == "&amp;\u{301}&lt;\u{301}x&#13;\n\t")
        // A raw carriage return reads back as a newline: E\rx and E\nx were one name once read.
        #expect(GraphMLWriter.escaped("E\rx") == "E&#13;x")
        // U+FFFE and U+FFFF are no XML characters: their bytes as \xHH, a backslash before them doubled.
        #expect(GraphMLWriter.escaped("a\u{FFFE}b\u{FFFF}\\\u{FFFE}\u{FFFD}") == "a\\xef\\xbf\\xbeb\\xef\\xbf\\xbf\\\\\\xef\\xbf\\xbe\u{FFFD}")
    }

    @Test func aWrappedKernelNameSurvivesEveryFormat() throws {
        var trace = TraceBuilder()
        trace.acquire("&(&mm->page_table_lock)->rlock")
        trace.acquire("&(ptlock_ptr(page))->rlock")
        let analysis = try analyze(trace)
        let view = LockGraphView(AnalysisReport(analysis))
        let graphml = try temporary("names.graphml", GraphMLWriter().render(view))
        defer { try? FileManager.default.removeItem(atPath: graphml) }
        let check = try python(
            "import sys, networkx; g = networkx.read_graphml(sys.argv[1]); print(sorted(d['label'] for _, d in g.nodes(data=True)))",
            [graphml])
        #expect(check.output.contains("['&(&mm->page_table_lock)->rlock', '&(ptlock_ptr(page))->rlock']"), "\(check.output)")
        #expect(DOTWriter().render(view).contains("\"&(&mm->page_table_lock)->rlock\" -> \"&(ptlock_ptr(page))->rlock\""))
    }

    @Test func focusAndCyclesOnlyDrawLess() throws {
        var trace = TraceBuilder()
        for (first, second) in [("A", "B"), ("B", "A"), ("B", "C"), ("D", "E")] {
            trace.acquire(first)
            trace.acquire(second)
            trace.release(second)
            trace.release(first)
        }
        let report = AnalysisReport(try analyze(trace))
        let all = LockGraphView(report)
        #expect(all.nodes.map(\.name).sorted() == ["A", "B", "C", "D", "E"])
        let cycles = LockGraphView(report, cyclesOnly: true)
        #expect(cycles.nodes.map(\.name).sorted() == ["A", "B"])
        #expect(cycles.edges.map { "\($0.from)->\($0.to)" }.sorted() == ["A->B", "B->A"])
        let focus = LockGraphView(report, focus: "C")
        #expect(focus.nodes.map(\.name).sorted() == ["A", "B", "C"])
        #expect(focus.edges.map { "\($0.from)->\($0.to)" }.sorted() == ["A->B", "B->A", "B->C"])
        #expect(all.edges.first { $0.from == "B" && $0.to == "A" }?.flaggedBy == ["circular-dependency"])
    }

    // MARK: Fingerprints and baselines

    @Test func fingerprintsSurviveUnrelatedEvents() throws {
        let original = try String(contentsOfFile: Repository.path("traces/pgd-lock-abba.xml"), encoding: .utf8)
        let edited = original.replacingOccurrences(
            of: "  <events>\n",
            with: "  <events>\n    <acquire cpu=\"1\" lock=\"zone->lock\"/>\n    <might-sleep cpu=\"0\"/>\n    <release cpu=\"1\" lock=\"zone->lock\"/>\n")
        #expect(edited != original)
        let before = try analyze([("traces/pgd-lock-abba.xml", original)]).findings
        let after = try analyze([("traces/pgd-lock-abba.xml", edited)]).findings
        #expect(before.count == 1 && after.count == 1)
        #expect(before.map(\.fingerprint) == after.map(\.fingerprint))
        #expect(before[0].locations[0].line != after[0].locations[0].line)
    }

    @Test func aBaselineRoundTripsAndTellsNewFromStale() throws {
        let abba = try Array(report(["traces/pgd-lock-abba.xml"]).findings)
        let baseline = try Baseline(json: Array(Baseline(findings: abba).json.utf8), file: "baseline.json")
        let same = baseline.compare(abba)
        #expect(same.new.isEmpty && same.accepted.count == 1 && same.stale.isEmpty)
        let irq = try Array(report(["traces/pgd-free-in-irq.xml"]).findings)
        let other = baseline.compare(irq)
        #expect(other.new.count == 2 && other.accepted.isEmpty && other.stale.map(\.rule) == ["circular-dependency"])
        #expect(throws: TraceInputError.self) { try Baseline(json: Array("{\"version\": 7, \"findings\": []}".utf8), file: "b.json") }
    }

    // MARK: Policy

    @Test func aPolicyViolationIsAFindingWithoutACycle() throws {
        let policy = try LockPolicy(
            text: "# the mm's lock comes first\nmm->page_table_lock < pgd_lock\n", file: "policy.txt")
        let findings = try report(["traces/pgd-lock-abba-fixed.xml"], policy: policy).findings
        #expect(findings.map(\.rule) == [.lockOrderPolicy])
        #expect(findings[0].locks == ["pgd_lock", "mm->page_table_lock"])
        #expect(findings[0].message.contains("(policy.txt:2)"))
        let agreeing = try LockPolicy(text: "pgd_lock < mm->page_table_lock", file: "policy.txt")
        #expect(try report(["traces/pgd-lock-abba-fixed.xml"], policy: agreeing).findings.isEmpty)
    }

    @Test func policiesChainAndCloseTransitively() throws {
        let policy = try LockPolicy(text: "kmap:PAGETABLE2 < kmap:PAGETABLE < kmap:DEFAULT\n", file: "p")
        #expect(policy.declaration("kmap:PAGETABLE2", before: "kmap:DEFAULT")?.line == 1)
        #expect(policy.declaration("kmap:DEFAULT", before: "kmap:PAGETABLE2") == nil)
        var trace = TraceBuilder()
        trace.event("kmap", [("page", "F"), ("series", "DEFAULT")])
        trace.event("kmap", [("page", "T"), ("series", "PAGETABLE2")])
        let analysis = Analysis(options: AnalysisOptions(policy: policy))
        try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: "t.xml")
        #expect(analysis.findings.map(\.rule) == [.lockOrderPolicy])
    }

    @Test(arguments: ["a <", "< b", "a > b", "a << b"])
    func aBrokenPolicyLineIsAnInputError(_ line: String) {
        #expect(throws: TraceInputError.self) { try LockPolicy(text: "ok < fine\n\(line)\n", file: "p.txt") }
        do {
            _ = try LockPolicy(text: "ok < fine\n\(line)\n", file: "p.txt")
        } catch let error as TraceInputError {
            #expect(error.description.hasPrefix("p.txt:2:1: error:"))
        } catch {}
    }

    // MARK: Validation

    @Test func everyShippedTraceValidates() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces")).filter { $0.hasSuffix(".xml") }
        #expect(!names.isEmpty)
        for name in names {
            let reader = TraceReader(displayName: name, fileIndex: 0, symbols: SymbolTable())
            #expect(throws: Never.self, "\(name)") {
                try reader.read(path: Repository.path("traces/\(name)"), schema: .v1, header: { _ in }, event: { _ in })
            }
        }
    }

    @Test func theEmbeddedSchemaIsTheShippedOne() throws {
        let shipped = try String(contentsOfFile: Repository.path("schemas/trace-v1.xsd"), encoding: .utf8)
        #expect(shipped == traceSchemaV1Text + "\n" || shipped == traceSchemaV1Text, "run scripts/embed-schema.sh")
    }

    @Test(arguments: [
        ("<acquire cpu=\"0\" lock=\"A\" colour=\"red\"/>", "attribute 'colour': The attribute 'colour' is not allowed"),
        ("<acquire cpu=\"0\" lock=\"\"/>", "attribute 'lock'"),
        ("<tlb-flush cpu=\"0\" targets=\"some\"/>", "attribute 'targets'"),
        ("<pin cpu=\"0\" page=\"X\" level=\"p4d\"/>", "attribute 'level'"),
        ("<frobnicate cpu=\"0\"/>", "Element 'frobnicate'"),
    ])
    func schemaErrorsNameTheirPlace(_ body: String, _ fragment: String) throws {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events>\n\(body)\n</events>\n</trace>\n"
        let reader = TraceReader(displayName: "bad.xml", fileIndex: 0, symbols: SymbolTable())
        do {
            try reader.read(bytes: Array(xml.utf8), schema: .v1, header: { _ in }, event: { _ in })
            Issue.record("accepted: \(body)")
        } catch let error as TraceInputError {
            #expect(error.line == 4 && error.column == 1, "\(error)")
            #expect(error.message.contains("does not match schemas/trace-v1.xsd"), "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }

    @Test func extensionsPassValidation() throws {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\" x-tool=\"perf\">\n<events>\n<x-marker cpu=\"0\"><x-inner/></x-marker>\n<acquire cpu=\"0\" lock=\"A\" x-note=\"n\"/>\n</events>\n</trace>\n"
        let reader = TraceReader(displayName: "x.xml", fileIndex: 0, symbols: SymbolTable())
        var count = 0
        try reader.read(bytes: Array(xml.utf8), schema: .v1, header: { _ in }, event: { _ in count += 1 })
        #expect(count == 1)
    }
}
