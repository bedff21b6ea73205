import Foundation
import PGTrace
import Testing

/// Every trace in traces/ retells a position from the seed threads; each asserts exactly the
/// findings the thread argues for (rule, severity, locks, and the events that prove it), and
/// each fixed twin asserts none.
@Suite struct ShippedTraceTests {
    struct Expected: Sendable, CustomStringConvertible {
        var rule: Rule
        var severity: Severity
        var locks: [String]
        /// The page-table objects (pgds, pages, tables) the finding names, in order.
        var objects: [String]
        /// The event indices of the finding's locations, in order.
        var events: [Int]

        init(rule: Rule, severity: Severity, locks: [String], objects: [String] = [], events: [Int]) {
            self.rule = rule
            self.severity = severity
            self.locks = locks
            self.objects = objects
            self.events = events
        }

        var description: String { "\(rule.rawValue) \(severity.rawValue) \(locks) \(objects) \(events)" }
    }

    static let expectations: [String: [Expected]] = [
        // Issue 2's starting examples.
        "pgd-lock-abba.xml": [
            Expected(rule: .circularDependency, severity: .error, locks: ["pgd_lock", "mm->page_table_lock"], events: [5, 4, 1])
        ],
        "pgd-lock-abba-fixed.xml": [],
        // Documentation/locking/locktypes.rst: a spinlock_t (the allocator's zone->lock) taken
        // under a raw_spinlock_t, with PROVE_RAW_LOCK_NESTING.
        "raw-spinlock-then-spinlock.xml": [
            Expected(rule: .invalidWaitContext, severity: .error, locks: ["&zone->lock", "&chip->raw_lock"], events: [1, 0])
        ],
        "raw-spinlock-then-spinlock-fixed.xml": [],
        // printk from NMI before printk_nmi: logbuf_lock used outside NMI, then taken in one.
        "nmi-printk-logbuf-lock.xml": [
            Expected(rule: .irqInconsistent, severity: .error, locks: ["logbuf_lock"], events: [3, 0])
        ],
        "nmi-printk-logbuf-lock-fixed.xml": [],
        // whatisRCU.rst: no blocking in an RCU read-side critical section.
        "mutex-in-rcu-read-side.xml": [
            Expected(rule: .sleepInAtomic, severity: .error, locks: [], events: [1, 0]),
            Expected(rule: .invalidWaitContext, severity: .error, locks: ["&obj->lock", "rcu_read_lock"], events: [2, 0]),
        ],
        "mutex-in-rcu-read-side-fixed.xml": [],
        // whatisRCU.rst: rcu_read_lock_sched() disables preemption; msleep() inside it is
        // might_sleep's BUG, then scheduling while atomic as the task is switched out.
        "sleep-in-rcu-sched-read-side.xml": [
            Expected(rule: .sleepInAtomic, severity: .error, locks: [], events: [1]),
            Expected(rule: .sleepInAtomic, severity: .error, locks: [], events: [2]),
        ],
        "sleep-in-rcu-sched-read-side-fixed.xml": [],
        // Commit b89deed32ccc: the phy code flushes the system workqueue under rtnl_mutex,
        // which a queued linkwatch event takes (lockdep's workqueue maps close the cycle).
        "workqueue-flush-under-rtnl.xml": [
            Expected(
                rule: .circularDependency, severity: .error,
                locks: ["(wq_completion)events", "(linkwatch_work).work", "rtnl_mutex"], events: [7, 6, 1, 2])
        ],
        "workqueue-flush-under-rtnl-fixed.xml": [],
        // Seed 002: THP page_referenced_one against vmalloc_sync_all.
        "thp-flush-under-page-table-lock.xml": [
            Expected(rule: .ipiDeadlock, severity: .error, locks: ["mm->page_table_lock"], events: [5, 4, 1, 0])
        ],
        "thp-flush-after-unlock.xml": [],
        // The same as a capture (partial): the ipi-deadlock is still found; the release of a
        // lock held from before the capture is a note, not a finding.
        "seed002-capture-thp-flush-under-ptl.xml": [
            Expected(rule: .ipiDeadlock, severity: .error, locks: ["mm->page_table_lock"], events: [9, 8, 3, 1])
        ],
        "seed002-capture-thp-flush-after-unlock.xml": [],
        "pgd-lock-without-irqsave.xml": [],
        "pgd-free-in-irq.xml": [
            Expected(rule: .irqInconsistent, severity: .error, locks: ["pgd_lock"], events: [4, 1]),
            Expected(rule: .irqInversion, severity: .error, locks: ["pgd_lock", "mm->page_table_lock"], events: [5, 1, 5]),
        ],
        "pgd-lock-rwlock-write-in-irq.xml": [
            Expected(rule: .irqInconsistent, severity: .error, locks: ["pgd_lock"], events: [5, 0])
        ],
        // Seed 000: operation ordering during pgd_alloc/pgd_free (Jan Beulich, Jeremy Fitzhardinge).
        "seed000-pgd-ctor-lists-before-prepopulate.xml": [
            Expected(rule: .pgdListGap, severity: .error, locks: ["pgd_lock"], objects: ["pgd:f6c8a000"], events: [5, 10])
        ],
        "seed000-pgd-list-after-prepopulate.xml": [
            Expected(rule: .pgdListGap, severity: .error, locks: ["pgd_lock"], objects: ["pgd:f6c8a000"], events: [2, 6, 14])
        ],
        "seed000-pgd-populate-and-list-under-pgd-lock.xml": [],
        // A note, not a finding: see PageTableCheckerTests.aListWalkWithoutTheListLockIsANote.
        "seed000-vmalloc-sync-walk-without-pgd-lock.xml": [],
        "seed000-pmd-alloc-under-pgd-lock.xml": [
            Expected(rule: .sleepInAtomic, severity: .error, locks: ["pgd_lock"], events: [2, 1, 1])
        ],
        "seed000-pgd-free-mop-up-before-unlist.xml": [
            Expected(rule: .pgdListGap, severity: .warning, locks: ["pgd_lock"], objects: ["pgd:f6c8a000"], events: [8, 13])
        ],
        "seed000-pgd-free-mop-up-before-unlist-walked.xml": [
            Expected(rule: .pgdListGap, severity: .error, locks: ["pgd_lock"], objects: ["pgd:f6c8a000"], events: [8, 12, 18])
        ],
        "seed000-pgd-free-unlist-before-mop-up.xml": [
            Expected(rule: .pgdListGap, severity: .warning, locks: ["pgd_lock"], objects: ["pgd:f6c8a000"], events: [10, 2, 14])
        ],
        "seed000-pgd-free-unlist-and-mop-up-under-pgd-lock.xml": [],
        // Seed 001: kvm,x86: RCU based table free; gup_fast against a Xen PV hypercall flush.
        "seed001-xen-pv-hypercall-flush-gup-fast.xml": [
            Expected(rule: .tableFreeRace, severity: .error, locks: [], objects: ["pte:d2c07000"], events: [1, 3, 4, 5, 6])
        ],
        "seed001-native-ipi-flush-gup-fast.xml": [],
        "seed001-native-ipi-flush-gup-irqs-on.xml": [
            Expected(rule: .tableFreeRace, severity: .error, locks: [], objects: ["pte:d2c07000"], events: [0, 2, 3, 4, 5, 6])
        ],
        "seed001-rcu-table-free.xml": [],
        "seed001-rcu-table-free-irqs-on.xml": [
            Expected(rule: .tableFreeRace, severity: .error, locks: [], objects: ["pte:d2c07000"], events: [0, 2, 3, 4, 6, 8])
        ],
        // Seed 003: kmap series PAGETABLE2 / PAGETABLE / DEFAULT (Andrea Arcangeli, Hugh Dickins).
        "seed003-mremap-double-pagetable-kmap.xml": [
            Expected(rule: .kmapOrder, severity: .error, locks: ["kmap:PAGETABLE"], objects: ["pte:37fe1", "pte:38c02"], events: [1, 0])
        ],
        "seed003-mremap-pagetable2.xml": [],
        "seed003-default-pagetable-both-orders.xml": [
            Expected(rule: .kmapOrder, severity: .error, locks: ["kmap:DEFAULT", "kmap:PAGETABLE"], events: [5, 4, 1, 0])
        ],
        "seed003-andrea-series-order.xml": [],
        // Clean alone (one order is no cycle); see policyTraces for the verdict under Andrea's order.
        "seed003-read-fault-default-before-pagetable.xml": [],
        "seed003-kmap-free-page.xml": [
            Expected(rule: .kmapLeak, severity: .error, locks: ["kmap:DEFAULT"], objects: ["page:5e6f7"], events: [1, 0])
        ],
        "seed003-kunmap-free-page.xml": [],
        // Seed 004: xen: clarify locking used when pinning a pagetable (Jeremy Fitzhardinge).
        // The L3 pin covers the pages under it (traces/README.md, "Pins of the top level").
        "seed004-pin-split-ptl-batched.xml": [],
        "seed004-pin-ptlocks-without-nest.xml": [
            Expected(rule: .recursiveLocking, severity: .error, locks: ["ptlock"], events: [5, 2])
        ],
        "seed004-pin-non-split-ptl.xml": [],
        "seed004-pin-drops-ptl-before-pin.xml": [
            Expected(rule: .pinWindow, severity: .error, locks: [], objects: ["pte:3a000"], events: [2, 3, 5, 7])
        ],
        "seed004-unpin-under-ptl.xml": [],
        // Its twin without xen_exit_mmap()'s mm->page_table_lock: the ptlock's nest lock is
        // not held (lockdep's "Nested lock was not taken"), and the pgd's unpinned window is
        // outside its lock.
        "seed004-unpin-without-page-table-lock.xml": [
            Expected(rule: .pinWindow, severity: .warning, locks: [], objects: ["pgd:f6c8a000"], events: [11, 15]),
            Expected(rule: .nestLockNotHeld, severity: .error, locks: ["ptlock", "mm->page_table_lock"], events: [12]),
        ],
        "seed004-unpin-without-ptl.xml": [
            Expected(rule: .pinWindow, severity: .warning, locks: [], objects: ["pte:3a000"], events: [13, 14])
        ],
        "seed004-pin-hold-all-pte-locks.xml": [
            Expected(rule: .depthOverflow, severity: .error, locks: ["ptlock", "mm->page_table_lock"], events: [143, 0])
        ],
        "seed004-pin-pgd-first.xml": [
            Expected(rule: .pinWindow, severity: .warning, locks: [], objects: ["pgd:f6c8a000", "pte:3a000"], events: [2, 4])
        ],
    ]

