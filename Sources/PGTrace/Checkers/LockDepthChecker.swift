/// Reports `depth-overflow`: more locks held at once by one task (with the irq frames on top
/// of it) than `--max-depth`, lockdep's MAX_LOCK_DEPTH.
public final class LockDepthChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.acquired, .releases] }

    private let context: CheckerContext
    /// The key of the finding first reported at each place.
    @exclusivity(unchecked) private var firstKey: [String: String] = [:]
    /// The finding a task's stack (with the irq frames on it) is counted into while it stays
    /// past the limit: lockdep reports the overflow once and turns itself off, and a stack
    /// thousands deep is one finding met many times, not a finding (and a scan of the stack)
    /// for every lock taken on it.
    /// Lost events empty stacks without a release: an episode from before them (another
    /// `forgetCount`) is over, and a stack built again past the limit is another overflow.
    @exclusivity(unchecked) private var overflowing: [TaskKey: (key: String, forgets: Int)] = [:]

    public init(context: CheckerContext) { self.context = context }

    /// A trace's findings are its own until it ends (they then merge with the others' by
    /// their keys, which name the trace's places).
    public func replayWillBegin(_ replay: ReplayEngine) {
        firstKey = [:]
        overflowing = [:]
    }

    public func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite) {
        guard !overflowing.isEmpty, replay.heldLockCount(cpu: site.cpu) <= context.options.maxDepth else { return }
        overflowing[replay.cpus[site.cpu].task] = nil
    }

    public func replay(_ replay: ReplayEngine, didAcquire lock: HeldLock) {
        let limit = context.options.maxDepth
        guard replay.heldLockCount(cpu: lock.site.cpu) > limit else { return }
        let owner = replay.cpus[lock.site.cpu].task
        let forgets = replay.forgetCount
        if let episode = overflowing[owner], episode.forgets == forgets, context.countAgain(.depthOverflow, key: episode.key) { return }
        let held = replay.allHeldLocks(cpu: lock.site.cpu)
        // Met again at the same place (every pass of a deep path): counted, not rebuilt. The
        // place is where the locks were taken, or their classes where the trace names no
        // function or source; the finding's key keeps the trace's places, as fingerprints
        // always had them.
        let place = "\(place(held[0]))|\(place(lock))"
        if let first = firstKey[place], context.countAgain(.depthOverflow, key: first) {
            overflowing[owner] = (first, forgets)
            return
        }
        let key = "\(context.place(held[0].site))|\(context.place(lock.site))"
        firstKey[place] = key
        overflowing[owner] = (key, forgets)
        let name = context.name(of: lock.classID)
        var counts: [String: Int] = [:]
        for lock in held { counts[context.name(of: lock.classID), default: 0] += 1 }
        let most = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3)
        context.report(
            Finding(
                rule: .depthOverflow, severity: .error,
                message: "\(held.count) locks held at once on cpu \(lock.site.cpu), more than the limit of \(limit) (most held: "
                    + most.map { "\($0.key) x\($0.value)" }.joined(separator: ", ") + ")",
                locks: most.map(\.key),
                locations: [
                    context.evidence(lock.site, "acquires \(name), lock number \(held.count)"),
                    context.evidence(held[0].site, "holds \(context.name(of: held[0].classID)), the first of them"),
                ],
                key: key))
    }

    /// Where a lock was taken, for the key: its function or source location, else its class
    /// (a trace without either overflows at one place however many lines it does it on).
    private func place(_ lock: HeldLock) -> String {
        (lock.site.function ?? lock.site.at).map { context.symbols[$0] } ?? context.name(of: lock.classID)
    }
}
