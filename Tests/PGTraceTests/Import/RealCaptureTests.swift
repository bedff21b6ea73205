import Foundation
import PGTrace
import Testing

/// The real third-party captures in ../shared/captures (its README names each source): what
/// pgtrace's users actually feed it. None shows a locking bug, so each must analyse strictly
/// (no --lenient) with no finding; and each kind of event read from it is counted, so that a
/// line silently dropped or a state invented shows as a changed count.
@Suite struct RealCaptureTests {
    /// ../shared/captures beside the repository (or above it: a clone may sit deeper).
    static let directory: String? = {
        if let path = ProcessInfo.processInfo.environment["PGTRACE_CAPTURES"] { return path }
        var base = URL(fileURLWithPath: Repository.root)
        for _ in 0..<4 {
            base.deleteLastPathComponent()
            let candidate = base.appendingPathComponent("shared/captures").path
            if FileManager.default.fileExists(atPath: candidate + "/README.md") { return candidate }
        }
        return FileManager.default.fileExists(atPath: "/work/shared/captures/README.md") ? "/work/shared/captures" : nil
    }()

    static func capture(_ name: String) throws -> String {
        let directory = try #require(Self.directory, "../shared/captures not found; set PGTRACE_CAPTURES")
        return directory + "/" + name
    }

