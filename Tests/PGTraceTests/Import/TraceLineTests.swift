import Foundation
@testable import PGTrace
import Testing

/// The columns of each kernel text format, as the kernel and its tools print them.
@Suite struct TraceLineTests {
    @Test func ftraceWithTheFiveCharacterFlags() throws {
        let line = try #require(TraceLine.parse("            bash-1040    [004] d..2.    49.339890: lock_release: 000000001d24683a tasklist_lock"))
        #expect(line == TraceLine(command: "bash", pid: 1040, cpu: 4, flags: "d..2.", timestamp: 49_339_890_000, event: "lock_release", system: nil, info: "000000001d24683a tasklist_lock"))
    }

    @Test func ftraceWithTheOldFourCharacterFlagsAndATGIDColumn() throws {
        let old = try #require(TraceLine.parse("          <idle>-0     [002] d.h1  2361.523342: irq_handler_entry: irq=30 name=ahci"))
        #expect(old.command == "<idle>" && old.pid == 0 && old.cpu == 2 && old.flags == "d.h1" && old.event == "irq_handler_entry")
        #expect(old.info == "irq=30 name=ahci")
        let tgid = try #require(TraceLine.parse("            bash-1040  ( 1040) [004] d..2.    49.339890: lock_acquire: 0000000084e3738a read &mm->mmap_lock"))
        #expect(tgid.command == "bash" && tgid.pid == 1040 && tgid.cpu == 4 && tgid.info == "0000000084e3738a read &mm->mmap_lock")
    }

    @Test func ftraceTaskNamesWithDashesAndColons() throws {
        let line = try #require(TraceLine.parse("     kworker/u16:2-319     [001] ....1   100.000001: lock_acquire: 00000000deadbeef &pool->lock"))
        #expect(line.command == "kworker/u16:2" && line.pid == 319)
    }

    @Test func traceCmdReportWithAndWithoutLatencyFlags() throws {
        let plain = try #require(TraceLine.parse("       trace-cmd-16129 [002] 158126.498420: lock_release: 0xffff88003f1fa4f8 &sb->s_type->i_mutex_key"))
        #expect(plain.command == "trace-cmd" && plain.pid == 16129 && plain.cpu == 2 && plain.flags == nil)
        #expect(plain.timestamp == 158_126_498_420_000 && plain.info == "0xffff88003f1fa4f8 &sb->s_type->i_mutex_key")
        let latency = try #require(TraceLine.parse("          <idle>-0       0d.h1. 106467.859747: irq_handler_entry: irq=9 name=acpi"))
        #expect(latency.cpu == 0 && latency.flags == "d.h1." && latency.event == "irq_handler_entry")
    }

