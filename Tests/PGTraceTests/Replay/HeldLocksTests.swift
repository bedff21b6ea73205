@testable import PGTrace
import Testing

/// A context's held locks as locks are taken and released in any order: mm_take_all_locks()
/// takes one anon_vma lock a vma under mm_all_locks_mutex (a nest lock's run, thousands
/// long) and mm_drop_all_locks() releases them in the order taken, from the bottom. Each
/// release finds the lock lockdep's find_held_lock would (the newest that matches), and
/// leaves every lock above it with the chain key, depth and fold it would have if the locks
/// left had been taken afresh; a run has one chain key whatever its length, as lockdep's
/// entry with `references` does.
@Suite struct HeldLocksTests {
    let symbols = SymbolTable()

    func engine() -> ReplayEngine { .forTests(symbols: symbols, cpus: 1) }

    /// A held lock of class `id`, named by symbol `id`, for the tests of the list alone.
    static func lock(_ id: Int) -> HeldLock {
        let site = EventSite(Event(kind: .irqEnable, cpu: 0, position: TracePosition(file: 0, line: 1, column: 1, event: 0)))
        return HeldLock(
            classID: ClassID(id), ref: LockRef(name: Symbol(rawValue: Int32(id))), mode: .write, isTry: false,
            irq: nil, bh: false, nest: nil, savedHardirqsEnabled: true, site: site, chainKey: UInt64(id))
    }

    func apply(_ replay: ReplayEngine, _ kind: EventKind) throws {
        let index = replay.eventCount
        try replay.apply(Event(
            kind: kind, cpu: 0, task: symbols.intern("kvm"),
            position: TracePosition(file: 0, line: index + 1, column: 1, event: index)))
    }

    func ref(_ name: String, _ instance: String?) -> LockRef {
        LockRef(name: symbols.intern(name), instance: instance.map { symbols.intern($0) })
    }

    func acquire(_ replay: ReplayEngine, _ ref: LockRef, mode: LockMode = .write, nest: String? = nil) throws {
        try apply(replay, .acquire(ref, mode: mode, isTry: false, irq: nil, bh: false, nest: nest.map { symbols.intern($0) }))
    }

    func release(_ replay: ReplayEngine, _ ref: LockRef) throws {
        try apply(replay, .release(ref, irq: nil, bh: false))
    }

    /// The chain key, depth and fold of each held lock, worked out from the bottom of the
    /// list as if its locks had just been taken in order; `outside`: the interrupted task's
    /// newest lock, where the list is an irq's (its first lock may fold into it).
    func afresh(_ held: HeldLocks, outside: HeldLock? = nil) -> [(key: UInt64, depth: Int32, folded: Bool)] {
        var result: [(key: UInt64, depth: Int32, folded: Bool)] = []
        var below: HeldLock?
        for lock in held {
            let folded = lock.nest != nil && (below ?? outside)?.classID == lock.classID
            let key = HeldLock.chainKey(after: result.last?.key ?? 0, classID: lock.classID, mode: lock.mode, isFolded: folded)
            result.append((key, HeldLock.lockdepDepth(after: below, classID: lock.classID, nest: lock.nest), folded))
            below = lock
        }
        return result
    }

    func expectAsIfTakenAfresh(_ replay: ReplayEngine, _ comment: Comment? = nil) {
        let task = replay.heldLocks(task: .named(symbols.intern("kvm")))
        var lists = [(task, afresh(task))]
        if let frame = replay.cpus[0].frames.last { lists.append((frame.held, afresh(frame.held, outside: task.last))) }
        for (held, expected) in lists {
            for (lock, want) in zip(held, expected) {
                #expect(lock.chainKey == want.key && lock.lockdepDepth == want.depth && lock.isFolded == want.folded, comment)
            }
        }
    }

    @Test func mmDropAllLocksLeavesTheLocksAboveAsTheyWere() throws {
        let replay = engine()
        let mutex = ref("mm_all_locks_mutex", nil)
        let vmas = (0..<64).map { ref("anon_vma", "av\($0)") }
        try acquire(replay, mutex)
        for vma in vmas { try acquire(replay, vma, nest: "mm_all_locks_mutex") }
        // A run has its first member's key however long it grows.
        let runKey = replay.heldLocks(cpu: 0)[1].chainKey
        #expect(replay.heldLocks(cpu: 0).dropFirst().allSatisfy { $0.chainKey == runKey })
        #expect(replay.heldLocks(cpu: 0).last?.lockdepDepth == 2)
        try acquire(replay, ref("kvm_lock", nil))
        let above = replay.heldLocks(cpu: 0).last!
        for (dropped, vma) in vmas.enumerated() {
            try release(replay, vma)
            let held = replay.heldLocks(cpu: 0)
            #expect(held.count == 1 + vmas.count - dropped - 1 + 1)
            #expect(held.dropFirst().dropLast().map(\.ref) == Array(vmas[(dropped + 1)...]))
            if dropped + 1 < vmas.count {
                // The next member is the run's entry now; kvm_lock above is as it was.
                #expect(!held[1].isFolded && held[1].chainKey == runKey)
                #expect(held.last?.chainKey == above.chainKey && held.last?.lockdepDepth == above.lockdepDepth)
            } else {
                // The run gone, kvm_lock is taken again right above the mutex.
                #expect(held.last?.chainKey != above.chainKey && held.last?.lockdepDepth == 2)
            }
            expectAsIfTakenAfresh(replay)
        }
        #expect(replay.heldLocks(cpu: 0).map(\.ref) == [mutex, above.ref])
    }

