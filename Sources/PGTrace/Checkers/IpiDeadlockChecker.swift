/// Reports `ipi-deadlock`, the deadlock of seed 002 that lockdep cannot see: a cpu waits for
/// a synchronous IPI while holding a lock that another cpu spins on with irqs disabled, so
/// the IPI is never taken.
///
/// An irqs-disabled region is modelled as holding one pseudo-lock class, `(hardirqs off)`
/// (instances are cpus, as lockdep's per-cpu locks): acquiring a lock inside the region makes
/// the region wait for it, and waiting for an IPI while holding a lock makes that lock wait
/// for every target's region. A cycle through these waits and the lock order is the deadlock;
/// like lockdep, it is predicted from the orders seen, whether or not the sides overlapped.
///
/// The replay gives the waits as dependency facts of kind `ipi`; the graph checks apply
/// each in the order of its evidence (`apply`), and see each lock-order fact as it enters.
public final class IpiDeadlockChecker: ReplayObserver, LockGraphObserver {
    public var observedEvents: ObservedEvents { [.acquiring, .ipiEvents] }

    public static let pseudoLockName = "(hardirqs off)"
    /// The graph also holds this checker as an observer; unowned breaks the cycle.
    private unowned let graph: LockGraph
    private let facts: GraphFactLog
    private let context: CheckerContext
    /// Whether any lock waits for the region yet; until then no cycle can pass through it.
    @exclusivity(unchecked) private var hasWaits = false
    private let irqsOff: ClassID

    public init(graph: LockGraph, facts: GraphFactLog, context: CheckerContext) {
        self.graph = graph
        self.facts = facts
        self.context = context
        irqsOff = context.classes.pseudoClass(named: context.symbols.intern(Self.pseudoLockName))
    }

    /// The graph is checked again from its first fact.
    func reset() { hasWaits = false }

    /// The types of `(hardirqs off) -> class` this trace already holds as facts (or knows from
    /// a lesser trace), by class: checked at every acquisition with irqs off, so by index.
    @exclusivity(unchecked) private var recordedInRegion: [DependencyTypes] = []

    public func replayWillBegin(_ replay: ReplayEngine) { recordedInRegion = [] }

