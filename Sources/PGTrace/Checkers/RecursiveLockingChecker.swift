/// Reports `recursive-locking`: a class acquired while the same task (or the irq frames on
/// top of it) already holds it, except read-after-read recursion, as lockdep's check_deadlock.
public final class RecursiveLockingChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { .acquiring }

    private let context: CheckerContext

    public init(context: CheckerContext) { self.context = context }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        guard !lock.isTry, lock.validates, let held = replay.recursion(of: lock) else { return }
        let name = context.name(of: lock.classID)
        let sameInstance = held.ref.instance != nil && held.ref.instance == lock.ref.instance
        // One finding per class, kind and place: a self-deadlock is not a missing annotation.
        let place = context.place(lock.site)
        let key = "\(name)|\(sameInstance ? "same instance" : "another instance")|\(place)"
        if context.countAgain(.recursiveLocking, key: key) { return }
        var finding = Finding(
            rule: .recursiveLocking, severity: .error,
            message: "\(name) acquired (\(lock.mode.rawValue)) while already held (\(held.mode.rawValue))"
                + (sameInstance ? " on the same instance: a self-deadlock"
                    : held.ref.instance == nil || lock.ref.instance == nil ? ""
                    : "; another instance of the class, which needs a nesting annotation (subclass) if intended"),
            locks: [name],
            locations: [
                context.evidence(lock.site, "acquires \(name)"),
                context.evidence(held.site, "already holds \(name)"),
            ],
            scenario: Scenario(columns: ["CPU0"], steps: [(0, "lock(\(name));"), (0, "lock(\(name));")]),
            notes: ["May be due to missing lock nesting notation"],
            key: key)
        context.attachHeldLocks(to: &finding, replay: replay, cpu: lock.site.cpu)
        context.report(finding)
    }
}