    /// traces/seed003-kmap-series.policy declares Andrea's order of the kmap series; under it
    /// the read() path that takes DEFAULT before PAGETABLE is reported before any cycle exists,
    /// and Andrea's own order is clean.
    static let policyExpectations: [String: [Expected]] = [
        "seed003-read-fault-default-before-pagetable.xml": [
            Expected(rule: .lockOrderPolicy, severity: .error, locks: ["kmap:DEFAULT", "kmap:PAGETABLE"], events: [1, 0])
        ],
        "seed003-andrea-series-order.xml": [],
    ]

    @Test(arguments: policyExpectations.keys.sorted())
    func traceGivesTheVerdictOfTheDeclaredHierarchy(_ name: String) throws {
        let policyPath = Repository.path("traces/seed003-kmap-series.policy")
        let policy = try LockPolicy(
            text: try String(contentsOfFile: policyPath, encoding: .utf8), file: "traces/seed003-kmap-series.policy")
        let analysis = Analysis(options: AnalysisOptions(policy: policy))
        try analysis.analyze(path: Repository.path("traces/\(name)"), displayName: "traces/\(name)")
        let actual = analysis.findings.map {
            Expected(
                rule: $0.rule, severity: $0.severity, locks: $0.locks, objects: $0.objects,
                events: $0.locations.map(\.event))
        }
        #expect(actual.map(\.description) == (Self.policyExpectations[name] ?? []).map(\.description), "traces/\(name)")
    }

    static var shippedTraces: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))) ?? []
        return names.filter { $0.hasSuffix(".xml") }.sorted()
    }

    @Test func everyShippedTraceHasItsExpectations() {
        #expect(!Self.shippedTraces.isEmpty)
        for name in Self.shippedTraces {
            #expect(Self.expectations[name] != nil, "traces/\(name) has no expected findings here")
        }
    }

    @Test(arguments: expectations.keys.sorted())
    func traceGivesTheVerdictItsThreadArguesFor(_ name: String) throws {
        let analysis = Analysis()
        try analysis.analyze(path: Repository.path("traces/\(name)"), displayName: "traces/\(name)")
        let actual = analysis.findings.map {
            Expected(
                rule: $0.rule, severity: $0.severity, locks: $0.locks, objects: $0.objects,
                events: $0.locations.map(\.event))
        }
        let expected = Self.expectations[name] ?? []
        #expect(actual.map(\.description) == expected.map(\.description), "traces/\(name)")
        for finding in analysis.findings {
            #expect(finding.locations.allSatisfy { $0.file == "traces/\(name)" })
        }
    }
}
