/// A checker's view of the replay. The engine calls these as it applies each event to the
/// machine state; observers read that state from the engine and keep no copy of it.
/// Every method has a default that does nothing, so a checker implements only what it needs.
public protocol ReplayObserver: AnyObject {
    /// What the observer watches; the engine calls it for nothing else. Read once, when the
    /// engine is made (before `replayWillBegin`). Defaults to `.all`: every event, not the
    /// `.prefetching` hint.
    var observedEvents: ObservedEvents { get }
    /// A new trace starts (several traces form one analysis).
    func replayWillBegin(_ replay: ReplayEngine)
    /// `lock` is about to be taken by the current context of `lock.site.cpu`; the engine's
    /// held stacks do not include it yet.
    func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock)
    /// `lock` will be taken over `top`, the newest lock its context holds, once the observers
    /// have seen `willAcquire`; called before the first of them. A hint, not an event: an
    /// observer whose check of the lock reads tables of megabytes asks the cpu here for the
    /// cache lines it will read (as `CircularDependencyChecker` does), so that their misses
    /// overlap the other observers' work. Not for a lock taken with nothing held. Observed
    /// with `.prefetching`.
    func replay(_ replay: ReplayEngine, prefetchFor lock: HeldLock, over top: HeldLock)
    /// `lock` has been taken and pushed on its context's held stack.
    /// Observed with `.acquired`.
    func replay(_ replay: ReplayEngine, didAcquire lock: HeldLock)
    /// `lock`, held above a lock of its context released out of order (the release at
    /// `site`), is taken again, as lockdep's reacquire_held_locks takes it (a full
    /// `__lock_acquire`: a chain new since is validated, and may add dependencies; the nest
    /// lock is looked for). The engine's held stack holds the locks below it, as at
    /// `willAcquire`. Only for a lock lockdep checks again (`HeldLock.isCheckedAgain`), and
    /// not where lockdep matches the release to a nest lock's run (it then only counts the
    /// run's entry down). Observed with `.acquiring`.
    func replay(_ replay: ReplayEngine, willReacquire lock: HeldLock, at site: EventSite)
    /// `lock` has been released and popped.
    func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite)
    /// A release of a lock that the context does not hold.
    func replay(_ replay: ReplayEngine, unbalancedRelease lock: LockRef, at site: EventSite)
    /// In a partial trace, a release of a lock this context was never seen to take: held
    /// since before the capture began. Observed with `.releases`.
    func replay(_ replay: ReplayEngine, releasedHeldFromBefore lock: LockRef, at site: EventSite)
    /// In a partial trace, or after lost events, a page-table event ended what the trace never
    /// showed begin (an unpin of a page pinned before the capture, a walk begun before it):
    /// applied all the same, not an input error.
    func replay(_ replay: ReplayEngine, ended unseen: MemoryState.Unseen, at site: EventSite)
    /// Hardirqs (or, with `softirqs: true`, softirqs) were re-enabled on `cpu` with the
    /// given locks held: lockdep's mark_held_locks moment.
    func replay(_ replay: ReplayEngine, didEnableIrqs softirqs: Bool, at site: EventSite)
    /// `task` was switched out while atomic: holding the given locks (some spinning), or with
    /// hardirqs, bh or preemption (`preemptDepth`, 0 where not known) disabled. Observed with
    /// `.contextEvents`.
    func replay(_ replay: ReplayEngine, switchedOut task: TaskKey, atomic held: HeldLocks, hardirqsEnabled: Bool, bhDisabled: Bool, preemptDepth: Int, at site: EventSite)
    /// Any event, after the engine has applied it to the machine state; `site` is where it happened.
    func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite)
    /// The trace ended; the machine state is as the last event left it.
    func replayDidEnd(_ replay: ReplayEngine)
}

extension ReplayObserver {
    public var observedEvents: ObservedEvents { .all }
    public func replayWillBegin(_ replay: ReplayEngine) {}
    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {}
    public func replay(_ replay: ReplayEngine, prefetchFor lock: HeldLock, over top: HeldLock) {}
    public func replay(_ replay: ReplayEngine, didAcquire lock: HeldLock) {}
    public func replay(_ replay: ReplayEngine, willReacquire lock: HeldLock, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, unbalancedRelease lock: LockRef, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, releasedHeldFromBefore lock: LockRef, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, ended unseen: MemoryState.Unseen, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, didEnableIrqs softirqs: Bool, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, switchedOut task: TaskKey, atomic held: HeldLocks, hardirqsEnabled: Bool, bhDisabled: Bool, preemptDepth: Int, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {}
    public func replayDidEnd(_ replay: ReplayEngine) {}
}

/// The kinds of replay step an observer wants to see.
public struct ObservedEvents: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// willAcquire and willReacquire: a lock about to be taken.
    public static let acquiring = ObservedEvents(rawValue: 1 << 0)
    /// didAcquire: a lock taken. Apart from `acquiring` because one checker in ten wants it,
    /// and a call to each of the others at every lock taken cost 6% of the replay.
    public static let acquired = ObservedEvents(rawValue: 1 << 10)
    /// willAcquire, didAcquire and willReacquire.
    public static let acquisitions: ObservedEvents = [.acquiring, .acquired]
    /// didRelease and unbalancedRelease.
    public static let releases = ObservedEvents(rawValue: 1 << 1)
    /// didEnableIrqs.
    public static let irqEnabling = ObservedEvents(rawValue: 1 << 2)
    /// didApply for irq, softirq, bh and might-sleep events.
    public static let contextEvents = ObservedEvents(rawValue: 1 << 3)
    /// didApply for acquire, release and contended.
    public static let lockEvents = ObservedEvents(rawValue: 1 << 4)
    /// didApply for IPIs and TLB flushes.
    public static let ipiEvents = ObservedEvents(rawValue: 1 << 5)
    /// didApply for pgd and pgd_list events.
    public static let pgdEvents = ObservedEvents(rawValue: 1 << 6)
    /// didApply for set-ro/set-rw, pin/unpin and pt-write.
    public static let pinEvents = ObservedEvents(rawValue: 1 << 7)
    /// didApply for lockless walks and table unlink/free.
    public static let tableEvents = ObservedEvents(rawValue: 1 << 8)
    /// didApply for kmap, kunmap and page-free.
    public static let kmapEvents = ObservedEvents(rawValue: 1 << 9)

