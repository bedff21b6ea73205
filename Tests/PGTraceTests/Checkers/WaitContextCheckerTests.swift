@testable import PGTrace
import Testing

/// `invalid-wait-context` as lockdep's check_wait_context decides it: a lock whose outer wait
/// type is above the lowest inner type of the locks held in its irq context, and above the
/// context's own (spin in a hardirq, config in a threaded one or a softirq).
@Suite struct WaitContextCheckerTests {
    /// A trace declaring `classes`, with PROVE_RAW_LOCK_NESTING as `proveRaw` says.
    func trace(_ classes: [(String, LockType)], proveRaw: Bool = false, partial: Bool = false, _ body: (inout TraceBuilder) -> Void) -> String {
        var builder = TraceBuilder(cpus: 1)
        builder.partial = partial
        for (name, type) in classes { builder.declare(name, type) }
        if proveRaw { builder.proveRawLockNesting() }
        body(&builder)
        return builder.xml
    }

    func findings(_ xml: String) throws -> [String] {
        try analyze([(name: "test.xml", xml: xml)]).findings.filter { $0.rule == .invalidWaitContext }
            .map { "\($0.locks.joined(separator: ",")) @\($0.locations.map { String($0.event) }.joined(separator: ","))" }
    }

    @Test func aMutexUnderASpinlockIsReportedOnEveryKernel() throws {
        let xml = trace([("S", .spinlock), ("M", .mutex)]) { t in
            t.acquire("S")
            t.acquire("M")
        }
        #expect(try findings(xml) == ["M,S @1,0"])
    }

