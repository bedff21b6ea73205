/// Reports `bad-unlock`: a release of a lock the releasing context does not hold (a double
/// unlock, or an unlock by the wrong task or context).
public final class BadUnlockChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { .releases }

    private let context: CheckerContext

    public init(context: CheckerContext) { self.context = context }

    public func replay(_ replay: ReplayEngine, unbalancedRelease lock: LockRef, at site: EventSite) {
        let name = context.name(of: lock)
        let elsewhere = replay.allHeldLocks(cpu: site.cpu).last { $0.ref.name == lock.name }
        var locations = [context.evidence(site, "releases \(name)")]
        var message = "\(name) released but not held by this context: there are no more locks to release"
        if let elsewhere {
            message = "\(name) released from a context that did not take it (it is held by an interrupted context)"
            locations.append(context.evidence(elsewhere.site, "holds \(name)"))
        }
        context.report(
            Finding(
                rule: .badUnlock, severity: .error, message: message, locks: [name],
                locations: locations,
                key: "\(name)@\(context.files[site.position.file]):\(site.position.line)"))
    }
}
