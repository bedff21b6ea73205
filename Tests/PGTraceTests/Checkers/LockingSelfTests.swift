import PGTrace
import Testing

/// lib/locking-selftest.c's process-context cases, transcribed, against lockdep's verdicts.
/// Each family runs over spin, wlock, rlock (recursive read), mutex, wsem and rsem (read,
/// non-recursive); "6R" families expect a report for every type but rlock, as lockdep's
/// DO_TESTCASE_6R does: a cycle made only of recursive reads is no deadlock.
@Suite struct LockingSelfTests {
    typealias Case = @Sendable (inout LockingSelfTest) -> Void

    static let deadlockFamilies: [(name: String, rule: Rule, body: Case)] = [
        ("AA", .recursiveLocking, { t in t.LOCK("X1"); t.LOCK("X2") }),
        ("ABBA", .circularDependency, { t in t.LOCK_UNLOCK_2("A", "B"); t.LOCK_UNLOCK_2("B", "A") }),
        ("ABBCCA", .circularDependency, { t in
            t.LOCK_UNLOCK_2("A", "B"); t.LOCK_UNLOCK_2("B", "C"); t.LOCK_UNLOCK_2("C", "A")
        }),
        ("ABCABC", .circularDependency, { t in
            t.LOCK_UNLOCK_2("A", "B"); t.LOCK_UNLOCK_2("C", "A"); t.LOCK_UNLOCK_2("B", "C")
        }),
        ("ABBCCDDA", .circularDependency, { t in
            t.LOCK_UNLOCK_2("A", "B"); t.LOCK_UNLOCK_2("B", "C"); t.LOCK_UNLOCK_2("C", "D")
            t.LOCK_UNLOCK_2("D", "A")
        }),
        ("ABCDBDDA", .circularDependency, { t in
            t.LOCK_UNLOCK_2("A", "B"); t.LOCK_UNLOCK_2("C", "D"); t.LOCK_UNLOCK_2("B", "D")
            t.LOCK_UNLOCK_2("D", "A")
        }),
        ("ABCDBCDA", .circularDependency, { t in
            t.LOCK_UNLOCK_2("A", "B"); t.LOCK_UNLOCK_2("C", "D"); t.LOCK_UNLOCK_2("B", "C")
            t.LOCK_UNLOCK_2("D", "A")
        }),
    ]

    @Test(arguments: deadlockFamilies.indices, SelfTestType.allCases)
    func deadlockFamilyGivesLockdepsVerdict(_ family: Int, _ type: SelfTestType) throws {
        let (name, rule, body) = Self.deadlockFamilies[family]
        var test = LockingSelfTest(type)
        body(&test)
        let expected: Set<Rule> = type == .rlock ? [] : [rule]
        #expect(try test.verdict() == expected, "\(name)_\(type)")
    }

    @Test(arguments: SelfTestType.allCases)
    func doubleUnlockIsABadUnlock(_ type: SelfTestType) throws {
        var test = LockingSelfTest(type)
        test.LOCK("A")
        test.UNLOCK("A")
        test.UNLOCK("A")
        let findings = try analyze(test.trace).findings
        #expect(findings.map(\.rule) == [.badUnlock])
        #expect(findings.first?.locations.first?.event == 2)
        // print_unlock_imbalance_bug lists the held locks: none left.
        #expect(findings.first?.heldLocks?.isEmpty == true)
    }

    /// A held lock stays listed when another is unlocked twice.
    @Test func aBadUnlockListsTheLocksStillHeld() throws {
        var test = LockingSelfTest(.spin)
        test.LOCK("B")
        test.LOCK("A")
        test.UNLOCK("A")
        test.UNLOCK("A")
        let findings = try analyze(test.trace).findings
        #expect(findings.map(\.rule) == [.badUnlock])
        #expect(findings.first?.heldLocks?.map(\.lock) == ["lock_B"])
    }

    // MARK: Recursive reads