    /// Every event read from the capture, counted by element name.
    static func counts(_ path: String) throws -> [String: Int] {
        let symbols = SymbolTable()
        let writer = TraceXMLWriter(symbols: symbols)
        let importer = TraceImporter(input: try TraceInput(path: path), symbols: symbols)
        var counts: [String: Int] = [:]
        try importer.read(header: { #expect($0.partial) }) { event in
            let element = writer.element(event)
            counts[String(element.dropFirst().prefix { $0 != " " && $0 != "/" }), default: 0] += 1
        }
        return counts
    }

    static let expected: [(String, [String: Int])] = [
        ("catapult-android_systrace.ftrace.txt", [:]),  // no flags column: nothing stated
        ("catapult-decompressed_atrace_data.ftrace.txt", ["irq-enable": 52]),
        ("flamegraph-perf-java-faults.perf.txt", [:]),
        ("flamegraph-perf-numa-stacks-01.perf.txt", [:]),
        ("lisa-sched_load.trace-cmd-l.txt", [
            "hardirq-enter": 28, "hardirq-exit": 28, "irq-disable": 246, "irq-enable": 6, "softirq-enter": 70, "softirq-exit": 70,
        ]),
        ("lisa-sched_load.trace-cmd.txt", [:]),
        ("lisa-trace_txt.trace-cmd.txt", [:]),
        ("lkml-kjain-20231003-perf-lock.perf.txt", ["contention-begin": 2]),
        ("lkml-leoyan-20210512-lockstat.ftrace.txt", [
            "irq-disable": 1, "softirq-enter": 1, "acquire": 1, "acquired": 1, "contended": 1, "release": 1,
        ]),
        ("lkml-mshah-2026-ipi.ftrace.txt", ["ipi-send": 1, "hardirq-enter": 1]),
        ("lkml-rostedt-20170419-ftrace_dump.txt", ["irq-disable": 1, "hardirq-enter": 1, "acquire": 1, "events-lost": 1]),
        ("lkml-rostedt-20251106-fixed.ftrace.txt", ["acquire": 4, "release": 6, "irq-disable": 3, "irq-enable": 2]),
        ("lkml-rostedt-20251106-nonrt.ftrace.txt", ["acquire": 4, "release": 4, "irq-disable": 1, "irq-enable": 2]),
        ("lkml-tglx-20210806-tlb_flush.ftrace.txt", ["irq-disable": 1, "irq-enable": 1]),
        ("tracecompass-android-sched-irq.ftrace.txt", [
            "hardirq-enter": 13, "hardirq-exit": 13, "irq-disable": 42, "irq-enable": 7, "softirq-enter": 9, "softirq-exit": 9,
        ]),
        ("tracecompass-atrace-test.ftrace.txt", [
            "hardirq-enter": 230, "hardirq-exit": 230, "irq-disable": 1165, "irq-enable": 180, "softirq-enter": 211, "softirq-exit": 211,
        ]),
        ("tracecompass-syscalls.ftrace.txt", [
            "hardirq-enter": 6, "hardirq-exit": 6, "irq-disable": 58, "irq-enable": 37, "softirq-enter": 4, "softirq-exit": 4,
        ]),
        ("trappy-doc-trace.trace-cmd.txt", [:]),
        ("wikibook-fork-function-stack.ftrace.txt", [
            "hardirq-enter": 4193, "hardirq-exit": 4193, "irq-disable": 6762, "irq-enable": 10, "softirq-enter": 879, "softirq-exit": 879,
        ]),
        ("wikibook-softirq.ftrace.txt", [
            "hardirq-enter": 1, "hardirq-exit": 1, "irq-disable": 1, "irq-enable": 1, "softirq-enter": 3, "softirq-exit": 3,
        ]),
        // Two losses: the elision pasted at line 55, and the last line, which has no newline
        // (a tracer ends every line with one): cut, as far as any reader can tell, since a
        // line cut short reads as well-formed as this one ("work struct 80d188b0"). Its
        // flags are not read either (its irq-enable).
        ("wikibook-workqueue-irq.ftrace.txt", [
            "hardirq-enter": 2, "hardirq-exit": 2, "irq-disable": 5, "irq-enable": 3, "softirq-enter": 1, "softirq-exit": 1, "events-lost": 2,
        ]),
        ("lisa-sched_load.trace.dat", [
            "hardirq-enter": 28, "hardirq-exit": 28, "irq-disable": 246, "irq-enable": 6, "softirq-enter": 70, "softirq-exit": 70,
        ]),
        ("trappy-trace.trace.dat", ["irq-disable": 16, "irq-enable": 6, "softirq-enter": 32, "softirq-exit": 32]),
    ]

    @Test func everyCaptureIsListed() throws {
        let directory = try #require(Self.directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0 != "README.md" }.sorted()
        #expect(names == Self.expected.map(\.0).sorted())
    }

    @Test(arguments: expected)
    func eachCaptureReadsStrictlyIntoTheseEvents(_ name: String, _ counts: [String: Int]) throws {
        #expect(try Self.counts(try Self.capture(name)) == counts)
    }

    @Test(arguments: expected.map(\.0))
    func eachCaptureAnalysesWithNoFinding(_ name: String) throws {
        let analysis = Analysis()
        try analysis.analyze([.file(path: try Self.capture(name), displayName: name)])
        #expect(analysis.findings.map(\.rule) == [])
    }

    /// An analysis makes a capture's events on the replay's thread (its reader hands over
    /// records): the same events, as many, as importing it makes on one thread.
    @Test(arguments: expected)
    func anAnalysisReplaysTheEventsImportMakes(_ name: String, _ counts: [String: Int]) throws {
        let analysis = Analysis()
        try analysis.analyze([.file(path: try Self.capture(name), displayName: name)])
        let made = counts.values.reduce(0, +)
        #expect(analysis.eventCount == made)
        #expect(analysis.imports.map(\.summary.events) == [made])
    }

    /// Each file's count goes to its own entry, however far the reading thread runs ahead of
    /// the replay; two traces of one name are refused (traces are told apart by name).
    @Test func twoCapturesCountTheirOwnEvents() throws {
        let path = try Self.capture("lkml-rostedt-20251106-fixed.ftrace.txt")
        let analysis = Analysis()
        try analysis.analyze([.file(path: path, displayName: "one"), .file(path: path, displayName: "two")])
        #expect(analysis.imports.map(\.summary.events) == [15, 15])
        #expect(analysis.eventCount == 30)
        #expect(throws: TraceInputError.self) {
            try Analysis().analyze([.file(path: path, displayName: "same"), .file(path: path, displayName: "same")])
        }
    }