    /// trace-cmd's `%12d:` count of a clock it does not print in seconds, straight after the
    /// cpu or flags column once it has 12 digits (`report --raw-ts`, and trace-cmd 3.1.6 on
    /// trappy-trace.trace.dat in some runs).
    @Test func traceCmdReportOfARawCountGluedToTheColumnBefore() throws {
        let plain = try #require(TraceLine.parse("          <idle>-0     [003]7615709442088: bprint:               0xc044504c: cpu_load: cpu: 3 freq: 800000 load: 0"))
        #expect(plain == TraceLine(command: "<idle>", pid: 0, cpu: 3, flags: nil, timestamp: 7_615_709_442_088, event: "bprint", system: nil, info: "0xc044504c: cpu_load: cpu: 3 freq: 800000 load: 0"))
        let latency = try #require(TraceLine.parse("  <idle>-0       3dN.2.7615709442088: bprint:               0xc044504c: cpu_load: cpu: 3 freq: 800000 load: 0"))
        #expect(latency == TraceLine(command: "<idle>", pid: 0, cpu: 3, flags: "dN.2.", timestamp: 7_615_709_442_088, event: "bprint", system: nil, info: "0xc044504c: cpu_load: cpu: 3 freq: 800000 load: 0"))
        // Exactly 12 digits leave no blank either; a two-digit cpu, old four-column flags.
        let twelve = try #require(TraceLine.parse("kworker/1:1-52     12d.h1761570944208: irq_handler_entry: irq=30 name=ahci"))
        #expect(twelve.cpu == 12 && twelve.flags == "d.h1" && twelve.timestamp == 761_570_944_208 && twelve.command == "kworker/1:1" && twelve.pid == 52)
        // A preempt count of 0 prints '.': the flags end at the last character not a digit.
        let zero = try #require(TraceLine.parse("bash-1040   0.Ns..17615709442088: lock_acquire: 0xffff8880 &mm->page_table_lock"))
        #expect(zero.cpu == 0 && zero.flags == ".Ns.." && zero.timestamp == 17_615_709_442_088)
        // A blank-padded count is the counter clock's own token, as before.
        let padded = try #require(TraceLine.parse("          <idle>-0     [003]  76157094420: bprint: x"))
        #expect(padded.cpu == 3 && padded.timestamp == 76_157_094_420)
        // Fewer than 12 digits are always padded: glued, they are not trace-cmd's.
        for text in ["  <idle>-0     [003]76157094420: bprint: x", "  <idle>-0       3dN.2.76157094420: bprint: x",
                     "  <idle>-0     [003]7615709442088 bprint: x", "  <idle>-0     [0x3]7615709442088: bprint: x"] {
            #expect(TraceLine.parse(Substring(text)) == nil, "\(text)")
        }
    }

    @Test func perfScript() throws {
        let line = try #require(TraceLine.parse("sched-messaging    3409 [001]  7152.904029: lock:contention_begin: 0xc00000c80904ef00 (flags=SPIN)"))
        #expect(line == TraceLine(command: "sched-messaging", pid: 3409, cpu: 1, flags: nil, timestamp: 7_152_904_029_000, event: "contention_begin", system: "lock", info: "0xc00000c80904ef00 (flags=SPIN)"))
        let irq = try #require(TraceLine.parse("swapper     0 [002]  6205.804133: irq:irq_handler_entry: irq=11 name=arch_timer"))
        #expect(irq.system == "irq" && irq.event == "irq_handler_entry" && irq.info == "irq=11 name=arch_timer")
    }

    @Test func notEventLines() {
        for text in ["# tracer: nop", "CPU:3 [LOST 120 EVENTS]", "##### CPU 2 buffer started ####", "", "cpus=4", "this is not a trace"] {
            #expect(TraceLine.parse(Substring(text)) == nil, "\(text)")
        }
    }

    @Test func formatsAreDetected() {
        func detect(_ lines: [String]) -> TextTraceFormat? { TextTraceFormat.detect(lines.map { Substring($0) }) }
        #expect(detect(["# tracer: nop", "#"]) == .ftrace)
        #expect(detect(["            bash-1040    [004] d..2.    49.339890: lock_release: 000000001d24683a tasklist_lock"]) == .ftrace)
        #expect(detect(["version = 6", "cpus=2"]) == .traceCmd)
        #expect(detect(["       trace-cmd-16129 [002] 158126.498420: lock_release: 0xffff88003f1fa4f8 &sb->s_type->i_mutex_key"]) == .traceCmd)
        #expect(detect(["swapper     0 [002]  6205.804133: irq:irq_handler_entry: irq=11 name=arch_timer"]) == .perf)
        #expect(detect(["hello", "world"]) == nil)
    }
}

