@testable import PGTrace
import Testing

/// The replay keeps state for the tasks that need it: one that left nothing behind (no lock
/// held, the state a new task has) is forgotten when it is switched out, and replays the
/// same when it comes back.
@Suite struct TaskStateTests {
    let symbols = SymbolTable()

    func engine(partial: Bool = false) -> ReplayEngine {
        var header = TraceHeader()
        header.cpus = 2
        header.partial = partial
        return ReplayEngine(
            header: header, fileName: "t.xml", classes: LockClassTable(), symbols: symbols,
            defaultListLock: symbols.intern("pgd_lock"), observers: [])
    }

    func event(_ kind: EventKind, task: String, index: Int) -> Event {
        Event(kind: kind, cpu: 0, task: symbols.intern(task), position: TracePosition(file: 0, line: index + 1, column: 1, event: index))
    }

    @Test func shortLivedTasksLeaveNoState() throws {
        let replay = engine()
        let lock = LockRef(name: symbols.intern("A"))
        var index = 0
        for task in 0..<1000 {
            for kind in [EventKind.acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), .release(lock, irq: nil, bh: false)] {
                try replay.apply(event(kind, task: "task\(task)", index: index))
                index += 1
            }
        }
        #expect(replay.taskSlotsInUse <= 3, "the cpus' own contexts and the task running")
    }

    @Test func aTaskHoldingALockOrWithIrqsOffIsKept() throws {
        let replay = engine()
        let lock = LockRef(name: symbols.intern("m"))
        try replay.apply(event(.acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), task: "holder", index: 0))
        try replay.apply(event(.irqDisable, task: "irqsoff", index: 1))
        for task in 0..<100 { try replay.apply(event(.mightSleep, task: "t\(task)", index: 2 + task)) }
        #expect(replay.taskLocks[.named(symbols.intern("holder"))]?.map(\.ref) == [lock])
        try replay.apply(event(.mightSleep, task: "irqsoff", index: 150))
        #expect(!replay.cpus[0].hardirqsEnabled, "its irqs-off state came back with it")
        try replay.apply(event(.release(lock, irq: nil, bh: false), task: "holder", index: 200))
        try replay.apply(event(.irqEnable, task: "irqsoff", index: 201))
        let held = replay.taskLocks.values.reduce(0) { $0 + $1.count }
        #expect(held == 0)
        #expect(replay.taskSlotsInUse <= 4)
    }
}
