/// Reports `lock-order-policy`: a dependency against the declared lock hierarchy (`--policy`),
/// taking a class that the policy puts earlier while holding one it puts later.
public final class LockPolicyChecker: LockGraphObserver {
    private let policy: LockPolicy
    private let context: CheckerContext

    public init(policy: LockPolicy, context: CheckerContext) {
        self.policy = policy
        self.context = context
    }

    /// The name the policy knows a class by: as displayed, else without its subclass.
    private func names(_ id: ClassID) -> [String] {
        let full = context.name(of: id)
        let base = context.symbols[context.classes[id].key.name]
        return full == base ? [full] : [full, base]
    }

    public func lockGraph(_ graph: LockGraph, willAdd dependency: LockDependency, holder: HeldLock?, next: HeldLock?) {
        guard dependency.kind != .ipi else { return }
        for held in names(dependency.from) {
            for taken in names(dependency.to) {
                guard let declaration = policy.declaration(taken, before: held) else { continue }
                let heldName = context.name(of: dependency.from)
                let takenName = context.name(of: dependency.to)
                context.report(
                    Finding(
                        rule: .lockOrderPolicy, severity: .error,
                        message: "\(takenName) is taken while holding \(heldName), against the policy '\(taken) < \(held)' (\(declaration.file):\(declaration.line))",
                        locks: [heldName, takenName],
                        locations: [
                            context.evidence(dependency.site, "takes \(takenName) while holding \(heldName)"),
                            context.evidence(dependency.holderSite, "holds \(heldName)"),
                        ],
                        notes: ["take \(taken) before \(held), or change the policy if the hierarchy has changed"],
                        key: "\(heldName) -> \(takenName)"))
                return
            }
        }
    }
}
