@testable import PGTrace
import Testing

/// A held lock's chain key and lockdep depth, as lockdep's held-lock array has them: a lock
/// of a nest lock's run is a reference to the run's entry (no new link of the chain, no new
/// depth), and a release out of order leaves every lock above as if taken again without it.
@Suite struct HeldLockTests {
    let symbols = SymbolTable()
    /// One table for every engine of a test, so that a class has one id (a key mixes it).
    let classes = LockClassTable()

    func engine() -> ReplayEngine {
        var header = TraceHeader()
        header.cpus = 1
        return ReplayEngine(
            header: header, fileName: "t.xml", classes: classes, symbols: symbols,
            defaultListLock: symbols.intern("pgd_lock"), observers: [])
    }

    func apply(_ replay: ReplayEngine, _ kind: EventKind) throws {
        let index = replay.eventCount
        try replay.apply(Event(
            kind: kind, cpu: 0, task: symbols.intern("kvm"), position: TracePosition(file: 0, line: index + 1, column: 1, event: index)))
    }

    /// `name` (instance `instance`), taken under the nest lock `nest` where one is given.
    func acquire(_ name: String, _ instance: String, nest: String? = nil) -> EventKind {
        .acquire(
            LockRef(name: symbols.intern(name), instance: symbols.intern(instance)), mode: .write, isTry: false, irq: nil, bh: false,
            nest: nest.map(symbols.intern))
    }

    func release(_ name: String, _ instance: String) -> EventKind {
        .release(LockRef(name: symbols.intern(name), instance: symbols.intern(instance)), irq: nil, bh: false)
    }

    /// (chain key, lockdep depth) of each lock held, oldest first.
    func keys(_ replay: ReplayEngine) -> [(UInt64, Int32)] { replay.heldLocks(cpu: 0).map { ($0.chainKey, $0.lockdepDepth) } }

    /// mm_take_all_locks: the anon_vma locks under mm_all_locks_mutex are one entry with
    /// it, of one key, whatever their number; mm_drop_all_locks releases them first in,
    /// first out, and each release leaves the others' key and depth as they were.
    @Test func aNestLocksRunIsOneLinkOfTheChainWhateverItsLength() throws {
        let replay = engine()
        try apply(replay, acquire("mm_all_locks_mutex", "mm"))
        for vma in 0..<4 { try apply(replay, acquire("anon_vma", "av\(vma)", nest: "mm_all_locks_mutex")) }
        let held = keys(replay)
        #expect(held.map(\.1) == [1, 2, 2, 2, 2])
        #expect(Set(held.dropFirst().map(\.0)).count == 1)
        #expect(held[1].0 != held[0].0)
        for vma in 0..<3 {
            try apply(replay, release("anon_vma", "av\(vma)"))
            #expect(keys(replay).map(\.0) == [held[0].0] + Array(repeating: held[1].0, count: 3 - vma))
        }
        // A lock taken over the run has the key it has over a run of one.
        try apply(replay, acquire("kvm->mmu_lock", "kvm"))
        let overOne = keys(replay).last
        try apply(replay, release("kvm->mmu_lock", "kvm"))
        try apply(replay, acquire("anon_vma", "av9", nest: "mm_all_locks_mutex"))
        try apply(replay, acquire("kvm->mmu_lock", "kvm"))
        #expect(keys(replay).last?.0 == overOne?.0)
        #expect(keys(replay).last?.1 == 3)
    }

    /// Random stacks of two nest runs and other locks, each released out of order in turn:
    /// the keys and depths left are those of the same locks taken afresh, in their order.
    @Test(arguments: 0..<20)
    func aReleaseOutOfOrderLeavesTheKeysOfTheStackTakenAfresh(seed: Int) throws {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let replay = engine()
        var taken: [(name: String, instance: String, nest: String?)] = []
        for index in 0..<24 {
            let lock: (name: String, instance: String, nest: String?) =
                switch next(4) {
                case 0: ("A", "a\(index)", "M")
                case 1: ("B", "b\(index)", "M")
                case 2: ("M", "m\(index)", nil)
                default: ("C\(next(3))", "c\(index)", nil)
                }
            try apply(replay, acquire(lock.name, lock.instance, nest: lock.nest))
            taken.append(lock)
        }
        while !taken.isEmpty {
            let gone = taken.remove(at: next(taken.count))
            try apply(replay, release(gone.name, gone.instance))
            let afresh = engine()
            for lock in taken { try apply(afresh, acquire(lock.name, lock.instance, nest: lock.nest)) }
            #expect(keys(replay).map(\.0) == keys(afresh).map(\.0))
            #expect(keys(replay).map(\.1) == keys(afresh).map(\.1))
        }
    }
}
