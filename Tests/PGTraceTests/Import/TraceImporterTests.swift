import Foundation
import PGTrace
import Testing

/// Importing kernel text traces: what becomes which event, what is said about what is lost,
/// and the findings the events prove — the same as the equivalent hand-written XML.
@Suite final class TraceImporterTests {
    /// The captures this test wrote (`temporary`), removed when it ends: each test has an
    /// instance of its own.
    private var written: [String] = []

    deinit {
        for path in written { try? FileManager.default.removeItem(atPath: path) }
    }

    private func fixture(_ name: String) -> String { Repository.path("Tests/PGTraceTests/Fixtures/import/\(name)") }

    /// `text` as a capture file, its last line ended by a newline as a tracer ends every line.
    private func temporary(_ text: String) throws -> String {
        // Tests run in parallel: one file each.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-import-\(UUID().uuidString).txt").path
        try (text.hasSuffix("\n") ? text : text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        written.append(path)
        return path
    }

    private func imported(_ path: String, options: TraceImporter.Options = .init()) throws -> (xml: String, summary: TraceImporter.Summary) {
        let importer = try TraceImporter(path: path, displayName: "t.txt", options: options)
        var xml = ""
        try importer.convert { xml += $0 }
        return (xml, importer.summary)
    }

    private func findings(_ source: Analysis.Source) throws -> [String] {
        let analysis = Analysis()
        try analysis.analyze([source])
        return analysis.findings.map { "\($0.rule.rawValue) \($0.locks.joined(separator: ","))" }
    }

    @Test func eachInputLineKeepsItsLineNumber() throws {
        let (xml, summary) = try imported(fixture("thp-ipi-trace_pipe.txt"))
        let lines = xml.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0].contains("<trace version=\"1\""))
        #expect(lines[0].contains("<acquire cpu=\"0\" task=\"modprobe-3301\" t=\"812100001000\" lock=\"pgd_lock\" instance=\"00000000c0ffee01\"/>"))
        #expect(lines[6].contains("<ipi-send cpu=\"1\" task=\"kswapd0-77\" t=\"812200002000\" targets=\"0\" wait=\"true\" reason=\"flush_tlb_func\" at=\"smp_call_function_many_cond+0x1a3/0x3e0\"/>"))
        #expect(lines.count == 10)
        // Nine events of the capture, and kswapd's flags stating its irq state (line 6).
        #expect(lines[5].hasPrefix("<irq-enable cpu=\"1\" task=\"kswapd0-77\" t=\"812200001000\" pc=\"0\"/><acquire"))
        #expect(summary.format == .ftrace && summary.events == 10 && summary.skipped.isEmpty)
    }

    @Test func theFlagsColumnGivesIrqStateAndContext() throws {
        let text = """
                      sh-1    [000] d....     1.000001: lock_acquire: 00000000000000a1 pgd_lock
                      sh-1    [000] d.h..     1.000002: lock_acquire: 00000000000000a2 &desc->lock
                      sh-1    [000] d.h..     1.000003: lock_release: 00000000000000a2 &desc->lock
                      sh-1    [000] d....     1.000004: lock_release: 00000000000000a1 pgd_lock
                      sh-1    [000] ..s..     1.000005: lock_acquire: 00000000000000a3 &base->lock
                      sh-1    [000] ..s..     1.000006: lock_release: 00000000000000a3 &base->lock
                      sh-1    [000] b....     1.000007: lock_acquire: 00000000000000a4 &sk->sk_lock.slock
                      sh-1    [000] b....     1.000008: lock_release: 00000000000000a4 &sk->sk_lock.slock
                      sh-1    [000] .....     1.000009: lock_acquire: 00000000000000a5 &p->pi_lock
            """
        let (xml, _) = try imported(try temporary(text))
        let elements = xml.split(separator: "<").map { $0.split(separator: " ").first.map(String.init) ?? "" }
            .filter { !["?xml", "trace", "events>", "/events>", "/trace>\n", "/trace>"].contains($0) }
        #expect(elements == [
            "irq-disable", "acquire", "hardirq-enter", "acquire", "release", "hardirq-exit", "release",
            // The capture prints bh-off ('b', kernels since 5.19): from then on its flags
            // state bh absolutely.
            "irq-enable", "softirq-enter", "acquire", "release", "softirq-exit", "bh-state", "acquire", "release",
            "bh-state", "acquire",
        ])
    }

    @Test func withoutFlagsNoIrqStateIsInvented() throws {
        let (xml, summary) = try imported(fixture("abba.perf-script.txt"))
        #expect(summary.format == .perf)
        #expect(!xml.contains("irq-disable") && !xml.contains("irq-enable") && !xml.contains("hardirq"))
        #expect(xml.contains("<softirq-enter cpu=\"1\" task=\"kworker/1:1-77\" t=\"50000007000\" vec=\"TIMER\"/>"))
        #expect(xml.contains("<contended cpu=\"1\" task=\"bash-2001\" t=\"50000002000\" lock=\"pgd_lock\" instance=\"0xffffffff82a4c2d8\"/>"))
        #expect(summary.skipped.isEmpty)
        #expect(xml.contains("<acquired cpu=\"1\" task=\"bash-2001\" t=\"50000004000\" lock=\"pgd_lock\" instance=\"0xffffffff82a4c2d8\"/>"))
    }

    @Test func lockNamesAreNormalizedUnlessRaw() throws {
        let text = "  a-1 [000] ....1 1.0: lock_acquire: 00000000000000a1 &(&mm->page_table_lock)->rlock\n  a-1 [000] ....2 1.1: lock_acquire: 00000000000000a2 try read &(ptlock_ptr(page))->rlock\n"
        let path = try temporary(text)
        let (xml, _) = try imported(path)
        #expect(xml.contains("lock=\"&amp;mm-&gt;page_table_lock\""))
        #expect(xml.contains("lock=\"ptlock_ptr(page)\" instance=\"00000000000000a2\" mode=\"recursive-read\" try=\"true\""))
        let (raw, _) = try imported(path, options: TraceImporter.Options(rawNames: true))
        #expect(raw.contains("lock=\"&amp;(&amp;mm-&gt;page_table_lock)-&gt;rlock\""))
    }

    @Test func everyEventKindIsTranslated() throws {
        let text = """
            # tracer: nop
            #
            # entries-in-buffer/entries-written: 20/20   #P:4
              k-1 [000] d..1. 1.000001: irq_disable: caller=_raw_spin_lock_irqsave+0x4d/0x60 parent=0x0
              k-1 [000] d..1. 1.000002: ipi_send_cpu: cpu=2 callsite=generic_exec_single+0x3c/0x110 callback=tlb_remove_table_smp_sync+0x0/0x10
              k-1 [000] d..1. 1.000003: csd_queue_cpu: cpu=3 callsite=smp_call_function_single+0xd1/0x1a0 func=do_sync_core csd=00000000b6c4a7e2
              k-1 [000] d..1. 1.000004: ipi_raise: target_mask=00000000,00000006 (Function call interrupts)
              k-1 [000] d..1. 1.000005: tlb_flush: pages:-1 reason:remote ipi send (4)
              k-1 [000] d..1. 1.000006: tlb_flush: pages:1 reason:local mm shootdown (3)
              k-1 [000] d..1. 1.000007: xen_mmu_pgd_pin: mm 000000008f0d2b1c pgd 00000000a1b2c3d4
              k-1 [000] d..1. 1.000008: xen_mmu_alloc_ptpage: mm 000000008f0d2b1c  pfn 1a2b3  level 4  pinned
              k-1 [000] d..1. 1.000009: xen_mmu_release_ptpage: pfn 1a2b3  level 4  pinned
              k-1 [000] d..1. 1.000010: xen_mmu_flush_tlb_multi: ncpus 2 mm 000000008f0d2b1c addr 7f0000000000, end 7f0000001000
              k-1 [000] d..1. 1.000011: xen_mmu_flush_tlb_one_user: addr 7f0000000000
              k-1 [000] d..1. 1.000012: xen_mmu_pgd_unpin: mm 000000008f0d2b1c pgd 00000000a1b2c3d4
              k-1 [000] ..... 1.000013: irq_enable: caller=_raw_spin_unlock_irqrestore+0x2e/0x50 parent=0x0
              k-1 [000] d.h1. 1.000014: ipi_entry: (Function call interrupts)
              k-1 [000] d.h1. 1.000015: csd_function_entry: func=do_sync_core, csd=00000000b6c4a7e2
            """
        let (xml, summary) = try imported(try temporary(text))
        for expected in [
            "<irq-disable cpu=\"0\" task=\"k-1\" t=\"1000001000\" at=\"_raw_spin_lock_irqsave+0x4d/0x60\" pc=\"1\"/>",
            "targets=\"2\" wait=\"true\" reason=\"tlb_remove_table_smp_sync\"",
            "targets=\"3\" wait=\"true\" reason=\"do_sync_core\"",
            "targets=\"1,2\" reason=\"Function call interrupts\"/>",
            "<tlb-flush cpu=\"0\" task=\"k-1\" t=\"1000005000\" targets=\"others\" wait=\"true\"/>",
            "<set-ro cpu=\"0\" task=\"k-1\" t=\"1000007000\" page=\"pgd:00000000a1b2c3d4\" level=\"pgd\"/><pin cpu=\"0\" task=\"k-1\" t=\"1000007000\" page=\"pgd:00000000a1b2c3d4\" level=\"pgd\"/>",
            "<set-ro cpu=\"0\" task=\"k-1\" t=\"1000008000\" page=\"pfn:1a2b3\" level=\"pte\"/><pin cpu=\"0\" task=\"k-1\" t=\"1000008000\" page=\"pfn:1a2b3\" level=\"pte\"/>",
            "<unpin cpu=\"0\" task=\"k-1\" t=\"1000009000\" page=\"pfn:1a2b3\" level=\"pte\"/><set-rw",
            "<tlb-flush cpu=\"0\" task=\"k-1\" t=\"1000010000\" targets=\"others\" mode=\"hypercall\"/>",
            "<tlb-flush cpu=\"0\" task=\"k-1\" t=\"1000011000\" targets=\"local\" mode=\"hypercall\"/>",
            "<unpin cpu=\"0\" task=\"k-1\" t=\"1000012000\" page=\"pgd:00000000a1b2c3d4\" level=\"pgd\"/><set-rw cpu=\"0\" task=\"k-1\" t=\"1000012000\" page=\"pgd:00000000a1b2c3d4\" level=\"pgd\"/>",
            "<irq-enable cpu=\"0\" task=\"k-1\" t=\"1000013000\" at=\"_raw_spin_unlock_irqrestore+0x2e/0x50\" pc=\"0\"/>",
        ] {
            #expect(xml.contains(expected), "\(expected)")
        }
        // #P counts the cpus online, not the highest cpu id: it declares nothing.
        #expect(!xml.contains("cpus="))
        // A local flush touches no other cpu; ipi_entry enters a hardirq, the cross-call runs in it.
        #expect(summary.skipped == ["tlb_flush": 1])
        // The flags enter the hardirq the IPI runs in; its cross-call changes nothing.
        #expect(xml.contains("<irq-enable cpu=\"0\" task=\"k-1\" t=\"1000013000\" at=\"_raw_spin_unlock_irqrestore+0x2e/0x50\" pc=\"0\"/>\n<irq-disable cpu=\"0\" task=\"k-1\" t=\"1000014000\" pc=\"1\"/><hardirq-enter cpu=\"0\" task=\"k-1\" t=\"1000014000\"/>\n\n</events>"))
        // And the result is a valid trace.
        let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable())
        try reader.read(bytes: Array(xml.utf8), schema: .v1, header: { _ in }, event: { _ in })
    }

    @Test func lostEventsBecomeNotesAndTheAnalysisSaysSo() throws {
        let text = "  a-1 [000] ....1 1.0: lock_acquire: 00000000000000a1 A\nCPU:0 [LOST 42 EVENTS]\n##### CPU 1 buffer started ####\n  a-1 [000] ....1 1.1: lock_release: 00000000000000a1 A\n"
        let path = try temporary(text)
        let (xml, summary) = try imported(path)
        #expect(xml.split(separator: "\n")[1] == "<events-lost cpu=\"0\" count=\"42\"/>")
        #expect(summary.lostEvents.map(\.count) == [42])
        #expect(summary.report?.contains("the trace lost 42 events (findings may be incomplete)") == true)
        let analysis = Analysis()
        try analysis.analyze([.file(path: path, displayName: "lost.txt")])
        // The lost events may have released A: what was held on cpu 0 is forgotten, and A's
        // release after them reads as that of a lock held from before.
        #expect(analysis.notes.map(\.message) == [
            "lost.txt: cpu 0 lost 42 events (line 2): findings may be incomplete",
            "A is released at lost.txt:4 without being seen taken: held since before the capture began",
        ])
        #expect(analysis.findings.isEmpty)
    }

    /// A capture's names are the kernel's bytes: lock\x01 and lock\x02 are two classes, taken
    /// one inside the other, no recursion. XML 1.0 cannot carry those controls, even as
    /// character references; the import writes them as the text report shows them, `\x01`,
    /// so the trace it writes stays two classes (both were `lock` and U+FFFD, one class: a
    /// false recursive-locking).
    @Test func namesThatDifferOnlyInControlCharactersStayApart() throws {
        let text = """
                        a-1    [000] .....     1.000001: lock_acquire: 00000000000000a1 lock\u{1}
                        a-1    [000] .....     1.000002: lock_acquire: 00000000000000a2 lock\u{2}
                        a-1    [000] .....     1.000003: lock_release: 00000000000000a2 lock\u{2}
                        a-1    [000] .....     1.000004: lock_release: 00000000000000a1 lock\u{1}
            """
        let path = try temporary(text)
        #expect(try findings(.file(path: path, displayName: "c.txt")) == [])
        let (xml, _) = try imported(path)
        #expect(xml.contains("lock=\"lock\\x01\""))
        #expect(xml.contains("lock=\"lock\\x02\""))
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-import-\(UUID().uuidString).xml").path
        try xml.write(toFile: trace, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: trace) }
        #expect(try findings(.file(path: trace, displayName: "c.xml")) == [])
    }

    /// U+FFFE and U+FFFF are no XML characters either (a task may name itself with any bytes):
    /// the import writes their UTF-8 bytes as `\xHH`, and a backslash before them doubled, so
    /// the trace it writes is well-formed and its two classes stay two. The import wrote them
    /// raw, and the trace it wrote could not be read.
    @Test func namesWithNoncharactersImportAsWellFormedXML() throws {
        let text = """
                        a-1    [000] .....     1.000001: lock_acquire: 00000000000000a1 lock\u{FFFE}
                        a-1    [000] .....     1.000002: lock_acquire: 00000000000000a2 lock\u{FFFF}
                        a-1    [000] .....     1.000003: lock_acquire: 00000000000000a3 lock\\\u{FFFF}
                        a-1    [000] .....     1.000004: lock_release: 00000000000000a3 lock\\\u{FFFF}
                        a-1    [000] .....     1.000005: lock_release: 00000000000000a2 lock\u{FFFF}
                        a-1    [000] .....     1.000006: lock_release: 00000000000000a1 lock\u{FFFE}
            """
        let path = try temporary(text)
        #expect(try findings(.file(path: path, displayName: "c.txt")) == [])
        let (xml, _) = try imported(path)
        #expect(xml.contains("lock=\"lock\\xef\\xbf\\xbe\""))
        #expect(xml.contains("lock=\"lock\\xef\\xbf\\xbf\""))
        #expect(xml.contains("lock=\"lock\\\\\\xef\\xbf\\xbf\""))
        #expect(!xml.unicodeScalars.contains { $0.value == 0xFFFE || $0.value == 0xFFFF })
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-import-\(UUID().uuidString).xml").path
        try xml.write(toFile: trace, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: trace) }
        #expect(try findings(.file(path: trace, displayName: "c.xml")) == [])
    }

    /// A timestamp past 2^63 nanoseconds (292 years of uptime) reads as no timestamp at all;
    /// the error says so at its column, where it said the line was not one pgtrace knows.
    @Test func aTimestampPastInt64IsAnErrorAtItsColumn() throws {
        let path = try temporary("""
            # tracer: nop
                        bash-1040    [001] d....   100.000010: lock_acquire: 00000000aaaa0002 &p->pi_lock
                        bash-1040    [001] d....   9300000000.339890: lock_release: 00000000aaaa0002 &p->pi_lock
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TraceInputError(
            file: "c.txt", line: 3, column: 40,
            message: "timestamp 9300000000.339890 is past what pgtrace counts in (nanoseconds in 64 bits: at most 9223372036.854775807 seconds)")
        ) {
            try Analysis().analyze([.file(path: path, displayName: "c.txt")])
        }
        // Only the timestamp is blamed: a large number elsewhere in a line that is wrong for
        // another reason (no colon after its timestamp; no timestamp at all) is not.
        for line in [
            "            bash-100     [000] .....   10.000002 lock_release: 00000000aaaa0001 v99999999999.5 99999999999.5",
            "some garbage line mentioning version 12345678901234.5 here",
        ] {
            let other = try temporary("# tracer: nop\n            bash-100     [000] .....   10.000001: lock_acquire: 00000000aaaa0001 A\n\(line)\n")
            defer { try? FileManager.default.removeItem(atPath: other) }
            #expect(throws: TraceInputError(
                file: "c.txt", line: 3, column: 1, message: "cannot parse this ftrace line: '\(line)' (--lenient skips such lines)")
            ) {
                try Analysis().analyze([.file(path: other, displayName: "c.txt")])
            }
        }
        // The last second that fits still reads.
        let fits = try temporary("# tracer: nop\n            bash-1040    [001] d....   9223372036.854775807: lock_acquire: 00000000aaaa0002 &p->pi_lock\n")
        defer { try? FileManager.default.removeItem(atPath: fits) }
        #expect(try findings(.file(path: fits, displayName: "c.txt")) == [])
    }

    /// A count of lost events is read whole (it was cut to 18 digits: 1234567890123456789
    /// read as 123456789012345678), and counts that add up past Int are summed exactly.
    @Test func lostEventCountsAreReadWhole() throws {
        let text = """
              a-1 [000] ....1 1.0: lock_acquire: 00000000000000a1 A
            CPU:0 [LOST 1234567890123456789 EVENTS]
            CPU:1 [9223372036854775807 EVENTS DROPPED]
            Lost 9000000000000000000 message(s)!
            """
        let path = try temporary(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (xml, summary) = try imported(path)
        #expect(summary.lostEvents.map(\.count) == [1_234_567_890_123_456_789, 9_223_372_036_854_775_807, 9_000_000_000_000_000_000])
        #expect(xml.contains("<events-lost cpu=\"0\" count=\"1234567890123456789\"/>"))
        #expect(summary.report == "the trace lost 19457939926978232596 events (findings may be incomplete)")
    }

    /// A count past Int (the kernel prints an unsigned long) is refused at its column, not cut
    /// to a number that was never printed.
    @Test(arguments: [
        ("CPU:0 [LOST 99999999999999999999999 EVENTS]", 13),
        ("CPU:0 [99999999999999999999999 EVENTS DROPPED]", 8),
        ("Lost 99999999999999999999999 message(s)!", 6),
    ])
    func aLostEventCountPastIntIsAnError(_ marker: String, _ column: Int) throws {
        let path = try temporary("  a-1 [000] ....1 1.0: lock_acquire: 00000000000000a1 A\n\(marker)\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try imported(path)
        } throws: { error in
            (error as? TraceInputError)?.description
                == "t.txt:2:\(column): error: lost-events count 99999999999999999999999 is more than pgtrace counts (at most 9223372036854775807); expected the number of events the kernel lost"
        }
    }

    @Test func anUnparseableLineIsAnErrorAtItsLineOrSkippedWhenLenient() throws {
        let text = "  a-1 [000] ....1 1.0: lock_acquire: 00000000000000a1 A\nthis line is garbage\n  a-1 [000] ....1 1.1: lock_release: 00000000000000a1 A\n"
        let path = try temporary(text)
        do {
            _ = try imported(path)
            Issue.record("garbage accepted")
        } catch let error as TraceInputError {
            #expect(error.description.hasPrefix("t.txt:2:1: error: cannot parse this ftrace line: 'this line is garbage'"))
        }
        let (xml, summary) = try imported(path, options: TraceImporter.Options(lenient: true))
        #expect(summary.unparseable == 1 && xml.contains("<release"))
    }

    /// An event pgtrace reads whose fields are not what its tracepoint prints is an input
    /// error at the field's column, never dropped as an event pgtrace does not use nor half
    /// read (an empty lock_acquire was skipped, `cpu=abc` read as the cpumask 0xabc,
    /// `irq_handler_entry: garbage` a hardirq of no irq).
    @Test(arguments: [
        ("lock_acquire:", "2:42: error: lock_acquire: expected 'ADDRESS [try ][read ]CLASS', found nothing"),
        ("lock_acquire: 0000000", "2:50: error: lock_acquire: expected 'ADDRESS [try ][read ]CLASS', found '0000000'"),
        ("lock_acquire: zzzz read", "2:43: error: lock_acquire: expected a hex address (the lockdep_map's) first, as in 'ADDRESS [try ][read ]CLASS', found 'zzzz'"),
        ("lock_release: 00000000000000g1 A", "2:43: error: lock_release: expected a hex address (the lockdep_map's) first, as in 'ADDRESS CLASS', found '00000000000000g1'"),
        ("lock_contended:", "2:44: error: lock_contended: expected 'ADDRESS CLASS', found nothing"),
        ("irq_handler_entry: garbage", "2:48: error: irq_handler_entry: expected 'irq=NUMBER name=HANDLER', found 'garbage'"),
        ("irq_handler_entry: irq=99999999999999999999999 name=foo", "2:52: error: irq_handler_entry: expected 'irq=NUMBER' (the irq, in decimal), found '99999999999999999999999'"),
        ("irq_disable: garbage", "2:42: error: irq_disable: expected 'caller=FUNCTION parent=FUNCTION', found 'garbage'"),
        ("softirq_entry: vec=x", "2:48: error: softirq_entry: expected 'vec=NUMBER' (the vector, in decimal), found 'x'"),
        ("ipi_send_cpu: cpu=abc callsite=x callback=flush_tlb_func", "2:47: error: ipi_send_cpu: expected 'cpu=NUMBER' (a cpu, in decimal), found 'abc'"),
        ("ipi_send_cpumask: callsite=x callback=flush_tlb_func", "2:47: error: ipi_send_cpumask: expected 'cpumask=CPUMASK callsite=FUNCTION callback=FUNCTION', found 'callsite=x callback=flush_tlb_func'"),
        ("ipi_raise: (Function call interrupts)", "2:40: error: ipi_raise: expected 'target_mask=CPUMASK (REASON)', found '(Function call interrupts)'"),
        ("tlb_flush: garbage", "2:40: error: tlb_flush: expected 'pages:NUMBER reason:REASON (NUMBER)', found 'garbage'"),
        ("xen_mmu_pgd_pin: mm 000000008f0d2b1c", "2:46: error: xen_mmu_pgd_pin: expected 'mm ADDRESS pgd ADDRESS', found 'mm 000000008f0d2b1c'"),
        ("xen_mmu_pgd_unpin: mm 000000008f0d2b1c pgd zzzz", "2:72: error: xen_mmu_pgd_unpin: expected 'pgd ADDRESS' (the pgd's hex address), found 'zzzz'"),
        ("xen_mmu_alloc_ptpage: mm 000000008f0d2b1c  pfn xyz  level 4  pinned", "2:76: error: xen_mmu_alloc_ptpage: expected 'pfn PFN' (the page frame, in hex), found 'xyz'"),
        ("xen_mmu_release_ptpage: pfn 1a2b3  level x  pinned", "2:70: error: xen_mmu_release_ptpage: expected 'level NUMBER' (the page-table level, in decimal), found 'x'"),
    ])
    func aKnownEventWhoseFieldsDoNotParseIsAnError(_ event: String, _ expected: String) throws {
        let text = "  a-1 [000] ....1 1.000001: lock_acquire: 00000000000000a1 A\n  a-1 [000] ....1 1.000002: \(event)\n  a-1 [000] ....1 1.000003: lock_release: 00000000000000a1 A\n"
        let path = try temporary(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try imported(path)
        } throws: { error in
            (error as? TraceInputError)?.description == "t.txt:\(expected) (--lenient skips such lines)"
        }
        // --lenient skips the line and counts it, as it does a line of no format.
        let (xml, summary) = try imported(path, options: TraceImporter.Options(lenient: true))
        #expect(summary.unparseable == 1)
        #expect(summary.skipped.isEmpty)
        #expect(xml.split(separator: "\n", omittingEmptySubsequences: false)[1] == "")
        #expect(xml.contains("<release"))
    }

    /// What real kernels print that looks broken but is not: an early-boot `%p` before the
    /// random pool is ready, and trace-cmd's raw fields for an event it has no format for.
    @Test func earlyBootAddressesAndRawFlushesRead() throws {
        let text = """
              swapper/0-1     [000] d..1.     0.501685: lock_acquire: (____ptrval____) &rq->lock
              swapper/0-1     [000] d..1.     0.501686: tlb_flush: [FAILED TO PARSE] pages=1 reason=4
              swapper/0-1     [000] d..1.     0.501687: tlb_flush: [FAILED TO PARSE] pages=1 reason=2
              swapper/0-1     [000] d..1.     0.501690: lock_release: (____ptrval____) &rq->lock
              swapper/0-1     [000] d..1.     0.501691: lock_acquire: (ptrval) &rq->lock
              swapper/0-1     [000] d..1.     0.501692: lock_release: (ptrval) &rq->lock

            """
        let path = try temporary(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (xml, summary) = try imported(path)
        #expect(summary.unparseable == 0)
        // The class is known, the lock is not: each acquisition is a lock of its own, and a
        // release names none (it releases the last held of its class), 64-bit or 32-bit.
        #expect(xml.contains("lock=\"&amp;rq-&gt;lock\" instance=\"(ptrval) 1\"/>"))
        #expect(xml.contains("lock=\"&amp;rq-&gt;lock\" instance=\"(ptrval) 2\"/>"))
        #expect(xml.components(separatedBy: "<release cpu=\"0\" task=\"swapper/0-1\"").count == 3)
        #expect(xml.components(separatedBy: "lock=\"&amp;rq-&gt;lock\"/>").count == 3)
        // Reason 4 (remote ipi send) reaches other cpus; a local flush (2) is skipped.
        #expect(xml.components(separatedBy: "<tlb-flush").count == 2)
        #expect(summary.skipped == ["tlb_flush": 1])
        // A capture that starts with a lock held: its release, then one taken and released,
        // then another release of the class, is a lock held from before, not a bad unlock.
        let held = try temporary("""
              swapper/0-1     [000] d..1.     0.000001: lock_release: (ptrval) &rq->lock
              swapper/0-1     [000] d..1.     0.000002: lock_acquire: (ptrval) &rq->lock
              swapper/0-1     [000] d..1.     0.000003: lock_release: (ptrval) &rq->lock
              swapper/0-1     [000] d..1.     0.000004: lock_release: (ptrval) &rq->lock

            """)
        defer { try? FileManager.default.removeItem(atPath: held) }
        #expect(try findings(.file(held)) == [])
        let bad = try temporary("  a-1 [000] ....1 1.000002: tlb_flush: [FAILED TO PARSE] pages=1 reason=x\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect {
            _ = try imported(bad)
        } throws: { error in
            (error as? TraceInputError)?.description.contains("tlb_flush: expected 'reason=NUMBER'") == true
        }
    }

    /// A cpu past Int is past every cpu pgtrace models: said so, as for any cpu past them.
    @Test func aTargetCPUPastIntIsPastTheModel() throws {
        let path = try temporary("  a-1 [000] ....1 1.000001: ipi_send_cpu: cpu=99999999999999999999999 callsite=x callback=flush_tlb_func\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try imported(path)
        } throws: { error in
            (error as? TraceInputError)?.description
                == "t.txt:1:1: error: target cpu 99999999999999999999999 is more than the 8192 cpus pgtrace models (x86's largest NR_CPUS)"
        }
    }

    /// perf script's lines are read the same way (the system before the event).
    @Test func aPerfEventWhoseFieldsDoNotParseIsAnError() throws {
        let path = try temporary("sched-messaging    3409 [001]  7152.904029: lock:contention_begin:\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try imported(path)
        } throws: { error in
            (error as? TraceInputError)?.description
                == "t.txt:1:67: error: contention_begin: expected 'ADDRESS (flags=FLAGS)' (the lock's hex address), found nothing (--lenient skips such lines)"
        }
    }

    // MARK: Findings, against the equivalent hand-written XML

    /// A hand-written twin: partial, as every capture is.
    private func handWritten(_ events: String) -> Analysis.Source {
        .bytes(Array("<?xml version=\"1.0\"?>\n<trace version=\"1\" partial=\"true\"><events>\n\(events)\n</events></trace>\n".utf8), displayName: "hand.xml")
    }

    @Test func aTracePipeCaptureOfTheTHPDeadlock() throws {
        let imported = try findings(.file(path: fixture("thp-ipi-trace_pipe.txt"), displayName: "t.txt"))
        let hand = try findings(handWritten("""
            <irq-disable cpu="0"/><acquire cpu="0" lock="pgd_lock"/><acquire cpu="0" lock="&amp;mm-&gt;page_table_lock"/>
            <release cpu="0" lock="&amp;mm-&gt;page_table_lock"/><release cpu="0" lock="pgd_lock"/><irq-enable cpu="0"/>
            <acquire cpu="1" lock="&amp;mm-&gt;page_table_lock"/><ipi-send cpu="1" targets="0" wait="true"/><release cpu="1" lock="&amp;mm-&gt;page_table_lock"/>
            """))
        #expect(imported == ["ipi-deadlock &mm->page_table_lock"])
        #expect(imported == hand)
    }

    @Test func aTraceCmdReportOfPgdFreeInAnIrq() throws {
        let imported = try findings(.file(path: fixture("pgd-free-in-irq.trace-cmd.txt"), displayName: "t.txt"))
        let hand = try findings(handWritten("""
            <irq-enable cpu="0"/><acquire cpu="0" lock="pgd_lock"/><acquire cpu="0" lock="&amp;mm-&gt;page_table_lock"/>
            <release cpu="0" lock="&amp;mm-&gt;page_table_lock"/><release cpu="0" lock="pgd_lock"/>
            <hardirq-enter cpu="1" irq="19"/><acquire cpu="1" lock="pgd_lock"/><release cpu="1" lock="pgd_lock"/><hardirq-exit cpu="1"/>
            """))
        #expect(imported == ["irq-inconsistent pgd_lock"])
        #expect(imported == hand)
    }

    @Test func aPerfScriptOfAnABBA() throws {
        let imported = try findings(.file(path: fixture("abba.perf-script.txt"), displayName: "t.txt"))
        #expect(imported == ["circular-dependency pgd_lock,&mm->page_table_lock"])
    }

    @Test func publishedLinesImportAsTheyShould() throws {
        // Lines from Steven Rostedt's posts, a ping capture and the trace-cmd and ipi patch
        // threads (see Fixtures/import/README.md), in one file; timestamps go back and forth.
        let (xml, summary) = try imported(fixture("published-lines.ftrace.txt"), options: .init(format: .ftrace))
        #expect(summary.unparseable == 0)
        #expect(summary.skipped.isEmpty)
        #expect(summary.lostEvents.map(\.count) == [11745])
        for expected in [
            "<release cpu=\"6\" task=\"chronyd-544\" t=\"110216639000\" lock=\"&amp;mm-&gt;mmap_lock\" instance=\"0000000099631762\"/>",
            "lock=\"rcu_read_lock_trace\" instance=\"000000003660b68f\" mode=\"recursive-read\"",
            "<irq-enable cpu=\"4\" task=\"bash-1040\"",
            "<softirq-enter cpu=\"13\" task=\"ping-887859\"",
            "<hardirq-enter cpu=\"10\" task=\"rustc-887518\" irq=\"41\"/>",
            "<hardirq-enter cpu=\"7\" task=\"swapper/7\"",
            "targets=\"14,17,21\" wait=\"true\" reason=\"flush_tlb_func\" at=\"on_each_cpu_cond_mask+0x40\"",
        ] {
            #expect(xml.contains(expected), "\(expected)")
        }
        // The second bash line goes back in time: it keeps no t.
        #expect(xml.contains("<release cpu=\"4\" task=\"bash-1040\" lock=\"tasklist_lock\""))
    }

    @Test func cleanCapturesStayClean() throws {
        let text = """
              a-1 [000] d..1. 1.000001: lock_acquire: 00000000000000a1 pgd_lock
              a-1 [000] d..2. 1.000002: lock_acquire: 00000000000000a2 &(&mm->page_table_lock)->rlock
              a-1 [000] d..2. 1.000003: lock_release: 00000000000000a2 &(&mm->page_table_lock)->rlock
              a-1 [000] d..1. 1.000004: lock_release: 00000000000000a1 pgd_lock
              a-1 [000] ..... 1.000005: ipi_send_cpumask: cpumask=1 callsite=on_each_cpu_cond_mask+0x24/0x40 callback=flush_tlb_func+0x0/0x1c0
            """
        #expect(try findings(.file(path: try temporary(text), displayName: "c.txt")).isEmpty)
    }

    /// trace-cmd report's `cpus=N` heads the capture: the cpus its lines may name. Below the
    /// first event line it declares nothing (that line's header has gone out without it).
    @Test func aHeadersCPUCountBindsTheLinesBelowIt() throws {
        let declared = """
            version = 6
            cpus=2
                        bash-1     [003] .....   812.100001: lock_acquire: 0xffffffff82a4c2d8 pgd_lock
            """
        #expect {
            _ = try imported(try temporary(declared))
        } throws: { error in
            (error as? TraceInputError)?.message == "cpu 3 is past the 2 cpus the capture's header declares"
                && (error as? TraceInputError)?.line == 3
        }
        for first in [
            "          <idle>-0     [001] d.h1.   812.100000: sched_wakeup: comm=foo pid=12 prio=120 target_cpu=001",
            "          <idle>-0     [001]   812.100000: softirq_raise: vec=3 [action=NET_RX]",
            "CPU:0 [LOST 10 EVENTS]",
        ] {
            let late = "version = 6\n\(first)\ncpus=2\n            bash-1     [003] .....   812.100001: lock_acquire: 0xffffffff82a4c2d8 pgd_lock\n"
            let (xml, _) = try imported(try temporary(late))
            #expect(xml.contains("<acquire cpu=\"3\""), "\(first)")
            #expect(!xml.contains("cpus=\"2\""), "\(first)")
        }
    }
}
