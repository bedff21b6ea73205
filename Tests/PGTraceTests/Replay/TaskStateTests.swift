@testable import PGTrace
import Testing

/// The replay keeps state for the tasks that need it: past `keptTaskSlots` in use, one that
/// left nothing behind (no lock held, the state a new task has) is forgotten when it is
/// switched out, and replays the same when it comes back.
@Suite struct TaskStateTests {
    let symbols = SymbolTable()

    func engine(partial: Bool = false) -> ReplayEngine { .forTests(symbols: symbols, cpus: 2, partial: partial) }

    func event(_ kind: EventKind, task: String, index: Int) -> Event {
        Event(kind: kind, cpu: 0, task: symbols.intern(task), position: TracePosition(file: 0, line: index + 1, column: 1, event: index))
    }

    @Test func shortLivedTasksLeaveNoState() throws {
        let replay = engine()
        let lock = LockRef(name: symbols.intern("A"))
        var index = 0
        let tasks = ReplayEngine.keptTaskSlots + 1000
        for task in 0..<tasks {
            for kind in [EventKind.acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), .release(lock, irq: nil, bh: false)] {
                try replay.apply(event(kind, task: "task\(task)", index: index))
                index += 1
            }
            if task == 999 { #expect(replay.taskSlotsInUse >= 1000, "below the bound every slot is kept") }
        }
        #expect(replay.taskSlotsInUse <= ReplayEngine.keptTaskSlots + 3, "the bound, the cpus' own contexts and the task running")
    }

    /// A task kept with nothing held keeps little room: one that once held a pin walk's
    /// thousand locks does not hold their room while it sleeps.
    @Test func aKeptTaskKeepsLittleRoom() throws {
        let replay = engine()
        var index = 0
        let locks = (0..<1000).map { LockRef(name: symbols.intern("pte\($0)")) }
        for kind in locks.map({ EventKind.acquire($0, mode: .write, isTry: false, irq: nil, bh: false, nest: nil) })
            + locks.reversed().map({ EventKind.release($0, irq: nil, bh: false) })
        {
            try replay.apply(event(kind, task: "walker", index: index))
            index += 1
        }
        #expect(replay.heldLocks(task: .named(symbols.intern("walker"))).capacity >= 1000, "room while it runs")
        try replay.apply(event(.mightSleep, task: "other", index: index))
        let kept = replay.heldLocks(task: .named(symbols.intern("walker")))
        #expect(replay.taskSlotsInUse >= 2, "the walker is kept")
        #expect(kept.isEmpty && kept.capacity <= ReplayEngine.heldCapacity)
    }

    /// Lost events make every task not running a new one (unknown state, nothing held): their
    /// slots are freed then, so that a trace with a loss after each of thousands of tasks
    /// resets only the tasks seen since the last loss, not every slot kept.
    @Test func lostEventsFreeTheSlotsOfTasksNotRunning() throws {
        let replay = engine()
        let lock = LockRef(name: symbols.intern("A"))
        var index = 0
        for task in 0..<2000 {
            try replay.apply(event(.mightSleep, task: "t\(task)", index: index))
            index += 1
        }
        try replay.apply(event(.acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), task: "holder", index: index))
        try replay.apply(event(.mightSleep, task: "last", index: index + 1))
        #expect(replay.taskSlotsInUse >= 2000, "kept below the bound")
        try replay.apply(Event(kind: .eventsLost(cpu: nil, count: nil), cpu: 0, position: TracePosition(file: 0, line: index + 3, column: 1, event: index + 2)))
        #expect(replay.taskSlotsInUse <= 3, "the cpus' own contexts and the task running")
        let held = replay.taskLocks.values.reduce(0) { $0 + $1.count }
        #expect(held == 0, "what the holder held is forgotten")
        // A task freed at the loss comes back as a new one would after it: irq state unknown.
        try replay.apply(event(.mightSleep, task: "t7", index: index + 3))
        #expect(!replay.cpus[0].hardirqsKnown)
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
    }

    /// T leaves nothing to remember: it is kept (few tasks) or forgotten (past the bound, after
    /// as many others); events are lost; T comes back and takes L with the irq state the loss
    /// made unknown, so L is not HARDIRQ-ON: no inconsistency with L taken in hardirq context
    /// on cpu 1, either way (as before slots were freed).
    @Test(arguments: [0, ReplayEngine.keptTaskSlots + 1])
    func aTaskKeptOrForgottenBeforeLostEventsComesBackUnknown(_ others: Int) throws {
        let before = (0..<others).map { "<might-sleep cpu=\"0\" task=\"other\($0)\"/>" }.joined()
        let trace = """
            <trace version="1" cpus="2"><events>
              \(before)
              <acquire cpu="0" task="T" lock="A"/><release cpu="0" task="T" lock="A"/>
              <might-sleep cpu="0" task="U"/>
              <events-lost cpu="0"/>
              <acquire cpu="0" task="T" lock="L"/><release cpu="0" task="T" lock="L"/>
              <hardirq-enter cpu="1"/><acquire cpu="1" lock="L"/><release cpu="1" lock="L"/><hardirq-exit cpu="1"/>
            </events></trace>
            """
        let analysis = Analysis()
        try analysis.analyze(bytes: Array(trace.utf8), displayName: "lost.xml")
        #expect(analysis.findings.isEmpty)
        // Without the loss, T's irqs are known on: L is HARDIRQ-ON and HARDIRQ-safe.
        let kept = Analysis()
        try kept.analyze(bytes: Array(trace.replacingOccurrences(of: "<events-lost cpu=\"0\"/>", with: "").utf8), displayName: "kept.xml")
        #expect(kept.findings.map(\.rule) == [.irqInconsistent])
    }
}
