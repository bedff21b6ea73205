import PGTrace
import Testing

/// The order of a pin walk (seed 004, "xen: clarify locking used when pinning a pagetable"),
/// told as v2.6.27's arch/x86/xen/mmu.c runs it with the patch: xen_pgd_pin() calls
/// pgd_walk(pgd, pin_page, USER_LIMIT), whose pgd callback now comes last ("Do the top level
/// last, so that the callbacks can use it as a cue to do final things like tlb flushes"),
/// then on PAE "Need to make sure unshared kernel PMD is pinnable":
/// pin_page(virt_to_page(pgd_page(pgd[pgd_index(TASK_SIZE)])), PT_PMD), and only then
/// xen_do_pin(MMUEXT_PIN_L3_TABLE, ...). The kernel pmd lies above USER_LIMIT, outside the
/// walk: what the L3 pin needs is it read-only before the pin, not before the pgd's remap.
@Suite struct PinWindowCheckerTests {
    private func findings(_ trace: TraceBuilder) throws -> [String] {
        try analyze(trace).findings.map { "\($0.rule.rawValue) \($0.severity.rawValue) \($0.objects) \($0.locations.map(\.event))" }
    }

    /// xen_dup_mmap() pinning a PAE child mm: one pte page under its split ptlock, the user pmd,
    /// and the pgd, in `walk`'s order; then the unshared kernel pmd and the L3 pin.
    private func paePin(walk: [String]) -> TraceBuilder {
        var trace = TraceBuilder()
        trace.task = "bash"
        trace.configs = [("XEN", "y"), ("X86_PAE", "y"), ("SPLIT_PTLOCKS", "y")]
        trace.acquire("mm->page_table_lock", instance: "mm:f5d2c000")
        for page in walk {
            switch page {
            case "pte":
                trace.acquire("ptlock", instance: "ptl:3a000", nest: "mm->page_table_lock")
                trace.event("set-ro", [("page", "pte:3a000"), ("level", "pte"), ("ptl", "ptl:3a000"), ("at", "arch/x86/xen/mmu.c:719"), ("fn", "pin_page")])
                trace.event("pin", [("page", "pte:3a000"), ("level", "pte"), ("at", "arch/x86/xen/mmu.c:725"), ("fn", "xen_do_pin")])
            default:
                trace.event("set-ro", [("page", page == "pmd" ? "pmd:3b000" : "pgd:f6c8a000"), ("level", page), ("ptl", "mm:f5d2c000"), ("at", "arch/x86/xen/mmu.c:719"), ("fn", "pin_page")])
            }
        }
        // xen_pgd_pin() after the walk: the kernel pmd, then the L3 pin.
        trace.event("set-ro", [("page", "pmd:kernel"), ("level", "pmd"), ("ptl", "mm:f5d2c000"), ("at", "arch/x86/xen/mmu.c:764"), ("fn", "pin_page")])
        trace.event("pin", [("page", "pgd:f6c8a000"), ("level", "pgd"), ("at", "arch/x86/xen/mmu.c:767"), ("fn", "xen_pgd_pin")])
        trace.release("ptlock", instance: "ptl:3a000")
        trace.release("mm->page_table_lock", instance: "mm:f5d2c000")
        return trace
    }

    /// The shipped code: the walk ends with the pgd, the kernel pmd follows it, the L3 pin last.
    @Test func thePAEKernelPmdMadeReadOnlyAfterTheWalkIsNoFinding() throws {
        #expect(try findings(paePin(walk: ["pte", "pmd", "pgd"])) == [])
    }

    /// The buggy twin, the old pgd_walk(): the pgd's callback first, then the user pmd and the
    /// pte page under it. Reported at the pte page (the user pmd right after the pgd reads the
    /// same as the kernel pmd would; the pte page cannot be it), citing the pgd's remap.
    @Test func theTopLevelHandledBeforeThePagesUnderItIsReported() throws {
        let trace = paePin(walk: ["pgd", "pmd", "pte"])
        #expect(try findings(trace) == ["pin-window warning [\"pgd:f6c8a000\", \"pte:3a000\"] [1, 4]"])
        let finding = try #require(try analyze(trace).findings.first)
        #expect(finding.message.hasPrefix("the pin walk handles the top level pgd:f6c8a000 before the pte page pte:3a000 under it"))
        #expect(finding.locations.map(\.line) == [trace.line(ofEvent: 1), trace.line(ofEvent: 4)])
        // The pte's set-ro, its pin and the kernel pmd after it: one problem, met three times.
        #expect(finding.count == 3)
        #expect(finding.title == "pin walk handles the top level before the levels under it")
    }

    /// Only one pmd page fits the kernel pmd's step: a second one between the pgd's remap and
    /// its pin is the walk's.
    @Test func aSecondPmdAfterTheTopLevelIsTheWalksAndReported() throws {
        var trace = TraceBuilder()
        trace.event("set-ro", [("page", "pgd:1"), ("level", "pgd")])
        trace.event("set-ro", [("page", "pmd:1"), ("level", "pmd")])
        trace.event("set-ro", [("page", "pmd:kernel"), ("level", "pmd")])
        trace.event("pin", [("page", "pgd:1"), ("level", "pgd")])
        #expect(try findings(trace) == ["pin-window warning [\"pgd:1\", \"pmd:kernel\"] [0, 2]"])
    }

    /// x86-64's xen_pgd_pin(): the kernel pgd's L4 pin, then the user pgd's own remap and pin.
    @Test func theUserPgdPinnedAfterTheKernelPgdIsNoFinding() throws {
        var trace = TraceBuilder()
        trace.event("set-ro", [("page", "pte:1"), ("level", "pte")])
        trace.event("set-ro", [("page", "pgd:1"), ("level", "pgd")])
        trace.event("pin", [("page", "pgd:1"), ("level", "pgd")])
        trace.event("set-ro", [("page", "pgd:user"), ("level", "pgd")])
        trace.event("pin", [("page", "pgd:user"), ("level", "pgd")])
        #expect(try findings(trace) == [])
    }

    // MARK: Titles

    /// Each pin-window finding's headline says which problem it is; the rule's own title is
    /// the window's.
    @Test func aWritablePinIsTitledAsOne() throws {
        var trace = TraceBuilder()
        trace.event("pin", [("page", "pgd:1"), ("level", "pgd")])
        let finding = try #require(try analyze(trace).findings.first)
        #expect(finding.title == "page table pinned while writable")
        var window = TraceBuilder()
        window.event("set-ro", [("page", "pte:1"), ("level", "pte"), ("ptl", "ptl:1")])
        window.event("pin", [("page", "pte:1"), ("level", "pte")])
        #expect(try analyze(window).findings.map(\.title) == ["read-only page table outside its lock while unpinned"])
    }
}
