import Foundation
import PGTrace
import Testing

/// Xen's pin records as a capture shows them (seed 004's pinning, as the kernel traces it since
/// the xen tracepoints): what each stands for, and that a correct fork-then-exit is no finding.
///
/// __xen_pgd_pin() (arch/x86/xen/mmu_pv.c) emits trace_xen_mmu_pgd_pin(mm, pgd) before its
/// work: __xen_pgd_walk(mm, pgd, xen_pin_page, USER_LIMIT) maps the tree read-only (the pgd
/// last), then xen_do_pin(MMUEXT_PIN_L4_TABLE / L3) pins it. __xen_pgd_unpin() emits
/// trace_xen_mmu_pgd_unpin(mm, pgd), then xen_do_pin(MMUEXT_UNPIN_TABLE, ...), then the walk
/// (xen_unpin_page) maps the tree writable again. So one record stands for set-ro + pin, the
/// other for unpin + set-rw, as xen_mmu_alloc_ptpage / release_ptpage (pinned) already did.
@Suite struct XenPinImportTests {
    /// A fork whose child exits: xen_dup_mmap() pins the child's pgd, a pte page is
    /// allocated into the pinned mm (xen_alloc_ptpage pins it), released at exit, and
    /// xen_exit_mmap() unpins the pgd.
    static let forkThenExit = """
        # tracer: nop
        #
        #           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
        #              | |         |   |||||     |         |
                    bash-1108    [000] ....1    73.950578: xen_mmu_pgd_pin: mm ffff880037a1c000 pgd ffff880037b00000
                    bash-1108    [000] ....1    73.950600: xen_mmu_alloc_ptpage: mm ffff880037a1c000  pfn 3a000  level 4  pinned
                    bash-1108    [000] ....1    74.950600: xen_mmu_release_ptpage: pfn 3a000  level 4  pinned
                    bash-1108    [000] ....1    74.950700: xen_mmu_pgd_unpin: mm ffff880037a1c000 pgd ffff880037b00000
        """

    private func temporary(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-xenpin-\(UUID().uuidString).txt").path
        try (text.hasSuffix("\n") ? text : text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func imported(_ path: String) throws -> String {
        let importer = try TraceImporter(path: path, displayName: "c.txt")
        var xml = ""
        try importer.convert { xml += $0 }
        return xml
    }

    private func describe(_ analysis: Analysis) -> [String] {
        analysis.findings.map { "\($0.rule.rawValue) \($0.severity.rawValue) \($0.objects) \($0.locations.map(\.event))" }
    }

    @Test func thePgdPinRecordIsTheReadOnlyWalkAndThePin() throws {
        let path = try temporary(Self.forkThenExit)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = try imported(path).split(separator: "\n", omittingEmptySubsequences: false)
        // Each record stays on its capture line (line 5 is lines[4]).
        #expect(lines[4].hasSuffix(
            "<set-ro cpu=\"0\" task=\"bash-1108\" t=\"73950578000\" page=\"pgd:ffff880037b00000\" level=\"pgd\"/>"
                + "<pin cpu=\"0\" task=\"bash-1108\" t=\"73950578000\" page=\"pgd:ffff880037b00000\" level=\"pgd\"/>"))
        #expect(lines[7] == "<unpin cpu=\"0\" task=\"bash-1108\" t=\"74950700000\" page=\"pgd:ffff880037b00000\" level=\"pgd\"/>"
            + "<set-rw cpu=\"0\" task=\"bash-1108\" t=\"74950700000\" page=\"pgd:ffff880037b00000\" level=\"pgd\"/>")
    }

    @Test func aForkThenExitCaptureIsNoFindingReadOrImported() throws {
        let path = try temporary(Self.forkThenExit)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let direct = Analysis()
        try direct.analyze([.file(path: path, displayName: "c.txt")])
        #expect(describe(direct) == [])
        // `pgtrace import` then `analyze`: the same verdict.
        let viaXML = try analyze([("c.xml", try imported(path))])
        #expect(describe(viaXML) == [])
    }

    /// The buggy twin, written by hand: the L3 pin of a pgd never made read-only (no walk
    /// before xen_do_pin). Xen refuses it; pgtrace still reports it.
    @Test func aPgdPinnedWithoutItsReadOnlyWalkIsStillAFinding() throws {
        var trace = TraceBuilder()
        trace.task = "bash"
        trace.acquire("mm->page_table_lock", instance: "mm:f5d2c000")
        trace.event("pin", [("page", "pgd:f6c8a000"), ("level", "pgd"), ("at", "arch/x86/xen/mmu.c:767"), ("fn", "xen_pgd_pin")])
        trace.release("mm->page_table_lock", instance: "mm:f5d2c000")
        let analysis = try analyze(trace)
        #expect(describe(analysis) == ["pin-window error [\"pgd:f6c8a000\"] [1]"])
        let finding = try #require(analysis.findings.first)
        #expect(finding.message == "page-table page pgd:f6c8a000 is pinned while still writable: Xen refuses to pin a page-table page the guest can write")
        #expect(finding.locations.map(\.line) == [trace.line(ofEvent: 1)])
    }
}