    /// Every event, not the `.prefetching` hint.
    public static let all = ObservedEvents(rawValue: 0x7FF)
    /// prefetchFor: a lock about to be taken over another, before any observer sees it. Not
    /// in `all`: a hint, not an event, that an observer asks for by name.
    public static let prefetching = ObservedEvents(rawValue: 1 << 11)

    /// One bit of the set, for dispatch tables.
    enum Category: Int, CaseIterable {
        case acquiring, releases, irqEnabling, context, locks, ipi, pgd, pin, table, kmap, acquired, prefetching

        var option: ObservedEvents { ObservedEvents(rawValue: 1 << UInt16(rawValue)) }

        init(_ kind: EventKind) {
            switch kind {
            case .irqDisable, .irqEnable, .hardirqEnter, .hardirqExit, .softirqEnter, .softirqExit, .nmiEnter, .nmiExit, .rcuReadLock, .rcuReadUnlock,
                .bhDisable, .bhEnable, .bhState, .mightSleep, .preemptDisable, .preemptEnable, .eventsLost:
                self = .context
            case .acquire, .release, .contended, .acquired, .contentionBegin, .contentionEnd: self = .locks
            case .ipiSend, .ipiHandle, .tlbFlush: self = .ipi
            case .pgdAlloc, .pgdFree, .pgdPopulate, .pgdClear, .pgdListAdd, .pgdListDel, .listWalkBegin,
                .listWalkVisit, .listWalkEnd:
                self = .pgd
            case .setReadOnly, .setReadWrite, .pin, .unpin, .ptWrite: self = .pin
            case .locklessWalkBegin, .locklessWalkEnd, .walkAccess, .tableUnlink, .rcuGracePeriod, .tableFree:
                self = .table
            case .kmap, .kunmap, .pageFree: self = .kmap
            }
        }
    }
}

/// The observers of one kind of event, as the engine calls them at every event. The first
/// eight lie inline in a constant, so that a call borrows its observer: held in an array,
/// each call would retain and release it (a dozen atomic operations per lock taken).
final class ObserverList {
    private let first: InlineArray<8, (any ReplayObserver)?>
    private let firstCount: Int
    private let rest: [any ReplayObserver]

    init(_ observers: [any ReplayObserver]) {
        var first = InlineArray<8, (any ReplayObserver)?>(repeating: nil)
        for index in observers.indices.prefix(8) { first[index] = observers[index] }
        self.first = first
        firstCount = min(8, observers.count)
        rest = Array(observers.dropFirst(8))
    }

    /// Calls `body` with each observer, in the order given.
    @inline(__always) func forEach(_ body: (any ReplayObserver) throws -> Void) rethrows {
        for index in 0..<firstCount { try body(first[index]!) }
        for observer in rest { try body(observer) }
    }
}

/// The observer lists of every category (`ObservedEvents.Category`), owned here. A call
/// borrows its list, where one read from an array of references would be retained and
/// released around the call, two atomic operations at every event. The unretained
/// references are good while `lists` is alive: hence not copyable, and its owner (the
/// engine, in a `let`) keeps it for every call. (`_withUnsafeGuaranteedRef` is the standard
/// library's, underscored: TraceReader uses it alike.)
struct ObserverLists: ~Copyable {
    /// Keeps the lists alive for `unretained`; never read.
    private let lists: [ObserverList]
    private let unretained: [Unmanaged<ObserverList>]

    init(_ make: (ObservedEvents.Category) -> ObserverList) {
        lists = ObservedEvents.Category.allCases.map(make)
        unretained = lists.map { Unmanaged.passUnretained($0) }
    }

    /// Calls `body` with each observer of `category`'s events, in order.
    @inline(__always) func forEach(of category: ObservedEvents.Category, _ body: (any ReplayObserver) -> Void) {
        unretained[category.rawValue]._withUnsafeGuaranteedRef { $0.forEach(body) }
    }
}
