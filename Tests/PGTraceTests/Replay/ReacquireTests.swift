@testable import PGTrace
import Testing

/// A lock released out of order: lockdep takes the locks above it again
/// (reacquire_held_locks, each a full __lock_acquire), and validates the chains that are new
/// since, so a lock that depended only on a recursive read it was taken under comes to depend
/// on the lock below that read. A lock released from a nest lock's run is one of its entry's
/// references: lockdep counts the entry down and takes nothing again.
@Suite struct ReacquireTests {
    /// X, then Y as a recursive read, then Z: Z depends on Y alone (check_prevs_add stops at
    /// the nearest held lock), and X -> Y -> Z is no strong path (a recursive read in the
    /// middle). Y released first: Z is taken again over X, and X -> Z is a dependency, so a
    /// task taking X under Z closes a strong cycle, as lockdep reports it.
    static func recursiveReadReleasedFirst(fixed: Bool) -> TraceBuilder {
        var trace = TraceBuilder(cpus: 2)
        trace.declare("X", .mutex)
        trace.declare("Y", .rwsem)
        trace.declare("Z", .mutex)
        trace.task = "t1"
        trace.acquire("X", instance: "x")
        trace.acquire("Y", instance: "y", mode: .recursiveRead)
        trace.acquire("Z", instance: "z")
        if fixed {
            // Released in the order taken back: nothing is taken again.
            trace.release("Z", instance: "z")
            trace.release("Y", instance: "y")
        } else {
            trace.release("Y", instance: "y")
            trace.release("Z", instance: "z")
        }
        trace.release("X", instance: "x")
        trace.cpu = 1
        trace.task = "t2"
        trace.acquire("Z", instance: "z")
        trace.acquire("X", instance: "x")
        trace.release("X", instance: "x")
        trace.release("Z", instance: "z")
        return trace
    }

    @Test func aLockTakenAgainOverTheLockBelowAReleasedReadDependsOnIt() throws {
        let trace = Self.recursiveReadReleasedFirst(fixed: false)
        let analysis = try analyze(trace)
        #expect(analysis.lockOrderNames == ["X->Y", "X->Z", "Y->Z", "Z->X"])
        // The dependency cites Z's acquisition under X, which is what makes it.
        let reacquired = try #require(analysis.lockOrderEdge("X", "Z"))
        #expect(reacquired.types == .en)
        #expect(reacquired.holderSite.position.line == trace.line(ofEvent: 0))
        #expect(reacquired.site.position.line == trace.line(ofEvent: 2))
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        let finding = try #require(analysis.findings.first)
        #expect(finding.locks == ["X", "Z"])
        #expect(finding.locations.map(\.line) == [7, 6, 2].map { trace.line(ofEvent: $0) })
    }

    @Test func releasedInOrderNothingIsTakenAgain() throws {
        let analysis = try analyze(Self.recursiveReadReleasedFirst(fixed: true))
        #expect(analysis.lockOrderNames == ["X->Y", "Y->Z", "Z->X"])
        #expect(analysis.findings.isEmpty)
    }

    /// Under nest lock M, a1 then a2 (a recursive read) of class A: a2 folds into a1's entry.
    /// a1 released: lockdep counts the entry down; were a2 taken again over M, M -> A would
    /// gain the exclusive -> recursive read type, which lockdep never records.
    @Test func aLockReleasedFromANestRunTakesNothingAgain() throws {
        var trace = TraceBuilder()
        trace.declare("M", .mutex)
        trace.declare("A", .rwsem)
        trace.acquire("M")
        trace.acquire("A", instance: "a1", nest: "M")
        trace.acquire("A", instance: "a2", mode: .recursiveRead, nest: "M")
        trace.release("A", instance: "a1")
        trace.release("A", instance: "a2")
        trace.release("M")
        let analysis = try analyze(trace)
        #expect(analysis.lockOrderNames == ["M->A"])
        let edge = try #require(analysis.lockOrderEdge("M", "A"))
        #expect(edge.types == .en)
        #expect(analysis.findings.isEmpty)
    }