    /// Random traces of one task and the hardirqs that interrupt it: classes with and without
    /// instances, instances shared, runs under a nest lock (an irq's first lock may fold into
    /// the task's), releases of any held lock with or without its instance. After each event,
    /// the held locks are those a list model leaves (a release takes the newest lock of its
    /// context that matches it), each as if taken afresh.
    @Test(arguments: 0..<40) func randomTakesAndReleasesAgreeWithTheModel(seed: Int) throws {
        var rng = SplitMix(state: UInt64(seed))
        let replay = engine()
        var task: [LockRef] = []
        var frame: [LockRef]?
        let names = ["N", "A", "B", "C"]
        for step in 0..<300 {
            if frame == nil, rng.next(12) == 0 {
                try apply(replay, .hardirqEnter(irq: 1))
                frame = []
                continue
            }
            if frame?.isEmpty == true, rng.next(3) == 0 {
                try apply(replay, .hardirqExit)
                frame = nil
                continue
            }
            var model = frame ?? task
            defer { if frame != nil { frame = model } else { task = model } }
            let releasing = !model.isEmpty && rng.next(5) < 2
            if releasing {
                let target = model[rng.next(model.count)]
                // Sometimes by class alone, as a trace without instances names it.
                let named = rng.next(4) == 0 ? LockRef(name: target.name) : target
                try release(replay, named)
                if let index = model.lastIndex(where: { $0.isReleased(by: named) }) { model.remove(at: index) }
            } else {
                let name = names[rng.next(names.count)]
                // Unique instances mostly, some shared, some none.
                let roll = rng.next(10)
                let instance = roll < 7 ? "\(name)\(step)" : roll < 9 ? "\(name)-shared" : nil
                let lock = ref(name, instance)
                let nest = name != "N" && rng.next(2) == 0 ? "N" : nil
                try acquire(replay, lock, mode: rng.next(6) == 0 ? .read : .write, nest: nest)
                model.append(lock)
            }
            #expect(replay.heldLocks(cpu: 0).map(\.ref) == model, "seed \(seed), step \(step)")
            #expect(replay.heldLocks(task: .named(symbols.intern("kvm"))).map(\.ref) == (frame == nil ? model : task))
            expectAsIfTakenAfresh(replay, "seed \(seed), step \(step)")
        }
    }

    /// A lock released in a hardirq that interrupted a softirq comes off the hardirq's list,
    /// the innermost, and the softirq's lock stays on its own (the release of the newest lock
    /// takes a path of its own: helper-79 found no test held it to the innermost frame).
    @Test func theNewestLockOfANestedIrqComesOffTheInnermostFrame() throws {
        let replay = engine()
        try apply(replay, .softirqEnter(vector: nil))
        try acquire(replay, ref("A", nil))
        try apply(replay, .hardirqEnter(irq: 1))
        try acquire(replay, ref("B", nil))
        try release(replay, ref("B", nil))
        #expect(replay.cpus[0].frames.map { $0.held.map { symbols[$0.ref.name] } } == [["A"], []])
        try apply(replay, .hardirqExit)
        try release(replay, ref("A", nil))
        #expect(replay.cpus[0].frames.map { $0.held.count } == [0])
        try apply(replay, .softirqExit)
        #expect(replay.cpus[0].frames.isEmpty && replay.heldLocks(cpu: 0).isEmpty)
    }

    /// Emptied from the top, a list whose bottom was released first keeps no dead places.
    @Test func aListEmptiedFromTheTopKeepsNoDeadPlaces() {
        var held = HeldLocks()
        for id in 0..<6 { held.append(Self.lock(id)) }
        held.remove(at: 0)
        held.remove(at: 0)
        #expect(held.deadPlaces == 2)
        while !held.isEmpty { held.removeNewest() }
        #expect(held.deadPlaces == 0 && held.count == 0)
    }

