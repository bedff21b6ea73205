@testable import PGTrace
import Testing

/// `holds(cpu:instance:)`, which the pin-window checker asks at each set-ro and at each
/// release of a ptl, answers from a count of the instances held where none is held, and
/// from the held locks otherwise: the same answers either way, after lost events too.
@Suite struct HeldInstanceTests {
    let symbols = SymbolTable()

    func engine() -> ReplayEngine { .forTests(symbols: symbols, cpus: 2) }

    func apply(_ replay: ReplayEngine, _ kind: EventKind, cpu: Int = 0, task: String = "walker") throws {
        let index = replay.eventCount
        try replay.apply(Event(
            kind: kind, cpu: cpu, task: symbols.intern(task),
            position: TracePosition(file: 0, line: index + 1, column: 1, event: index)))
    }

    func lock(_ instance: String) -> LockRef {
        LockRef(name: symbols.intern("ptlock"), instance: symbols.intern(instance))
    }

    func acquire(_ ref: LockRef, mode: LockMode = .write) -> EventKind {
        .acquire(ref, mode: mode, isTry: false, irq: nil, bh: false, nest: nil)
    }

    @Test func anInstanceIsHeldUntilItsLastRelease() throws {
        let replay = engine()
        let (first, second) = (lock("ptl:0"), lock("ptl:1"))
        try apply(replay, acquire(first))
        try apply(replay, acquire(second))
        #expect(replay.holds(cpu: 0, instance: first.instance))
        #expect(replay.holds(cpu: 0, instance: second.instance))
        #expect(!replay.holds(cpu: 1, instance: first.instance), "held by the task on cpu 0, not on cpu 1")
        try apply(replay, .release(first, irq: nil, bh: false))
        #expect(!replay.holds(cpu: 0, instance: first.instance))
        #expect(replay.holds(cpu: 0, instance: second.instance))
        // Read twice (a recursive reader), released once: still held.
        let shared = LockRef(name: symbols.intern("rwlock"), instance: symbols.intern("rw:0"))
        try apply(replay, acquire(shared, mode: .recursiveRead))
        try apply(replay, acquire(shared, mode: .recursiveRead))
        try apply(replay, .release(shared, irq: nil, bh: false))
        #expect(replay.holds(cpu: 0, instance: shared.instance))
        try apply(replay, .release(shared, irq: nil, bh: false))
        #expect(!replay.holds(cpu: 0, instance: shared.instance))
        #expect(replay.holds(cpu: 0, className: symbols.intern("ptlock")))
    }

    @Test func lostEventsForgetWhatTheyMayHaveReleasedAndNothingElse() throws {
        let replay = engine()
        let (task, irq) = (lock("ptl:task"), lock("ptl:irq"))
        try apply(replay, acquire(task))
        try apply(replay, .hardirqEnter(irq: 3), cpu: 1, task: "other")
        try apply(replay, acquire(irq), cpu: 1, task: "other")
        try apply(replay, .eventsLost(cpu: 0, count: nil))
        // Every task's locks are forgotten; cpu 1's irq frame keeps its own.
        #expect(!replay.holds(cpu: 0, instance: task.instance))
        #expect(replay.holds(cpu: 1, instance: irq.instance))
        try apply(replay, .release(irq, irq: nil, bh: false), cpu: 1, task: "other")
        #expect(!replay.holds(cpu: 1, instance: irq.instance))
    }
}
