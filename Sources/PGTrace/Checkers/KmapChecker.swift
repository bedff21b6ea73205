/// Reports `kmap-order` and `kmap-leak` (seed 003, the kmap series PAGETABLE2 / PAGETABLE /
/// DEFAULT). Each series is a bounded pool of slots shared by every task, so it orders like a
/// lock class `kmap:SERIES`: taking a slot of one series while holding a slot of another adds
/// a dependency, and a cycle between series can exhaust the pools (Hugh's read vs fault
/// paths). Holding two slots of one series for different pages can exhaust that pool alone
/// (mremap's double PAGETABLE kmap). A page freed while still kmapped leaks its slot.
/// Atomic kmaps use per-cpu slots and never wait, so they take no part in the order.
///
/// The replay gives the series order as dependency facts of kind `kmap`; the graph checks
/// apply each in the order of its evidence (`apply`).
public final class KmapChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { .kmapEvents }

    private let graph: LockGraph
    private let facts: GraphFactLog
    private let context: CheckerContext

    public init(graph: LockGraph, facts: GraphFactLog, context: CheckerContext) {
        self.graph = graph
        self.facts = facts
        self.context = context
    }

    /// The pool class of each series, learned from the kmap events that name both.
    @exclusivity(unchecked) private var pools: [Symbol: ClassID] = [:]

    private func seriesClass(_ series: Symbol) -> ClassID { pools[series]! }

    private func slotSize(_ series: Symbol) -> String {
        context.classes[seriesClass(series)].slots.map { " (\($0) slots)" } ?? ""
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        if case .kmap(_, let series, _, let pool) = event.kind, pools[series] == nil {
            pools[series] = context.classes.id(for: LockClassKey(name: pool), defaultType: .kmapPool)
        }
        switch event.kind {
        case .kmap(let page, let series, atomic: false, _):
            guard let slots = replay.memory.kmaps[replay.currentTaskKey(cpu: event.cpu)] else { return }
            let next = seriesClass(series)
            // The slots held before this one, the last taken first. Each slot of this series
            // for another page is one meeting of the double slot, built once and counted
            // after; each other series adds its order once, from its slot taken last (a task
            // holding 5,000 slots built a finding for each of them at each kmap: 24 s).
            var doubles = 0
            var firstDouble: MemoryState.KmapSlot?
            var ordered: Set<Symbol> = []
            for slot in slots.dropLast().reversed() where !slot.atomic {
                if slot.series == series {
                    if slot.page != page {
                        doubles += 1
                        if firstDouble == nil { firstDouble = slot }
                    }
                } else if ordered.insert(slot.series).inserted {
                    addOrder(from: slot, to: next, series: series, at: site)
                }
            }
            if let firstDouble, !context.countAgain(.kmapOrder, key: doubleSlotKey(series), by: doubles) {
                reportDoubleSlot(firstDouble, page: page, series: series, at: site)
                if doubles > 1 { _ = context.countAgain(.kmapOrder, key: doubleSlotKey(series), by: doubles - 1) }
            }
        case .pageFree(let page):
            guard replay.memory.kmapCounts[page, default: 0] > 0 else { return }
            let slots = replay.memory.kmaps.values.flatMap { $0 }.filter { $0.page == page }
                .sorted { $0.site.position < $1.site.position }
            let name = context.symbols[page]
            context.report(
                Finding(
                    rule: .kmapLeak, severity: .error,
                    message: "page \(name) goes back to the page allocator while still kmapped (series \(slots.map { context.symbols[$0.series] }.joined(separator: ", "))): the slot leaks, and the pool shrinks for good",
                    locks: slots.map { "kmap:" + context.symbols[$0.series] }.uniqued(), objects: [name],
                    locations: [context.evidence(site, "frees \(name)")] + slots.map { context.evidence($0.site, "kmaps \(name)") },
                    notes: ["kunmap the page before __free_page: passing through the free list does not kunmap it (Andrea: alloc_page, kmap, __free_page is a bug)"],
                    key: "\(name)|\(context.place(site))"))
        default:
            break
        }
    }

    private func addOrder(from slot: MemoryState.KmapSlot, to next: ClassID, series: Symbol, at site: EventSite) {
        let from = seriesClass(slot.series)
        let types = DependencyTypes(holder: .write, next: .write)
        guard !facts.knows(GraphFact.dependencyKey(from, next, .kmap, types)) else { return }
        facts.record(.dependency(DependencyFact(
            dependency: LockDependency(from: from, to: next, kind: .kmap, types: types, holderSite: slot.site, site: site),
            holderMode: .write, nextMode: .write, moment: nil)))
    }

    // MARK: The graph check

    /// A kmap order enters the graph; first, whether it closes a cycle of series.
    public func apply(_ fact: DependencyFact) {
        let dependency = fact.dependency
        let (from, next) = (dependency.from, dependency.to)
        guard graph.edgeTypes(from: from, to: next)?.isSuperset(of: dependency.types) != true else { return }
        if let path = graph.strongPath(from: next, nextMode: .write, to: from, holderMode: .write, kinds: [.kmap]) {
            let names = [context.name(of: next)] + path.map { context.name(of: $0.to) }
            let links = path.map { edge in
                ChainLink(
                    holder: context.name(of: edge.from), acquired: context.name(of: edge.to),
                    holderEvidence: context.evidence(edge.holderSite, "holds a \(context.name(of: edge.from)) slot"),
                    evidence: context.evidence(edge.site, "takes a \(context.name(of: edge.to)) slot"))
            }
            let newLink = ChainLink(
                holder: context.name(of: from), acquired: context.name(of: next),
                holderEvidence: context.evidence(dependency.holderSite, "holds a \(context.name(of: from)) slot"),
                evidence: context.evidence(dependency.site, "takes a \(context.name(of: next)) slot"))
            context.report(
                Finding(
                    rule: .kmapOrder, severity: .error,
                    message: "kmap series are taken in both orders (\((names + [names[0]]).joined(separator: " -> "))): tasks holding slots of one pool while waiting for the other can exhaust both",
                    locks: names, objects: [],
                    locations: [newLink.evidence, newLink.holderEvidence] + links.flatMap { [$0.evidence, $0.holderEvidence] },
                    chain: links + [newLink],
                    notes: ["define one order between the series and keep to it everywhere, as Andrea proposes: PAGETABLE2 first, PAGETABLE second, DEFAULT third"],
                    key: FindingKey.of(names)),
                scope: .graph)
        }
        graph.add(fact)
    }

    /// The double slot of one series is one finding, however many pages.
    private func doubleSlotKey(_ series: Symbol) -> String {
        "kmap:\(context.symbols[series])|double"
    }

    private func reportDoubleSlot(_ slot: MemoryState.KmapSlot, page: Symbol, series: Symbol, at site: EventSite) {
        let name = "kmap:" + context.symbols[series]
        context.report(
            Finding(
                rule: .kmapOrder, severity: .error,
                message: "a second \(name) slot\(slotSize(series)) is taken for \(context.symbols[page]) while one is held for \(context.symbols[slot.page]): enough tasks doing this at once exhaust the pool and wait forever",
                locks: [name], objects: [context.symbols[slot.page], context.symbols[page]],
                locations: [context.evidence(site, "takes a second \(name) slot"), context.evidence(slot.site, "holds a \(name) slot")],
                notes: ["map the second page from another series taken in a fixed order (PAGETABLE2 for the second page table, as mremap and fork need), or atomically"],
                key: doubleSlotKey(series)))
    }
}