    /// Emptied by either removal, a list whose room grew past `roomKeptEmpty` gives it back;
    /// one within it keeps its room; neither keeps its dead places (its bottom lock released
    /// first). (A replay empties a list with `removeNewest`, its last lock being its newest;
    /// `remove(at:)` empties one too.)
    @Test(arguments: [true, false]) func aListEmptiedGivesBackRoomPastTheBound(byNewest: Bool) {
        for (count, givesBack) in [(HeldLocks.roomKeptEmpty + 1, true), (HeldLocks.roomKeptEmpty / 4, false)] {
            var held = HeldLocks()
            for id in 0..<count { held.append(Self.lock(id)) }
            held.remove(at: 0)
            #expect(held.deadPlaces == 1)
            while held.count > 1 { held.removeNewest() }
            let room = held.capacity
            #expect(room >= count)
            if byNewest { held.removeNewest() } else { held.remove(at: 0) }
            #expect(held.isEmpty && held.deadPlaces == 0)
            #expect(held.capacity == (givesBack ? 0 : room))
        }
    }

    /// The collection itself against an array, each operation a collection offers (the
    /// bottom half's removals move the locks below up; the dead go once they outnumber the
    /// held): read back in order, reversed, by index, as contiguous storage and as a report
    /// lists it (helper-67's contract test).
    @Test(arguments: 0..<30) func everyOperationReadsAsAnArrayWould(seed: Int) {
        let lock = Self.lock
        func ids<C: Collection>(_ locks: C) -> [Int] where C.Element == HeldLock { locks.map { Int($0.classID) } }
        var rng = SplitMix(state: UInt64(777 + seed))
        var held = HeldLocks()
        var model: [Int] = []
        var next = 0
        for step in 0..<3000 {
            let operation = rng.next(17)
            switch operation {
            case 0..<4:
                held.append(lock(next))
                model.append(next)
                next += 1
            case 4..<7 where !model.isEmpty:
                // Mostly from the bottom, as mm_drop_all_locks releases.
                let position = rng.next(Swift.min(model.count, 6))
                #expect(Int(held.remove(at: position).classID) == model.remove(at: position))
            case 7 where !model.isEmpty:
                let position = rng.next(model.count + 1)
                held.insert(lock(next), at: position)
                model.insert(next, at: position)
                next += 1
            case 8 where model.count >= 2:
                let (a, b) = (rng.next(model.count), rng.next(model.count))
                let range = Swift.min(a, b)..<Swift.max(a, b)
                let added = rng.next(3)
                held.replaceSubrange(range, with: (0..<added).map { lock(next + $0) })
                model.replaceSubrange(range, with: (0..<added).map { next + $0 })
                next += added
            case 9 where !model.isEmpty:
                #expect(Int(held.removeFirst().classID) == model.removeFirst())
            case 10 where model.count >= 2:
                let (a, b) = (rng.next(model.count), rng.next(model.count))
                held.swapAt(a, b)
                model.swapAt(a, b)
            case 11 where model.count >= 3:
                // A slice read, and written back (MutableCollection's range setter).
                let low = rng.next(model.count - 1)
                let high = low + 1 + rng.next(model.count - low - 1)
                held[low..<high] = HeldLocks(held[low..<high].reversed())[...]
                model[low..<high] = ArraySlice(model[low..<high].reversed())
                #expect(ids(held[low..<high]) == Array(model[low..<high]))
                #expect(held[low..<high].startIndex == low && held[low..<high].endIndex == high)
            case 12:
                let residue = rng.next(5)
                held.removeAll { Int($0.classID) % 5 == residue }
                model.removeAll { $0 % 5 == residue }
            case 13:
                held += [lock(next)]
                model.append(next)
                next += 1
            case 14 where !model.isEmpty:
                // Written in place through the subscript, with room at the front.
                let position = rng.next(model.count)
                held[position].chainKey = 42
                #expect(held[position].chainKey == 42)
                held[position].chainKey = UInt64(held[position].classID)
            case 15 where !model.isEmpty:
                // A copy kept across a removal is not changed by it.
                let copy = held
                held.remove(at: 0)
                #expect(ids(copy) == model)
                model.remove(at: 0)
            case 16 where !model.isEmpty:
                // The newest released, as nearly every release is (the dead go with the last).
                held.removeNewest()
                model.removeLast()
            default:
                break
            }
            #expect(ids(held) == model, "seed \(seed), step \(step), operation \(operation)")
            #expect(held.count == model.count && held.isEmpty == model.isEmpty && held.indices == model.indices)
            #expect(ids(held.reversed()) == model.reversed())
            #expect(held.withContiguousStorageIfAvailable { ids($0) } == model)
            #expect(held.lastIndex { Int($0.classID) % 3 == 0 } == model.lastIndex { $0 % 3 == 0 })
            #expect(held.last.map { Int($0.classID) } == model.last)
            let (listed, more) = held.listed(upTo: 7)
            #expect(ids(listed) == Array(model.prefix(7)) && more == Swift.max(0, model.count - 7))
        }
    }
}
