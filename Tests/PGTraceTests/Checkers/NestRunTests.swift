@testable import PGTrace
import Testing

/// Locks of one class taken under their nest lock (spin_lock_nest_lock, mm_take_all_locks)
/// fold into one entry of lockdep's held-lock array: the first of the run, the others its
/// references. A lock taken above the run depends on that entry: on the first member's mode,
/// and past it where the first member is a trylock.
@Suite struct NestRunTests {
    /// t1: M, then a1 and a2 of class A (a2 under nest M), then X. t2: X, then A as a
    /// recursive read.
    static func runThenX(first: LockMode, firstIsTry: Bool = false, t2Takes: String) -> TraceBuilder {
        var trace = TraceBuilder(cpus: 2)
        trace.declare("M", .mutex)
        trace.declare("A", .rwsem)
        trace.declare("X", .mutex)
        trace.task = "t1"
        trace.acquire("M", instance: "m")
        trace.acquire("A", instance: "a1", mode: first, isTry: firstIsTry, nest: "M")
        trace.acquire("A", instance: "a2", mode: .recursiveRead, nest: "M")
        trace.acquire("X", instance: "x")
        trace.release("X", instance: "x")
        trace.release("A", instance: "a2")
        trace.release("A", instance: "a1")
        trace.release("M", instance: "m")
        trace.cpu = 1
        trace.task = "t2"
        trace.acquire("X", instance: "x")
        trace.acquire(t2Takes, instance: t2Takes == "A" ? "a1" : "m", mode: t2Takes == "A" ? .recursiveRead : .write)
        trace.release(t2Takes, instance: t2Takes == "A" ? "a1" : "m")
        trace.release("X", instance: "x")
        return trace
    }

    /// The run's first member holds A exclusively: A -(EN)-> X, and t2's X -(ER)-> A closes
    /// a strong cycle, as lockdep reports it. (Its last member, a recursive read, would make
    /// A -(SN)-> X, and no strong cycle.)
    @Test func aLockAboveARunDependsOnTheRunsFirstMember() throws {
        let trace = Self.runThenX(first: .write, t2Takes: "A")
        let analysis = try analyze(trace)
        let dependency = try #require(analysis.lockOrderEdge("A", "X"))
        #expect(dependency.types == .en)
        #expect(dependency.holderSite.position.line == trace.line(ofEvent: 1))
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        #expect(analysis.findings.first?.locks == ["A", "X"])
    }

    @Test func aRunOfRecursiveReadsMakesNoStrongCycle() throws {
        let analysis = try analyze(Self.runThenX(first: .recursiveRead, t2Takes: "A"))
        #expect(analysis.lockOrderEdge("A", "X")?.types == .sn)
        #expect(analysis.findings.isEmpty)
    }

    /// The run's first member a trylock: the entry is a trylock, so X depends on M below it
    /// too, and t2's X -> M closes a cycle.
    @Test func aRunWhoseFirstMemberIsATrylockIsPassedOver() throws {
        let analysis = try analyze(Self.runThenX(first: .write, firstIsTry: true, t2Takes: "M"))
        #expect(analysis.lockOrderEdge("M", "X") != nil)
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        #expect(analysis.findings.first?.locks == ["M", "X"])
    }

    /// The first member no trylock: X depends on A alone, and the cycle t2 closes goes
    /// through A (M -> A -> X -> M).
    @Test func aRunWhoseFirstMemberIsNoTrylockStopsThere() throws {
        let analysis = try analyze(Self.runThenX(first: .write, t2Takes: "M"))
        #expect(analysis.lockOrderEdge("M", "X") == nil)
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        #expect(analysis.findings.first?.locks == ["M", "A", "X"])
    }

    // MARK: lockdep's check_deadlock with a nest lock

    /// M, a1 of A, B, then a2 of A under nest M: check_deadlock meets M before a1, so a2 is
    /// nested: no recursion, no dependency. With M taken after a1, it meets a1 first: a
    /// recursive locking report, as lockdep's print_deadlock_bug.
    static func nestAround(nestFirst: Bool) -> TraceBuilder {
        var trace = TraceBuilder()
        if nestFirst { trace.acquire("M") }
        trace.acquire("A", instance: "a1")
        if !nestFirst { trace.acquire("M") }
        trace.acquire("B")
        trace.acquire("A", instance: "a2", nest: "M")
        return trace
    }

