import PGTrace
import Testing

/// `depth-overflow` past `--max-depth`, and what lockdep does then: it validates nothing more
/// (its held-lock array is full, and it turns itself off).
@Suite struct LockDepthCheckerTests {
    /// A task taking 200 locks and releasing none: one finding, at the 49th lock, met 152
    /// times; the locks past the limit add no dependency, so what the analysis keeps of them
    /// does not grow with the depth (5,000 such locks took 920 MB and 4.8 s).
    @Test func aStackPastTheLimitIsOneFindingAndAddsNoDependency() throws {
        var trace = TraceBuilder()
        trace.task = "deep"
        for index in 0..<200 { trace.acquire("l\(index)") }
        let analysis = try analyze(trace)
        #expect(analysis.findings.map(\.rule) == [.depthOverflow])
        #expect(analysis.findings.first?.count == 152)
        #expect(analysis.findings.first?.locations.map(\.event) == [48, 0])
        #expect(analysis.findings.first?.message.hasPrefix("49 locks held at once on cpu 0, more than the limit of 48") == true)
        // l0 -> l1 ... l46 -> l47: the 48th lock is the last validated.
        #expect(analysis.graph.dependencyCount == 47)
    }

    /// Back under the limit and past it again at another place: another finding.
    @Test func anotherOverflowAfterTheStackShrankIsAnotherFinding() throws {
        var trace = TraceBuilder()
        trace.task = "deep"
        for index in 0..<50 { trace.acquire("l\(index)") }
        trace.release("l49")
        trace.release("l48")
        trace.acquire("m48")
        let analysis = try analyze(trace)
        #expect(analysis.findings.map(\.rule) == [.depthOverflow, .depthOverflow])
        #expect(analysis.findings.map(\.count) == [2, 1])
    }

    /// An AB-BA taken past the limit is not reported (lockdep would be off by then); the
    /// same pairs taken within it are.
    @Test func anInversionPastTheLimitIsNotValidated() throws {
        /// A, B, then B, A, on top of `held` locks.
        func abba(on held: Int) -> TraceBuilder {
            var trace = TraceBuilder()
            trace.task = "deep"
            for index in 0..<held { trace.acquire("l\(index)") }
            trace.nest("A", "B")
            trace.acquire("B")
            trace.acquire("A")
            return trace
        }
        // Two overflows (at A, then at B once the stack was back at the limit), no cycle.
        #expect(try analyze(abba(on: 48)).findings.map(\.rule) == [.depthOverflow, .depthOverflow])
        #expect(try analyze(abba(on: 40)).findings.map(\.rule) == [.circularDependency])
    }

    /// mm_take_all_locks' shape: a nest lock's run of one class is one entry of lockdep's
    /// held-lock array, so a lock taken after sixty ptlocks under mm is still validated and
    /// its AB-BA with ptlock found (the depth-overflow on the raw count stays, as seed 004's).
    @Test func aNestLocksRunIsOneEntryOfLockdepsDepth() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.task = "a"
        trace.acquire("mm")
        for index in 0..<60 { trace.acquire("ptlock", instance: "p\(index)", nest: "mm") }
        trace.acquire("B")
        trace.cpu = 1
        trace.task = "b"
        trace.acquire("B")
        trace.acquire("ptlock", instance: "q")
        let analysis = try analyze(trace)
        #expect(analysis.findings.map(\.rule) == [.depthOverflow, .circularDependency])
        #expect(analysis.findings.last?.locks == ["ptlock", "B"])
    }

    /// Lost events empty the stacks without a release: a stack built again past the limit
    /// is another overflow, not the one before met again.
    @Test func aStackBuiltAgainAfterLostEventsIsAnotherOverflow() throws {
        var trace = TraceBuilder()
        trace.task = "a"
        for index in 0..<4 { trace.event("acquire", [("lock", "A\(index)"), ("fn", "f\(index)")]) }
        trace.event("events-lost", [("count", "5")])
        for index in 0..<4 { trace.event("acquire", [("lock", "B\(index)"), ("fn", "g\(index)")]) }
        let findings = try analyze(trace, maxDepth: 2).findings
        #expect(findings.map(\.locks) == [["A0", "A1", "A2"], ["B0", "B1", "B2"]])
        #expect(findings.map(\.count) == [2, 2])
    }

    /// A stack that stays past the limit while its oldest locks are released and new ones
    /// taken (a sliding window) is one overflow, not one a lock.
    @Test func aStackThatStaysPastTheLimitIsOneOverflowWhateverItReleases() throws {
        var trace = TraceBuilder()
        trace.task = "a"
        for index in 0..<5 { trace.acquire("L\(index)") }
        for index in 5..<100 {
            trace.release("L\(index - 5)")
            trace.acquire("L\(index)")
        }
        let findings = try analyze(trace, maxDepth: 3).findings
        #expect(findings.map(\.rule) == [.depthOverflow])
        #expect(findings.first?.count == 97)
    }

    /// A lock released from the middle: lockdep takes the ones above it again, and a nest
    /// lock folds anew into the lock now below it, so the depth is what lockdep's would be
    /// (2 here: mm and the ptlock run), and B is validated.
    @Test func aReleaseInTheMiddleFoldsANestLockAgain() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.task = "a"
        trace.acquire("mm", instance: "m")
        trace.acquire("ptlock", instance: "p0", nest: "mm")
        trace.acquire("X")
        trace.acquire("ptlock", instance: "p1", nest: "mm")
        trace.release("X")
        trace.acquire("B")
        trace.cpu = 1
        trace.task = "b"
        trace.acquire("B")
        trace.acquire("ptlock", instance: "q")
        let findings = try analyze(trace, maxDepth: 3).findings
        #expect(findings.map(\.rule).contains(.circularDependency))
    }
}
