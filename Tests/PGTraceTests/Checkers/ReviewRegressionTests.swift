import Foundation
import PGTrace
import Testing

/// What a review of the first version found, each kept as the scenario that showed it.
@Suite struct ReviewRegressionTests {
    @Test func aSelfDeadlockIsNotMergedIntoAMissingAnnotation() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.acquire("ptlock", instance: "p1")
        trace.event("release", [("lock", "ptlock"), ("instance", "p9")])  // unrelated noise
        trace.acquire("ptlock", instance: "p2")
        trace.cpu = 1
        trace.event("acquire", [("lock", "ptlock"), ("instance", "p3"), ("fn", "zap_pte_range")])
        trace.event("acquire", [("lock", "ptlock"), ("instance", "p3"), ("fn", "zap_pte_range")])
        let findings = try analyze(trace).findings.filter { $0.rule == .recursiveLocking }
        #expect(findings.count == 2)
        #expect(findings.last?.message.hasSuffix("on the same instance: a self-deadlock") == true)
    }

    @Test func theIPIDeadlockNamesTheLockTheIrqsOffCpuSpinsOn() throws {
        // cpu 1 takes B with irqs off; cpu 0 takes A under B; cpu 2 holds A across an IPI.
        var trace = TraceBuilder(cpus: 3)
        trace.cpu = 1
        trace.acquire("B", irq: "save")
        trace.release("B", irq: "restore")
        trace.cpu = 0
        trace.acquire("B")
        trace.acquire("A")
        trace.release("A")
        trace.release("B")
        trace.cpu = 2
        trace.acquire("A")
        trace.event("ipi-send", [("targets", "1"), ("wait", "true")])
        trace.release("A")
        let finding = try #require(try analyze(trace).findings.first { $0.rule == .ipiDeadlock })
        #expect(finding.message == "cpu 2 holds A and waits for a synchronous IPI; cpu 1 has hardirqs disabled and waits for B, which waits for A ((hardirqs off) -> B -> A)")
    }

    @Test func aQueuedRwlockReadWithBhDisabledIsRecursive() throws {
        var trace = TraceBuilder()
        trace.declare("tasklist_lock", .rwlock)
        trace.acquire("tasklist_lock", mode: .read, bh: true)
        trace.acquire("tasklist_lock", mode: .read, bh: true)
        #expect(try analyze(trace).findings.isEmpty)
    }

    @Test func aBadUnlockOfAnotherInstanceSaysSo() throws {
        var trace = TraceBuilder()
        trace.acquire("ptlock", instance: "pte1")
        trace.release("ptlock", instance: "pte2")
        let finding = try #require(try analyze(trace).findings.first)
        #expect(finding.rule == .badUnlock)
        #expect(finding.message == "ptlock (pte2) released, but this context holds another lock of the class (pte1)")
    }

    @Test func aBadUnlockMetAgainAtOnePlaceIsCountedAsFirstShown() throws {
        // One kernel place releasing a lock it does not hold, three times, with more held each
        // time: one finding, counted, with what was held the first time.
        var trace = TraceBuilder()
        for held in ["A", "B", "C"] {
            trace.acquire(held)
            trace.event("release", [("lock", "X"), ("at", "fs/inode.c:40")])
        }
        let found = try analyze(trace).findings
        #expect(found.map { "\($0.rule.rawValue) \($0.count) \($0.locations.map(\.event))" } == ["bad-unlock 3 [1]"])
        #expect(found.first?.heldLocks?.map(\.lock) == ["A"])
        #expect(found.first?.message == "X released but not held by this context: there are no more locks to release")
    }

    @Test func bhEnableInsideASoftirqIsAnInputError() {
        var trace = TraceBuilder()
        trace.event("softirq-enter", [("vec", "NET_RX")])
        trace.event("bh-enable")
        #expect(inputError(trace.xml)?.message.contains("inside a softirq on cpu 0 with no local_bh_disable of its own") == true)
    }

    @Test func anotherTaskMayKunmap() throws {
        var trace = TraceBuilder()
        trace.task = "A"
        trace.event("kmap", [("page", "P"), ("series", "DEFAULT")])
        trace.task = "B"
        trace.event("kunmap", [("page", "P"), ("series", "DEFAULT")])
        trace.event("page-free", [("page", "P")])
        #expect(try analyze(trace).findings.isEmpty)
    }

    @Test func cpuNumbersAreBounded() {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events>\n<irq-disable cpu=\"300000000\"/>\n</events></trace>\n"
        #expect(inputError(xml)?.message.contains("pgtrace models at most 8192 cpus") == true)
        let declared = "<?xml version=\"1.0\"?>\n<trace version=\"1\" cpus=\"2000000000\"><events/></trace>\n"
        #expect(inputError(declared)?.message.contains("more than the 8192 cpus") == true)
    }

    @Test func aChainFirstSeenRecursiveIsStillValidated() throws {
        // cpu 0's task holds A; a hardirq there takes B then A (recursive over the task's A).
        // Later cpu 1's hardirq takes B then A for real, and cpu 1's task takes A then B.
        var trace = TraceBuilder(cpus: 2)
        trace.acquire("A")
        trace.event("hardirq-enter")
        trace.acquire("B")
        trace.acquire("A")
        trace.release("A")
        trace.release("B")
        trace.event("hardirq-exit")
        trace.release("A")
        trace.cpu = 1
        trace.event("hardirq-enter")
        trace.acquire("B")
        trace.acquire("A")
        trace.release("A")
        trace.release("B")
        trace.event("hardirq-exit")
        trace.acquire("A")
        trace.acquire("B")
        let rules = Set(try analyze(trace).findings.map(\.rule))
        #expect(rules.contains(.recursiveLocking) && rules.contains(.circularDependency))
    }

    @Test func aWalkTouchingATableFreedLongAgoIsStillAUseAfterFree() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.event("table-unlink", [("table", "T")])
        trace.event("rcu-grace-period")
        trace.event("table-free", [("table", "T")])
        trace.cpu = 1
        trace.event("lockless-walk-begin")
        trace.event("walk-access", [("table", "T")])
        trace.event("walk-access", [("table", "T")])
        trace.event("lockless-walk-end")
        let findings = try analyze(trace).findings
        #expect(findings.map(\.rule) == [.tableFreeRace])
        #expect(findings.first?.locations.map(\.event) == [4, 2])
    }

    @Test func aPtlDroppedByAReleaseNamingNoInstanceOpensTheWindow() throws {
        var trace = TraceBuilder()
        trace.acquire("ptlock", instance: "P1")
        trace.event("set-ro", [("page", "X"), ("level", "pte"), ("ptl", "P1")])
        trace.release("ptlock")
        trace.event("pin", [("page", "X"), ("level", "pte")])
        #expect(try analyze(trace).findings.map { "\($0.rule.rawValue) \($0.severity.rawValue)" } == ["pin-window warning"])
    }

    @Test func aFinishedWalkDidNotSeeATeardownThatCameAfterIt() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.event("pgd-alloc", [("pgd", "P")])
        trace.acquire("pgd_lock")
        trace.event("pgd-populate", [("pgd", "P"), ("index", "0")])
        trace.event("pgd-list-add", [("pgd", "P")])
        trace.release("pgd_lock")
        trace.cpu = 1
        trace.walkPgdList("vmalloc_sync_all", under: "pgd_lock", visiting: ["P"])
        trace.cpu = 0
        trace.event("pgd-clear", [("pgd", "P"), ("index", "0")])
        #expect(try analyze(trace).findings.map { "\($0.rule.rawValue) \($0.severity.rawValue)" } == ["pgd-list-gap warning"])
    }

    @Test func aWalkAlreadyRunningMissesAPgdPopulatedOffTheList() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.cpu = 1
        trace.acquire("pgd_lock")
        trace.event("list-walk-begin", [("walker", "xen_mm_pin_all")])
        trace.cpu = 0
        trace.event("pgd-alloc", [("pgd", "P")])
        trace.event("pgd-populate", [("pgd", "P"), ("index", "0")])
        trace.cpu = 1
        trace.event("list-walk-end")
        trace.release("pgd_lock")
        trace.cpu = 0
        trace.acquire("pgd_lock")
        trace.event("pgd-list-add", [("pgd", "P")])
        trace.release("pgd_lock")
        #expect(try analyze(trace).findings.map { "\($0.rule.rawValue) \($0.severity.rawValue)" } == ["pgd-list-gap error"])
    }

    @Test func aBugAtOneCodeSiteIsOneFindingHoweverOftenItRuns() throws {
        var trace = TraceBuilder()
        for _ in 0..<500 {
            trace.event("release", [("lock", "A"), ("fn", "double_unlock_path")])
            trace.event("table-unlink", [("table", "T")])
            trace.event("table-free", [("table", "T"), ("fn", "free_pte_range")])
        }
        let findings = try analyze(trace).findings
        #expect(findings.map(\.rule) == [.badUnlock, .tableFreeRace])
    }
}

