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
        /// The event indices of the finding's locations, in order.
        var events: [Int]

        var description: String { "\(rule.rawValue) \(severity.rawValue) \(locks) \(events)" }
    }

    static let expectations: [String: [Expected]] = [
        // Issue 2's starting examples.
        "pgd-lock-abba.xml": [
            Expected(rule: .circularDependency, severity: .error, locks: ["pgd_lock", "mm->page_table_lock"], events: [5, 4, 1])
        ],
        "pgd-lock-abba-fixed.xml": [],
        // Seed 002: THP page_referenced_one against vmalloc_sync_all.
        "thp-flush-under-page-table-lock.xml": [
            Expected(rule: .ipiDeadlock, severity: .error, locks: ["mm->page_table_lock"], events: [5, 4, 1, 0])
        ],
        "thp-flush-after-unlock.xml": [],
        "pgd-lock-without-irqsave.xml": [],
        "pgd-free-in-irq.xml": [
            Expected(rule: .irqInconsistent, severity: .error, locks: ["pgd_lock"], events: [4, 1]),
            Expected(rule: .irqInversion, severity: .error, locks: ["pgd_lock", "mm->page_table_lock"], events: [5, 1, 5]),
        ],
        "pgd-lock-rwlock-write-in-irq.xml": [
            Expected(rule: .irqInconsistent, severity: .error, locks: ["pgd_lock"], events: [5, 0])
        ],
    ]

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
            Expected(rule: $0.rule, severity: $0.severity, locks: $0.locks, events: $0.locations.map(\.event))
        }
        let expected = Self.expectations[name] ?? []
        #expect(actual.map(\.description) == expected.map(\.description), "traces/\(name)")
        for finding in analysis.findings {
            #expect(finding.locations.allSatisfy { $0.file == "traces/\(name)" })
        }
    }
}