/// Lines as real kernels printed them (kernel documentation, LKML and public captures; see
/// Fixtures/import/README.md for where each comes from).
@Suite struct RealTraceLineTests {
    @Test(arguments: [
        // Old 4-char flags with need-resched 'N', Documentation-era 5-wide pid.
        ("          <idle>-0       [000] dN.1    56.916925: ipi_exit: (Rescheduling interrupts)", "<idle>", 0, 0, "dN.1", "ipi_exit", "(Rescheduling interrupts)"),
        // New 5-char flags, softirq context.
        ("          <idle>-0       [003] ..s1.   314.011428: tasklet_entry: tasklet=0xffffa01ef8db2740 function=tcp_tasklet_func", "<idle>", 0, 3, "..s1.", "tasklet_entry", "tasklet=0xffffa01ef8db2740 function=tcp_tasklet_func"),
        // A TGID column, 5 wide.
        ("     kworker/3:2-27891 (27891) [003] d... 240338.934671: timer_start: timer=00000000d643debd function=delayed_work_timer_fn expires=4535008893 [timeout=1981] cpu=3 idx=186 flags=I", "kworker/3:2", 27891, 3, "d...", "timer_start", "timer=00000000d643debd function=delayed_work_timer_fn expires=4535008893 [timeout=1981] cpu=3 idx=186 flags=I"),
        ("           <...>-976   (  922) [003] d..4  1507.655130: sched_wakeup: comm=ndroid.systemui pid=2217 prio=110 target_cpu=002", "<...>", 976, 3, "d..4", "sched_wakeup", "comm=ndroid.systemui pid=2217 prio=110 target_cpu=002"),
        // The function tracer, with an unknown TGID.
        ("           <...>-13267   (-------) [034] d... 6368755.192329: check_cfs_rq_runtime <-put_prev_entity", "<...>", 13267, 34, "d...", "function", "check_cfs_rq_runtime <-put_prev_entity"),
        // ftrace with irq-info off: no flags column.
        ("           <...>-2677  [001]   840.928410: shrink_slab: shrink_icache_memory before=0 after=0", "<...>", 2677, 1, nil, "shrink_slab", "shrink_icache_memory before=0 after=0"),
    ] as [(String, String, Int, Int, String?, String, String)])
    func realLine(_ text: String, _ command: String, _ pid: Int, _ cpu: Int, _ flags: String?, _ event: String, _ info: String) throws {
        let line = try #require(TraceLine.parse(Substring(text)))
        #expect(line.command == command && line.pid == pid && line.cpu == cpu)
        #expect(line.flags == flags && line.event == event && line.info == info)
    }
}

@Suite struct CPUMaskTests {
    @Test func masksWiderThanSixtyFourCPUs() throws {
        let text = "  k-1 [000] ....1 1.0: ipi_send_cpumask: cpumask=ffffffff,ffffffff,ffffffff,fffffffe callsite=x+0x0/0x1 callback=flush_tlb_func+0x0/0x1c0\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-mask-\(UUID().uuidString).txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let importer = try TraceImporter(path: path, displayName: "m.txt")
        var xml = ""
        try importer.convert { xml += $0 }
        #expect(xml.contains("targets=\"" + (1...127).map(String.init).joined(separator: ",") + "\""))
        #expect(importer.summary.skipped.isEmpty)
    }

    @Test func crlfCapturesWithBlankLines() throws {
        let text = "  a-1 [000] ....1 1.0: lock_acquire: 00000000000000a1 A\r\n\r\n  a-1 [000] ....1 1.1: lock_release: 00000000000000a1 A\r\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-crlf-\(UUID().uuidString).txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let importer = try TraceImporter(path: path, displayName: "c.txt")
        var xml = ""
        try importer.convert { xml += $0 }
        #expect(xml.contains("<release"))
    }
}

/// The lookup of tracepoint names on a line's bytes, against the enum's own names.
@Suite struct TracepointNameTests {
    @Test func everyNameIsFoundByItsBytesAndNoOther() {
        for name in KernelRecord.Name.allCases {
            var text = name.rawValue
            #expect(text.withUTF8 { KernelRecord.Name.named($0) } == name, "\(name.rawValue)")
            text += "x"
            #expect(text.withUTF8 { KernelRecord.Name.named($0) } == nil)
        }
        var other = "lock_acquirf"
        #expect(other.withUTF8 { KernelRecord.Name.named($0) } == nil)
    }
}