    static let recursiveReadCases: [(name: String, expected: Set<Rule>, body: Case)] = [
        ("rlock_AA1", [], { t in t.RL("X1"); t.RL("X1") }),
        ("rsem_AA1", [.recursiveLocking], { t in t.RSL("X1"); t.RSL("X1") }),
        ("rlock_AA1B", [], { t in t.RL("X1"); t.RL("X2") }),
        ("rsem_AA1B", [.recursiveLocking], { t in t.RSL("X1"); t.RSL("X2") }),
        ("rlock_AA2", [.recursiveLocking], { t in t.RL("X1"); t.WL("X2") }),
        ("rsem_AA2", [.recursiveLocking], { t in t.RSL("X1"); t.WSL("X2") }),
        ("rlock_AA3", [.recursiveLocking], { t in t.WL("X1"); t.RL("X2") }),
        ("rsem_AA3", [.recursiveLocking], { t in t.WSL("X1"); t.RSL("X2") }),
        ("rlock_ABBA1", [.circularDependency], { t in
            t.RL("X1"); t.L("Y1"); t.U("Y1"); t.RU("X1")
            t.L("Y1"); t.WL("X1"); t.WU("X1"); t.U("Y1")
        }),
        ("rwsem_ABBA1", [.circularDependency], { t in
            t.RSL("X1"); t.ML("Y1"); t.MU("Y1"); t.RSU("X1")
            t.ML("Y1"); t.WSL("X1"); t.WSU("X1"); t.MU("Y1")
        }),
        ("rlock_ABBA2", [], { t in
            t.RL("X1"); t.L("Y1"); t.U("Y1"); t.RU("X1")
            t.L("Y1"); t.RL("X1"); t.RU("X1"); t.U("Y1")
        }),
        ("rwsem_ABBA2", [.circularDependency], { t in
            t.RSL("X1"); t.ML("Y1"); t.MU("Y1"); t.RSU("X1")
            t.ML("Y1"); t.RSL("X1"); t.RSU("X1"); t.MU("Y1")
        }),
        ("rlock_ABBA3", [.circularDependency], { t in
            t.WL("X1"); t.L("Y1"); t.U("Y1"); t.WU("X1")
            t.L("Y1"); t.WL("X1"); t.WU("X1"); t.U("Y1")
        }),
        ("rwsem_ABBA3", [.circularDependency], { t in
            t.WSL("X1"); t.ML("Y1"); t.MU("Y1"); t.WSU("X1")
            t.ML("Y1"); t.WSL("X1"); t.WSU("X1"); t.MU("Y1")
        }),
        // The chain Y, X was seen with X read: the chain key includes the read state, so the
        // write acquisition is validated again and closes the cycle.
        ("rlock_chaincache_ABBA1", [.circularDependency], { t in
            t.RL("X1"); t.L("Y1"); t.U("Y1"); t.RU("X1")
            t.L("Y1"); t.RL("X1"); t.RU("X1"); t.U("Y1")
            t.L("Y1"); t.WL("X1"); t.WU("X1"); t.U("Y1")
        }),
    ]

    @Test(arguments: recursiveReadCases.indices)
    func recursiveReadCaseGivesLockdepsVerdict(_ index: Int) throws {
        let (name, expected, body) = Self.recursiveReadCases[index]
        var test = LockingSelfTest()
        body(&test)
        #expect(try test.verdict() == expected, "\(name)")
    }

    // MARK: W1R2/W2R3/W3R1: three rwlocks, every order of the three events

    static let threeLockFamilies: [(name: String, expected: Set<Rule>, events: [Case])] = [
        // X -ER-> Y -ER-> Z -ER-> X: every *R edge is followed by an E* edge, a strong cycle.
        ("W1R2_W2R3_W3R1", [.circularDependency], [
            { t in t.WL("X1"); t.RL("Y1"); t.RU("Y1"); t.WU("X1") },
            { t in t.WL("Y1"); t.RL("Z1"); t.RU("Z1"); t.WU("Y1") },
            { t in t.WL("Z1"); t.RL("X1"); t.RU("X1"); t.WU("Z1") },
        ]),
        // X -EN-> Y -SR-> Z -ER-> X: strong.
        ("W1W2_R2R3_W3R1", [.circularDependency], [
            { t in t.WL("X1"); t.WL("Y1"); t.WU("Y1"); t.WU("X1") },
            { t in t.RL("Y1"); t.RL("Z1"); t.RU("Z1"); t.RU("Y1") },
            { t in t.WL("Z1"); t.RL("X1"); t.RU("X1"); t.WU("Z1") },
        ]),
        // X -ER-> Y -SR-> Z: a recursive read followed by a shared holder; no deadlock.
        ("W1W2_R2R3_R3W1", [], [
            { t in t.WL("X1"); t.RL("Y1"); t.RU("Y1"); t.WU("X1") },
            { t in t.RL("Y1"); t.RL("Z1"); t.RU("Z1"); t.RU("Y1") },
            { t in t.WL("Z1"); t.WL("X1"); t.WU("X1"); t.WU("Z1") },
        ]),
        // Y -SR-> Z -SN-> X: likewise weak.
        ("W1R2_R2R3_W3W1", [], [
            { t in t.WL("X1"); t.WL("Y1"); t.WU("Y1"); t.WU("X1") },
            { t in t.RL("Y1"); t.RL("Z1"); t.RU("Z1"); t.RU("Y1") },
            { t in t.RL("Z1"); t.WL("X1"); t.WU("X1"); t.RU("Z1") },
        ]),
    ]