    @Test func theReleaseOfALockHeldFromBeforeTheCaptureIsANote() throws {
        let analysis = Analysis()
        try analysis.analyze([.file(path: try Self.capture("lkml-rostedt-20251106-fixed.ftrace.txt"), displayName: "fixed.txt")])
        #expect(analysis.findings.isEmpty)
        #expect(analysis.notes.map(\.message).contains(
            "tasklist_lock is released at fixed.txt:1 without being seen taken: held since before the capture began"))
    }

    /// A console's "Lost 4890096 message(s)!" names no cpu: its note cites the line, and no
    /// cpu, in text and JSON (it said cpu 0, where the capture's only cpu is 10: helper-137).
    @Test func aLostEventsLineOfNoCPUIsANoteThatCitesNoCPU() throws {
        let path = try Self.capture("lkml-rostedt-20170419-ftrace_dump.txt")
        let text = try CommandRunner.run(["analyze", path])
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("""
            note: \(path): the capture lost 4890096 events (line 5): findings may be incomplete
                  \(path):5 (event 3)

            """), "\(text.stdout)")
        let json = try CommandRunner.run(["analyze", "--format", "json", path])
        let report = try #require(try JSONSerialization.jsonObject(with: json.stdoutBytes) as? [String: Any])
        let notes = try #require(report["notes"] as? [[String: Any]])
        let location = try #require(notes.first?["location"] as? [String: Any])
        #expect(notes.count == 1 && location["line"] as? Int == 5 && location["role"] as? String == "loses events")
        #expect(location["cpu"] == nil, "\(location)")
        // ftrace's "CPU:1 [LOST 1200 EVENTS]" names its cpu, and its note cites it.
        let directory = try CommandRunner.temporaryDirectory("lost-cpu")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lost = directory + "/lost.txt"
        try """
            # tracer: nop
                        bash-1040    [001] .....  4543.100000: lock_acquire: 00000000000000c1 &C->lock
            CPU:1 [LOST 1200 EVENTS]
                        bash-1040    [001] .....  4543.300001: lock_release: 00000000000000c1 &C->lock

            """.write(toFile: lost, atomically: true, encoding: .utf8)
        let named = try CommandRunner.run(["analyze", lost])
        #expect(named.stdout.hasPrefix("""
            note: \(lost): cpu 1 lost 1200 events (line 3): findings may be incomplete
                  \(lost):3 (event 2) cpu 1

            """), "\(named.stdout)")
    }

    /// The events of a capture, each as its element with the task cut to its pid and the
    /// time to microseconds, rounded: what `trace-cmd report -l` keeps of a trace.dat
    /// (whose comm column is cut to 8 characters).
    static func reportedEvents(_ path: String) throws -> [String] {
        let symbols = SymbolTable()
        let writer = TraceXMLWriter(symbols: symbols)
        var events: [String] = []
        try TraceImporter(input: try TraceInput(path: path), symbols: symbols).read(header: { _ in }) { event in
            var element = writer.element(event)
            if let task = event.task {
                let name = symbols[task]
                let pid = name.lastIndex(of: "-").map { name[name.index(after: $0)...] } ?? "0"  // swapper/N
                element = element.replacingOccurrences(of: "task=\"\(escaped(name))\"", with: "pid=\"\(pid)\"")
            }
            if let time = event.time { element = element.replacingOccurrences(of: "t=\"\(time)\"", with: "t=\"\((time + 500) / 1000)\"") }
            events.append(element)
        }
        return events
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func expectSame(_ dat: [String], _ text: [String], _ name: String) {
        #expect(dat.count == text.count, "\(name)")
        for (index, (fromDat, fromText)) in zip(dat, text).enumerated() where fromDat != fromText {
            Issue.record("\(name) event \(index): \(fromDat) in the trace.dat, \(fromText) in the report")
            break
        }
    }

    /// The same recording, read from its trace.dat and from `trace-cmd report -l`'s text:
    /// the same events, in the same order. For lisa the report is shipped beside it.
    @Test func aTraceDatReadsAsItsShippedReportText() throws {
        let dat = try Self.reportedEvents(try Self.capture("lisa-sched_load.trace.dat"))
        #expect(dat.count == 448)
        Self.expectSame(dat, try Self.reportedEvents(try Self.capture("lisa-sched_load.trace-cmd-l.txt")), "lisa")
    }

    /// A task the file's saved cmdlines do not name is named by the sched_switch that switched
    /// it in, as trace-cmd report names it: lisa's pid 1843 is `sugov:1` in its shipped report,
    /// where the trace.dat alone said `<...>` (helper-137). No record names it `<...>` any more.
    @Test func aTaskTheSavedCmdlinesLackIsNamedByItsSwitchIn() throws {
        let symbols = SymbolTable()
        var tasks: [String: Set<String>] = [:]
        try TraceImporter(input: try TraceInput(path: try Self.capture("lisa-sched_load.trace.dat")), symbols: symbols).read(header: { _ in }) { event in
            guard let task = event.task.map({ symbols[$0] }), let dash = task.lastIndex(of: "-") else { return }
            tasks[String(task[task.index(after: dash)...]), default: []].insert(task)
        }
        #expect(tasks["1843"] == ["sugov:1-1843"])
        #expect(!tasks.values.joined().contains { $0.hasPrefix("<...>-") }, "\(tasks.filter { $0.value.contains { $0.hasPrefix("<...>") } })")
        let report = try String(contentsOfFile: try Self.capture("lisa-sched_load.trace-cmd-l.txt"), encoding: .utf8)
        #expect(report.contains(" sugov:1-1843 "))
    }

    /// Each shipped trace.dat against what trace-cmd (scripts/with-deps installs it) reports of
    /// it, with and without the latency columns, its times in seconds or as raw counts (which
    /// trace-cmd 3.1.6 prints for trappy's file in some runs even unasked, glued to the column
    /// before them).
    @Test(arguments: ["lisa-sched_load.trace.dat", "trappy-trace.trace.dat"], [["-l"], ["--raw-ts", "-l"]])
    func aTraceDatReadsAsTraceCmdReportsIt(_ name: String, _ options: [String]) throws {
        let directory = try CommandRunner.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = directory + "/report.txt"
        let (status, _) = try WrittenTraceDatTests.run("trace-cmd", ["report"] + options + ["-i", try Self.capture(name)], stdout: text)
        #expect(status == 0, "trace-cmd report failed; scripts/with-deps installs trace-cmd")
        Self.expectSame(try Self.reportedEvents(try Self.capture(name)), try Self.reportedEvents(text), name)
    }

    /// Without the latency columns the raw count follows the cpu's bracket (`[003]7615709442088:`):
    /// every line of trappy's report reads the same with its times in seconds or as counts.
    @Test func aReportOfRawCountsReadsLineForLineAsTheReportInSeconds() throws {
        func lines(_ options: [String]) throws -> [TraceLine] {
            let directory = try CommandRunner.temporaryDirectory("report")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let text = directory + "/report.txt"
            let (status, _) = try WrittenTraceDatTests.run(
                "trace-cmd", ["report"] + options + ["-i", try Self.capture("trappy-trace.trace.dat")], stdout: text)
            #expect(status == 0)
            let report = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").dropFirst()  // cpus=8
            return report.compactMap { line in
                guard var parsed = TraceLine.parse(line) else {
                    Issue.record("not read: \(line)")
                    return nil
                }
                parsed.timestamp = (parsed.timestamp + 500) / 1000  // microseconds, rounded as trace-cmd prints them
                return parsed
            }
        }
        let raw = try lines(["--raw-ts"])
        #expect(raw.count == 525)
        #expect(raw.first?.cpu == 3 && raw.first?.timestamp == 7_615_709_442)
        // Whether trace-cmd printed this run in seconds or, as it sometimes does, as counts.
        let seconds = try lines([])
        #expect(seconds.count == raw.count)
        for (inSeconds, asCount) in zip(seconds, raw) where inSeconds != asCount {
            Issue.record("\(inSeconds) in seconds, \(asCount) as a count")
            break
        }
    }
}

/// The built binary (the release one when `.ci/run` says so) on every capture, as a user runs it.
@Suite struct CaptureCommandTests {
    @Test func everyCaptureAnalysesWithExitZeroAndNoFinding() throws {
        let directory = try #require(RealCaptureTests.directory)
        for (name, _) in RealCaptureTests.expected {
            let run = try CommandRunner.run(["analyze", directory + "/" + name])
            #expect(run.status == 0, "\(name): \(run.stderr)")
            #expect(run.stdout.contains("no findings"), "\(name): \(run.stdout)")
        }
    }

    /// A trace.dat cut short (still being written, or copied half way): an error, exit 2,
    /// at the byte where what the headers describe runs past the end; never libtracecmd's
    /// crash in its own cleanup, nor its complaint on standard output.
    @Test func aTruncatedTraceDatIsAnError() throws {
        let directory = try CommandRunner.temporaryDirectory("dat-cut")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture("lisa-sched_load.trace.dat")))
        for (cut, place, what) in [
            (whole.count - 1, 3_235_738, "cpu 5's data (16384 bytes at byte 3420160)"),
            (whole.count - 4096, 3_235_738, "cpu 5's data (16384 bytes at byte 3420160)"),
            (3_300_000, 3_235_690, "cpu 2's data (40960 bytes at byte 3297280)"),
            (3_235_700, 3_235_698, "the table of the cpus' data"),
            (200_000, 199_455, "the event formats section"),
            (100, 38, "the header_page section"),
        ] {
            let path = directory + "/cut-\(cut).dat"
            try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
            let run = try CommandRunner.run(["analyze", "--format", "json", path])
            #expect(run.status == 2, "\(cut): \(run.status) \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(cut): \(run.stdout)")
            #expect(
                run.stderr == "\(path): byte \(place): error: \(what) runs past the end of the file (\(cut) bytes): the trace.dat is truncated or corrupt\n",
                "\(cut): \(run.stderr)")
        }
    }

    @Test func importWritesATraceDatAsATraceThatValidates() throws {
        let directory = try CommandRunner.temporaryDirectory("dat-import")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let imported = try CommandRunner.run(["import", "-o", directory + "/t.xml", try RealCaptureTests.capture("trappy-trace.trace.dat")])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("skipped 525 events pgtrace does not use (bprint ×501"))
        let validated = try CommandRunner.run(["validate", directory + "/t.xml"])
        #expect(validated.stdout.hasSuffix("valid (86 events)\n"), "\(validated.stdout)\(validated.stderr)")
        // A trace.dat on standard input is copied, unnamed, and read the same.
        let piped = try CommandRunner.run(
            ["analyze", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture("trappy-trace.trace.dat"))))
        #expect(piped.status == 0 && piped.stdout.contains("1 trace, 86 events: no findings"), "\(piped.stdout)\(piped.stderr)")
    }
}

/// A trace.dat with lock, irq, softirq and IPI records, which these machines cannot record:
/// written by scripts/write-trace-dat.py from the kernel's event formats (seed 002's IPI
/// deadlock, and pgd_lock taken in a hardirq), then read three ways that must agree: the
/// trace.dat itself, `trace-cmd report -l`'s text of it, and the hand-written XML twin.
@Suite struct WrittenTraceDatTests {
    static let fixture = Repository.path("Tests/PGTraceTests/Fixtures/import/seed-002.events.jsonl")

    /// Runs `executable` through env; its exit status and standard output (or, with `stdout`,
    /// that file written). A program killed by a signal is run again, twice at most:
    /// trace-cmd 3.1.6 reads past the empty trace-clock option of files that trace-cmd itself
    /// wrote (trappy-trace.trace.dat) and, very rarely (once in some 16,000 runs seen here),
    /// crashes on what the heap held. A third crash is reported as the signal it is.
    static func run(_ executable: String, _ arguments: [String], stdin: String? = nil, stdout: String? = nil) throws -> (Int32, String) {
        var attempt = 1
        while true {
            let (status, text, signalled) = try runOnce(executable, arguments, stdin: stdin, stdout: stdout)
            if !signalled { return (status, text) }
            if attempt == 3 {
                Issue.record("\(executable) \(arguments.joined(separator: " ")) was killed by signal \(status), three times")
                return (status, text)
            }
            attempt += 1
        }
    }

    private static func runOnce(_ executable: String, _ arguments: [String], stdin: String?, stdout: String?) throws -> (Int32, String, Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let output = Pipe()
        if let stdout { _ = FileManager.default.createFile(atPath: stdout, contents: nil) }
        process.standardOutput = stdout.map { FileHandle(forWritingAtPath: $0)! } ?? output
        process.standardError = FileHandle.nullDevice
        if let stdin { process.standardInput = FileHandle(forReadingAtPath: stdin) }
        try process.run()
        let text = stdout == nil ? String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
        process.waitUntilExit()
        return (process.terminationStatus, text, process.terminationReason == .uncaughtSignal)
    }

    static func findings(_ source: Analysis.Source) throws -> [String] {
        let analysis = Analysis()
        try analysis.analyze([source])
        return analysis.findings.map { "\($0.rule.rawValue) \($0.locks.joined(separator: ","))" }.sorted()
    }

    static let twin = """
        <?xml version="1.0"?>
        <trace version="1" cpus="4" partial="true"><events>
        <irq-disable cpu="0" task="modprobe-3301"/>
        <acquire cpu="0" task="modprobe-3301" lock="pgd_lock"/><acquire cpu="0" task="modprobe-3301" lock="&amp;mm-&gt;page_table_lock"/>
        <release cpu="0" task="modprobe-3301" lock="&amp;mm-&gt;page_table_lock"/><release cpu="0" task="modprobe-3301" lock="pgd_lock"/>
        <irq-enable cpu="0" task="modprobe-3301"/>
        <irq-enable cpu="1" task="kswapd0-77"/><acquire cpu="1" task="kswapd0-77" lock="&amp;mm-&gt;page_table_lock"/>
        <ipi-send cpu="1" task="kswapd0-77" targets="0" wait="true" reason="flush_tlb_func"/>
        <release cpu="1" task="kswapd0-77" lock="&amp;mm-&gt;page_table_lock"/>
        <irq-disable cpu="2" task="swapper/2"/><hardirq-enter cpu="2" task="swapper/2" irq="19"/>
        <acquire cpu="2" task="swapper/2" lock="pgd_lock"/><release cpu="2" task="swapper/2" lock="pgd_lock"/>
        <hardirq-exit cpu="2" task="swapper/2"/>
        <softirq-enter cpu="3" task="kworker/3:1-900" vec="TIMER"/>
        <acquire cpu="3" task="kworker/3:1-900" lock="&amp;base-&gt;lock" mode="recursive-read" try="true"/>
        <release cpu="3" task="kworker/3:1-900" lock="&amp;base-&gt;lock"/><softirq-exit cpu="3" task="kworker/3:1-900"/>
        </events></trace>
        """

    @Test func theWrittenTraceDatTheReportAndTheXMLTwinAgree() throws {
        let directory = try CommandRunner.temporaryDirectory("written-dat")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let dat = directory + "/seed-002.dat"
        let (written, _) = try Self.run("python3", [Repository.path("scripts/write-trace-dat.py"), "--cpus", "4", dat], stdin: Self.fixture)
        #expect(written == 0)
        // trace-cmd (scripts/with-deps installs it) reads every record, with the kernel's fields.
        let (status, report) = try Self.run("trace-cmd", ["report", "-l", "-i", dat])
        #expect(status == 0, "trace-cmd report failed; scripts/with-deps installs trace-cmd")
        let lines = report.split(separator: "\n")
        #expect(lines.count == 18)  // cpus=4 and the 17 records
        #expect(lines.contains { $0.hasSuffix("lock_acquire:         0xffff88813b61c3c0 try read &base->lock") })
        #expect(lines.contains { $0.contains("ipi_send_cpu:") && $0.contains("cpu=0") && $0.contains("callback=flush_tlb_func+0x0") })
        let text = directory + "/seed-002.report.txt"
        try report.write(toFile: text, atomically: true, encoding: .utf8)

        let expected = ["ipi-deadlock &mm->page_table_lock", "irq-inversion pgd_lock,&mm->page_table_lock"]
        #expect(try Self.findings(.file(path: dat, displayName: "seed-002.dat")) == expected)
        #expect(try Self.findings(.file(path: text, displayName: "seed-002.report.txt")) == expected)
        #expect(try Self.findings(.bytes(Array(Self.twin.utf8), displayName: "seed-002.xml")) == expected)
    }

    @Test func theBinaryAnalysesTheWrittenTraceDat() throws {
        let directory = try CommandRunner.temporaryDirectory("written-dat-cli")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let dat = directory + "/seed-002.dat"
        #expect(try Self.run("python3", [Repository.path("scripts/write-trace-dat.py"), "--cpus", "4", dat], stdin: Self.fixture).0 == 0)
        let run = try CommandRunner.run(["analyze", "--format", "json", dat])
        #expect(run.status == 1)
        #expect(run.stdout.contains("\"rule\" : \"ipi-deadlock\""))
        // A record's number in time order stands for its line: the IPI is record 8.
        #expect(run.stdout.contains("\"line\" : 8"))
    }
}
