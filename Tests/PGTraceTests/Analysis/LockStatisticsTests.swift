import Foundation
@testable import PGTrace
import Testing

/// lock_stat from a trace: task A holds L from 100 to 400 us on cpu 0; task B, on cpu 1,
/// takes L at 150 us, waits (lock_contended) until A lets go, gets it at 420 (lock_acquired)
/// and holds it until 500. As XML, as ftrace text and as a trace.dat, the same numbers.
@Suite struct LockStatisticsTests {
    static let xml = """
        <?xml version="1.0"?>
        <trace version="1" cpus="2"><events>
        <acquire cpu="0" task="A" t="100000" lock="L" fn="a_path"/>
        <acquire cpu="1" task="B" t="150000" lock="L" fn="b_path"/>
        <contended cpu="1" task="B" t="150000" lock="L" fn="b_path"/>
        <release cpu="0" task="A" t="400000" lock="L"/>
        <acquired cpu="1" task="B" t="420000" lock="L"/>
        <release cpu="1" task="B" t="500000" lock="L"/>
        </events></trace>
        """

    static let ftrace = """
        # tracer: nop
                       A-100     [000] .....     0.000100: lock_acquire: 0000000000000001 L
                       B-200     [001] .....     0.000150: lock_acquire: 0000000000000001 L
                       B-200     [001] .....     0.000150: lock_contended: 0000000000000001 L
                       A-100     [000] .....     0.000400: lock_release: 0000000000000001 L
                       B-200     [001] .....     0.000420: lock_acquired: 0000000000000001 L
                       B-200     [001] .....     0.000500: lock_release: 0000000000000001 L
        """

    private func entries(_ source: Analysis.Source) throws -> [LockStatistics.Entry] {
        var options = AnalysisOptions()
        options.collectsStatistics = true
        let analysis = Analysis(options: options)
        try analysis.analyze([source])
        return try #require(analysis.statistics).sortedEntries
    }

    private func expectL(_ entries: [LockStatistics.Entry], contentionPoints: [String: Int]) {
        #expect(entries.count == 1)
        guard let l = entries.first else { return }
        #expect(l.name == "L")
        #expect(l.acquisitions == 2)
        #expect(l.contentions == 1)
        // B took L, and contended for it, on cpu 1 after A took it on cpu 0 (lockdep's
        // lock->cpu): the lock's cache line moved, once for each.
        #expect(l.total.acquisitionBounces == 1)
        #expect(l.total.contentionBounces == 1)
        #expect(l.total.wait == LockStatistics.Durations(count: 1, timed: 1, min: 270_000, max: 270_000, total: 270_000))
        // A's hold 300 us; B's from lock_acquired, 80 us (lockdep resets holdtime_stamp there).
        #expect(l.total.hold == LockStatistics.Durations(count: 2, timed: 2, min: 80_000, max: 300_000, total: 380_000))
        #expect(l.total.hold.mean == 190_000)
        #expect(l.contentionPoints == contentionPoints)
    }

    @Test func fromATrace() throws {
        expectL(try entries(.bytes(Array(Self.xml.utf8), displayName: "t.xml")), contentionPoints: ["b_path": 1])
    }

    @Test func fromAnFtraceCapture() throws {
        let directory = try CommandRunner.temporaryDirectory("stats-ftrace")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try (Self.ftrace + "\n").write(toFile: directory + "/c.txt", atomically: true, encoding: .utf8)
        expectL(try entries(.file(directory + "/c.txt")), contentionPoints: [:])
    }

