import Foundation
import Testing

/// Runs the built `pgtrace` binary as a user or a CI job would, and checks what the contract
/// promises: exit status, the JSON findings and the lockdep-shaped text report.
@Suite struct AnalyzeCommandTests {
    typealias Run = CommandRunner.Run

    func pgtrace(_ arguments: [String], stdin: String? = nil) throws -> Run {
        try CommandRunner.run(arguments, stdin: stdin.map { Data($0.utf8) })
    }

    /// seed 000's window at pgd_mop_up_pmds only seen open (a warning) and seen hit by a
    /// walker (an error) are two problems: either order of the traces exits 1 with both (the
    /// warning's earlier evidence hid the error, exit 0), and a baseline that accepted the
    /// warning does not accept the error.
    @Test func aWindowSeenOpenDoesNotHideTheWindowSeenHit() throws {
        // Named so that the warning's trace sorts first: its evidence came first, and won.
        let directory = try CommandRunner.temporaryDirectory("severity")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let traces = ["\(directory)/a-seen-open.xml", "\(directory)/b-seen-hit.xml"]
        try FileManager.default.copyItem(atPath: Repository.path("traces/seed000-pgd-free-mop-up-before-unlist.xml"), toPath: traces[0])
        try FileManager.default.copyItem(atPath: Repository.path("traces/seed000-pgd-free-mop-up-before-unlist-walked.xml"), toPath: traces[1])
        for order in [traces, traces.reversed()] {
            let run = try pgtrace(["analyze"] + order)
            #expect(run.status == 1, "\(order)")
            #expect(run.stdout.hasSuffix("1 error, 1 warning\n"), "\(order): \(run.stdout.suffix(200))")
        }
        let baseline = "\(directory)/baseline.json"
        #expect(try pgtrace(["lint", "--write-baseline", baseline, traces[0]]).status == 0)
        let both = try pgtrace(["lint", "--baseline", baseline] + traces)
        #expect(both.status == 1)
        #expect(both.stdout.contains("1 new finding (1 error), 1 accepted"), "\(both.stdout)")
    }

    @Test func theABBATraceFailsWithLockdepsReport() throws {
        let run = try pgtrace(["analyze", "traces/pgd-lock-abba.xml"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("WARNING: possible circular locking dependency detected"))
        #expect(run.stdout.contains("the existing dependency chain (in reverse order) is:"))
        #expect(run.stdout.contains("-> #1 (mm->page_table_lock){+.+.}-{2:2}:"))
        #expect(run.stdout.contains("traces/pgd-lock-abba.xml:26 (event 1) cpu 0 task insmod: vmalloc_sync_all (arch/x86/mm/fault.c:249)"))
        #expect(run.stdout.contains(" Possible unsafe locking scenario:"))
        #expect(run.stdout.contains("                               lock(pgd_lock);"))
        #expect(run.stdout.contains(" *** DEADLOCK ***"))
        #expect(run.stderr.isEmpty)
    }

    /// README.md's "Sample output" is what the binary prints for the shipped AB-BA trace.
    @Test func theReadmeSampleIsTheBinarysOutput() throws {
        let readme = try String(contentsOfFile: Repository.path("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Sample output"))
        let blocks = readme[section.upperBound...].components(separatedBy: "```")
        #expect(blocks.count >= 3)
        let sample = blocks[1].trimmingCharacters(in: .newlines)
        let run = try pgtrace(["analyze", "traces/pgd-lock-abba.xml"])
        #expect(run.stdout.trimmingCharacters(in: .newlines) == sample)
    }

    @Test func theFixedTwinIsClean() throws {
        let run = try pgtrace(["analyze", "traces/pgd-lock-abba-fixed.xml"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("no findings"))
    }

    @Test func jsonFindingsFollowTheContract() throws {
        let run = try pgtrace(["analyze", "--format", "json", "traces/pgd-lock-abba.xml"])
        #expect(run.status == 1)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        let finding = findings[0]
        #expect(finding["rule"] as? String == "circular-dependency")
        #expect(finding["severity"] as? String == "error")
        #expect((finding["message"] as? String)?.isEmpty == false)
        #expect(finding["locks"] as? [String] == ["pgd_lock", "mm->page_table_lock"])
        let locations = try #require(finding["locations"] as? [[String: Any]])
        #expect(locations.first?["file"] as? String == "traces/pgd-lock-abba.xml")
        #expect(locations.map { $0["line"] as? Int } == [32, 31, 26])
        #expect(locations.map { $0["event"] as? Int } == [5, 4, 1])
    }

    @Test func twoTracesShareOneGraph() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-merge-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ first: String, _ second: String) throws -> String {
            var trace = TraceBuilder()
            trace.acquire(first)
            trace.acquire(second)
            trace.release(second)
            trace.release(first)
            let path = dir.appendingPathComponent(name).path
            try trace.xml.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let ab = try write("ab.xml", "A", "B")
        let ba = try write("ba.xml", "B", "A")
        #expect(try pgtrace(["analyze", ab]).status == 0)
        #expect(try pgtrace(["analyze", ba]).status == 0)
        let both = try pgtrace(["analyze", "--format", "json", ab, ba])
        #expect(both.status == 1)
        #expect(both.stdout.contains("\"rule\" : \"circular-dependency\""))
        #expect(both.stdout.contains("\"file\" : \"\(ab)\""))
        #expect(both.stdout.contains("\"file\" : \"\(ba)\""))
    }

    @Test func failOnDecidesTheExitStatus() throws {
        #expect(try pgtrace(["analyze", "--fail-on", "never", "traces/pgd-lock-abba.xml"]).status == 0)
        #expect(try pgtrace(["analyze", "--fail-on", "warning", "traces/pgd-lock-abba.xml"]).status == 1)
    }

    @Test func standardInputIsATrace() throws {
        let xml = try String(contentsOfFile: Repository.path("traces/pgd-lock-abba.xml"), encoding: .utf8)
        let run = try pgtrace(["analyze", "-"], stdin: xml)
        #expect(run.status == 1)
        #expect(run.stdout.contains("<stdin>:32 (event 5)"))
    }

    @Test func outputGoesToTheNamedFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-out-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try pgtrace(["analyze", "--format", "json", "--output", path, "traces/pgd-lock-abba.xml"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("circular-dependency"))
    }

    @Test func brokenInputExitsTwoWithItsPlaceAndNoReport() throws {
        let run = try pgtrace(
            ["analyze", "-"],
            stdin: "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events>\n<acquire cpu=\"x\" lock=\"A\"/>\n</events></trace>\n")
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "<stdin>:4:1: error: attribute 'cpu' of <acquire> must be an integer >= 0, not 'x'\n")
    }

    @Test func aMissingFileAndBadUsageExitTwo() throws {
        let missing = try pgtrace(["analyze", "traces/no-such-trace.xml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("traces/no-such-trace.xml: error: cannot open"))
        let directory = try pgtrace(["analyze", "traces"])
        #expect(directory.status == 2)
        #expect(directory.stderr == "traces: error: is a directory, not a trace file\n")
        #expect(try pgtrace(["analyze"]).status == 2)
        #expect(try pgtrace(["analyze", "--format", "yaml", "traces/pgd-lock-abba.xml"]).status == 2)
        #expect(try pgtrace(["frobnicate"]).status == 2)
        #expect(try pgtrace(["--help"]).status == 0)
    }
}