    @Test func aNestLockHeldBelowTheClassNestsIt() throws {
        let analysis = try analyze(Self.nestAround(nestFirst: true))
        #expect(analysis.findings.filter { $0.rule == .recursiveLocking }.isEmpty)
        #expect(analysis.lockOrderEdge("B", "A") == nil)
    }

    @Test func aNestLockTakenAfterTheClassDoesNotNestIt() throws {
        let trace = Self.nestAround(nestFirst: false)
        let analysis = try analyze(trace)
        let finding = try #require(analysis.findings.first { $0.rule == .recursiveLocking })
        #expect(finding.locks == ["A"])
        #expect(finding.locations.map(\.line) == [trace.line(ofEvent: 3), trace.line(ofEvent: 0)])
    }

    /// a1, then a2 of its class under nest M, M not held: lockdep folds a2 into a1's entry
    /// before it looks for M (its "Nested lock was not taken" is for a lock that does not
    /// fold), so it reports nothing.
    @Test func aRunFoldsWithoutItsNestLockHeld() throws {
        var trace = TraceBuilder()
        trace.acquire("A", instance: "a1")
        trace.acquire("A", instance: "a2", nest: "M")
        trace.release("A", instance: "a2")
        trace.release("A", instance: "a1")
        #expect(try analyze(trace).findings.isEmpty)
    }

    // MARK: nest-lock-not-held (lockdep's print_lock_nested_lock_not_held)

    /// Two ptlocks of one walk under nest mm->page_table_lock: without it held, the first is
    /// "Nested lock was not taken"; the second folds into the first before lockdep looks.
    static func walk(holdingNest: Bool, inIrq: Bool = false) -> TraceBuilder {
        var trace = TraceBuilder()
        trace.task = "bash"
        if holdingNest { trace.acquire("mm->page_table_lock") }
        if inIrq { trace.event("hardirq-enter", [("irq", "1")]) }
        trace.acquire("ptlock", instance: "p1", nest: "mm->page_table_lock")
        trace.acquire("ptlock", instance: "p2", nest: "mm->page_table_lock")
        trace.release("ptlock", instance: "p2")
        trace.release("ptlock", instance: "p1")
        if inIrq { trace.event("hardirq-exit") }
        if holdingNest { trace.release("mm->page_table_lock") }
        return trace
    }

    @Test func aNestLockNotHeldIsReportedAtTheRunsFirstLock() throws {
        let trace = Self.walk(holdingNest: false)
        let analysis = try analyze(trace)
        #expect(analysis.findings.map(\.rule) == [.nestLockNotHeld])
        let finding = try #require(analysis.findings.first)
        #expect(finding.severity == .error)
        #expect(finding.locks == ["ptlock", "mm->page_table_lock"])
        #expect(finding.locations.map(\.line) == [trace.line(ofEvent: 0)])
        #expect(finding.count == 1)
        #expect(finding.heldLocks?.isEmpty == true)
    }

    @Test func aNestLockHeldIsNoFinding() throws {
        #expect(try analyze(Self.walk(holdingNest: true)).findings.isEmpty)
    }

    /// __lock_is_held looks at every lock of the task: one held by the task an irq interrupted
    /// counts.
    @Test func aNestLockHeldUnderAnIrqCounts() throws {
        #expect(try analyze(Self.walk(holdingNest: true, inIrq: true)).findings.isEmpty)
    }

    // MARK: A run's first member released

    /// Lockdep counts the entry down and it keeps its first member's state: with a1 (write)
    /// released, X taken over the run still depends on A exclusively, A -(EN)-> X, and t2's
    /// X -(ER)-> A closes a strong cycle. With a1 the recursive read and a2 the writer, the
    /// entry stays a recursive read: A -(SN)-> X, and no strong cycle.
    static func firstReleasedThenX(firstWrites: Bool) -> TraceBuilder {
        var trace = TraceBuilder(cpus: 2)
        trace.declare("M", .mutex)
        trace.declare("A", .rwsem)
        trace.declare("X", .mutex)
        trace.task = "t1"
        trace.acquire("M", instance: "m")
        trace.acquire("A", instance: "a1", mode: firstWrites ? .write : .recursiveRead, nest: "M")
        trace.acquire("A", instance: "a2", mode: firstWrites ? .recursiveRead : .write, nest: "M")
        trace.release("A", instance: "a1")
        trace.acquire("X", instance: "x")
        trace.release("X", instance: "x")
        trace.release("A", instance: "a2")
        trace.release("M", instance: "m")
        trace.cpu = 1
        trace.task = "t2"
        trace.acquire("X", instance: "x")
        trace.acquire("A", instance: "a1", mode: .recursiveRead)
        trace.release("A", instance: "a1")
        trace.release("X", instance: "x")
        return trace
    }

