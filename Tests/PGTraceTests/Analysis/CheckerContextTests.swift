import Foundation
import Testing

@testable import PGTrace

/// Lockdep's "N locks held by" list under a stack deeper than `--max-depth`, the most entries
/// lockdep's array holds: a report lists that many locks, the oldest, and counts the rest. A
/// stack of 20,000 locks listed whole in each of 20,000 bad unlocks took 24 GB and was killed.
@Suite struct CheckerContextTests {
    /// A task holding five locks releases one it does not hold.
    static func badUnlockUnderFiveLocks() -> TraceBuilder {
        var trace = TraceBuilder()
        trace.task = "deep"
        for index in 0..<5 { trace.acquire("l\(index)") }
        trace.release("X")
        return trace
    }

    static func reports(_ analysis: Analysis) -> (text: String, json: String) {
        let report = AnalysisReport(analysis)
        var text = ""
        TextReporter().write(report) { text += $0 }
        var json = ""
        JSONReporter().write(report) { json += $0 }
        return (text, json)
    }

    @Test func aBadUnlockUnderAStackPastTheLimitListsTheOldestAndCountsTheRest() throws {
        let analysis = try analyze(Self.badUnlockUnderFiveLocks(), maxDepth: 3)
        let badUnlock = try #require(analysis.findings.first { $0.rule == .badUnlock })
        #expect(badUnlock.heldLocks?.map(\.lock) == ["l0", "l1", "l2"])
        #expect(badUnlock.heldLocks?.map(\.evidence.event) == [0, 1, 2])
        #expect(badUnlock.heldLocksNotListed == 2)
        let (text, json) = Self.reports(analysis)
        #expect(text.contains("\n5 locks held by deep on cpu 0:\n"))
        #expect(text.contains(" #2: (l2)"))
        #expect(!text.contains(" #3: "))
        #expect(text.contains(" ... and 2 more taken after these, not listed (a list stops at --max-depth locks)\n"))
        #expect(json.contains("\"heldLocksNotListed\" : 2,"))
    }

    /// The same trace within the limit: the whole list, and nothing said of more.
    @Test func aBadUnlockWithinTheLimitListsEveryLockHeld() throws {
        let analysis = try analyze(Self.badUnlockUnderFiveLocks(), maxDepth: 48)
        let badUnlock = try #require(analysis.findings.first { $0.rule == .badUnlock })
        #expect(badUnlock.heldLocks?.map(\.lock) == ["l0", "l1", "l2", "l3", "l4"])
        #expect(badUnlock.heldLocksNotListed == nil)
        let (text, json) = Self.reports(analysis)
        #expect(text.contains("\n5 locks held by deep on cpu 0:\n"))
        #expect(!text.contains("not listed"))
        #expect(!json.contains("heldLocksNotListed"))
    }

    /// mm_take_all_locks' shape (seed 004): task b takes B then a ptlock; task a takes mm,
    /// sixty ptlocks nested under it (one entry of lockdep's depth, so still validated), then
    /// B. The cycle's list is of the moment its last dependency was learned, before B is
    /// held (lockdep's validate_chain runs before the lock joins the array): mm and 47
    /// ptlocks, and 13 more ptlocks. A summary keeps the count.
    @Test func aCycleLearnedUnderANestLocksLongRunListsTheOldestOfItsMoment() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.cpu = 1
        trace.task = "b"
        trace.acquire("B")
        trace.acquire("ptlock", instance: "q")
        trace.release("ptlock", instance: "q")
        trace.release("B")
        trace.cpu = 0
        trace.task = "a"
        trace.acquire("mm")
        for index in 0..<60 { trace.acquire("ptlock", instance: "p\(index)", nest: "mm") }
        trace.acquire("B")
        let analysis = try analyze(trace)
        let cycle = try #require(analysis.findings.first { $0.rule == .circularDependency })
        #expect(cycle.heldLocks?.count == 48)
        #expect(cycle.heldLocks?.first?.lock == "mm")
        #expect(cycle.heldLocks?.dropFirst().allSatisfy { $0.lock == "ptlock" } == true)
        #expect(cycle.heldLocksNotListed == 13)

