/// Reports `nest-lock-not-held`: a lock taken with a nest lock (spin_lock_nest_lock,
/// mutex_lock_nest_lock: "the lock that serializes taking several of this class") that its
/// task does not hold, as lockdep's print_lock_nested_lock_not_held. A lock that folds into
/// the task's newest held lock, of its class, is not checked: lockdep folds it first.
public final class NestLockChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { .acquiring }

    private let context: CheckerContext

    public init(context: CheckerContext) { self.context = context }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) { check(lock, replay, retakenAt: nil) }

    /// A lock taken again above one released out of order is looked at anew, as lockdep's
    /// reacquire_held_locks does: a nest lock released from under its run is not held when
    /// the run is taken again, and lockdep reports it at that release.
    public func replay(_ replay: ReplayEngine, willReacquire lock: HeldLock, at site: EventSite) {
        check(lock, replay, retakenAt: site)
    }

    private func check(_ lock: HeldLock, _ replay: ReplayEngine, retakenAt release: EventSite?) {
        guard let nest = lock.nest else { return }
        // Where the task runs now: a lock taken again at a release, after the task migrated,
        // is taken on the release's cpu.
        let cpu = release?.cpu ?? lock.site.cpu
        // __lock_is_held(nest_lock, -1): any lock of the task, its irq frames' included.
        guard !lock.isFolded, !replay.holds(cpu: cpu, className: nest) else { return }
        let name = context.name(of: lock.classID)
        let nestName = context.symbols[nest]
        let site = release ?? lock.site
        let key = "\(name)|\(nestName)|\(context.place(site))"
        if context.countAgain(.nestLockNotHeld, key: key) { return }
        // print_lock_nested_lock_not_held: "is trying to lock:", "but this task is not holding:".
        var locations = [context.evidence(lock.site, "acquires \(name) nested under \(nestName)" + (release == nil ? ", not held" : ""))]
        if let release {
            locations.insert(context.evidence(release, "releases a lock under \(name): lockdep takes \(name) again, and \(nestName) is not held"), at: 0)
        }
        var finding = Finding(
            rule: .nestLockNotHeld, severity: .error,
            message: release == nil
                ? "\(name) acquired nested under \(nestName), which this task does not hold"
                : "\(name), taken again when a lock under it was released, is nested under \(nestName), which this task no longer holds",
            locks: [name, nestName],
            locations: locations,
            key: key)
        context.attachHeldLocks(to: &finding, replay: replay, cpu: cpu)
        context.report(finding)
    }
}