    @Test func aRunKeepsItsFirstMembersModeOnceItIsReleased() throws {
        let analysis = try analyze(Self.firstReleasedThenX(firstWrites: true))
        #expect(analysis.lockOrderEdge("A", "X")?.types == .en)
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        #expect(analysis.findings.first?.locks == ["A", "X"])
    }

    @Test func aRunOfAReadFirstStaysARead() throws {
        let analysis = try analyze(Self.firstReleasedThenX(firstWrites: false))
        #expect(analysis.lockOrderEdge("A", "X")?.types == .sn)
        #expect(analysis.findings.isEmpty)
    }

    /// M released from under its run: lockdep takes the run again (its entry does not fold
    /// into anything) and finds M not held: "Nested lock was not taken", at the release.
    @Test func theNestLockReleasedFromUnderItsRunIsReportedAtTheRelease() throws {
        var trace = TraceBuilder()
        trace.acquire("M")
        trace.acquire("A", instance: "a1", nest: "M")
        trace.acquire("A", instance: "a2", nest: "M")
        trace.release("M")
        trace.release("A", instance: "a2")
        trace.release("A", instance: "a1")
        let analysis = try analyze(trace)
        #expect(analysis.findings.map(\.rule) == [.nestLockNotHeld])
        let finding = try #require(analysis.findings.first)
        #expect(finding.locks == ["A", "M"])
        #expect(finding.locations.map(\.line) == [trace.line(ofEvent: 3), trace.line(ofEvent: 1)])
    }

    // MARK: The fold across an irq

    /// Lockdep folds an acquisition into the task's newest held lock whatever its context:
    /// a hardirq's first lock, of the class the interrupted task took last, with a nest lock
    /// named, folds into it and is not checked at all (no usage, no recursion, no nest lock).
    /// With the task's newest lock of another class, it is checked: the nest lock is not held.
    static func irqTakesTheClass(taskTakesBAfterA: Bool) -> TraceBuilder {
        var trace = TraceBuilder()
        trace.task = "t"
        trace.acquire("A", instance: "a1")
        if taskTakesBAfterA { trace.acquire("B") }
        trace.event("hardirq-enter", [("irq", "1")])
        trace.acquire("A", instance: "a2", nest: "M")
        trace.release("A", instance: "a2")
        trace.event("hardirq-exit")
        if taskTakesBAfterA { trace.release("B") }
        trace.release("A", instance: "a1")
        return trace
    }

    @Test func anIrqsFirstLockFoldsIntoTheInterruptedTasksNewest() throws {
        #expect(try analyze(Self.irqTakesTheClass(taskTakesBAfterA: false)).findings.isEmpty)
    }

    @Test func anIrqsFirstLockOverAnotherClassIsChecked() throws {
        let trace = Self.irqTakesTheClass(taskTakesBAfterA: true)
        let rules = try analyze(trace).findings.map(\.rule)
        #expect(rules.contains(.nestLockNotHeld))
        #expect(rules.contains(.recursiveLocking))
    }

    /// The nest lock is looked for at every acquisition that does not fold, a trylock's too.
    @Test func aTrylockNamingANestLockNotHeldIsReported() throws {
        var trace = TraceBuilder()
        trace.acquire("A", instance: "a1", isTry: true, nest: "M")
        trace.release("A", instance: "a1")
        let analysis = try analyze(trace)
        #expect(analysis.findings.map(\.rule) == [.nestLockNotHeld])
    }

