import PGTrace
import Testing

/// The columns of each kernel text format, as the kernel and its tools print them.
@Suite struct TraceLineTests {
    @Test func ftraceWithTheFiveCharacterFlags() throws {
        let line = try #require(TraceLine.parse("            bash-1040    [004] d..2.    49.339890: lock_release: 000000001d24683a tasklist_lock", format: nil))
        #expect(line == TraceLine(command: "bash", pid: 1040, cpu: 4, flags: "d..2.", timestamp: 49_339_890_000, event: "lock_release", system: nil, info: "000000001d24683a tasklist_lock"))
    }

    @Test func ftraceWithTheOldFourCharacterFlagsAndATGIDColumn() throws {
        let old = try #require(TraceLine.parse("          <idle>-0     [002] d.h1  2361.523342: irq_handler_entry: irq=30 name=ahci", format: nil))
        #expect(old.command == "<idle>" && old.pid == 0 && old.cpu == 2 && old.flags == "d.h1" && old.event == "irq_handler_entry")
        #expect(old.info == "irq=30 name=ahci")
        let tgid = try #require(TraceLine.parse("            bash-1040  ( 1040) [004] d..2.    49.339890: lock_acquire: 0000000084e3738a read &mm->mmap_lock", format: nil))
        #expect(tgid.command == "bash" && tgid.pid == 1040 && tgid.cpu == 4 && tgid.info == "0000000084e3738a read &mm->mmap_lock")
    }

    @Test func ftraceTaskNamesWithDashesAndColons() throws {
        let line = try #require(TraceLine.parse("     kworker/u16:2-319     [001] ....1   100.000001: lock_acquire: 00000000deadbeef &pool->lock", format: nil))
        #expect(line.command == "kworker/u16:2" && line.pid == 319)
    }

    @Test func traceCmdReportWithAndWithoutLatencyFlags() throws {
        let plain = try #require(TraceLine.parse("       trace-cmd-16129 [002] 158126.498420: lock_release: 0xffff88003f1fa4f8 &sb->s_type->i_mutex_key", format: nil))
        #expect(plain.command == "trace-cmd" && plain.pid == 16129 && plain.cpu == 2 && plain.flags == nil)
        #expect(plain.timestamp == 158_126_498_420_000 && plain.info == "0xffff88003f1fa4f8 &sb->s_type->i_mutex_key")
        let latency = try #require(TraceLine.parse("          <idle>-0       0d.h1. 106467.859747: irq_handler_entry: irq=9 name=acpi", format: nil))
        #expect(latency.cpu == 0 && latency.flags == "d.h1." && latency.event == "irq_handler_entry")
    }

    @Test func perfScript() throws {
        let line = try #require(TraceLine.parse("sched-messaging    3409 [001]  7152.904029: lock:contention_begin: 0xc00000c80904ef00 (flags=SPIN)", format: nil))
        #expect(line == TraceLine(command: "sched-messaging", pid: 3409, cpu: 1, flags: nil, timestamp: 7_152_904_029_000, event: "contention_begin", system: "lock", info: "0xc00000c80904ef00 (flags=SPIN)"))
        let irq = try #require(TraceLine.parse("swapper     0 [002]  6205.804133: irq:irq_handler_entry: irq=11 name=arch_timer", format: nil))
        #expect(irq.system == "irq" && irq.event == "irq_handler_entry" && irq.info == "irq=11 name=arch_timer")
    }

    @Test func notEventLines() {
        for text in ["# tracer: nop", "CPU:3 [LOST 120 EVENTS]", "##### CPU 2 buffer started ####", "", "cpus=4", "this is not a trace"] {
            #expect(TraceLine.parse(Substring(text), format: nil) == nil, "\(text)")
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
