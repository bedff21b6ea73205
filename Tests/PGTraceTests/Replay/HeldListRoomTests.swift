@testable import PGTrace
import Testing

/// Held-lock lists are made at every task's first event and every irq entry; their room is
/// what a replay of many tasks keeps, and what every lock taken would otherwise reallocate.
@Suite struct HeldListRoomTests {
    private func apply(_ engine: ReplayEngine, _ kinds: [(EventKind, Symbol?)]) throws {
        for (index, (kind, task)) in kinds.enumerated() {
            try engine.apply(Event(kind: kind, cpu: 0, task: task, position: TracePosition(file: 0, line: index + 1, column: 1, event: index)))
        }
    }

    /// A partial trace keeps every task it saw; one that never took a lock holds no room for
    /// locks (200k such tasks cost 140 MB more when each slot started with room for eight).
    @Test func aTaskThatTakesNoLockKeepsNoRoom() throws {
        let symbols = SymbolTable()
        let engine = ReplayEngine.forTests(symbols: symbols, cpus: 1, partial: true)
        let tasks = (0..<3).map { symbols.intern("task-\($0)") }
        try apply(engine, tasks.flatMap { [(EventKind.irqDisable, $0), (.irqEnable, $0)] })
        for task in tasks {
            let held = engine.heldLocks(task: .named(task))
            #expect(engine.taskSlotsInUse >= 3)
            #expect(held.isEmpty)
            #expect(held.capacity == 0)
        }
    }

    /// An irq frame's list, empty at its exit, is the next frame's, with the room it grew to.
    @Test func anIrqFramesListIsTheNextFramesWithItsRoom() throws {
        let symbols = SymbolTable()
        let engine = ReplayEngine.forTests(symbols: symbols, cpus: 1)
        let task = symbols.intern("t")
        let locks = (0..<20).map { LockRef(name: symbols.intern("irq_lock_\($0)")) }
        let taken = locks.map { (EventKind.acquire($0, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), Optional(task)) }
        let released = locks.reversed().map { (EventKind.release($0, irq: nil, bh: false), Optional(task)) }
        try apply(engine, [(.hardirqEnter(irq: 1), task)] + taken + released + [(.hardirqExit, task), (.hardirqEnter(irq: 1), task)])
        let held = engine.heldLocks(cpu: 0)
        #expect(held.isEmpty)
        #expect(held.capacity >= locks.count)
        // The task's own list, under the frame, took nothing.
        #expect(engine.heldLocks(task: .named(task)).capacity == 0)
    }

    /// mm_take_all_locks() takes a lock of every vma (tens of thousands in a large mm), and
    /// mm_drop_all_locks() releases them in the order taken; lockdep's own array is
    /// MAX_LOCK_DEPTH long. Once the last lock is released (here the mutex, the newest then),
    /// the task keeps no more room than `roomKeptEmpty` while it runs on, whichever order the
    /// vmas' locks were released in before it.
    @Test(arguments: [true, false]) func aTaskThatTookTensOfThousandsOfLocksGivesTheirRoomBack(newestFirst: Bool) throws {
        let symbols = SymbolTable()
        let engine = ReplayEngine.forTests(symbols: symbols, cpus: 1)
        let task = symbols.intern("kvm")
        let mutex = LockRef(name: symbols.intern("mm_all_locks_mutex"))
        let vmas = (0..<20_000).map { LockRef(name: symbols.intern("anon_vma"), instance: symbols.intern("av:\($0)")) }
        let taken = [mutex].map { (EventKind.acquire($0, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), Optional(task)) }
            + vmas.map { (EventKind.acquire($0, mode: .write, isTry: false, irq: nil, bh: false, nest: mutex.name), Optional(task)) }
        let released = (newestFirst ? vmas.reversed() : vmas).map { (EventKind.release($0, irq: nil, bh: false), Optional(task)) }
        try apply(engine, taken)
        #expect(engine.heldLocks(task: .named(task)).capacity > 20_000)
        try apply(engine, released)
        // (No copy of the list is kept across a release: the release would copy its storage.)
        #expect(engine.heldLocks(task: .named(task)).count == 1, "the mutex")
        #expect(engine.heldLocks(task: .named(task)).capacity > 20_000, "room while a lock is held")
        try apply(engine, [(.release(mutex, irq: nil, bh: false), task)])
        let emptied = engine.heldLocks(task: .named(task))
        #expect(emptied.isEmpty)
        #expect(emptied.capacity <= HeldLocks.roomKeptEmpty)
    }
}