    @Test func fromATraceDat() throws {
        let directory = try CommandRunner.temporaryDirectory("stats-dat")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records: [(cpu: Int, ts: Int, pid: Int, comm: String, event: String)] = [
            (0, 100_000, 100, "A", "lock_acquire"), (1, 150_000, 200, "B", "lock_acquire"),
            (1, 150_000, 200, "B", "lock_contended"), (0, 400_000, 100, "A", "lock_release"),
            (1, 420_000, 200, "B", "lock_acquired"), (1, 500_000, 200, "B", "lock_release"),
        ]
        let jsonl = records.map { r in
            "{\"cpu\": \(r.cpu), \"ts\": \(r.ts), \"pid\": \(r.pid), \"comm\": \"\(r.comm)\", \"flags\": 0, \"preempt\": 0, \"event\": \"lock:\(r.event)\", \"fields\": {\"name\": \"L\", \"lockdep_addr\": 1}}"
        }.joined(separator: "\n") + "\n"
        let dat = directory + "/s.dat"
        let write = try CommandRunner.run(
            ["python3", Repository.path("scripts/write-trace-dat.py"), "--cpus", "2", dat], stdin: Data(jsonl.utf8),
            executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(write.status == 0, "\(write.stderr)")
        expectL(try entries(.file(dat)), contentionPoints: [:])
    }

    private func entries(xml events: String) throws -> [LockStatistics.Entry] {
        try entries(.bytes(Array("<?xml version=\"1.0\"?><trace version=\"1\" cpus=\"4\"><events>\(events)</events></trace>".utf8), displayName: "t.xml"))
    }

    /// A wait given up (contended, then released without acquired: an interrupted
    /// mutex_lock_interruptible) is no contention and lends its start to no later wait.
    @Test func aWaitGivenUpIsNoContention() throws {
        let found = try entries(xml: """
            <acquire cpu="0" task="A" t="0" lock="M"/><contended cpu="0" task="A" t="10" lock="M"/>
            <release cpu="0" task="A" t="50" lock="M"/>
            <acquire cpu="0" task="A" t="1000000" lock="M"/><acquired cpu="0" task="A" t="1000001" lock="M"/>
            <release cpu="0" task="A" t="1000100" lock="M"/>
            """)
        #expect(found.first?.contentions == 0)
        #expect(found.first?.total.wait.timed == 0)
        #expect(found.first?.acquisitions == 2)
    }

    /// Lost events end every open interval: a hold across them is not measured.
    @Test func lostEventsEndOpenIntervals() throws {
        let found = try entries(xml: """
            <acquire cpu="0" task="A" t="100" lock="L"/><events-lost cpu="0"/><release cpu="0" task="A" t="5000000000" lock="L"/>
            <acquire cpu="0" task="A" t="6000000000" lock="L"/><release cpu="0" task="A" t="6000001000" lock="L"/>
            """)
        #expect(found.first?.total.hold == LockStatistics.Durations(count: 1, timed: 1, min: 1000, max: 1000, total: 1000))
    }

    /// perf lock's contention_begin/_end pair by task (a sleeping lock's waiter wakes on
    /// another cpu), and bounce when the address was last taken on another cpu.
    @Test func addressWaitsPairByTask() throws {
        let found = try entries(xml: """
            <contention-begin cpu="1" task="A" t="1000" instance="0xffff1"/>
            <contention-begin cpu="1" task="B" t="2000" instance="0xffff1"/>
            <contention-end cpu="2" task="A" t="50000" instance="0xffff1"/>
            <contention-end cpu="1" task="B" t="60000" instance="0xffff1"/>
            """)
        #expect(found.first?.isAddress == true)
        #expect(found.first?.total.wait == LockStatistics.Durations(count: 2, timed: 2, min: 49_000, max: 58_000, total: 107_000))
        #expect(found.first?.total.contentionBounces == 0)
    }

    /// A class also taken for read has lock_stat's two rows, `-W` and `-R`, each side with
    /// its own waits and holds.
    @Test func readAndWriteSidesAreTwoRows() throws {
        let xml = """
            <?xml version="1.0"?><trace version="1" cpus="2"><classes><class name="&amp;mm->mmap_lock" type="rwsem"/></classes><events>
            <acquire cpu="0" task="A" t="1000" lock="&amp;mm->mmap_lock" mode="read"/><release cpu="0" task="A" t="3000" lock="&amp;mm->mmap_lock"/>
            <acquire cpu="0" task="A" t="4000" lock="&amp;mm->mmap_lock"/><contended cpu="0" task="A" t="4000" lock="&amp;mm->mmap_lock"/>
            <acquired cpu="0" task="A" t="9000" lock="&amp;mm->mmap_lock"/><release cpu="0" task="A" t="10000" lock="&amp;mm->mmap_lock"/>
            </events></trace>
            """
        let found = try entries(.bytes(Array(xml.utf8), displayName: "rw.xml"))
        #expect(found.first?.read.hold == LockStatistics.Durations(count: 1, timed: 1, min: 2000, max: 2000, total: 2000))
        #expect(found.first?.write.hold == LockStatistics.Durations(count: 1, timed: 1, min: 1000, max: 1000, total: 1000))
        #expect(found.first?.write.wait.count == 1 && found.first?.read.wait.count == 0)
        let text = LockStatReporter().render(found, traces: 1, events: 6)
        let rows = text.split(separator: "\n").filter { $0.contains("&mm->mmap_lock-") }.map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
        #expect(rows == ["&mm->mmap_lock-W: 0 1", "&mm->mmap_lock-R: 0 0"])
    }

    /// A contended event before its acquire (the format allows either order) takes the side
    /// of that acquire: a reader's wait is on `-R`, and a class held only for read prints
    /// no `-W` row.
    @Test func aWaitBeforeItsAcquireTakesItsSide() throws {
        let xml = """
            <?xml version="1.0"?><trace version="1" cpus="2"><events>
            <acquire cpu="0" task="A" t="1000" lock="RW" mode="read"/><release cpu="0" task="A" t="2000" lock="RW"/>
            <contended cpu="1" task="B" t="3000" lock="RW"/><acquire cpu="1" task="B" t="3000" lock="RW" mode="read"/>
            <acquired cpu="1" task="B" t="5000" lock="RW"/><release cpu="1" task="B" t="6000" lock="RW"/>
            </events></trace>
            """
        let found = try entries(.bytes(Array(xml.utf8), displayName: "b.xml"))
        #expect(found.first?.read.wait.count == 1 && found.first?.write.wait.count == 0)
        #expect(found.first?.read.contentionBounces == 1)
        let text = LockStatReporter().render(found, traces: 1, events: 6)
        #expect(text.split(separator: "\n").filter { $0.contains("RW-") }.map { String($0.split(separator: " ")[0]) } == ["RW-R:"])
    }

    /// `pgtrace stats` prints lock_stat's columns (times in us) and JSON (times in ns).
    @Test func theCommandPrintsLockStatsColumns() throws {
        let directory = try CommandRunner.temporaryDirectory("stats-cli")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.xml.write(toFile: directory + "/t.xml", atomically: true, encoding: .utf8)
        let text = try CommandRunner.run(["stats", directory + "/t.xml"])
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix("class name    con-bounces    contentions   waittime-min   waittime-max waittime-total   waittime-avg    acq-bounces   acquisitions   holdtime-min   holdtime-max holdtime-total   holdtime-avg") })
        let row = try #require(lines.first { $0.hasSuffix("190.00") })
        #expect(row.split(separator: " ") == ["L:", "1", "1", "270.00", "270.00", "270.00", "270.00", "1", "2", "80.00", "300.00", "380.00", "190.00"])
        #expect(lines.contains { $0.hasSuffix("L              1          b_path") })
        let json = try CommandRunner.run(["stats", "--format", "json", directory + "/t.xml"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let first = try #require((document["classes"] as? [[String: Any]])?.first)
        #expect(first["name"] as? String == "L")
        #expect((first["waitNanoseconds"] as? [String: Any])?["total"] as? Int == 270_000)
        #expect((first["holdNanoseconds"] as? [String: Any])?["mean"] as? Int == 190_000)
    }
}

/// Times near Int64's 292 years of nanoseconds: one interval fits, a sum of two does not, and
/// neither may crash the report nor wrap to a negative total.
@Suite struct LockStatisticsLongTimesTests {
    /// Two holds of Int64.max - 1 ns each (on two cpus, so both are open at once).
    static let xml = """
        <?xml version="1.0"?>
        <trace version="1" cpus="2"><events>
        <acquire cpu="0" task="a" lock="l" instance="1" t="0"/>
        <acquire cpu="1" task="b" lock="l" instance="2" t="0"/>
        <release cpu="0" task="a" lock="l" instance="1" t="9223372036854775806"/>
        <release cpu="1" task="b" lock="l" instance="2" t="9223372036854775806"/>
        </events></trace>
        """