    /// The hardirq's a2 folds into the task's a1 entry, so B is the irq context's first
    /// entry: it depends on nothing, and the task's B -> A later closes no cycle.
    @Test func aLockFoldedIntoTheTasksIsNoHolderInTheIrq() throws {
        var trace = TraceBuilder()
        trace.acquire("M")
        trace.acquire("A", instance: "a1", nest: "M")
        trace.event("hardirq-enter", [("irq", "1")])
        trace.acquire("A", instance: "a2", nest: "M")
        trace.acquire("B")
        trace.release("B")
        trace.release("A", instance: "a2")
        trace.event("hardirq-exit")
        trace.release("A", instance: "a1")
        trace.release("M")
        trace.acquire("B")
        trace.acquire("A", instance: "a1")
        let analysis = try analyze(trace)
        #expect(analysis.lockOrderEdge("A", "B") == nil)
        #expect(analysis.findings.filter { $0.rule == .circularDependency }.isEmpty)
    }

    /// The run's entry keeps its first member's nest lock too: a1 (nest M) released, then M,
    /// and the entry taken again finds M not held, though a2 named N, which is.
    @Test func aRunKeepsItsFirstMembersNestLock() throws {
        var trace = TraceBuilder()
        trace.acquire("M")
        trace.acquire("N")
        trace.acquire("A", instance: "a1", nest: "M")
        trace.acquire("A", instance: "a2", nest: "N")
        trace.release("A", instance: "a1")
        trace.release("M")
        trace.release("A", instance: "a2")
        trace.release("N")
        let analysis = try analyze(trace)
        #expect(analysis.findings.map(\.rule) == [.nestLockNotHeld])
        #expect(analysis.findings.first?.locks == ["A", "M"])
        #expect(analysis.findings.first?.locations.first?.line == trace.line(ofEvent: 5))
    }

    /// A softirq's r2 folds into the task's r1 entry (raw spinlocks): it bounds nothing in
    /// the softirq's context, where a spinlock_t is allowed (PROVE_RAW_LOCK_NESTING).
    @Test func aLockFoldedIntoTheTasksBoundsNoWaitContextInTheIrq() throws {
        var trace = TraceBuilder()
        trace.proveRawLockNesting()
        trace.declare("M", .rawSpinlock)
        trace.declare("R", .rawSpinlock)
        trace.declare("S", .spinlock)
        trace.event("irq-disable")
        trace.acquire("M")
        trace.acquire("R", instance: "r1", nest: "M")
        trace.event("softirq-enter", [("vec", "TIMER")])
        trace.acquire("R", instance: "r2", nest: "M")
        trace.acquire("S")
        trace.release("S")
        trace.release("R", instance: "r2")
        trace.event("softirq-exit")
        trace.release("R", instance: "r1")
        trace.release("M")
        #expect(try analyze(trace).findings.isEmpty)
    }
    /// A softirq's first S folds into the task's S: it leaves the softirq's chain key empty,
    /// so the softirq's chain (M) is not the chain (S, M) a task makes, and that task's S -> M
    /// is still validated: with M -> S in a third task, the cycle lockdep reports
    /// (helper-67; a folded lock mixed into the key before hid it).
    @Test func aSoftirqsFoldedLockHidesNoTasksChain() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.cpu = 1
        trace.task = "a"
        trace.acquire("S", instance: "s1", bh: true)
        trace.event("softirq-enter", [("vec", "NET_RX")])
        trace.acquire("S", instance: "s2", nest: "N")  // folds into s1
        trace.acquire("M")
        trace.release("M")
        trace.release("S", instance: "s2")
        trace.event("softirq-exit")
        trace.release("S", instance: "s1", bh: true)
        // Tasks b and c with bh off, as the softirq's locks ask (no usage conflict).
        trace.cpu = 0
        trace.task = "b"
        trace.event("bh-disable")  // 8
        trace.acquire("S", instance: "s3")
        trace.acquire("M")  // 10: S -> M
        trace.release("M")
        trace.release("S", instance: "s3")
        trace.event("bh-enable")
        trace.task = "c"
        trace.event("bh-disable")  // 14
        trace.acquire("M")  // 15
        trace.acquire("S", instance: "s4")  // 16: M -> S
        trace.release("S", instance: "s4")
        trace.release("M")
        trace.event("bh-enable")
        let analysis = try analyze(trace)
        #expect(analysis.lockOrderNames == ["M->S", "S->M"])
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        #expect(analysis.findings.first?.locations.map(\.event) == [16, 15, 10])
    }
}
