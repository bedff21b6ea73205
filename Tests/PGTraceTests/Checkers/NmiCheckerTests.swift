@testable import PGTrace
import Testing

/// In NMI lockdep validates one thing (verify_lock_unused): a lock taken there whose class
/// was used outside NMI before is "inconsistent {INITIAL USE} -> {IN-NMI} usage"; the locks
/// an NMI takes are otherwise not recorded (no dependency, no recursion, no wait context).
@Suite struct NmiCheckerTests {
    func findings(_ body: (inout TraceBuilder) -> Void) throws -> [String] {
        var trace = TraceBuilder(cpus: 1)
        trace.declare("R", .rwlock)
        body(&trace)
        return try analyze(trace).findings.map { "\($0.rule.rawValue) \($0.locks) @\($0.locations.map(\.event))" }
    }

    @Test func aLockUsedOutsideNMIThenTakenInOneIsInconsistent() throws {
        #expect(try findings { t in
            t.acquire("A")
            t.release("A")
            t.event("nmi-enter")
            t.acquire("A")
            t.release("A")
            t.event("nmi-exit")
        } == ["irq-inconsistent [\"A\"] @[3, 0]"])
    }

    @Test func readsConflictOnlyWithAWriteUse() throws {
        // Read everywhere (RCU's way): none.
        #expect(try findings { t in
            t.acquire("R", mode: .read)
            t.release("R")
            t.event("nmi-enter")
            t.acquire("R", mode: .read)
            t.release("R")
            t.event("nmi-exit")
        } == [])
        // A write in NMI after a read outside: the read use counts.
        #expect(try findings { t in
            t.acquire("R", mode: .read)
            t.release("R")
            t.event("nmi-enter")
            t.acquire("R")
        } == ["irq-inconsistent [\"R\"] @[3, 0]"])
    }

    @Test func firstUseInNMIAndTrylocksAreNoFinding() throws {
        #expect(try findings { t in
            t.event("nmi-enter")
            t.acquire("A")
            t.release("A")
            t.event("nmi-exit")
            t.acquire("A")
            t.release("A")
        } == [])
        #expect(try findings { t in
            t.acquire("A")
            t.release("A")
            t.event("nmi-enter")
            t.acquire("A", isTry: true)
        } == [])
    }

    @Test func locksTakenInNMIAreNotRecorded() throws {
        // B -> C inside the NMI (over a task holding A) orders nothing: C -> B later is no
        // cycle, and A is not taken again by the NMI's B.
        #expect(try findings { t in
            t.acquire("A")
            t.event("nmi-enter")
            t.acquire("B")
            t.acquire("C")
            t.release("C")
            t.release("B")
            t.event("nmi-exit")
            t.release("A")
            t.acquire("C")
            t.acquire("B")
        } == [])
    }

    @Test func hardirqsAreOffInsideAndRestoredAfter() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.event("nmi-enter")
        trace.event("nmi-exit")
        let analysis = try analyze(trace)
        #expect(analysis.findings.isEmpty)
        // An exit without an enter is an input error.
        var bad = TraceBuilder(cpus: 1)
        bad.event("nmi-exit")
        #expect(throws: TraceInputError.self) { try analyze(bad) }
        // Inside, a lock taken with irqs "on" outside is off: the engine's state says so.
        let replay = ReplayEngine(
            header: { var h = TraceHeader(); h.cpus = 1; return h }(), fileName: "t.xml", classes: LockClassTable(),
            symbols: SymbolTable(), defaultListLock: Symbol(rawValue: 0), observers: [])
        try replay.apply(Event(kind: .nmiEnter, cpu: 0, position: TracePosition(file: 0, line: 1, column: 1, event: 0)))
        #expect(replay.cpus[0].inNMI && !replay.cpus[0].hardirqsEnabled)
        try replay.apply(Event(kind: .nmiExit, cpu: 0, position: TracePosition(file: 0, line: 2, column: 1, event: 1)))
        #expect(!replay.cpus[0].inNMI && replay.cpus[0].hardirqsEnabled)
    }
}