        let xml = trace.xml
        let summary = try SummaryMergeTests.summary([("a.xml", xml)])
        #expect(summary.contains("\"heldNotListed\":13"))
        #expect(try SummaryMergeTests.reports([("a.sum", summary)]) == (try SummaryMergeTests.reports([("a.xml", xml)])))
    }

    /// The irq frames' locks come after the task's: a task holding two locks, interrupted by
    /// a hardirq that takes three and releases a lock it does not hold, lists both of the
    /// task's and the first of the irq's at --max-depth 3.
    @Test func anIrqsLocksAreListedAfterTheTasksUpToTheLimit() throws {
        var trace = TraceBuilder()
        trace.task = "A"
        trace.acquire("t0")
        trace.acquire("t1")
        trace.event("hardirq-enter", [("irq", "1")])
        for index in 0..<3 { trace.acquire("f\(index)") }
        trace.release("X")
        let badUnlock = try #require(try analyze(trace, maxDepth: 3).findings.first { $0.rule == .badUnlock })
        #expect(badUnlock.heldLocks?.map(\.lock) == ["t0", "t1", "f0"])
        #expect(badUnlock.heldLocksNotListed == 2)
    }

    /// A task switched out holding five spinlocks ("scheduling while atomic"): its own list,
    /// which the checker hands over whole, stops at the limit too.
    @Test func aTaskSwitchedOutUnderAStackPastTheLimitListsTheOldest() throws {
        var trace = TraceBuilder()
        trace.task = "A"
        for index in 0..<5 {
            trace.declare("s\(index)", .spinlock)
            trace.acquire("s\(index)")
        }
        trace.task = "B"
        trace.event("might-sleep")
        let atomic = try #require(try analyze(trace, maxDepth: 3).findings.first { $0.title == "scheduling while atomic" })
        #expect(atomic.heldLocks?.map(\.lock) == ["s0", "s1", "s2"])
        #expect(atomic.heldLocksNotListed == 2)
        #expect(atomic.heldLocksHolder == "A on cpu 0")
    }

    /// A summary written before lists stopped at --max-depth lists every lock held: read,
    /// its lists stop as the analysis's would. One whose count is out of range is refused.
    @Test func aSummarysListsStopAtItsMaxDepthAndItsCountsAreChecked() throws {
        let trace = Self.badUnlockUnderFiveLocks()
        // Made at 48, where the list is whole; the header then says 3, as an old summary of
        // --max-depth 3 would (its traces' other findings aside).
        let whole = try SummaryMergeTests.summary([("a.xml", trace.xml)])
        #expect(whole.contains("\"maxDepth\":48"))
        let old = whole.replacingOccurrences(of: "\"maxDepth\":48", with: "\"maxDepth\":3")
        let analysis = Analysis(options: AnalysisOptions(maxDepth: 3))
        try analysis.analyze([.bytes(Array(old.utf8), displayName: "old.sum")])
        let badUnlock = try #require(analysis.findings.first { $0.rule == .badUnlock })
        #expect(badUnlock.heldLocks?.map(\.lock) == ["l0", "l1", "l2"])
        #expect(badUnlock.heldLocksNotListed == 2)

        let cut = try SummaryMergeTests.summary([("a.xml", trace.xml)], maxDepth: 3)
        #expect(cut.contains("\"heldLocksNotListed\":2"))
        for bad in ["0", "-3", "9223372036854775807"] {
            let corrupt = cut.replacingOccurrences(of: "\"heldLocksNotListed\":2", with: "\"heldLocksNotListed\":\(bad)")
            let analysis = Analysis(options: AnalysisOptions(maxDepth: 3))
            #expect(throws: TraceInputError.self, "\(bad)") {
                try analysis.analyze([.bytes(Array(corrupt.utf8), displayName: "corrupt.sum")])
            }
        }
        // 2^48 is in range, but read at --max-depth 2 the cut adds one more (helper-62: a
        // merge wrote 2^48 + 1, which it then refused).
        let atTheEdge = cut.replacingOccurrences(of: "\"heldLocksNotListed\":2", with: "\"heldLocksNotListed\":281474976710656")
        #expect(throws: Never.self) { try Analysis(options: AnalysisOptions(maxDepth: 3)).analyze([.bytes(Array(atTheEdge.utf8), displayName: "edge.sum")]) }
        let pastTheEdge = atTheEdge.replacingOccurrences(of: "\"maxDepth\":3", with: "\"maxDepth\":2")
        #expect(throws: TraceInputError.self) {
            try Analysis(options: AnalysisOptions(maxDepth: 2)).analyze([.bytes(Array(pastTheEdge.utf8), displayName: "past.sum")])
        }
    }

    /// `analyze --quiet` asks only whether there are findings. A graph finding reported
    /// without its text (`reportGraphFindingOnce`, as a cycle is) has it made when the
    /// findings are asked for, once; met again, it is neither made nor counted again.
    @Test func aGraphFindingsTextIsMadeOnlyWhenTheFindingsAreAskedFor() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.release("A")
        let context = try analyze(trace).context
        var made: [String] = []
        func report(_ key: String, _ severity: Severity) {
            context.reportGraphFindingOnce(.ipiDeadlock, severity: severity, key: key) { _ in
                made.append(key)
                return Finding(rule: .ipiDeadlock, severity: severity, message: "waits on \(key)", locks: [key], locations: [], key: key)
            }
        }
        report("B", .warning)
        #expect(!context.hasFinding(atLeast: .error))
        #expect(context.hasFinding(atLeast: .warning))
        report("A", .error)
        report("B", .warning)
        #expect(context.hasFinding(atLeast: .error))
        #expect(context.hasFinding(atLeast: .error, of: [.ipiDeadlock, .badUnlock]))
        #expect(!context.hasFinding(atLeast: .warning, of: [.circularDependency]))
        #expect(made.isEmpty)

        let findings = context.findings
        #expect(made == ["B", "A"])
        #expect(findings.map(\.message).sorted() == ["waits on A", "waits on B"])
        #expect(findings.map(\.count) == [1, 1])
        #expect(context.findings == findings)
        #expect(made == ["B", "A"])
    }

    /// Graph findings made at once and pending ones stand among the graph's findings in the
    /// order they were reported, once made; a pending one met again as a finding made at once,
    /// or counted again, keeps the count.
    @Test func pendingFindingsTakeTheirPlacesAndCountsWhenMade() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.release("A")
        let context = try analyze(trace).context
        func finding(_ key: String) -> Finding {
            Finding(rule: .ipiDeadlock, severity: .error, message: "waits on \(key)", locks: [key], locations: [], key: key)
        }
        var madeAgain = false
        context.reportGraphFindingOnce(.ipiDeadlock, severity: .error, key: "P1") { _ in finding("P1") }
        context.report(finding("M1"), scope: .graph)
        // Met again before it is made: dropped, not counted, not made.
        context.reportGraphFindingOnce(.ipiDeadlock, severity: .error, key: "P1") { _ in
            madeAgain = true
            return finding("P1")
        }
        context.reportGraphFindingOnce(.ipiDeadlock, severity: .error, key: "P2") { _ in finding("P2") }
        context.report(finding("P1"), scope: .graph)
        #expect(context.countAgain(.ipiDeadlock, key: "P2", scope: .graph, by: 4))
        context.report(finding("M2"), scope: .graph)
        context.reportGraphFindingOnce(.ipiDeadlock, severity: .error, key: "M1") { _ in finding("M1") }
        #expect(context.hasReported(.ipiDeadlock, key: "P2", scope: .graph))
        #expect(!context.hasReported(.ipiDeadlock, key: "P3", scope: .graph))
        #expect(context.graphFindings.findings.map(\.key) == ["M1", "M2"])

        let findings = context.findings
        #expect(context.graphFindings.findings.map(\.key) == ["P1", "M1", "P2", "M2"])
        #expect(context.graphFindings.findings.map(\.count) == [2, 1, 5, 1])
        #expect(!madeAgain)
        #expect(findings.map(\.message).sorted() == ["waits on M1", "waits on M2", "waits on P1", "waits on P2"])
        // Reported after the others were made: after them.
        context.reportGraphFindingOnce(.ipiDeadlock, severity: .error, key: "P3") { _ in finding("P3") }
        _ = context.findings
        #expect(context.graphFindings.findings.map(\.key) == ["P1", "M1", "P2", "M2", "P3"])
    }

    /// A cycle's report is made when the findings are asked for, from the dependency that
    /// closed it and its path as they were kept, its names and key made again then. It reads
    /// as the one made when the cycle was met (a report observer has each made at once),
    /// though an edge of its path gained a type since (A held for read, then B) and another
    /// trace's cycle came after it.
    @Test func aCycleReportedWithoutItsTextReadsAsOneMadeWhenItWasMet() throws {
        var first = TraceBuilder(cpus: 2)
        first.declare("A", .rwlock)
        first.task = "t1"
        first.nest("A", "B")
        first.cpu = 1
        first.task = "t2"
        first.nest("B", "A")
        first.cpu = 0
        first.task = "t3"
        first.acquire("A", mode: .read)
        first.acquire("B")
        first.release("B")
        first.release("A")
        var second = TraceBuilder()
        second.task = "t4"
        second.nest("C", "D")
        second.nest("D", "C")
        func reports(madeAtOnce: Bool) throws -> (text: String, json: String, findings: [Finding]) {
            let analysis = Analysis(options: AnalysisOptions(maxDepth: 48))
            var seen: Set<[String]> = []
            if madeAtOnce { analysis.context.addReportObserver { seen.insert($0.locks) } }
            try analysis.analyze(bytes: Array(first.xml.utf8), displayName: "a.xml")
            try analysis.analyze(bytes: Array(second.xml.utf8), displayName: "b.xml")
            let findings = analysis.findings
            #expect(seen == (madeAtOnce ? [["A", "B"], ["C", "D"]] : []))
            let (text, json) = Self.reports(analysis)
            return (text, json, findings)
        }
        let later = try reports(madeAtOnce: false)
        let atOnce = try reports(madeAtOnce: true)
        #expect(later.text == atOnce.text)
        #expect(later.json == atOnce.json)
        let cycles = later.findings.filter { $0.rule == .circularDependency }
        #expect(cycles.map(\.locks) == [["A", "B"], ["C", "D"]])
        // A -> B, the path's edge: its first events (A then B on cpu 0), not the read's.
        let link = try #require(cycles.first?.chain.first)
        #expect(link.holderEvidence.event == 0)
        #expect(link.evidence.event == 1)
        #expect(link.evidence.file == "a.xml")
    }

    /// An analysis of b.xml, a cycle: A -> B on cpu 0, B -> A on cpu 1.
    static func analysisOfB() throws -> Analysis {
        var trace = TraceBuilder(cpus: 2)
        trace.task = "tb0"
        trace.nest("A", "B")
        trace.cpu = 1
        trace.task = "tb1"
        trace.nest("B", "A")
        let analysis = Analysis(options: AnalysisOptions(maxDepth: 48))
        try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: "b.xml")
        return analysis
    }

    /// The cycle's report as the checks met it: every place it cites is in b.xml, and its
    /// list is of tb1's moment.
    static func expectTheCycleOfB(_ findings: [Finding]) throws {
        let cycle = try #require(findings.first { $0.rule == .circularDependency })
        #expect(Set(cycle.locations.map(\.file) + cycle.chain.flatMap { [$0.evidence.file, $0.holderEvidence.file] }) == ["b.xml"])
        #expect(cycle.heldLocksHolder == "tb1 on cpu 1")
        #expect(cycle.heldLocks?.map(\.lock) == ["B"])
    }

    /// A library may read the findings where the checks have not caught up with the log (the
    /// code of stop 54 kept a cycle's fact and path as places in the log and the graph, and
    /// these read another trace's evidence, or stopped; helper-96). A trace of a lesser name
    /// (a.xml) shows B -> A again elsewhere, whose evidence the log keeps instead, then fails:
    /// the report read after is the one the checks made, of b.xml.
    @Test func aCycleReadAfterALesserTraceFailedIsTheOneTheChecksMade() throws {
        let analysis = try Self.analysisOfB()
        var failing = TraceBuilder(cpus: 2)
        failing.task = "ta0"
        failing.nest("C", "B", "A")
        failing.cpu = 1
        failing.task = nil
        failing.event("nmi-exit")  // outside NMI: an input error
        #expect(throws: TraceInputError.self) { try analysis.analyze(bytes: Array(failing.xml.utf8), displayName: "a.xml") }
        try Self.expectTheCycleOfB(analysis.findings)
    }

    /// The graph emptied by its public `removeAll()`, or its context kept alone once the
    /// analysis is gone: the cycle's report is still made, as it was met.
    @Test func aCycleIsMadeAfterItsGraphIsEmptiedOrItsAnalysisGone() throws {
        let analysis = try Self.analysisOfB()
        analysis.graph.removeAll()
        try Self.expectTheCycleOfB(analysis.findings)
        try Self.expectTheCycleOfB(Self.analysisOfB().context.findings)
    }

    /// The graph checked again from its first fact drops what its last check reported,
    /// made or not.
    @Test func aGraphCheckedAgainDropsTheFindingsNotMadeYet() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.release("A")
        let context = try analyze(trace).context
        var made = 0
        context.reportGraphFindingOnce(.ipiDeadlock, severity: .error, key: "A") { _ in
            made += 1
            return Finding(rule: .ipiDeadlock, severity: .error, message: "waits on A", locks: ["A"], locations: [], key: "A")
        }
        context.clearGraphFindings()
        #expect(!context.hasFinding(atLeast: .warning))
        #expect(context.findings.isEmpty)
        #expect(made == 0)
    }

    /// Where the traces found something too, the answer is the merged findings'. A finding
    /// not made yet is made only where it shares its rule and key with one of the traces':
    /// the two merge into the one whose evidence comes first.
    @Test func aFindingOfTheTracesAndOneNotMadeAnswerTogether() throws {
        let context = try analyze(Self.badUnlockUnderFiveLocks()).context
        let badUnlock = try #require(context.findings.first { $0.rule == .badUnlock })
        #expect(badUnlock.severity == .error)
        var made: [String] = []
        func report(_ rule: Rule, _ severity: Severity, key: String) {
            context.reportGraphFindingOnce(rule, severity: severity, key: key) { _ in
                made.append(key)
                // Its evidence comes after the bad unlock's (test.xml).
                let evidence = Evidence(file: "z.xml", line: 1, column: 1, event: 0, cpu: 0, role: "made")
                return Finding(rule: rule, severity: severity, message: "made", locks: [], locations: [evidence], key: key)
            }
        }
        report(.ipiDeadlock, .warning, key: "A")
        #expect(context.hasFinding(atLeast: .warning, of: [.ipiDeadlock]))
        #expect(!context.hasFinding(atLeast: .error, of: [.ipiDeadlock]))
        #expect(context.hasFinding(atLeast: .error, of: [.badUnlock]))
        #expect(made.isEmpty)

        // The bad unlock's rule and key, as a warning: made, it cites later evidence, and the
        // trace's error stays.
        report(.badUnlock, .warning, key: badUnlock.key)
        #expect(context.hasFinding(atLeast: .error, of: [.badUnlock]))
        #expect(made == ["A", badUnlock.key])
        let findings = context.findings
        #expect(findings.map(\.rule).sorted { $0.rawValue < $1.rawValue } == [.badUnlock, .ipiDeadlock])
        #expect(findings.first { $0.rule == .badUnlock }?.severity == .error)
        #expect(findings.first { $0.rule == .badUnlock }?.count == 2)
    }

    /// Where the traces found something, a pending finding's key is made to look for it among
    /// theirs only if a trace found something of its rule: a thousand cycles pending beside a
    /// bad unlock make no key (helper-100: each key is made by its maker now, not read).
    @Test func aPendingFindingsKeyIsMadeForTheTracesOnlyWhereTheyFoundItsRule() throws {
        final class Counting: PendingFindingMaker {
            var keysMade = 0
            func key(of number: Int) -> String {
                keysMade += 1
                return "C\(number) D\(number)"
            }
            func finding(_ number: Int) -> Finding {
                Finding(rule: .circularDependency, severity: .error, message: "cycle", locks: [], locations: [], key: key(of: number))
            }
            func discard() {}
            func handOut() {}
            func locationCount(of number: Int) -> Int { finding(number).locations.count }
            func place(_ index: Int, of number: Int) -> (file: String, line: Int, column: Int, event: Int) { finding(number).locations[index].orderPlace }
            func baseFingerprint(of number: Int) -> UInt64 { finding(number).baseFingerprintValue }
        }
        let context = try analyze(Self.badUnlockUnderFiveLocks()).context
        let maker = Counting()
        for number in 0..<1_000 {
            context.reportGraphFindingOnce(.circularDependency, severity: .error, maker: maker, number: number)
        }
        #expect(context.hasFinding(atLeast: .error, of: [.circularDependency]))
        #expect(context.hasFinding(atLeast: .error, of: [.badUnlock]))
        #expect(maker.keysMade == 0)
        #expect(context.findings.filter { $0.rule == .circularDependency }.count == 1_000)
    }
}
