import Foundation
import Testing

/// `pgtrace lint`, `graph` and `validate` as a CI job runs them.
@Suite struct LintCommandTests {
    let cli = AnalyzeCommandTests()

    private func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-lint-\(getpid())-\(name)").path
    }

    @Test func aBaselineLetsCIFailOnlyOnNewFindings() throws {
        let baseline = temporaryPath("baseline.json")
        defer { try? FileManager.default.removeItem(atPath: baseline) }
        let first = try cli.pgtrace(["lint", "traces/pgd-lock-abba.xml", "--write-baseline", baseline])
        #expect(first.status == 1)
        let accepted = try cli.pgtrace(["lint", "traces/pgd-lock-abba.xml", "--baseline", baseline])
        #expect(accepted.status == 0, "\(accepted.stdout)")
        #expect(accepted.stdout.contains("0 new findings (0 errors), 1 accepted, 0 stale"))
        let newOne = try cli.pgtrace(["lint", "traces/pgd-lock-abba.xml", "traces/thp-flush-under-page-table-lock.xml", "--baseline", baseline])
        #expect(newOne.status == 1)
        #expect(newOne.stdout.contains("1 new finding (1 error), 1 accepted"))
        let stale = try cli.pgtrace(["lint", "traces/pgd-lock-abba-fixed.xml", "--baseline", baseline, "--format", "sarif"])
        #expect(stale.status == 0)
        #expect(stale.stderr.contains("stale baseline entry"))
    }

    /// `-o F --write-baseline F` would write the report and then the baseline over it: the
    /// report lost without a word. Refused before anything is read.
    @Test func theReportAndTheBaselineMustBeTwoFiles() throws {
        let file = temporaryPath("both.json")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let url = URL(fileURLWithPath: file)
        let sameFileOtherSpelling = url.deletingLastPathComponent().path + "/./" + url.lastPathComponent
        for baseline in [file, sameFileOtherSpelling] {
            let run = try cli.pgtrace(["lint", "traces/pgd-lock-abba.xml", "-o", file, "--write-baseline", baseline])
            #expect(run.status == 2)
            #expect(run.stderr.contains("is also the --write-baseline file"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: file))
        }
        // Two files: the report in one, the baseline in the other.
        let report = temporaryPath("report.txt")
        defer { try? FileManager.default.removeItem(atPath: report) }
        let run = try cli.pgtrace(["lint", "traces/pgd-lock-abba.xml", "-o", report, "--write-baseline", file])
        #expect(run.status == 1)
        #expect(try String(contentsOfFile: report, encoding: .utf8).contains("circular-dependency"))
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("\"fingerprint\""))
    }

    /// `--write-baseline` naming where standard output goes (the file the shell sent it to,
    /// /dev/stdout), with the report on standard output too, would write both into one
    /// stream: a baseline no one can read back, a report with JSON after it. Refused before
    /// anything is read; with the report in a file of its own, or none (`--quiet`), the
    /// baseline may go to standard output, and with standard output a device (a terminal,
    /// /dev/null) both may.
    @Test func theBaselineCannotShareStandardOutputWithTheReport() throws {
        let directory = try CommandRunner.temporaryDirectory("baseline-stdout")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trace = Repository.path("traces/pgd-lock-abba.xml")
        let run = try CommandRunner.run(["-c", """
            "$PGTRACE" lint '\(trace)' --write-baseline both > both 2> err; echo "file $? $(wc -c < both) $(cut -d: -f2- err | sed 's/^ //')"
            "$PGTRACE" lint '\(trace)' --write-baseline /dev/stdout > dev 2> /dev/null; echo "/dev/stdout $? $(wc -c < dev)"
            "$PGTRACE" lint '\(trace)' --write-baseline /dev/stdout 2> /dev/null | wc -c; echo "pipe ${PIPESTATUS[0]}"
            "$PGTRACE" lint '\(trace)' --write-baseline /dev/stdout > /dev/null; echo "/dev/null $?"
            "$PGTRACE" lint '\(trace)' --quiet --write-baseline /dev/stdout > quiet; echo "quiet $? $(head -c 1 quiet)"
            "$PGTRACE" lint '\(trace)' --output report --write-baseline /dev/stdout > baseline; echo "report $? $(head -c 1 baseline) $(grep -c circular-dependency report)"
            """], directory: directory, environment: ["PGTRACE": CommandRunner.binary.path], executable: URL(fileURLWithPath: "/bin/bash"))
        #expect(run.stdout == """
            file 2 0 error: is where standard output goes, and the report goes there too; give the report --output or the baseline another path
            /dev/stdout 2 0
            0
            pipe 2
            /dev/null 1
            quiet 1 {
            report 1 { 1

            """, "\(run.stdout) \(run.stderr)")
        let baseline = try Data(contentsOf: URL(fileURLWithPath: directory + "/quiet"))
        #expect(try JSONSerialization.jsonObject(with: baseline) is [String: Any])
    }

    /// A large graph is drawn around its findings by default; the picture says it is a part
    /// (it said so only on standard error, and a DOT file read later looked whole).
    @Test func aGraphDrawnAroundFindingsSaysItIsAPart() throws {
        var trace = TraceBuilder()
        for index in 0..<320 { trace.nest("c\(index)", "c\(index + 1)") }
        trace.nest("A", "B")
        trace.nest("B", "A")
        let file = temporaryPath("large.xml")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try trace.xml.write(toFile: file, atomically: true, encoding: .utf8)
        let part = try cli.pgtrace(["graph", file])
        #expect(part.status == 0)
        #expect(part.stdout.contains(
            "  label=\"pgtrace: the 2 classes and 2 dependencies around findings, of 323 and 322 (pgtrace graph --all draws them all)\"; labelloc=t;\n"))
        #expect(part.stderr.contains("are too many to draw"))
        let whole = try cli.pgtrace(["graph", "--all", file])
        #expect(whole.status == 0)
        #expect(!whole.stdout.contains("pgtrace: the"))
        #expect(whole.stdout.components(separatedBy: " -> ").count - 1 == 322)
    }

    /// `--output` writes validate's report, as every reporting command's (cli-contract.md).
    @Test func validateWritesItsReportWhereOutputSays() throws {
        let file = temporaryPath("validate.txt")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let run = try cli.pgtrace(["validate", "traces/pgd-lock-abba.xml", "-o", file])
        #expect(run.status == 0)
        #expect(run.stdout.isEmpty)
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("traces/pgd-lock-abba.xml: valid ("))
        // --quiet keeps standard output empty, and the report asked for is still written.
        let quiet = try cli.pgtrace(["validate", "--quiet", "traces/pgd-lock-abba.xml", "-o", file])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty)
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("traces/pgd-lock-abba.xml: valid ("))
        let onInput = try cli.pgtrace(["validate", "traces/pgd-lock-abba.xml", "--output", "traces/pgd-lock-abba.xml"])
        #expect(onInput.status == 2)
        #expect(onInput.stderr.contains("refusing to overwrite it"))
    }

    /// One AB-BA told by two traces with different kernel functions, in opposite orders.
    static let abba = [
        ("first.xml", [("A", "B", "f_forward"), ("B", "A", "f_backward")]),
        ("second.xml", [("B", "A", "g_backward"), ("A", "B", "g_forward")]),
    ]

    static func trace(_ pairs: [(String, String, String)]) -> String {
        var events = ""
        for (first, second, fn) in pairs {
            for (kind, lock) in [("acquire", first), ("acquire", second), ("release", second), ("release", first)] {
                events += "    <\(kind) cpu=\"0\" task=\"\(fn)\" lock=\"\(lock)\" fn=\"\(fn)\"/>\n"
            }
        }
        return "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n  <events>\n\(events)  </events>\n</trace>\n"
    }

    @Test func baselinesWrittenOneByOneAcceptEverythingLintedTogether() throws {
        let directory = try CommandRunner.temporaryDirectory("baselines")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var traces: [String] = []
        for (name, pairs) in Self.abba {
            try Self.trace(pairs).write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            traces.append(directory + "/" + name)
        }
        // The shipped traces too, each with its own baseline.
        traces += try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))
            .filter { $0.hasSuffix(".xml") }.sorted().map { Repository.path("traces/\($0)") }
        var merged: [[String: Any]] = []
        for (index, trace) in traces.enumerated() {
            let baseline = directory + "/baseline-\(index).json"
            let run = try cli.pgtrace(["lint", trace, "--write-baseline", baseline])
            #expect(run.status == 0 || run.status == 1, "\(trace): \(run.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: baseline))) as? [String: Any])
            #expect(json["version"] as? Int == 2)
            merged += json["findings"] as? [[String: Any]] ?? []
        }
        let both = directory + "/merged.json"
        try JSONSerialization.data(withJSONObject: ["version": 2, "findings": merged]).write(to: URL(fileURLWithPath: both))
        // The pair alone: the one cycle is the one each baseline accepted.
        for order in [Array(traces[0..<2]), Array(traces[0..<2].reversed())] {
            let run = try cli.pgtrace(["lint"] + order + ["--baseline", both])
            #expect(run.status == 0, "\(run.stdout)")
            #expect(run.stdout.contains("0 new findings (0 errors), 1 accepted"), "\(run.stdout)")
        }
        // Everything together, in both orders: every finding a trace showed alone keeps its
        // fingerprint (what only the merged graph shows, an irq-safe class in one trace meeting
        // its unsafe dependency in another, is rightly new). In the order given no entry goes
        // stale; reversed, the rwlock trace comes first and the spinlock traces go apart with
        // it, so other traces share a graph and lockdep's first-found inversion differs.
        func identities(_ arguments: [String]) throws -> [String: String] {
            let run = try cli.pgtrace(["analyze", "--format", "json"] + arguments)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            var result: [String: String] = [:]
            for finding in json["findings"] as? [[String: Any]] ?? [] {
                let locks = (finding["locks"] as? [String] ?? []).sorted().joined(separator: ",")
                let objects = (finding["objects"] as? [String] ?? []).sorted().joined(separator: ",")
                result[finding["fingerprint"] as? String ?? ""] = "\(finding["rule"] ?? "") \(locks) \(objects) \(finding["key"] ?? "")"
            }
            return result
        }
        var alone: [String: String] = [:]
        for trace in traces { alone.merge(try identities([trace])) { first, _ in first } }
        for order in [traces, traces.reversed()] {
            let together = try identities(order)
            for (fingerprint, identity) in together where alone.values.contains(identity) {
                #expect(alone[fingerprint] == identity, "\(identity) seen alone under another fingerprint")
            }
        }
        let run = try cli.pgtrace(["lint"] + traces + ["--baseline", both])
        #expect(run.stdout.contains(", 0 stale"), "\(run.stdout.suffix(300))")
        #expect(!run.stdout.contains("stale baseline entry"))
    }

    @Test func aVersion1BaselineIsRefusedWithTheWayOut() throws {
        let directory = try CommandRunner.temporaryDirectory("baseline-v1")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = directory + "/old.json"
        try #"{"version": 1, "findings": [{"fingerprint": "53bce757b68bfcdc", "rule": "circular-dependency", "message": "m"}]}"#
            .write(toFile: old, atomically: true, encoding: .utf8)
        let run = try cli.pgtrace(["lint", "traces/pgd-lock-abba.xml", "--baseline", old])
        #expect(run.status == 2)
        #expect(run.stderr.contains("a version 1 baseline"))
        #expect(run.stderr.contains("write it again with --write-baseline"))
    }

    @Test func sarifAndJUnitGoToTheOutputFile() throws {
        let sarif = temporaryPath("out.sarif")
        defer { try? FileManager.default.removeItem(atPath: sarif) }
        let run = try cli.pgtrace(["lint", "--format", "sarif", "--output", sarif, "traces/thp-flush-under-page-table-lock.xml"])
        #expect(run.status == 1)
        #expect(try String(contentsOfFile: sarif, encoding: .utf8).contains("\"ruleId\" : \"ipi-deadlock\""))
        let junit = try cli.pgtrace(["lint", "--format", "junit", "traces/thp-flush-after-unlock.xml"])
        #expect(junit.status == 0)
        #expect(junit.stdout.contains("<testcase classname=\"pgtrace\" name=\"no findings\""))
    }

    @Test func lintRefusesWhatTheSchemaRefuses() throws {
        let run = try cli.pgtrace(
            ["lint", "-"],
            stdin: "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events>\n<acquire cpu=\"0\" lock=\"A\" mode=\"exclusive\"/>\n</events></trace>\n")
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("<stdin>:4:1: error: does not match schemas/trace-v1.xsd:"))
    }

    /// The validator sees `<events>` in segments of a thousand events: an element the schema
    /// refuses is refused in the same words wherever it stands past the first event, the
    /// thousand-and-first included (a segment opened on it listed what libxml2 expected).
    @Test func anElementTheSchemaRefusesReadsTheSameAtEveryPosition() throws {
        func trace(eventsBefore count: Int, then refused: String = "<bogus cpu=\"0\"/>", events: String = "<events>") -> String {
            let pair = "<acquire cpu=\"0\" task=\"t\" lock=\"a\"/>\n<release cpu=\"0\" task=\"t\" lock=\"a\"/>\n"
            return "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n\(events)\n"
                + String(repeating: pair, count: count / 2) + refused + "\n</events></trace>\n"
        }
        let refusal = "error: does not match schemas/trace-v1.xsd: Element 'bogus': This element is not expected.\n"
        for before in [2, 1_000, 2_000, 3_002] {
            let run = try cli.pgtrace(["validate", "-"], stdin: trace(eventsBefore: before))
            #expect(run.status == 2)
            #expect(run.stderr == "<stdin>:\(before + 4):1: \(refusal)", "\(before) events before")
        }
        // An event's name in a namespace of its own is no event either, wherever it stands.
        let foreign = "<release xmlns=\"urn:y\" cpu=\"0\" task=\"t\" lock=\"a\"/>"
        let first = try cli.pgtrace(["validate", "-"], stdin: trace(eventsBefore: 2, then: foreign))
        #expect(first.status == 2)
        #expect(first.stderr.hasPrefix("<stdin>:6:1: error: does not match schemas/trace-v1.xsd: Element '{urn:y}release'"), "\(first.stderr)")
        for before in [1_000, 2_000] {
            let run = try cli.pgtrace(["validate", "-"], stdin: trace(eventsBefore: before, then: foreign))
            #expect(run.status == 2)
            #expect(run.stderr == first.stderr.replacing("<stdin>:6:", with: "<stdin>:\(before + 4):"), "\(before) events before")
        }
        // A QName value resolves against the namespaces <events> declared, in every segment.
        let declaring = "<events xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        let typed = "<acquire xsi:type=\"xs:string\" cpu=\"0\" task=\"t\" lock=\"a\"/>"
        let early = try cli.pgtrace(["validate", "-"], stdin: trace(eventsBefore: 2, then: typed, events: declaring))
        #expect(early.status == 2)
        #expect(early.stderr.hasPrefix("<stdin>:6:1: error: does not match schemas/trace-v1.xsd: Element 'acquire', attribute '{http://www.w3.org/2001/XMLSchema-instance}type': The type definition"), "\(early.stderr)")
        for command in ["validate", "lint"] {
            let run = try cli.pgtrace([command, "-"], stdin: trace(eventsBefore: 2_000, then: typed, events: declaring))
            #expect(run.status == 2)
            #expect(run.stderr == early.stderr.replacing("<stdin>:6:", with: "<stdin>:2004:"), "\(command)")
        }
        let valid = try cli.pgtrace(["validate", "-"], stdin: trace(eventsBefore: 2_500).replacing("<bogus cpu=\"0\"/>\n", with: ""))
        #expect(valid.status == 0, "\(valid.stderr)")
        #expect(valid.stdout == "<stdin>: valid (2500 events)\n")
    }

    @Test func textIsPlacedAtItsFirstCharacterWhicheverCommandReadsIt() throws {
        let events = "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events>\n<acquire cpu=\"0\" task=\"t\" lock=\"a\"/>"
        let end = "</events></trace>\n"
        let cases = [
            // (the document, where its text begins): after the acquire on line 4, ...
            (events + "hello\n" + end, "4:37"),
            (events + "\n\n   hello\n" + end, "6:4"),
            // CDATA, which libxml2 hands over standing at the section's start,
            (events + "\n  <![CDATA[  hello]]>\n" + end, "5:14"),
            (events + "\n<![CDATA[\n\n  hello]]>\n" + end, "7:3"),
            (events + "<![CDATA[hello]]>\n" + end, "4:46"),
            // 40,000 lines on,
            (events + "\n" + String(repeating: "<release cpu=\"0\" task=\"t\" lock=\"a\"/><acquire cpu=\"0\" task=\"t\" lock=\"a\"/>\n", count: 40_000) + "  hello\n" + end, "40005:3"),
            // after a CDATA section of non-ASCII on its line (libxml2's column counts its bytes),
            ("<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<meta>\n  <x-a><![CDATA[\u{E9}\u{E9}\u{E9}]]></x-a><![CDATA[z]]>\n</meta></trace>\n", "4:38"),
            // and on the first line: before a newline, and after the encoding declaration made
            // libxml2 start its buffer again.
            ("<trace version=\"1\" cpus=\"1\"><meta> x\n</meta></trace>\n", "1:36"),
            ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><trace version=\"1\">hello</trace>\n", "1:63"),
        ]
        for (trace, place) in cases {
            for command in ["validate", "lint", "analyze"] {
                let run = try cli.pgtrace([command, "-"], stdin: trace)
                #expect(run.status == 2)
                #expect(run.stderr.hasPrefix("<stdin>:\(place): error: "), "\(command): \(run.stderr)")
            }
        }
    }

    @Test func aPolicyFileGatesTheOrder() throws {
        let policy = temporaryPath("policy.txt")
        defer { try? FileManager.default.removeItem(atPath: policy) }
        try "# intended hierarchy\nmm->page_table_lock < pgd_lock\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let run = try cli.pgtrace(["lint", "--policy", policy, "traces/pgd-lock-abba-fixed.xml"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("[lock-order-policy]"))
        try "mm->page_table_lock pgd_lock\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let broken = try cli.pgtrace(["lint", "--policy", policy, "traces/pgd-lock-abba-fixed.xml"])
        #expect(broken.status == 2)
        #expect(broken.stderr.hasPrefix("\(policy):1:1: error: expected an ordering"))
    }

    @Test func validateChecksEveryTraceAndNamesTheBrokenOne() throws {
        let traces = try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))
            .filter { $0.hasSuffix(".xml") }.sorted().map { "traces/\($0)" }
        let good = try cli.pgtrace(["validate"] + traces)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.split(separator: "\n").count == traces.count)
        let bad = try cli.pgtrace(
            ["validate", "traces/pgd-lock-abba.xml", "-"],
            stdin: "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events>\n<pin cpu=\"0\"/>\n</events></trace>\n")
        #expect(bad.status == 2)
        #expect(bad.stdout.contains("traces/pgd-lock-abba.xml: valid (8 events)"))
        #expect(bad.stderr.contains("<stdin>:4:1: error: does not match schemas/trace-v1.xsd: Element 'pin': The attribute 'page' is required but missing."))
    }

    @Test func lintAndGraphTakeTextTracesOnStandardInputAndCheckTheirOptions() throws {
        let capture = try String(contentsOfFile: Repository.path("Tests/PGTraceTests/Fixtures/import/abba.perf-script.txt"), encoding: .utf8)
        let lint = try cli.pgtrace(["lint", "-"], stdin: capture)
        #expect(lint.status == 1)
        #expect(lint.stdout.contains("[circular-dependency]"))
        let graph = try cli.pgtrace(["graph", "-"], stdin: capture)
        #expect(graph.status == 0)
        #expect(graph.stdout.contains("\"pgd_lock\" -> \"&mm->page_table_lock\""))
        #expect(try cli.pgtrace(["lint", "--max-depth", "0", "traces/pgd-lock-abba-fixed.xml"]).status == 2)
    }

    @Test func standardInputIsReadOnce() throws {
        // A second "-" would be spooled over the first and read as an empty trace.
        let capture = try String(contentsOfFile: Repository.path("Tests/PGTraceTests/Fixtures/import/abba.perf-script.txt"), encoding: .utf8)
        for command in ["analyze", "graph", "lint"] {
            let run = try cli.pgtrace([command, "-", "-"], stdin: capture)
            #expect(run.status == 2, "\(command)")
            #expect(run.stderr.contains("standard input (-) can be given only once"), "\(command)")
        }
    }

    @Test func graphWritesEachFormat() throws {
        let dot = try cli.pgtrace(["graph", "--cycles-only", "traces/pgd-lock-abba.xml"])
        #expect(dot.status == 0)
        #expect(dot.stdout.hasPrefix("digraph \"lock order\" {"))
        #expect(dot.stdout.contains("\"mm->page_table_lock\" -> \"pgd_lock\" [label=\"traces/pgd-lock-abba.xml:32\\npgd_dtor\", color=red"))
        let graphml = try cli.pgtrace(["graph", "--format", "graphml", "traces/pgd-lock-abba.xml"])
        #expect(graphml.stdout.contains("<data key=\"n_label\">mm-&gt;page_table_lock</data>"))
        let json = try cli.pgtrace(["graph", "--format", "json", "--focus", "pgd_lock", "traces/pgd-lock-abba.xml"])
        #expect(json.stdout.contains("\"flaggedBy\" : ["))
        let unknown = try cli.pgtrace(["graph", "--focus", "no_such_lock", "traces/pgd-lock-abba.xml"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no lock class named 'no_such_lock'"))
    }
}