    /// M, B, then A: A depends on B alone. B released, A is taken again over M: M -> A, cited
    /// at A's acquisition.
    @Test func aLockAboveAnEntryOfItsOwnIsTakenAgain() throws {
        var trace = TraceBuilder()
        trace.declare("M", .mutex)
        trace.declare("A", .rwsem)
        trace.declare("B", .rwsem)
        trace.acquire("M")
        trace.acquire("B")
        trace.acquire("A")
        trace.release("B")
        trace.release("A")
        trace.release("M")
        let analysis = try analyze(trace)
        #expect(analysis.lockOrderNames == ["B->A", "M->A", "M->B"])
        let edge = try #require(analysis.lockOrderEdge("M", "A"))
        #expect(edge.site.position.line == trace.line(ofEvent: 2))
    }

    /// M, a0 of A (nested under M), P, then a run of A (a1, a2 under M). a0 released:
    /// lockdep's find_held_lock meets the run's entry first, which matches any lock of its
    /// class, and counts it down: P and the run are not taken again, so there is no M -> P
    /// and no P -> A, and t2's P -> M closes no cycle.
    @Test func aReleaseLockdepMatchesToARunAboveTakesNothingAgain() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.declare("M", .mutex)
        trace.declare("A", .rwsem)
        trace.declare("P", .mutex)
        trace.task = "t1"
        trace.acquire("M")
        trace.acquire("A", instance: "a0", mode: .recursiveRead, nest: "M")
        trace.acquire("P")
        trace.acquire("A", instance: "a1", nest: "M")
        trace.acquire("A", instance: "a2", nest: "M")
        trace.release("A", instance: "a0")
        trace.cpu = 1
        trace.task = "t2"
        trace.acquire("P")
        trace.acquire("M")
        trace.release("M")
        trace.release("P")
        let analysis = try analyze(trace)
        #expect(analysis.lockOrderNames == ["A->P", "M->A", "P->M"])
        #expect(analysis.findings.isEmpty)
    }

    /// A trylock is taken again without validation, as it was taken: it adds nothing.
    @Test func aTrylockTakenAgainAddsNothing() throws {
        var trace = TraceBuilder()
        trace.acquire("A")
        trace.acquire("B")
        trace.acquire("C", isTry: true)
        trace.release("B")
        trace.release("C")
        trace.release("A")
        let analysis = try analyze(trace)
        #expect(analysis.lockOrderNames == ["A->B"])
    }
    /// A task that took A and B on cpu 0 runs on cpu 1 when it releases A first: B is taken
    /// again over the task's own locks, on cpu 1, not over those of the task now running on
    /// cpu 0 (X), which would make X -> B and a false cycle with B -> X (helper-67).
    @Test func aLockTakenAgainAfterItsTaskMigratedIsTakenOverItsOwnLocks() throws {
        var trace = TraceBuilder(cpus: 2)
        for name in ["A", "B", "X"] { trace.declare(name, .mutex) }
        trace.task = "m"
        trace.acquire("A")
        trace.acquire("B")
        trace.task = "o"
        trace.acquire("X")
        trace.cpu = 1
        trace.task = "m"
        trace.release("A")  // B is taken again here, on cpu 1, over nothing
        trace.release("B")
        trace.cpu = 0
        trace.task = "o"
        trace.release("X")
        trace.task = "p"
        trace.acquire("B")
        trace.acquire("X")
        trace.release("X")
        trace.release("B")
        let analysis = try analyze(trace)
        #expect(analysis.lockOrderNames == ["A->B", "B->X"])
        #expect(analysis.findings.isEmpty)
    }
    /// The same for the nest lock: A, taken with its nest lock N held, is taken again on the
    /// cpu its task runs on now, where the task still holds N.
    @Test func aNestLockIsLookedForInTheTaskThatMigrated() throws {
        var trace = TraceBuilder(cpus: 2)
        for name in ["N", "Y", "A"] { trace.declare(name, .spinlock) }
        trace.task = "m"
        trace.acquire("N")
        trace.acquire("Y")
        trace.acquire("A", nest: "N")
        trace.cpu = 1
        trace.task = "m"
        trace.release("Y")  // A is taken again on cpu 1, N held below it
        trace.release("A")
        trace.release("N")
        let analysis = try analyze(trace)
        #expect(analysis.findings.isEmpty)
    }
}