    @Test func aSpinlockUnderARawSpinlockIsReportedOnlyWithProveRawLockNesting() throws {
        let body: (inout TraceBuilder) -> Void = { t in
            t.acquire("R")
            t.acquire("S")
        }
        #expect(try findings(trace([("R", .rawSpinlock), ("S", .spinlock)], proveRaw: true, body)) == ["S,R @1,0"])
        #expect(try findings(trace([("R", .rawSpinlock), ("S", .spinlock)], body)) == [])
        // The other way round is the allowed nesting.
        #expect(try findings(trace([("R", .rawSpinlock), ("S", .spinlock)], proveRaw: true) { t in
            t.acquire("S")
            t.acquire("R")
        }) == [])
    }

    @Test func aHardirqAllowsSpinningOnlyUnlessThreaded() throws {
        let spinlockInIrq = { (threaded: Bool) in
            self.trace([("S", .spinlock), ("R", .rawSpinlock)], proveRaw: true) { t in
                t.event("hardirq-enter", threaded ? [("threaded", "true")] : [])
                t.acquire("R")
                t.release("R")
                t.acquire("S")
            }
        }
        // The context is the bound: the second location is where the hardirq was entered.
        #expect(try findings(spinlockInIrq(false)) == ["S @3,0"])
        #expect(try findings(spinlockInIrq(true)) == [])
        // A mutex is too much even for a threaded handler (config), and in a softirq.
        #expect(try findings(trace([("M", .mutex)]) { t in
            t.event("hardirq-enter", [("threaded", "true")])
            t.acquire("M")
        }) == ["M @1,0"])
        #expect(try findings(trace([("M", .mutex)]) { t in
            t.event("softirq-enter")
            t.acquire("M")
        }) == ["M @1,0"])
    }

    @Test func onlyTheLocksOfTheCurrentIrqContextBound() throws {
        // A raw lock held by the task does not bound what a threaded hardirq or a softirq on
        // top of it takes (lockdep stops at the irq_context boundary): a spinlock there is
        // fine with PROVE_RAW_LOCK_NESTING, where under the raw lock itself it is not.
        for enter in [("hardirq-enter", [("threaded", "true")]), ("softirq-enter", [])] {
            #expect(try findings(trace([("R", .rawSpinlock), ("S", .spinlock)], proveRaw: true) { t in
                t.acquire("R")
                t.event(enter.0, enter.1)
                t.acquire("S")
            }) == [], "\(enter.0)")
        }
    }

    @Test func aHeldTrylockStillBounds() throws {
        // The new lock's trylock is exempt; a trylock already held bounds what follows it.
        #expect(try findings(trace([("S", .spinlock), ("M", .mutex)]) { t in
            t.acquire("S", isTry: true)
            t.acquire("M")
        }) == ["M,S @1,0"])
    }

    @Test func trylocksMapsAndUndeclaredCaptureLocksAreNotChecked() throws {
        #expect(try findings(trace([("S", .spinlock), ("M", .mutex)]) { t in
            t.acquire("S")
            t.acquire("M", isTry: true)
        }) == [])
        // A map is never waited on; under it a mutex is fine, and it is fine anywhere.
        #expect(try findings(trace([("S", .spinlock), ("W", .map), ("M", .mutex)]) { t in
            t.acquire("W")
            t.acquire("M")
            t.release("M")
            t.release("W")
            t.acquire("S")
            t.acquire("W")
        }) == [])
        // In a partial trace an undeclared class's type is unknown: nothing is inferred.
        #expect(try findings(trace([("M", .mutex)], partial: true) { t in
            t.acquire("undeclared")
            t.acquire("M")
        }) == [])
    }

    @Test func declaredWaitTypesOverrideTheTypes() throws {
        /// R, a raw lock, held, then Y taken; Y declared as `extra` says.
        func underRaw(_ type: LockType, _ extra: [(String, String)] = []) throws -> [String] {
            var builder = TraceBuilder(cpus: 1)
            builder.declare("R", .rawSpinlock)
            builder.declare("Y", type, extra)
            builder.acquire("R")
            builder.acquire("Y")
            return try findings(builder.xml)
        }
        // An outer type declared below the inner one (as RCU's maps have it): a mutex whose
        // outer type is free may be taken under a raw lock; its own type says it may not.
        #expect(try underRaw(.mutex) == ["Y,R @1,0"])
        #expect(try underRaw(.mutex, [("wait-outer", "free")]) == [])
        // A map is never checked, unless it declares a wait type.
        #expect(try underRaw(.map) == [])
        #expect(try underRaw(.map, [("wait", "sleep")]) == ["Y,R @1,0"])
    }

    @Test func theWriterKeepsTheNewAttributes() throws {
        let symbols = SymbolTable()
        var header = TraceHeader()
        header.classes = [
            .init(
                name: symbols.intern("Y"), declared: .init(type: .map, wait: .config, waitOuter: .free, novalidate: true),
                position: TracePosition(file: 0, line: 1, column: 1, event: -1))
        ]
        let writer = TraceXMLWriter(symbols: symbols)
        #expect(writer.prolog(header).contains("<class name=\"Y\" type=\"map\" wait=\"config\" wait-outer=\"free\" novalidate=\"true\"/>"))
        let element = writer.element(Event(kind: .hardirqEnter(irq: 3, threaded: true), cpu: 0, position: TracePosition(file: 0, line: 2, column: 1, event: 0)))
        #expect(element.contains("irq=\"3\"") && element.contains("threaded=\"true\""))
    }

    @Test func theTextReportIsLockdeps() throws {
        let xml = trace([("R", .rawSpinlock), ("S", .spinlock)], proveRaw: true) { t in
            t.acquire("R")
            t.acquire("S")
        }
        let text = TextReporter().render(AnalysisReport(try analyze([(name: "test.xml", xml: xml)]), includingGraph: false))
        #expect(text.contains("\nBUG: Invalid wait context [invalid-wait-context]\n"))
        #expect(text.contains("S (wait type config) is taken under R (spin), where only spin waits are allowed"))
        #expect(text.contains("\n #0: (R){+.+.}-{2:2}, at: test.xml:"))
        #expect(text.contains(" context-{5:5}: lockdep's wait type of the context itself; {3:3} that of S"))
    }

    /// A map orders like a lock but is never "a spinlock held": a timer callback flushing a
    /// work item under its (wq_completion) map may sleep.
    @Test func aMapIsNoSpinlockForSleepInAtomic() throws {
        let xml = trace([("(wq_completion)events", .map)]) { t in
            t.acquire("(wq_completion)events")
            t.event("might-sleep")
        }
        #expect(try analyze([(name: "test.xml", xml: xml)]).findings.map(\.rule) == [])
        let spinning = trace([("S", .rawSpinlock)]) { t in
            t.acquire("S")
            t.event("might-sleep")
        }
        #expect(try analyze([(name: "test.xml", xml: spinning)]).findings.map(\.rule) == [.sleepInAtomic])
    }

    /// A context holding more than a few locks (a pin walk holds one a page): the held lock
    /// that allows least is still the first of the lowest type, deep in the stack, after a
    /// release below it, and the next such one once it is released.
    @Test func aDeepStackIsBoundByItsFirstLowestLockWhereverItLies() throws {
        let mutexes = (0..<20).map { ("M\($0)", LockType.mutex) }
        let more = (0..<5).map { ("N\($0)", LockType.spinlock) }
        let xml = trace(mutexes + more + [("R", .rawSpinlock), ("X", .mutex), ("Y", .mutex), ("Z", .mutex)]) { t in
            for (name, _) in mutexes { t.acquire(name) }  // events 0-19
            t.acquire("R")  // 20
            for (name, _) in more { t.acquire(name) }  // 21-25
            t.acquire("X")  // 26: under R, 26 locks down
            t.release("X")  // 27
            t.release("M5")  // 28: below R, out of order
            t.acquire("Z")  // 29: under R still
            t.release("Z")  // 30
            t.release("R")  // 31
            t.acquire("Y")  // 32: under N0 now, the first spinning lock
        }
        #expect(try findings(xml) == ["X,R @26,20", "Z,R @29,20", "Y,N0 @32,21"])
    }
    /// Lists of one chain key hold the same entries, but not at the same places: a nest
    /// lock's run below the bound one member shorter (released from its bottom, as
    /// mm_drop_all_locks releases) moves the bound down a place, where a folded member or the
    /// next entry, of the same wait type, now lies. The bound named is still the first
    /// lowest, as lockdep's check_wait_context walks the held locks.
    @Test func aRunShortenedBelowTheBoundStillNamesTheBound() throws {
        let xml = trace([("M", .mutex), ("A", .mutex), ("B", .rawSpinlock), ("C", .rawSpinlock), ("S", .mutex)]) { t in
            t.acquire("M")  // 0
            for vma in 1...17 { t.acquire("A", instance: "a\(vma)", nest: "M") }  // 1-17
            t.acquire("B")  // 18: the bound, the 19th held lock
            for page in 1...5 { t.acquire("C", instance: "c\(page)", nest: "M") }  // 19-23
            t.release("A", instance: "a1")  // 24: the run one shorter; B is the 18th now
            t.acquire("S")  // 25
        }
        #expect(try findings(xml) == ["S,B @25,18"])
    }
    /// An irq's first lock folded into the interrupted task's counts in its frame's depth, not
    /// in its chain key: the irq's locks above it share their keys with the same locks taken
    /// in a task, one depth apart. The bound is still the first lowest of the task's own list.
    @Test func anIrqsFoldedFirstLockDoesNotShiftTheBoundOfATasksLocks() throws {
        var t = TraceBuilder(cpus: 2)
        let spinning = (1...4).map { ("Z\($0)", LockType.spinlock) }
        let raw = (5...17).map { ("Z\($0)", LockType.rawSpinlock) }
        for (name, type) in [("K", LockType.spinlock), ("L", .spinlock)] + spinning + raw { t.declare(name, type) }
        t.proveRawLockNesting()
        t.task = "b"
        for (name, _) in spinning + raw { t.acquire(name) }  // 0-16: the bound is Z5, event 4
        t.cpu = 1
        t.task = "a"
        t.acquire("K", instance: "k1")  // 17
        t.event("hardirq-enter", [("irq", "1"), ("threaded", "true")])  // 18
        t.acquire("K", instance: "k2", nest: "N")  // 19: folds into the task's K
        for (name, _) in spinning + raw { t.acquire(name) }  // 20-36
        t.cpu = 0
        t.task = "b"
        t.acquire("L")  // 37
        #expect(try findings(t.xml) == ["L,Z5 @37,4"])
    }
    /// The bound heads a run of its own class: a run below it one shorter puts the run's
    /// second member where the bound was, of its depth and wait type. The bound named is
    /// the run's first member, lockdep's entry.
    @Test func aShiftedBoundIsNotItsRunsFoldedMember() throws {
        let xml = trace([("M", .mutex), ("A", .mutex), ("B", .rawSpinlock), ("S", .mutex)]) { t in
            t.acquire("M")  // 0
            for vma in 1...17 { t.acquire("A", instance: "a\(vma)", nest: "M") }  // 1-17
            t.acquire("B", instance: "b1", nest: "M")  // 18: the bound
            t.acquire("B", instance: "b2", nest: "M")  // 19: folds into b1
            t.release("A", instance: "a1")  // 20
            t.acquire("S")  // 21
        }
        #expect(try findings(xml) == ["S,B @21,18"])
    }
}
