/// The checks of the lock-order graph, and the one order in which they see each fact
/// (`GraphFact`), as lockdep's check_prev_add and mark_lock run them:
///
/// - a usage bit: `IrqUsageChecker` sets it (`irq-inconsistent` if it contradicts the
///   class's other usage), else `IrqInversionChecker` searches from the class;
/// - a lock-order dependency: `CircularDependencyChecker` searches for the cycle it would
///   close, then the graph's observers see it before it enters — `IrqInversionChecker`
///   (check_irq_usage), `LockPolicyChecker`, `IpiDeadlockChecker` (a cycle through waits);
/// - a wait (`ipi`): `IpiDeadlockChecker`; a kmap series order: `KmapChecker`, then the
///   policy;
/// - a use outside NMI, a lock taken in NMI: `NmiChecker`.
///
/// Facts come in the order of their evidence, all from the log once every trace and summary
/// is in (`rebuild`), or, for the timeline, as the replay learns them (and all again from the
/// log if traces came out of order).
final class GraphChecks {
    private let graph: LockGraph
    private let context: CheckerContext
    private let irqUsage: IrqUsageChecker
    private let circular: CircularDependencyChecker
    private let ipi: IpiDeadlockChecker
    private let kmap: KmapChecker
    private let nmi: NmiChecker

    init(
        graph: LockGraph, context: CheckerContext, irqUsage: IrqUsageChecker, circular: CircularDependencyChecker,
        ipi: IpiDeadlockChecker, kmap: KmapChecker, nmi: NmiChecker, policy: LockPolicyChecker?
    ) {
        self.graph = graph
        self.context = context
        self.irqUsage = irqUsage
        self.circular = circular
        self.ipi = ipi
        self.kmap = kmap
        self.nmi = nmi
        // What sees a dependency before it enters the graph, in this order.
        graph.addObserver(IrqInversionChecker(context: context))
        if let policy { graph.addObserver(policy) }
        graph.addObserver(ipi)
    }

    func apply(_ fact: GraphFact) {
        switch fact {
        case .usage(let usage): irqUsage.apply(usage)
        case .dependency(let dependency):
            switch dependency.dependency.kind {
            case .lockOrder: circular.apply(dependency)
            case .ipi: ipi.apply(dependency)
            case .kmap: kmap.apply(dependency)
            }
        case .used(let id, let read, _): nmi.applyUse(of: id, read: read)
        case .nmiAcquire(let acquire): nmi.apply(acquire)
        }
    }

    /// Checks the graph again from nothing, every fact of `facts` in order. Every dependency
    /// is known before the first is checked, so the cycle checks search only where the whole
    /// graph has a cycle (`StrongComponents`). Checks that go on in place after this (the
    /// timeline, after traces out of order) meet a dependency past them, which makes the
    /// order of a growing graph again (`LockGraph`).
    func rebuild(from facts: GraphFactLog) {
        // The checks find the facts they add by the one being checked (`GraphFactLog.willCheck`),
        // not by key: the log's index is let go of while the graph they build is made.
        facts.letGoOfIndex()
        let entries = facts.sortedEntries()
        // In the log's own order, whatever the checks' order: the graph counts their degrees
        // and finds its strongly connected components, which no order of the edges changes.
        graph.removeAll(expecting: facts.entries.dependencyEnds, classes: context.classes.count)
        ipi.reset()
        nmi.reset()
        context.clearGraphFindings()
        for (index, entry) in entries.enumerated() {
            let fact = entry.fact
            facts.willCheck(fact, at: entries.position(at: index))
            apply(fact)
        }
        facts.didCheck()
        graph.expectedDependenciesAdded()
        facts.markChecked()
    }
}
