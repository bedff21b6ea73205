/// Reports `nest-lock-not-held`: a lock taken with a nest lock (spin_lock_nest_lock,
/// mutex_lock_nest_lock: "the lock that serializes taking several of this class") that its
/// task does not hold, as lockdep's print_lock_nested_lock_not_held. A lock that folds into
/// the held lock of its class right under it is not checked: lockdep folds it first.
public final class NestLockChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { .acquisitions }

    private let context: CheckerContext

    public init(context: CheckerContext) { self.context = context }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        guard let nest = lock.nest else { return }
        let cpu = lock.site.cpu
        // __lock_is_held(nest_lock, -1): any lock of the task, its irq frames' included.
        guard !lock.folds(onto: replay.heldLocks(cpu: cpu).last), !replay.holds(cpu: cpu, className: nest) else { return }
        let name = context.name(of: lock.classID)
        let nestName = context.symbols[nest]
        let key = "\(name)|\(nestName)|\(context.place(lock.site))"
        if context.countAgain(.nestLockNotHeld, key: key) { return }
        // print_lock_nested_lock_not_held: "is trying to lock:", "but this task is not holding:".
        var finding = Finding(
            rule: .nestLockNotHeld, severity: .error,
            message: "\(name) acquired nested under \(nestName), which this task does not hold",
            locks: [name, nestName],
            locations: [context.evidence(lock.site, "acquires \(name) nested under \(nestName), not held")],
            key: key)
        context.attachHeldLocks(to: &finding, replay: replay, cpu: cpu)
        context.report(finding)
    }
}
