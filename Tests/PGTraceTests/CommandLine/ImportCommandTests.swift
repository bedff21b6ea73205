import Foundation
import Testing

/// `pgtrace import` and `pgtrace analyze` on kernel text traces, as a user runs them.
@Suite struct ImportCommandTests {
    let cli = AnalyzeCommandTests()
    let fixtures = "Tests/PGTraceTests/Fixtures/import"

    @Test func importWritesATraceAndCountsWhatItSkipped() throws {
        let run = try cli.pgtrace(["import", "\(fixtures)/abba.perf-script.txt"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?><trace version=\"1\""))
        #expect(run.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == 14)
        // lock_acquired is read now (contention statistics): nothing was skipped.
        #expect(run.stderr == "")
        #expect(run.stdout.contains("<acquired cpu=\"1\" task=\"bash-2001\" t=\"50000004000\" lock=\"pgd_lock\" instance=\"0xffffffff82a4c2d8\"/>"))
    }

    @Test func theImportedTraceValidatesAndAnalyzes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-imported-\(UUID().uuidString).xml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try cli.pgtrace(["import", "--from", "ftrace", "-o", path, "\(fixtures)/thp-ipi-trace_pipe.txt"]).status == 0)
        #expect(try cli.pgtrace(["validate", path]).status == 0)
        let run = try cli.pgtrace(["analyze", path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("[ipi-deadlock]"))
    }

    @Test func analyzeReadsTextTracesDirectlyAndCitesTheirLines() throws {
        let run = try cli.pgtrace(["analyze", "--format", "json", "\(fixtures)/pgd-free-in-irq.trace-cmd.txt"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("\"rule\" : \"irq-inconsistent\""))
        #expect(run.stdout.contains("\"line\" : 10"))
        let fromStdin = try cli.pgtrace(["analyze", "-"], stdin: try String(contentsOfFile: Repository.path("\(fixtures)/abba.perf-script.txt"), encoding: .utf8))
        #expect(fromStdin.status == 1)
        #expect(fromStdin.stdout.contains("<stdin>:7 (event"))
    }

    @Test func garbageIsExitTwoWithItsLine() throws {
        let run = try cli.pgtrace(["import", "-"], stdin: "  a-1 [000] ....1 1.0: lock_acquire: 00000000000000a1 A\nnot a trace line\n")
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("<stdin>:2:1: error: cannot parse this ftrace line"))
        let lenient = try cli.pgtrace(["import", "--lenient", "-"], stdin: "  a-1 [000] ....1 1.0: lock_acquire: 00000000000000a1 A\nnot a trace line\n")
        #expect(lenient.status == 0)
        #expect(lenient.stderr.contains("skipped 1 unparseable line"))
        let unknown = try cli.pgtrace(["analyze", "-"], stdin: "hello\nworld\n")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("not a trace pgtrace knows"))
    }

    /// A known event whose fields do not parse: exit 2 naming file:line:column and what was
    /// expected (validate said "valid", exit 0: the empty lock_acquire was dropped).
    @Test func aKnownEventWithBrokenFieldsIsExitTwo() throws {
        let run = try cli.pgtrace(["validate", "-"], stdin: """
              t-100 [000] d..1. 100.000001: lock_acquire: 0000000000000001 lockA
              t-100 [000] d..2. 100.000002: lock_acquire:
              t-100 [000] d..1. 100.000003: ipi_send_cpu: cpu=abc callsite=x callback=flush_tlb_func

            """)
        #expect(run.status == 2)
        #expect(run.stdout == "")
        #expect(run.stderr == "<stdin>:2:46: error: lock_acquire: expected 'ADDRESS [try ][read ]CLASS', found nothing (--lenient skips such lines)\n")
    }

    @Test func rawNamesKeepLockdepsWrappers() throws {
        let run = try cli.pgtrace(["import", "--raw-names", "\(fixtures)/abba.perf-script.txt"])
        #expect(run.stdout.contains("lock=\"&amp;(&amp;mm-&gt;page_table_lock)-&gt;rlock\""))
    }
}
