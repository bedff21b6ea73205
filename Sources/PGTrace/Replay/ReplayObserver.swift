/// A checker's view of the replay. The engine calls these as it applies each event to the
/// machine state; observers read that state from the engine and keep no copy of it.
/// Every method has a default that does nothing, so a checker implements only what it needs.
public protocol ReplayObserver: AnyObject {
    /// A new trace starts (several traces form one analysis).
    func replayWillBegin(_ replay: ReplayEngine)
    /// `lock` is about to be taken by the current context of `lock.site.cpu`; the engine's
    /// held stacks do not include it yet.
    func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock)
    /// `lock` has been taken and pushed on its context's held stack.
    func replay(_ replay: ReplayEngine, didAcquire lock: HeldLock)
    /// `lock` has been released and popped.
    func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite)
    /// A release of a lock that the context does not hold.
    func replay(_ replay: ReplayEngine, unbalancedRelease lock: LockRef, at site: EventSite)
    /// Hardirqs (or, with `softirqs: true`, softirqs) were re-enabled on `cpu` with the
    /// given locks held: lockdep's mark_held_locks moment.
    func replay(_ replay: ReplayEngine, didEnableIrqs softirqs: Bool, at site: EventSite)
    /// Any event, after the engine has applied it to the machine state.
    func replay(_ replay: ReplayEngine, didApply event: Event)
    /// The trace ended; the machine state is as the last event left it.
    func replayDidEnd(_ replay: ReplayEngine)
}

extension ReplayObserver {
    public func replayWillBegin(_ replay: ReplayEngine) {}
    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {}
    public func replay(_ replay: ReplayEngine, didAcquire lock: HeldLock) {}
    public func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, unbalancedRelease lock: LockRef, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, didEnableIrqs softirqs: Bool, at site: EventSite) {}
    public func replay(_ replay: ReplayEngine, didApply event: Event) {}
    public func replayDidEnd(_ replay: ReplayEngine) {}
}