    private func entries(_ xml: String) throws -> [LockStatistics.Entry] {
        var options = AnalysisOptions()
        options.collectsStatistics = true
        let analysis = Analysis(options: options)
        try analysis.analyze([.bytes(Array(xml.utf8), displayName: "t.xml")])
        return try #require(analysis.statistics).sortedEntries
    }

    /// The total is the exact sum, past Int64; the mean is the hold itself.
    @Test func aTotalPastInt64IsExact() throws {
        let hold = try #require(try entries(Self.xml).first).total.hold
        #expect(hold == LockStatistics.Durations(count: 2, timed: 2, min: 9_223_372_036_854_775_806, max: 9_223_372_036_854_775_806, total: 18_446_744_073_709_551_612))
        #expect(hold.mean == 9_223_372_036_854_775_806)
    }

    /// Merging the statistics of traces analysed apart adds their totals the same way.
    @Test func mergedTotalsPastInt64AreExact() throws {
        var a = LockStatistics.Durations()
        a.add(.max)
        var b = a
        b.merge(a)
        b.merge(a)
        #expect(b.total == 3 * Int128(Int64.max))
        #expect(b.mean == .max)
    }

    /// Int64.max ns rounds to lock_stat's hundredths of a microsecond without overflowing.
    @Test func microsecondsOfTheLongestInterval() {
        #expect(LockStatReporter.micros(Int128(Int64.max)) == "9223372036854775.81")
        #expect(LockStatReporter.micros(2 * Int128(Int64.max)) == "18446744073709551.61")
        #expect(LockStatReporter.micros(4) == "0.00")
        #expect(LockStatReporter.micros(5) == "0.01")
    }