    static let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]

    @Test(arguments: threeLockFamilies.indices, orders)
    func threeLockFamilyGivesLockdepsVerdictInEveryOrder(_ family: Int, _ order: [Int]) throws {
        let (name, expected, events) = Self.threeLockFamilies[family]
        var test = LockingSelfTest()
        for index in order { events[index](&test) }
        let label = order.map { String($0 + 1) }.joined()
        #expect(try test.verdict() == expected, "\(name)_\(label)")
    }

    // MARK: Beyond the selftest

    @Test func trylocksAddNoDependency() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.acquire("B", isTry: true)
        trace.release("B")
        trace.release("A")
        trace.acquire("B")
        trace.acquire("A")
        #expect(try analyze(trace).findings.isEmpty)
    }

    @Test func aLockTakenUnderATrylockDependsOnBoth() throws {
        // Lockdep's check_prevs_add: A, B(try) held, C taken: B -> C and A -> C.
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.acquire("B", isTry: true)
        trace.acquire("C")
        let analysis = try analyze(trace)
        // In the order check_prevs_add records them: the nearest held lock first.
        let edges = analysis.graph.edges.filter { $0.kind == .lockOrder }
            .map { "\(analysis.context.name(of: $0.from))->\(analysis.context.name(of: $0.to))" }
        #expect(edges == ["B->C", "A->C"])
    }

    @Test func nestedSubclassesAreDistinctClasses() throws {
        var trace = TraceBuilder()
        trace.acquire("ptlock", instance: "p1")
        trace.acquire("ptlock", instance: "p2", subclass: 1)
        let analysis = try analyze(trace)
        #expect(analysis.findings.isEmpty)
        #expect(AnalysisReport(analysis).lockOrderEdges.map { "\($0.from)->\($0.to)" } == ["ptlock->ptlock/1"])
    }

    /// lockdep_set_subclass_name_test (test_lockdep_set_subclass_name): a subclass reuses its
    /// class's name (and here its declared type and wait types), printed with lockdep's `/N`,
    /// rather than making a new name. SUCCESS: no report.
    @Test func lockdepSetSubclassKeepsTheName() throws {
        var trace = TraceBuilder()
        trace.declare("rwsem_X1", .rwsem)
        trace.acquire("rwsem_X1")
        trace.release("rwsem_X1")
        // lockdep_set_subclass(&rwsem_X1, 1): the lock's acquisitions are subclass 1 now.
        trace.acquire("rwsem_X1", subclass: 1)
        trace.release("rwsem_X1")
        let analysis = try analyze(trace)
        #expect(analysis.findings.isEmpty)
        let ids = (0..<analysis.classes.count).map { ClassID($0) }.filter { !analysis.classes[$0].isPseudo }
        let named = ids.map { (analysis.context.name(of: $0), analysis.classes[$0].type, analysis.classes[$0].waitInner) }
        #expect(named.filter { $0.0.hasPrefix("rwsem_X1") }.map(\.0).sorted() == ["rwsem_X1", "rwsem_X1/1"])
        #expect(named.filter { $0.0.hasPrefix("rwsem_X1") }.allSatisfy { $0.1 == .rwsem && $0.2 == .sleep })
    }

    @Test func locksOfAnIrqContextDoNotDependOnTheInterruptedTask() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.event("hardirq-enter", [("irq", "1")])
        trace.acquire("B")
        trace.release("B")
        trace.event("hardirq-exit")
        trace.release("A")
        let analysis = try analyze(trace)
        #expect(AnalysisReport(analysis).lockOrderEdges.isEmpty)
    }

    @Test func eachTaskHasItsOwnLockStack() throws {
        // kswapd holds mutex A on cpu 0 and sleeps; bash then takes B on the same cpu:
        // no dependency A -> B, since bash does not hold A.
        var trace = TraceBuilder()
        trace.declare("A", .mutex)
        trace.task = "kswapd0"
        trace.acquire("A")
        trace.task = "bash"
        trace.acquire("B")
        trace.release("B")
        trace.task = "kswapd0"
        trace.release("A")
        let analysis = try analyze(trace)
        #expect(AnalysisReport(analysis).lockOrderEdges.isEmpty)
        #expect(analysis.findings.isEmpty)
    }

    @Test func theCycleIsReportedOnceWithTheShortestPath() throws {
        var test = LockingSelfTest()
        test.LOCK_UNLOCK_2("A", "B")
        test.LOCK_UNLOCK_2("B", "C")
        test.LOCK_UNLOCK_2("A", "C")
        test.LOCK_UNLOCK_2("C", "A")  // closes A->C->A (shortest) and A->B->C->A
        test.LOCK_UNLOCK_2("C", "A")  // the same cycle again
        let findings = try analyze(test.trace).findings
        #expect(findings.count == 1)
        #expect(findings[0].locks == ["lock_A", "lock_C"])
        #expect(findings[0].chain.map(\.holder) == ["lock_A", "lock_C"])
        #expect(findings[0].locations.map(\.event) == [13, 12, 9])
    }

    @Test func depthOverflowAtTheLimit() throws {
        var trace = TraceBuilder()
        for index in 0..<5 { trace.acquire("ptlock", instance: "pte\(index)", subclass: index) }
        #expect(try analyze(trace, maxDepth: 5).findings.isEmpty)
        trace.acquire("ptlock", instance: "pte5", subclass: 5)
        let findings = try analyze(trace, maxDepth: 5).findings
        #expect(findings.map(\.rule) == [.depthOverflow])
        #expect(findings.first?.locations.map(\.event) == [5, 0])
    }

    @Test func anOverflowMetAgainAtThePlaceIsCountedNotStoredAgain() throws {
        // The same path overflowing on every pass: one finding, the first pass's, met 100 times.
        var trace = TraceBuilder()
        for _ in 0..<100 {
            for index in 0..<6 { trace.acquire("ptlock", instance: "pte\(index)", subclass: index) }
            for index in (0..<6).reversed() { trace.release("ptlock", instance: "pte\(index)") }
        }
        let findings = try analyze(trace, maxDepth: 5).findings
        #expect(findings.map(\.rule) == [.depthOverflow])
        #expect(findings.first?.count == 100)
        #expect(findings.first?.locations.map(\.event) == [5, 0])
        #expect(TextReporter().render(findings[0]).contains("(met 100 times; the first is shown)"))
        // Taken at another place (its function), it is another finding.
        trace.event("acquire", [("lock", "outer"), ("fn", "other_path")])
        for index in 0..<5 { trace.acquire("ptlock", instance: "pte\(index)", subclass: index) }
        #expect(try analyze(trace, maxDepth: 5).findings.map(\.count) == [100, 1])
    }

    @Test func locksHeldAtTheEndAreNotedNotReported() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        let analysis = try analyze(trace)
        #expect(analysis.findings.isEmpty)
        #expect(analysis.notes.map(\.message) == ["cpu 0 still holds A at the end of the trace"])
    }

    @Test func aReleaseOutOfOrderKeepsTheChainExact() throws {
        // A, B held; A released first; then C under B: B -> C only.
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.acquire("B")
        trace.release("A")
        trace.acquire("C")
        let edges = AnalysisReport(try analyze(trace)).lockOrderEdges.map { "\($0.from)->\($0.to)" }
        #expect(edges == ["A->B", "B->C"])
    }
}