/// What the second review found in the outputs and CI features.
@Suite struct SecondReviewTests {
    @Test func policiesWithCRLFBOMAndHashesInNames() throws {
        let policy = try LockPolicy(text: "\u{FEFF}# hierarchy\r\nc < a\r\nkey#3 < b # trailing comment\r\n", file: "p.txt")
        #expect(policy.declaration("c", before: "a")?.line == 2)
        #expect(policy.declaration("key#3", before: "b")?.line == 3)
        #expect(throws: TraceInputError.self) { try LockPolicy(text: "x < a\r\nfoo\r\n", file: "p.txt") }
    }

    @Test func contradictoryPoliciesAreRefused() {
        for text in ["a < b\nb < a\n", "a < b < a\n", "a < a\n", "a < b\nb < c\nc < a\n"] {
            #expect(throws: TraceInputError.self, "\(text)") { try LockPolicy(text: text, file: "p.txt") }
        }
    }

    @Test func thePolicyChecksEveryHeldLockNotOnlyTheNearest() throws {
        var trace = TraceBuilder()
        trace.acquire("a")
        trace.acquire("x")
        trace.acquire("c")
        let analysis = Analysis(options: AnalysisOptions(policy: try LockPolicy(text: "c < a\n", file: "p.txt")))
        try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: "t.xml")
        #expect(analysis.findings.map(\.rule) == [.lockOrderPolicy])
        #expect(analysis.findings.first?.locks == ["a", "c"])
    }

    @Test func findingsThatReadTheSameKeepDistinctFingerprints() throws {
        var trace = TraceBuilder()
        trace.release("pgd_lock")
        trace.acquire("other")
        trace.release("other")
        trace.release("pgd_lock")
        let findings = try analyze(trace).findings
        #expect(findings.count == 2)
        #expect(Set(findings.map(\.fingerprint)).count == 2)
        #expect(findings[1].fingerprint == findings[0].fingerprint + "-2")
    }

    @Test func columnsCountCharactersNotBytes() {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events><acquire cpu=\"0\" lock=\"ééééé\" bogus=\"1\"/></events></trace>\n"
        let error = inputError(xml)
        #expect(error?.line == 3 && error?.column == 9, "\(String(describing: error))")
    }

    @Test func schemaStyleValuesTheDecoderTakesToo() throws {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"schemas/trace-v1.xsd\"><events><acquire cpu=\" 0 \" lock=\"A\" try=\" true \"/></events></trace>\n"
        #expect(inputError(xml) == nil)
        #expect(inputError("<?xml version=\"1.0\"?>\n<trace version=\"1\" xmlns=\"urn:x\"><events/></trace>\n")?.message.contains("namespace") == true)
        #expect(inputError("<?xml version=\"1.0\"?>\n<trace version=\"1\"><events><acquire cpu=\"0\" lock=\"A\" instance=\"\"/></events></trace>\n")?.message.contains("is empty") == true)
    }

    @Test func aBrokenBaselineSaysWhere() {
        do {
            _ = try Baseline(json: Array("{\"version\": 1,\n \"findings\": [ \n oops ]}".utf8), file: "b.json")
            Issue.record("accepted")
        } catch let error as TraceInputError {
            #expect(error.description.hasPrefix("b.json:3:2: error: not a pgtrace baseline: the JSON is malformed"))
        } catch {
            Issue.record("\(error)")
        }
        #expect(throws: Never.self) { try Baseline(json: Array("{\"findings\": []}".utf8), file: "b.json") }
    }

    /// A baseline cut short, or empty, is refused where it ends (Foundation's parser says only
    /// "Unexpected end of file").
    @Test func aBaselineCutShortSaysWhereItEnds() {
        for (text, place) in [("{\"version\": 2,\n \"findings\": [", "b.json:2:15"), ("", "b.json:1:1")] {
            do {
                _ = try Baseline(json: Array(text.utf8), file: "b.json")
                Issue.record("accepted \(text)")
            } catch let error as TraceInputError {
                #expect(error.description.hasPrefix("\(place): error: not a pgtrace baseline: the JSON is malformed"), "\(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