    /// `pgtrace stats` prints such a class (it crashed: arithmetic overflow), and its JSON
    /// total is the exact integer (it was -4).
    @Test func theCommandPrintsLongTimes() throws {
        let directory = try CommandRunner.temporaryDirectory("stats-long")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.xml.write(toFile: directory + "/t.xml", atomically: true, encoding: .utf8)
        let text = try CommandRunner.run(["stats", directory + "/t.xml"])
        #expect(text.status == 0, "\(text.stderr)")
        let row = try #require(text.stdout.split(separator: "\n").first { $0.contains("l:") })
        #expect(row.split(separator: " ") == [
            "l:", "0", "0", "-", "-", "-", "-", "0", "2",
            "9223372036854775.81", "9223372036854775.81", "18446744073709551.61", "9223372036854775.81",
        ])
        let json = try CommandRunner.run(["stats", "--format", "json", directory + "/t.xml"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains("""
                  "holdNanoseconds" : {
                    "count" : 2,
                    "max" : 9223372036854775806,
                    "mean" : 9223372036854775806,
                    "min" : 9223372036854775806,
                    "timed" : 2,
                    "total" : 18446744073709551612
                  },
            """))
    }

    /// Traces analysed apart were counted once more for each analysis that put them aside
    /// (the shipped traces were 50 of 45 given in order, 49 reversed), and the JSON listed
    /// them so, in the order given: each trace once, by name, in either order.
    @Test func theCommandCountsEachTraceOnceInAnyOrder() throws {
        let traces = try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))
            .filter { $0.hasSuffix(".xml") }.sorted().map { "traces/" + $0 }
        let text = try CommandRunner.run(["stats"] + traces)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("lock_stat version 0.4 (pgtrace: \(traces.count) traces, "), "\(text.stdout.prefix(80))")
        #expect(text.stdoutBytes == (try CommandRunner.run(["stats"] + traces.reversed())).stdoutBytes)
        let json = try CommandRunner.run(["stats", "--format", "json"] + traces.reversed())
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdoutBytes) as? [String: Any])
        #expect((object["summary"] as? [String: Any])?["traces"] as? [String] == traces)
        #expect(json.stdoutBytes == (try CommandRunner.run(["stats", "--format", "json"] + traces)).stdoutBytes)
    }
}
