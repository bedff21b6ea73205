/// Reports `lock-order-policy`: an acquisition against the declared lock hierarchy
/// (`--policy`): taking a class that the policy puts earlier while holding one it puts later
/// (any lock the context holds, not only the nearest), and the same for kmap series.
public final class LockPolicyChecker: ReplayObserver, LockGraphObserver {
    public var observedEvents: ObservedEvents { .acquiring }

    private let policy: LockPolicy
    private let context: CheckerContext
    /// What the policy says of taking a class while holding another, by the pair (held in
    /// the high half): asked at every acquisition, for each lock held, and searched for once.
    private var breaches: [UInt64: Breach?] = [:]

    /// An ordering the policy breaks: by the names it knows the two classes by.
    private struct Breach {
        var held: String
        var taken: String
        var declaration: LockPolicy.Declaration
    }

    public init(policy: LockPolicy, context: CheckerContext) {
        self.policy = policy
        self.context = context
    }

    /// The names the policy may know a class by: as displayed, and without its subclass.
    private func names(_ id: ClassID) -> [String] {
        let full = context.name(of: id)
        let base = context.symbols[context.classes[id].key.name]
        return full == base ? [full] : [full, base]
    }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        guard !lock.isTry, lock.validates else { return }
        for held in replay.heldLocks(cpu: lock.site.cpu) where held.classID != lock.classID && held.validates {
            check(holding: held.classID, heldAt: held.site, taking: lock.classID, at: lock.site)
        }
    }

    /// kmap series order through the graph's kmap edges (they are not lock acquisitions).
    public func lockGraph(_ graph: LockGraph, willAdd fact: DependencyFact) {
        let dependency = fact.dependency
        guard dependency.kind == .kmap else { return }
        check(holding: dependency.from, heldAt: dependency.holderSite, taking: dependency.to, at: dependency.site, scope: .graph)
    }

    private func check(
        holding heldClass: ClassID, heldAt heldSite: EventSite, taking takenClass: ClassID, at site: EventSite,
        scope: FindingScope = .trace
    ) {
        let pair = UInt64(UInt32(bitPattern: heldClass)) << 32 | UInt64(UInt32(bitPattern: takenClass))
        let known = breaches[pair]
        guard let breach = known ?? breach(holding: heldClass, taking: takenClass) else {
            if known == nil { breaches[pair] = .some(nil) }
            return
        }
        if known == nil { breaches[pair] = breach }
        let heldName = context.name(of: heldClass)
        let takenName = context.name(of: takenClass)
        let declaration = breach.declaration
        context.report(
            Finding(
                rule: .lockOrderPolicy, severity: .error,
                message: "\(takenName) is taken while holding \(heldName), against the policy '\(breach.taken) < \(breach.held)' (\(declaration.file):\(declaration.line))",
                locks: [heldName, takenName],
                locations: [
                    context.evidence(site, "takes \(takenName) while holding \(heldName)"),
                    context.evidence(heldSite, "holds \(heldName)"),
                ],
                notes: ["take \(breach.taken) before \(breach.held), or change the policy if the hierarchy has changed"],
                key: "\(heldName) -> \(takenName)"),
            scope: scope)
    }

    /// The first ordering the policy says of the two classes' names (displayed first, then
    /// without the subclass) that taking `takenClass` while holding `heldClass` breaks.
    private func breach(holding heldClass: ClassID, taking takenClass: ClassID) -> Breach? {
        for held in names(heldClass) {
            for taken in names(takenClass) {
                if let declaration = policy.declaration(taken, before: held) {
                    return Breach(held: held, taken: taken, declaration: declaration)
                }
            }
        }
        return nil
    }
}
