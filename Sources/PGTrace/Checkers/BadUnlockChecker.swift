/// Reports `bad-unlock`: a release of a lock the releasing context does not hold (a double
/// unlock, or an unlock by the wrong task or context).
public final class BadUnlockChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { .releases }

    private let context: CheckerContext

    public init(context: CheckerContext) { self.context = context }

    public func replay(_ replay: ReplayEngine, unbalancedRelease lock: LockRef, at site: EventSite) {
        let name = context.name(of: lock)
        let key = "\(name)@\(context.place(site))"
        // Met again at the same place: counted, not built again with every lock held (one
        // finding of 40,000 releases under thousands of held locks: 50 s).
        if context.countAgain(.badUnlock, key: key) { return }
        let instance = lock.instance.map { " (\(context.symbols[$0]))" } ?? ""
        var locations = [context.evidence(site, "releases \(name)\(instance)")]
        var message = "\(name)\(instance) released but not held by this context: there are no more locks to release"
        if let other = replay.heldLocks(cpu: site.cpu).last(where: { $0.ref.name == lock.name }) {
            let held = other.ref.instance.map { " (\(context.symbols[$0]))" } ?? ""
            message = "\(name)\(instance) released, but this context holds another lock of the class\(held)"
            locations.append(context.evidence(other.site, "holds \(name)\(held)"))
        } else if let outer = replay.allHeldLocks(cpu: site.cpu).last(where: { $0.ref.name == lock.name }) {
            message = "\(name)\(instance) released from an irq that did not take it (the interrupted context holds it)"
            locations.append(context.evidence(outer.site, "holds \(name)"))
        }
        var finding = Finding(
            rule: .badUnlock, severity: .error, message: message, locks: [name],
            locations: locations,
            key: key)
        // print_unlock_imbalance_bug: "but there are no more locks to release!", then the list.
        context.attachHeldLocks(to: &finding, replay: replay, cpu: site.cpu)
        context.report(finding)
    }
}
