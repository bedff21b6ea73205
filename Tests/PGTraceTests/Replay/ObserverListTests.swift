@testable import PGTrace
import Testing

/// The engine calls its observers from `ObserverList`s: the first eight inline, any more from
/// an array after them. Each observer hears each event once, in the order given.
@Suite struct ObserverListTests {
    final class Recorder: ReplayObserver {
        let number: Int
        let log: Log
        var observedEvents: ObservedEvents { number.isMultiple(of: 2) ? .all : .acquisitions }
        init(_ number: Int, _ log: Log) {
            self.number = number
            self.log = log
        }
        func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) { log.calls.append("will \(number)") }
        func replay(_ replay: ReplayEngine, didAcquire lock: HeldLock) { log.calls.append("did \(number)") }
        func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite) { log.calls.append("released \(number)") }
    }

    final class Log { var calls: [String] = [] }

    @Test(arguments: [3, 8, 9, 20])
    func everyObserverHearsEachEventInOrder(_ count: Int) throws {
        let symbols = SymbolTable()
        let log = Log()
        let engine = ReplayEngine.forTests(symbols: symbols, cpus: 1, observers: (0..<count).map { Recorder($0, log) })
        let lock = LockRef(name: symbols.intern("A"))
        let kinds: [EventKind] = [.acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), .release(lock, irq: nil, bh: false)]
        for (index, kind) in kinds.enumerated() {
            try engine.apply(Event(kind: kind, cpu: 0, position: TracePosition(file: 0, line: index + 1, column: 1, event: index)))
        }
        let all = Array(0..<count)
        let even = all.filter { $0.isMultiple(of: 2) }
        #expect(log.calls == all.map { "will \($0)" } + all.map { "did \($0)" } + even.map { "released \($0)" })
    }

    /// `.acquiring` hears a lock about to be taken, `.acquired` a lock taken, and neither
    /// the other's: the engine calls an observer only for what it declared.
    @Test func acquiringAndAcquiredAreHeardApart() throws {
        final class Declared: ReplayObserver {
            let observedEvents: ObservedEvents
            let name: String
            let log: Log
            init(_ name: String, _ observed: ObservedEvents, _ log: Log) {
                (self.name, observedEvents, self.log) = (name, observed, log)
            }
            func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) { log.calls.append("will \(name)") }
            func replay(_ replay: ReplayEngine, didAcquire lock: HeldLock) { log.calls.append("did \(name)") }
        }
        let symbols = SymbolTable()
        let log = Log()
        let engine = ReplayEngine.forTests(
            symbols: symbols, cpus: 1,
            observers: [Declared("before", .acquiring, log), Declared("after", .acquired, log), Declared("both", .acquisitions, log)])
        let lock = LockRef(name: symbols.intern("A"))
        try engine.apply(Event(
            kind: .acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), cpu: 0,
            position: TracePosition(file: 0, line: 1, column: 1, event: 0)))
        #expect(log.calls == ["will before", "will both", "did after", "did both"])
        #expect(ObservedEvents.acquisitions == [.acquiring, .acquired])
        #expect(ObservedEvents.all.isSuperset(of: .acquisitions))
    }

    /// `.prefetching` hears a lock about to be taken over another before any observer hears
    /// `willAcquire` (the observers' order notwithstanding), told the lock it goes over; a
    /// lock taken with nothing held is no hint, and `.all` does not ask for hints.
    @Test func aPrefetchHintComesBeforeEveryObserverHearsTheLock() throws {
        final class Declared: ReplayObserver {
            let observedEvents: ObservedEvents
            let name: String
            let log: Log
            let symbols: SymbolTable
            init(_ name: String, _ observed: ObservedEvents, _ log: Log, _ symbols: SymbolTable) {
                (self.name, observedEvents, self.log, self.symbols) = (name, observed, log, symbols)
            }
            func replay(_ replay: ReplayEngine, prefetchFor lock: HeldLock, over top: HeldLock) {
                log.calls.append("hint \(name) \(symbols[lock.ref.name]) over \(symbols[top.ref.name])")
            }
            func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) { log.calls.append("will \(name) \(symbols[lock.ref.name])") }
        }
        let symbols = SymbolTable()
        let log = Log()
        let engine = ReplayEngine.forTests(
            symbols: symbols, cpus: 2,
            observers: [
                Declared("first", .acquiring, log, symbols), Declared("all", .all, log, symbols),
                Declared("hinted", [.acquiring, .prefetching], log, symbols),
            ])
        let (a, b) = (LockRef(name: symbols.intern("A")), LockRef(name: symbols.intern("B")))
        for (index, (lock, cpu)) in [(a, 0), (b, 0), (b, 1)].enumerated() {
            try engine.apply(Event(
                kind: .acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), cpu: cpu,
                position: TracePosition(file: 0, line: index + 1, column: 1, event: index)))
        }
        #expect(log.calls == [
            "will first A", "will all A", "will hinted A",
            "hint hinted B over A", "will first B", "will all B", "will hinted B",
            "will first B", "will all B", "will hinted B",
        ])
        #expect(!ObservedEvents.all.contains(.prefetching))
    }
}