    // MARK: Waits into the graph

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) {
        let cpu = lock.site.cpu
        guard !lock.isTry, lock.validates, replay.cpus[cpu].hardirqsSurelyDisabled else { return }
        let types = DependencyTypes(holder: .write, next: lock.mode)
        let index = Int(lock.classID)
        if index < recordedInRegion.count, recordedInRegion[index].isSuperset(of: types) { return }
        recordedInRegion.grow(toInclude: index, filling: [])
        recordedInRegion[index].formUnion(types)
        guard !facts.knows(GraphFact.dependencyKey(irqsOff, lock.classID, .ipi, types)) else { return }
        let disabledAt = replay.cpus[cpu].hardirqsDisabledAt ?? lock.site
        facts.record(.dependency(DependencyFact(
            dependency: LockDependency(from: irqsOff, to: lock.classID, kind: .ipi, types: types, holderSite: disabledAt, site: lock.site),
            holderMode: .write, nextMode: lock.mode, moment: nil)))
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        let targets: CPUTargets
        switch event.kind {
        case .ipiSend(let sent, wait: true, _): targets = sent
        case .tlbFlush(let sent, .ipi, wait: true): targets = sent
        default: return
        }
        let cpu = event.cpu
        let others: Bool
        switch targets {
        case .local: others = false
        case .list(let list): others = list.cpus.contains { $0 != cpu }
        case .all, .others: others = replay.header.cpus.map { $0 > 1 } ?? true
        }
        guard others else { return }
        if replay.cpus[cpu].hardirqsSurelyDisabled {
            reportWaitWithIrqsOff(at: site, disabledAt: replay.cpus[cpu].hardirqsDisabledAt)
        }
        for held in replay.allHeldLocks(cpu: cpu) where held.validates {
            let types = DependencyTypes(holder: held.mode, next: .write)
            guard !facts.knows(GraphFact.dependencyKey(held.classID, irqsOff, .ipi, types)) else { continue }
            facts.record(.dependency(DependencyFact(
                dependency: LockDependency(from: held.classID, to: irqsOff, kind: .ipi, types: types, holderSite: held.site, site: site),
                holderMode: held.mode, nextMode: .write, moment: nil)))
        }
    }

    // MARK: The graph check

    /// A wait enters the graph: a lock taken with hardirqs off (`(hardirqs off) -> lock`), or
    /// an IPI waited for while holding a lock (`lock -> (hardirqs off)`); first, whether it
    /// closes a cycle.
    public func apply(_ fact: DependencyFact) {
        let dependency = fact.dependency
        if graph.edgeTypes(from: dependency.from, to: dependency.to)?.isSuperset(of: dependency.types) == true { return }
        if dependency.from == irqsOff {
            if hasWaits, let path = graph.strongPath(
                from: dependency.to, nextMode: fact.nextMode, to: irqsOff, holderMode: .write, kinds: [.lockOrder, .ipi])
            {
                report(cycle: [dependency] + path, trigger: dependency)
            }
        } else {
            if let path = graph.strongPath(
                from: irqsOff, nextMode: .write, to: dependency.from, holderMode: fact.holderMode, kinds: [.lockOrder, .ipi])
            {
                report(cycle: [dependency] + path, trigger: dependency)
            }
            hasWaits = true
        }
        graph.add(fact)
    }

    // MARK: Lock order that closes a cycle through waits

    public func lockGraph(_ graph: LockGraph, willAdd fact: DependencyFact) {
        let dependency = fact.dependency
        guard dependency.kind == .lockOrder, hasWaits else { return }
        guard
            let path = graph.strongPath(
                from: dependency.to, nextMode: fact.nextMode, to: dependency.from, holderMode: fact.holderMode,
                kinds: [.lockOrder, .ipi]),
            path.contains(where: { $0.kind == .ipi })
        else { return }
        report(cycle: [dependency] + path, trigger: dependency)
    }

    // MARK: Reports

    private func name(_ id: ClassID) -> String { context.name(of: id) }

    /// `cycle` starts with the dependency being added and follows the edges back to its start.
    private func report(cycle: [LockDependency], trigger: LockDependency) {
        let names = cycle.map { name($0.from) }
        // Tell it from the IPI: rotate the cycle to start at a wait for an IPI.
        let start = cycle.firstIndex { $0.kind == .ipi && $0.to == irqsOff } ?? 0
        let ordered = Array(cycle[start...] + cycle[..<start])
        let wait = ordered[0]
        let waiter = name(wait.from)
        let spun = ordered.dropFirst().prefix { !($0.kind == .ipi && $0.to == irqsOff) }
        let spunLocks = spun.map { name($0.to) }
        // A region that takes a later lock of the path directly is the shorter deadlock, told
        // on its own; this longer way round adds nothing.
        if spun.dropFirst().contains(where: { graph.edgeTypes(from: irqsOff, to: $0.to) != nil }) { return }
        // One deadlock per lock held across the wait and lock spun on with irqs off, however
        // many lock-order paths lead from one to the other.
        let key = "\(waiter) -> \(spunLocks.first ?? waiter)"
        guard !context.hasReported(.ipiDeadlock, key: key, scope: .graph) else { return }
        let links = ordered.map { edge -> ChainLink in
            let role: String
            if edge.kind == .ipi && edge.to == irqsOff {
                role = "waits for a synchronous IPI while holding \(name(edge.from))"
            } else if edge.kind == .ipi {
                role = "acquires \(name(edge.to)) with hardirqs disabled"
            } else {
                role = "acquires \(name(edge.to)) while holding \(name(edge.from))"
            }
            return ChainLink(
                holder: name(edge.from), acquired: name(edge.to),
                holderEvidence: context.evidence(
                    edge.holderSite, edge.from == irqsOff ? "disables hardirqs" : "holds \(name(edge.from))"),
                evidence: context.evidence(edge.site, role))
        }
        // The cpus of the wait and of the first lock spun on: events of a cpu each.
        let waitCPU = ordered[0].site.cpu
        let spinnerCPU = ordered.dropFirst().first?.site.cpu
        var message = "cpu \(waitCPU) holds \(waiter) and waits for a synchronous IPI"
        if let spinnerCPU, let first = spunLocks.first {
            message += "; cpu \(spinnerCPU) "
            message += spunLocks.count == 1
                ? "spins on \(waiter) with hardirqs disabled, so it never answers the IPI"
                : "has hardirqs disabled and waits for \(first), which waits for \(waiter) (\(([Self.pseudoLockName] + spunLocks).joined(separator: " -> ")))"
        }
        // The scenario's columns are the cpus the message names (the waiter's first), where
        // the trace saw the two halves on two cpus.
        let columns = spinnerCPU.map { $0 != waitCPU } == true ? ["CPU\(waitCPU)", "CPU\(spinnerCPU!)"] : ["CPU0", "CPU1"]
        var steps: [(column: Int, action: String)] = [(0, "lock(\(waiter));"), (1, "local_irq_disable();")]
        for lock in spunLocks { steps.append((1, "lock(\(lock));")) }
        steps.append((0, "smp_call_function_many(wait); /* waits for \(columns[1]) */"))
        context.report(
            Finding(
                rule: .ipiDeadlock, severity: .error, message: message,
                locks: names.filter { $0 != Self.pseudoLockName },
                locations: links.flatMap { [$0.evidence, $0.holderEvidence] }.uniqued(),
                chain: links, scenario: Scenario(columns: columns, steps: steps),
                notes: [
                    "Release \(waiter) before waiting for the IPI (flush after the unlock), or take the locks that cpu \(spinnerCPU ?? 1) spins on without disabling hardirqs"
                ],
                key: key),
            scope: .graph)
    }

    private func reportWaitWithIrqsOff(at site: EventSite, disabledAt: EventSite?) {
        var locations = [context.evidence(site, "waits for a synchronous IPI with hardirqs disabled")]
        if let disabledAt { locations.append(context.evidence(disabledAt, "disables hardirqs")) }
        let key = "irqs-off|" + context.place(site)
        context.report(
            Finding(
                rule: .ipiDeadlock, severity: .error,
                message: "cpu \(site.cpu) waits for a synchronous IPI with hardirqs disabled: two cpus doing this at once wait for each other forever",
                locks: [Self.pseudoLockName], locations: locations,
                scenario: Scenario(
                    columns: ["CPU0", "CPU1"],
                    steps: [
                        (0, "local_irq_disable();"), (1, "local_irq_disable();"),
                        (0, "smp_call_function_many(wait);"), (1, "smp_call_function_many(wait);"),
                    ]),
                notes: ["Send the IPI with hardirqs enabled, or do not wait for it"],
                key: key))
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
