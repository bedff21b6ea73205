/// Reports `invalid-wait-context` ("BUG: Invalid wait context"), as lockdep's
/// check_wait_context: a lock taken whose outer wait type is above what its context allows,
/// the lowest inner wait type of the locks held in the same irq context, and the context's
/// own (task_wait_context: `spin` in a hardirq, `config` in a threaded hardirq or a softirq).
/// Trylocks are not checked. Without PROVE_RAW_LOCK_NESTING `config` counts as `spin`, so
/// only a sleeping lock in a spinning context is reported; with it, a spinlock_t under a
/// raw_spinlock_t too (PREEMPT_RT would sleep there). In a partial trace only classes whose
/// type the trace declares are judged.
public final class WaitContextChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { .acquiring }

    private let context: CheckerContext
    /// The trace's PROVE_RAW_LOCK_NESTING (`<meta>`).
    @exclusivity(unchecked) private var proveRaw = false

    /// The held lock that allows least, of a context's held locks (`HeldBound`), by the chain
    /// key of the top one, for contexts holding `deepHeld` locks or more: taking a lock on top
    /// of them then costs one lookup, not a look at each (a Xen pin walk holds a lock for
    /// each of thousands of pages). A cache: when full it starts again empty, and a context
    /// whose bound it lacks is looked at whole once.
    @exclusivity(unchecked) private var bounds = IntegerTable<HeldBound>(capacity: 64)
    /// The class table's `revision` the bounds were found under.
    @exclusivity(unchecked) private var boundsRevision = -1
    static let deepHeld = 16
    static let boundsCapacity = 1 << 14

    /// Of a list of held locks: the lowest effective inner wait type among them, that lock's
    /// own inner type, its place in the list (-1: no held lock is judged) and which of the
    /// list's entries it is (`entry(_:in:)`). Lists of one chain key hold the same entries,
    /// but a nest lock's run below the bound may be longer in one than in another: a place is
    /// used only where the entry it names is there.
    private struct HeldBound {
        var lowest: WaitType
        var inner: WaitType
        var index: Int32
        var entry: Int32 = 0

        static let none = HeldBound(lowest: .free, inner: .free, index: -1)

        func fits(_ held: HeldLocks) -> Bool {
            index < 0 || index < held.count && !held[Int(index)].isFolded && WaitContextChecker.entry(held[Int(index)], in: held) == entry
        }
    }

    /// Which entry of lockdep's array `lock` (not folded) is, of a list whose first lock is
    /// `held.first` (or `lock` itself): its depth, less one where the list begins with an
    /// irq's lock folded into the interrupted task's, which the depth counts and the chain key
    /// does not.
    private static func entry(_ lock: HeldLock, in held: HeldLocks) -> Int32 {
        lock.lockdepDepth - ((held.first ?? lock).isFolded ? 1 : 0)
    }

    public init(context: CheckerContext) { self.context = context }

    public func replayWillBegin(_ replay: ReplayEngine) {
        proveRaw = replay.header.proveRawLockNesting
        // Whether a class is judged depends on the trace (a partial one judges declared classes).
        bounds = IntegerTable(capacity: 64)
    }

    /// The bound of `held`, the held locks of a context: the first of them with the lowest
    /// effective inner wait type (the first, as lockdep's check_wait_context walks them).
    private func bound(of held: HeldLocks, _ replay: ReplayEngine) -> HeldBound {
        // (A chain key is a hash: a bound that does not fit the list is not used.)
        if held.count > Self.deepHeld, let top = held.last, let known = bounds[top.chainKey], known.fits(held),
            known.index < 0 || waits(held[Int(known.index)].classID, replay)?.inner == known.inner
        {
            return known
        }
        var bound = HeldBound.none
        for index in held.indices {
            let lock = held[index]
            // A folded lock is no entry of lockdep's array (an irq's may fold into the task's).
            guard !lock.isFolded, let inner = waits(lock.classID, replay)?.inner else { continue }
            if bound.index < 0 || effective(inner) < bound.lowest {
                bound = HeldBound(lowest: effective(inner), inner: inner, index: Int32(index), entry: Self.entry(lock, in: held))
            }
        }
        return bound
    }

    /// Remembers the bound of a context's held locks once `lock` is on top of `held`.
    private func remember(_ lock: HeldLock, on held: HeldLocks, below: HeldBound, _ replay: ReplayEngine) {
        guard held.count + 1 > Self.deepHeld else { return }
        var bound = below
        if !lock.isFolded, let inner = waits(lock.classID, replay)?.inner, bound.index < 0 || effective(inner) < bound.lowest {
            bound = HeldBound(lowest: effective(inner), inner: inner, index: Int32(held.count), entry: Self.entry(lock, in: held))
        }
        if bounds.count >= Self.boundsCapacity { bounds = IntegerTable(capacity: 64) }
        bounds[lock.chainKey] = bound
    }

    /// A class's wait types, where the trace lets them be known.
    private func waits(_ id: ClassID, _ replay: ReplayEngine) -> (inner: WaitType, outer: WaitType)? {
        let traits = replay.classes.traits(of: id)
        guard !traits.isPseudo, !replay.isPartial || traits.isDeclared,
            let inner = traits.waitInner, let outer = traits.waitOuter
        else { return nil }
        return (inner, outer)
    }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        if replay.classes.revision != boundsRevision {
            bounds = IntegerTable(capacity: 64)
            boundsRevision = replay.classes.revision
        }
        let cpu = lock.site.cpu
        let held = replay.heldLocks(cpu: cpu)
        let below = bound(of: held, replay)
        remember(lock, on: held, below: below, replay)
        // A folded acquisition is not checked (__lock_acquire returns before check_wait_context).
        guard !lock.isTry, !lock.isFolded, let next = waits(lock.classID, replay) else { return }
        // What the context itself allows, and the held lock (of this irq context) that allows
        // least, if it allows less.
        var allowed: WaitType?
        var bound: (lock: HeldLock, inner: WaitType)?
        if let frame = replay.innermostFrame(cpu: cpu) {
            allowed = frame.kind == .hardirq && !frame.threaded ? .spin : .config
        }
        if below.index >= 0, allowed.map({ below.lowest < effective($0) }) ?? true {
            allowed = below.inner
            bound = (held[Int(below.index)], below.inner)
        }
        guard let allowed, effective(next.outer) > effective(allowed) else { return }
        report(lock, next: next, allowed: allowed, bound: bound, replay: replay)
    }

    private func effective(_ wait: WaitType) -> WaitType { wait.effective(proveRawLockNesting: proveRaw) }

    private func report(
        _ lock: HeldLock, next: (inner: WaitType, outer: WaitType), allowed: WaitType,
        bound: (lock: HeldLock, inner: WaitType)?, replay: ReplayEngine
    ) {
        let name = context.name(of: lock.classID)
        let frame = replay.cpus[lock.site.cpu].frames.last
        let contextName = frame.map { $0.kind == .hardirq ? ($0.threaded ? "a threaded hardirq" : "hardirq context") : "softirq context" }
        let place = bound.map { "under \(context.name(of: $0.lock.classID)) (\($0.inner.rawValue))" } ?? "in \(contextName ?? "task context")"
        let key = "\(name)|\(bound.map { context.name(of: $0.lock.classID) } ?? contextName ?? "task")"
        if context.countAgain(.invalidWaitContext, key: key) { return }
        var locations = [context.evidence(lock.site, "acquires \(name) (wait type \(next.outer.rawValue))")]
        if let bound {
            let boundName = context.name(of: bound.lock.classID)
            locations.append(context.evidence(bound.lock.site, "holds \(boundName) (wait type \(bound.inner.rawValue))"))
        } else if let frame {
            locations.append(context.evidence(frame.entered, "enters \(contextName!)"))
        }
        let number = { (wait: WaitType) in wait.lockdepNumber(proveRawLockNesting: self.proveRaw) }
        // print_lock_invalid_wait_context's context-{n:n} is task_wait_context(): the
        // context's own wait type (LD_WAIT_MAX in a task), the held locks aside.
        let own = frame.map { number($0.kind == .hardirq && !$0.threaded ? .spin : .config) }
            ?? WaitType.lockdepMax(proveRawLockNesting: proveRaw)
        var notes = ["context-{\(own):\(own)}: lockdep's wait type of the context itself; {\(number(next.outer)):\(number(next.inner))} that of \(name)"]
        if proveRaw, next.outer == .config {
            notes.append("a spinlock_t or rwlock_t (wait type config) sleeps on PREEMPT_RT (an rtmutex): it cannot be taken where only spinning is allowed, under a raw_spinlock_t or in a hardirq that is not threaded")
        }
        var finding = Finding(
            rule: .invalidWaitContext, severity: .error,
            message: "\(name) (wait type \(next.outer.rawValue)) is taken \(place), where only \(effective(allowed).rawValue) waits are allowed",
            locks: [name] + (bound.map { [context.name(of: $0.lock.classID)] } ?? []),
            locations: locations, notes: notes, key: key)
        context.attachHeldLocks(to: &finding, replay: replay, cpu: lock.site.cpu)
        context.report(finding)
    }
}
