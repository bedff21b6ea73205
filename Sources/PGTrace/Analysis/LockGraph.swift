/// Lockdep's dependency type bits: whether the held lock was shared (a reader) or exclusive,
/// and whether the new lock is a recursive reader or not. A path is only a deadlock when no
/// `-(*R)->` edge is followed by an `-(S*)->` edge (lockdep-design.rst, "strong" paths).
public struct DependencyTypes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Shared -> recursive reader.
    public static let sr = DependencyTypes(rawValue: 1 << 0)
    /// Exclusive -> recursive reader.
    public static let er = DependencyTypes(rawValue: 1 << 1)
    /// Shared -> non-recursive.
    public static let sn = DependencyTypes(rawValue: 1 << 2)
    /// Exclusive -> non-recursive.
    public static let en = DependencyTypes(rawValue: 1 << 3)

    public static let fromExclusive: DependencyTypes = [.er, .en]
    public static let toNonRecursive: DependencyTypes = [.sn, .en]

    /// lockdep's __calc_dep_bit.
    public init(holder: LockMode, next: LockMode) {
        let exclusive = holder == .write
        let recursive = next == .recursiveRead
        switch (exclusive, recursive) {
        case (false, true): self = .sr
        case (true, true): self = .er
        case (false, false): self = .sn
        case (true, false): self = .en
        }
    }
}

/// What an edge of the graph stands for.
public enum DependencyKind: String, Sendable {
    /// Lockdep's dependency: `to` was acquired while `from` was held in the same context.
    case lockOrder = "lock-order"
    /// A wait that lockdep does not see: a synchronous IPI waited for while holding `from`
    /// (`to` is the irqs-off pseudo-lock), or `to` acquired inside an irqs-disabled region
    /// (`from` is the irqs-off pseudo-lock).
    case ipi
    /// `to`'s kmap series was taken while a slot of `from`'s was held (both are pools).
    case kmap
}

/// A dependency `from -> to`, with the first events that created it.
public struct LockDependency: Sendable {
    // The sites first: the small fields after them fill what would be padding, and a fact
    // that holds a dependency (`DependencyFact`) puts its own small fields after those.
    /// The acquisition of `from` that was held when the edge was first created.
    public var holderSite: EventSite
    /// The event that first created the edge (the acquisition of `to`, or the IPI).
    public var site: EventSite
    public var from: ClassID
    public var to: ClassID
    public var kind: DependencyKind
    public var types: DependencyTypes

    public init(
        from: ClassID, to: ClassID, kind: DependencyKind, types: DependencyTypes, holderSite: EventSite, site: EventSite
    ) {
        self.holderSite = holderSite
        self.site = site
        self.from = from
        self.to = to
        self.kind = kind
        self.types = types
    }
}

/// Something told of each new dependency before it enters the graph, as lockdep runs its
/// checks in check_prev_add before adding the edge.
public protocol LockGraphObserver: AnyObject {
    func lockGraph(_ graph: LockGraph, willAdd fact: DependencyFact)
    /// A class got a usage bit that does not contradict its own other usage.
    func lockGraph(_ graph: LockGraph, didMark fact: UsageFact)
}

extension LockGraphObserver {
    public func lockGraph(_ graph: LockGraph, willAdd fact: DependencyFact) {}
    public func lockGraph(_ graph: LockGraph, didMark fact: UsageFact) {}
}

/// The graph's observers (two or three), as it calls them for every new dependency and usage
/// bit: the first four lie inline in a constant, so that a call borrows its observer. Read
/// from an array, each was retained and released around its call: 3.1% of the graph checks'
/// instructions at 16k short cycles (stop 63; stop 54 measured no wall time to gain there).
/// Made again when an observer is added. Not the replay's `ObserverList` made generic:
/// specialized for the replay's observers, that retained each around its call again
/// (docs/performance.md, stop 62).
final class LockGraphObservers {
    /// Every observer, in the order added (what the list is made again from).
    let all: [any LockGraphObserver]
    private let first: InlineArray<4, (any LockGraphObserver)?>
    private let firstCount: Int
    private let rest: [any LockGraphObserver]

    init(_ observers: [any LockGraphObserver]) {
        all = observers
        var first = InlineArray<4, (any LockGraphObserver)?>(repeating: nil)
        for index in observers.indices.prefix(4) { first[index] = observers[index] }
        self.first = first
        firstCount = min(4, observers.count)
        rest = Array(observers.dropFirst(4))
    }

    /// Calls `body` with each observer, in the order added.
    @inline(__always) func forEach(_ body: (any LockGraphObserver) -> Void) {
        for index in 0..<firstCount { body(first[index]!) }
        for observer in rest { body(observer) }
    }
}

/// The lock-order graph of an analysis: lock classes with their irq usage, and the
/// dependencies between them, deduplicated, each keeping the first event that created it.
/// Spans every trace analysed.
///
/// An edge is kept in 16 bytes: its ends, kind and types, and where its two sites are. A
/// graph built by an analysis finds them in the analysis's `GraphFactLog`, in the fact that
/// created the edge, so that a dependency's sites (64 bytes) are stored once, not twice; a
/// dependency added by a caller keeps its sites in the graph (`EdgeSites`).
public final class LockGraph {
    /// An edge as the graph keeps it.
    struct Edge {
        var from: ClassID
        var to: ClassID
        var kind: DependencyKind
        var types: DependencyTypes
        var sites: EdgeSites
    }

    /// Where an edge's two sites are: the position of its fact in the log (from 0), or,
    /// bitwise complemented, its place in the graph's own `ownSites`.
    struct EdgeSites {
        var code: Int32
    }

    @exclusivity(unchecked) private var links: [Edge] = []
    @exclusivity(unchecked) private var ownSites: [(holderSite: EventSite, site: EventSite)] = []
    /// Each edge's place in `links`, by its two classes: the first `indexedEdges` of them, the
    /// others indexed when an edge is next looked up there (`edgePosition`). A graph of new
    /// classes looks up none: its edges leave classes no edge left before.
    @exclusivity(unchecked) private var edgeIndex = PositionIndex()
    @exclusivity(unchecked) private var indexedEdges = 0
    /// While the graph is built again from known facts (`removeAll(expecting:)` until
    /// `expectedDependenciesAdded()`), how many dependency facts are coming: at most a few
    /// times the edges they make (a fact a type bit). The room the index takes when it is
    /// first needed, where it grew six times for 42k edges, placing them again each time.
    /// (Not before: a graph of new classes never needs it, and a million two-class cycles
    /// would fill 32 MB for nothing.) 0 otherwise.
    @exclusivity(unchecked) private var expectedFacts = 0
    /// The last edge looked up and its place (nil: none), good while the graph holds as many
    /// edges: the checks ask whether a dependency is new (`edgeTypes`), then add it, which
    /// probed the index twice for one edge.
    @exclusivity(unchecked) private var lastLookup: (from: ClassID, to: ClassID, edges: Int, position: Int?)?
    /// Per class, the edges from it and to it (their places in `links`), in the order added.
    @exclusivity(unchecked) private var forward = AdjacencyLists()
    @exclusivity(unchecked) private var backward = AdjacencyLists()
    /// The log whose dependency facts hold the sites of the edges they created.
    @exclusivity(unchecked) private var factLog: GraphFactLog?
    /// Usage bits per class, and where each bit was first set.
    @exclusivity(unchecked) public private(set) var usage: [LockUsage] = []
    /// Where a class first got a usage bit, where the graph keeps it: by class and bit
    /// (`siteSlot`). A bit set and not here has its site in the log's fact that gives the class
    /// that bit (a key is at one place of the log): each bit the analysis sets. A table of
    /// every class's eight bits took 32 bytes a class (64 MB of a million cycles' two million
    /// classes); the sites the analysis sets stay in its facts, as the edges' do.
    @exclusivity(unchecked) private var ownUsageSites: [Int: EventSite] = [:]
    /// The observers, held; the calls read them through `borrowedObservers`. Never replaced
    /// without keeping the list it held (`addObserver`).
    @exclusivity(unchecked) private var observers: LockGraphObservers
    /// `observers`, unretained, as each new dependency and usage bit is told to them. Read
    /// through the variable, the list was retained and released around every such call: six
    /// of the about ten retains a cycle of the graph checks took at short cycles (callgrind,
    /// 62.5k cycles: the checks' 775.5M instructions -> 760.0M without them). Good for the
    /// graph's life, as every list it made is kept (`replacedObservers`).
    @exclusivity(unchecked) private var borrowedObservers: Unmanaged<LockGraphObservers>
    /// The lists `addObserver` replaced, kept for the graph's life: a call walks the list of
    /// when it began, which an observer may replace from inside the call. One for each
    /// observer added (an analysis adds three).
    private var replacedObservers: [LockGraphObservers] = []
    /// What a search knows of a class, for each of its two states (reached freely, reached
    /// only-xr): the search that last reached it, its generation in the low 31 bits and
    /// whether the state it came from was only-xr in the top bit, and the edge it came by (-1
    /// for the root). In one place, 16 bytes (a class's marks and its parents apart were 24,
    /// and two cache lines to write).
    struct SearchMark {
        var free: UInt32
        var onlyXR: UInt32
        var freeEdge: Int32
        var onlyXREdge: Int32

        static let unmarked = SearchMark(free: 0, onlyXR: 0, freeEdge: -1, onlyXREdge: -1)
        /// The top bit of a state's mark: the state it came from was only-xr.
        static let fromOnlyXR: UInt32 = 1 << 31
    }

    // Search scratch space, reused: marks by generation, the queue.
    @exclusivity(unchecked) private var generation: UInt32 = 0
    /// The last search's generation (for tests: the marks are cleared when it wraps).
    var searchGeneration: UInt32 {
        get { generation }
        set {
            precondition(newValue < SearchMark.fromOnlyXR, "a search generation past 31 bits")
            generation = newValue
        }
    }
    @exclusivity(unchecked) private var marks: [SearchMark] = []
    @exclusivity(unchecked) private var queue: [Int32] = []
    /// What lets searches skip classes that cannot lead to what they look for.
    @exclusivity(unchecked) private var order = TopologicalOrder()
    /// Whether `order` knows only the dependencies announced in advance
    /// (`removeAll(expecting:)`), every one of them added (`expectedDependenciesAdded`): a
    /// dependency past them (the library's caller adding to the graph after an analysis)
    /// needs the order of a growing graph, made from the edges once, on demand.
    @exclusivity(unchecked) private var ordersOnlyKnownDependencies = false
    @exclusivity(unchecked) private var reachable = ReachableUsage()

    public init() {
        let none = LockGraphObservers([])
        observers = none
        borrowedObservers = .passUnretained(none)
    }

    public func addObserver(_ observer: LockGraphObserver) {
        replacedObservers.append(observers)
        observers = LockGraphObservers(observers.all + [observer])
        borrowedObservers = .passUnretained(observers)
    }

    /// Every dependency, in the order they entered the graph (made on each call: the graph
    /// keeps them packed).
    public var edges: [LockDependency] { links.indices.map(dependency(at:)) }

    /// How many dependencies the graph holds.
    public var dependencyCount: Int { links.count }

    /// How many edges keep their sites in the graph, not in the log's facts.
    var sitesKeptInGraph: Int { ownSites.count }

    /// How many usage bits keep their sites in the graph, not in the log's facts.
    var usageSitesKeptInGraph: Int { ownUsageSites.count }

    /// How many classes have lists of edges (for tests).
    var listedClasses: Int { forward.nodeCount }

    public func edge(from: ClassID, to: ClassID) -> LockDependency? {
        edgePosition(from, to).map(dependency(at:))
    }

    /// The type bits of the edge from `from` to `to`, its sites unread: what a check asks of
    /// every dependency before it enters (is it new?), where `edge` would decode the sites
    /// from the log for each.
    func edgeTypes(from: ClassID, to: ClassID) -> DependencyTypes? {
        edgePosition(from, to).map { links[$0].types }
    }

    /// The dependency of edge `index` (in the order they entered the graph, below
    /// `dependencyCount`), with the sites of the event that created it and the types of every
    /// one since: what `edges` makes of each, for a reader that needs one at a time.
    func dependency(at index: Int) -> LockDependency {
        let edge = links[index]
        let code = Int(edge.sites.code)
        let (holderSite, site): (EventSite, EventSite)
        if code >= 0 {
            guard let fact = factLog?.dependency(at: code) else { preconditionFailure("fact \(code) is not a dependency") }
            (holderSite, site) = (fact.holderSite, fact.site)
        } else {
            (holderSite, site) = ownSites[~code]
        }
        return LockDependency(from: edge.from, to: edge.to, kind: edge.kind, types: edge.types, holderSite: holderSite, site: site)
    }

    /// Keeps the sites of the edges this graph makes in `log`'s facts from now on.
    func keepSites(in log: GraphFactLog) {
        factLog = log
        log.willReplace = { [unowned self] position in factWillBeReplaced(at: position) }
    }

    /// The log is about to replace the fact at `position` with lesser evidence: an edge whose
    /// sites are there keeps them in the graph, as it showed them, until the graph is
    /// checked again from the log (a library's observer may read the graph between).
    private func factWillBeReplaced(at position: Int) {
        if let old = factLog?.usage(at: position) {
            let slot = Self.siteSlot(old.classID, old.bit)
            if usage(of: old.classID).contains(old.bit), ownUsageSites[slot] == nil { ownUsageSites[slot] = old.site }
            return
        }
        guard let old = factLog?.dependency(at: position), let index = edgePosition(old.from, old.to),
            links[index].sites.code == Int32(truncatingIfNeeded: position)
        else { return }
        ownSites.append((old.holderSite, old.site))
        links[index].sites = EdgeSites(code: ~Int32(ownSites.count - 1))
    }

    /// Where the sites of a new edge made by `dependency` are: in its fact, if the log holds
    /// it with the same sites (the facts the analysis applies), else in the graph.
    private func sites(of dependency: LockDependency) -> EdgeSites {
        if let position = factLog?.position(of: dependency), position <= Int(Int32.max) {
            return EdgeSites(code: Int32(position))
        }
        ownSites.append((dependency.holderSite, dependency.site))
        return EdgeSites(code: ~Int32(ownSites.count - 1))
    }

    private func grow(to id: ClassID) {
        guard usage.count <= Int(id) else { return }
        forward.grow(toInclude: Int(id))
        backward.grow(toInclude: Int(id))
        usage.grow(toInclude: Int(id), filling: [])
    }

    // MARK: Usage

    public func usage(of id: ClassID) -> LockUsage { Int(id) < usage.count ? usage[Int(id)] : [] }

    /// The usage of `id` and of every lock-order class with a path to it (`before`) or that
    /// it has a path to: a superset of what a strong search from it can find.
    public func reachableUsage(of id: ClassID, direction: Direction) -> LockUsage {
        usage(of: id).union(direction == .forward ? reachable.after(id) : reachable.before(id))
    }

    /// Sets a usage bit; false if the class had it already.
    public func mark(_ id: ClassID, _ bit: LockUsage.Bit, at site: EventSite) -> Bool {
        grow(to: id)
        guard !usage[Int(id)].contains(bit) else { return false }
        usage[Int(id)].formUnion(bit.mask)
        if factLog?.position(ofUsage: bit, for: id, at: site) == nil { ownUsageSites[Self.siteSlot(id, bit)] = site }
        reachable.marked(id, bit.mask, in: self)
        return true
    }

    /// Tells the observers that a class got a bit consistently with its other usage.
    public func announce(_ fact: UsageFact) {
        borrowedObservers._withUnsafeGuaranteedRef { list in list.forEach { $0.lockGraph(self, didMark: fact) } }
    }

    /// Where `id` first got `bit`.
    public func site(of bit: LockUsage.Bit, for id: ClassID) -> EventSite? {
        guard usage(of: id).contains(bit) else { return nil }
        if let site = ownUsageSites[Self.siteSlot(id, bit)] { return site }
        guard let site = factLog?.usageSite(of: bit, for: id) else { preconditionFailure("no site of usage bit \(bit.index) of class \(id)") }
        return site
    }

    private static func siteSlot(_ id: ClassID, _ bit: LockUsage.Bit) -> Int {
        Int(id) * LockUsage.bitCount + bit.index
    }

    // MARK: Edges

    /// Adds `from -> to` or widens the types of the existing edge, telling the observers of
    /// anything new first. True when the graph changed.
    @discardableResult
    public func add(
        from: ClassID, to: ClassID, kind: DependencyKind = .lockOrder, types: DependencyTypes,
        holderSite: EventSite, site: EventSite
    ) -> Bool {
        add(DependencyFact(
            dependency: LockDependency(from: from, to: to, kind: kind, types: types, holderSite: holderSite, site: site),
            holderMode: .write, nextMode: .write, moment: nil))
    }

    /// Adds a fact's dependency or widens the types of the existing edge, telling the
    /// observers of anything new first. True when the graph changed.
    @discardableResult
    public func add(_ fact: DependencyFact) -> Bool {
        reopenOrder()
        let dependency = fact.dependency
        let (from, to) = (dependency.from, dependency.to)
        let existing = edgePosition(from, to)
        if let index = existing, links[index].types.isSuperset(of: dependency.types) { return false }
        borrowedObservers._withUnsafeGuaranteedRef { list in list.forEach { $0.lockGraph(self, willAdd: fact) } }
        if let index = existing {
            links[index].types.formUnion(dependency.types)
            return true
        }
        grow(to: max(from, to))
        let index = Int32(links.count)
        forward.append(index, to: Int(from))
        backward.append(index, to: Int(to))
        links.append(Edge(from: from, to: to, kind: dependency.kind, types: dependency.types, sites: sites(of: dependency)))
        order.add(from: from, to: to)
        if dependency.kind == .lockOrder {
            reachable.added(from: from, to: to, fromUsage: usage(of: from), toUsage: usage(of: to), in: self)
        }
        return true
    }

    /// Every dependency `removeAll(expecting:)` announced has been added: what is added or
    /// asked about from now on is new to the order.
    func expectedDependenciesAdded() {
        ordersOnlyKnownDependencies = order.isOfKnownComponents
        expectedFacts = 0
    }

    /// The order of a growing graph again, after the one of known components was completed.
    @inline(__always) private func reopenOrder() {
        guard ordersOnlyKnownDependencies else { return }
        ordersOnlyKnownDependencies = false
        order = TopologicalOrder()
        for edge in links { order.add(from: edge.from, to: edge.to) }
    }

    /// Empties the graph (its observers stay), to build it again from its facts.
    public func removeAll() {
        clear()
        order = TopologicalOrder()
    }

    /// Empties the graph to build it again from facts whose every dependency is
    /// `dependencies`: its cycle checks then search only inside the strongly connected
    /// components of the whole (`TopologicalOrder`), and only those dependencies may be added
    /// or asked about until `expectedDependenciesAdded()` says all are in (`GraphChecks`).
    /// Read twice, each walk from the start: a lazy view of the facts, so that they are not
    /// copied at the peak. Their class ids are below `classes` (a hint: the counts per class
    /// are made for that many at once, not grown as the classes come).
    func removeAll<Dependencies: Sequence>(expecting dependencies: Dependencies, classes: Int = 0)
    where Dependencies.Element == (from: ClassID, to: ClassID) {
        clear()
        // How many there are, and how many leave and enter each class (an edge of several
        // type bits counts once a bit), in one pass: counted for every class the hint names
        // (made at once, not a class at a time as new ones come), then cut to the classes up
        // to the last in some dependency.
        var count = 0
        var outDegree = [Int32](repeating: 0, count: classes)
        var inDegree = [Int32](repeating: 0, count: classes)
        var nodeCount = 0
        for (from, to) in dependencies {
            count += 1
            let last = Int(max(from, to))
            if last >= nodeCount {
                nodeCount = last + 1
                if last >= outDegree.count {
                    outDegree.grow(toInclude: last, filling: 0)
                    inDegree.grow(toInclude: last, filling: 0)
                }
            }
            outDegree[Int(from)] += 1
            inDegree[Int(to)] += 1
        }
        outDegree.removeSubrange(nodeCount...)
        inDegree.removeSubrange(nodeCount...)
        // Room for them all at once: an array that doubles holds both sizes while it copies.
        links.reserveCapacity(count)
        expectedFacts = count
        // And each class's lists room for its facts, all in one buffer a direction: an array
        // per class, grown by doubling, took 21 bytes a dependency; one reserved per class,
        // some 8 and an allocation per class; now 4 (and 12 bytes a class).
        if nodeCount > 0 {
            forward.reserve(degrees: outDegree)
            backward.reserve(degrees: inDegree)
            grow(to: ClassID(nodeCount - 1))
        }
        order = TopologicalOrder(
            components: StrongComponents.of(outDegrees: outDegree, edges: dependencies), outDegrees: outDegree, inDegrees: inDegree)
    }

    private func clear() {
        links = []
        ownSites = []
        edgeIndex = PositionIndex()
        indexedEdges = 0
        expectedFacts = 0
        lastLookup = nil
        forward.removeAll()
        backward.removeAll()
        usage = []
        ownUsageSites = [:]
        marks = []
        generation = 0
        ordersOnlyKnownDependencies = false
        reachable = ReachableUsage()
    }

    // MARK: Searching

    public enum Direction: Sendable { case forward, backward }

    /// The searches' default: lockdep's own edges. Made once, not a Set per search.
    public static let lockOrderOnly: Set<DependencyKind> = [.lockOrder]

    /// Lockdep's __bfs over strong paths only: a path may not follow a `-(*R)->` edge with a
    /// `-(S*)->` edge. Visits classes breadth-first from `root` (the root included, unless
    /// `includeRoot` is false) and returns the path to the first class `match` accepts, in
    /// search order, as (path edges, matched class).
    ///
    /// A state is a class and whether every path kept so far into it ended in `-(*R)->`
    /// ("only_xr"); reaching a class freely dominates reaching it only-xr, so each class is
    /// searched at most twice and no strong path is missed.
    ///
    /// `target`, when the search looks for one class, and `wanted`, when it looks for lock-order
    /// classes with some usage bit, let it pass over the classes that cannot lead there (by the
    /// graph's topological order, by the usage reachable from each class): the classes that can
    /// are visited in the same order, so the result is the same, found sooner.
    ///
    /// `skip` is lockdep's skip callback (usage_skip): a class it accepts, the root included,
    /// is neither matched nor searched through.
    public func search(
        from root: ClassID, rootOnlyXR: Bool, direction: Direction = .forward,
        kinds: Set<DependencyKind> = LockGraph.lockOrderOnly, includeRoot: Bool = true,
        toward target: ClassID? = nil, wanting wanted: LockUsage? = nil,
        skipping skip: ((ClassID) -> Bool)? = nil,
        match: (ClassID, _ onlyXR: Bool) -> Bool
    ) -> (path: [LockDependency], found: ClassID)? {
        searchEdges(
            from: root, rootOnlyXR: rootOnlyXR, direction: direction, kinds: kinds, includeRoot: includeRoot,
            toward: target, wanting: wanted, skipping: skip, match: match
        ).map { found in (found.edges.map { dependency(at: Int($0)) }, found.found) }
    }

    /// `search`, its path given as edges (`dependency(ofEdge:)`, `factPosition(ofEdge:)`).
    private func searchEdges(
        from root: ClassID, rootOnlyXR: Bool, direction: Direction, kinds: Set<DependencyKind>, includeRoot: Bool,
        toward target: ClassID?, wanting wanted: LockUsage?, skipping skip: ((ClassID) -> Bool)?,
        match: (ClassID, _ onlyXR: Bool) -> Bool
    ) -> (edges: [Int32], found: ClassID)? {
        if let skip, skip(root) { return nil }
        if includeRoot, match(root, rootOnlyXR) { return ([], root) }
        guard Int(root) < forward.nodeCount else { return nil }
        let forwardSearch = direction == .forward
        // What the search follows, read once (a Set's lookups hash).
        var (allowsLockOrder, allowsIPI, allowsKmap) = (false, false, false)
        for kind in kinds {
            switch kind {
            case .lockOrder: allowsLockOrder = true
            case .ipi: allowsIPI = true
            case .kmap: allowsKmap = true
            }
        }
        // Usage is followed along lock-order edges only.
        let wanted = allowsLockOrder && kinds.count == 1 ? wanted : nil
        /// Whether a class can lead to the target or to a wanted usage (itself included).
        func promising(_ node: ClassID) -> Bool {
            if let target, !(forwardSearch ? order.mayReach(from: node, to: target) : order.mayReach(from: target, to: node)) {
                return false
            }
            if let wanted, reachableUsage(of: node, direction: direction).isDisjoint(with: wanted) { return false }
            return true
        }
        if let target, target != root, !(forwardSearch ? order.mayReach(from: root, to: target) : order.mayReach(from: target, to: root)) {
            return nil
        }
        if let wanted, (forwardSearch ? reachable.after(root) : reachable.before(root)).isDisjoint(with: wanted) { return nil }
        // Per-search marks, reset by bumping the generation (31 bits) instead of clearing.
        generation += 1
        if generation == SearchMark.fromOnlyXR {
            for index in marks.indices { marks[index] = .unmarked }
            generation = 1
        }
        if marks.count < forward.nodeCount { marks.grow(toInclude: forward.nodeCount - 1, filling: .unmarked) }
        // A state is (class, onlyXR); reaching a class freely dominates reaching it only-xr.
        let generationBits = ~SearchMark.fromOnlyXR
        func reached(_ node: Int, _ onlyXR: Bool) -> Bool {
            marks[node].free & generationBits == generation || (onlyXR && marks[node].onlyXR & generationBits == generation)
        }
        func mark(_ node: Int, _ onlyXR: Bool, edge: Int, parentOnlyXR: Bool) {
            let mark = generation | (parentOnlyXR ? SearchMark.fromOnlyXR : 0)
            if onlyXR {
                marks[node].onlyXR = mark
                marks[node].onlyXREdge = Int32(edge)
            } else {
                marks[node].free = mark
                marks[node].freeEdge = Int32(edge)
            }
        }
        queue.removeAllKeepingRoom()
        // The search sees the graph as it was when it began, whatever its callbacks do.
        let lists = forwardSearch ? forward : backward
        mark(Int(root), rootOnlyXR, edge: -1, parentOnlyXR: false)
        queue.append(Int32(root) << 1 | (rootOnlyXR ? 1 : 0))
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            let node = Int(state >> 1)
            let onlyXR = state & 1 == 1
            for position in 0..<lists.count(of: node) {
                let index = lists[node, position]
                let edge = links[Int(index)]
                switch edge.kind {
                case .lockOrder: if !allowsLockOrder { continue }
                case .ipi: if !allowsIPI { continue }
                case .kmap: if !allowsKmap { continue }
                }
                var types = direction == .forward ? edge.types : edge.types.reversedForBackwardSearch
                // Both masks below are lockdep's, for forward and (with the reversed bits)
                // backward edges alike.
                if onlyXR { types.formIntersection(.fromExclusive) }
                if types.isEmpty { continue }
                let child = Int(direction == .forward ? edge.to : edge.from)
                let childOnlyXR = types.isDisjoint(with: .toNonRecursive)
                if reached(child, childOnlyXR) { continue }
                if target != nil || wanted != nil, !promising(ClassID(child)) { continue }
                mark(child, childOnlyXR, edge: Int(index), parentOnlyXR: onlyXR)
                if let skip, skip(ClassID(child)) { continue }
                if match(ClassID(child), childOnlyXR) {
                    var path: [Int32] = []
                    var cursor = child
                    var cursorOnlyXR = childOnlyXR
                    while cursor != Int(root) || cursorOnlyXR != rootOnlyXR {
                        let state = marks[cursor]
                        let (edge, mark) = cursorOnlyXR ? (state.onlyXREdge, state.onlyXR) : (state.freeEdge, state.free)
                        guard edge >= 0 else { break }
                        path.append(edge)
                        let step = links[Int(edge)]
                        cursor = Int(direction == .forward ? step.from : step.to)
                        cursorOnlyXR = mark & SearchMark.fromOnlyXR != 0
                    }
                    path.reverse()  // in place: reversed() made another array
                    return (path, ClassID(child))
                }
                queue.append(Int32(child) << 1 | (childOnlyXR ? 1 : 0))
            }
        }
        return nil
    }

    /// Lockdep's check_noncircular: would a new dependency `holder -> next` close a cycle?
    /// Returns the shortest strong path from `next` back to `holder`, or nil.
    public func strongPath(
        from next: ClassID, nextMode: LockMode, to holder: ClassID, holderMode: LockMode,
        kinds: Set<DependencyKind> = LockGraph.lockOrderOnly
    ) -> [LockDependency]? {
        strongPathEdges(from: next, nextMode: nextMode, to: holder, holderMode: holderMode, kinds: kinds)?
            .map { dependency(at: Int($0)) }
    }

    /// `strongPath`, given as edges (`dependency(ofEdge:)`, `factPosition(ofEdge:)`): a
    /// finding that keeps the path till it is made keeps where its evidence is, not a copy.
    func strongPathEdges(
        from next: ClassID, nextMode: LockMode, to holder: ClassID, holderMode: LockMode,
        kinds: Set<DependencyKind> = LockGraph.lockOrderOnly
    ) -> [Int32]? {
        // Lockdep's search only where some path (strong or not, of any kind) closes a cycle.
        reopenOrder()
        guard order.addClosingCycle(from: holder, to: next) else { return nil }
        return searchEdges(
            from: next, rootOnlyXR: nextMode == .recursiveRead, direction: .forward, kinds: kinds, includeRoot: false,
            toward: holder, wanting: nil, skipping: nil
        ) { node, onlyXR in
            node == holder && (holderMode == .write || !onlyXR)
        }?.edges
    }

    /// The dependency of an edge a search gave (`strongPathEdges`), as `strongPath` gives it.
    /// Good until the graph is built again (`removeAll`).
    func dependency(ofEdge edge: Int32) -> LockDependency { dependency(at: Int(edge)) }

    /// Where the log holds the sites of an edge a search gave: the position of the fact that
    /// created it, which gives its classes and sites as `dependency(ofEdge:)` does (but for
    /// the types of the dependencies met since); nil for an edge that keeps its sites itself
    /// (a caller's, or one whose fact was replaced since).
    func factPosition(ofEdge edge: Int32) -> Int? {
        let code = links[Int(edge)].sites.code
        return code >= 0 ? Int(code) : nil
    }

    /// The edge from `from` to `to`: its place in `links`.
    @inline(__always) private func edgePosition(_ from: ClassID, _ to: ClassID) -> Int? {
        // A class no edge leaves yet has none to `to`: the index is not probed (a random read
        // of a table of megabytes, which most dependencies of a trace of new classes missed
        // in; the class's list is read by the edge's adding anyway).
        guard (0..<forward.nodeCount).contains(Int(from)), forward.count(of: Int(from)) > 0 else { return nil }
        if let last = lastLookup, last.from == from, last.to == to, last.edges == links.count { return last.position }
        if indexedEdges < links.count { indexEdges() }
        let position = edgeIndex.position(hash: Self.hash(from, to)) { links[$0].from == from && links[$0].to == to }
        lastLookup = (from, to, links.count, position)
        return position
    }

    /// Indexes the edges added since the last lookup.
    private func indexEdges() {
        edgeIndex.reserveCapacity(max(links.count, expectedFacts))
        for position in indexedEdges..<links.count {
            edgeIndex.insert(hash: Self.hash(links[position].from, links[position].to), position: position)
        }
        indexedEdges = links.count
    }

    private static func hash(_ from: ClassID, _ to: ClassID) -> UInt64 {
        PositionIndex.mix(UInt64(UInt32(bitPattern: from)) << 32 | UInt64(UInt32(bitPattern: to)))
    }
}

extension DependencyTypes {
    /// The bits lockdep stores on the backward (locks_before) entry of the same edge
    /// (__calc_dep_bitb): the roles of the two ends swap, so ER and SN trade places.
    var reversedForBackwardSearch: DependencyTypes {
        var result = intersection([.sr, .en])
        if contains(.er) { result.insert(.sn) }
        if contains(.sn) { result.insert(.er) }
        return result
    }
}

extension LockGraph: LockOrderNeighbours {
    func forEachLockOrderNeighbour(of node: Int, after: Bool, _ body: (Int) -> Void) {
        guard node < forward.nodeCount else { return }
        for position in 0..<(after ? forward.count(of: node) : backward.count(of: node)) {
            let edge = links[Int(after ? forward[node, position] : backward[node, position])]
            if edge.kind == .lockOrder { body(Int(after ? edge.to : edge.from)) }
        }
    }
}
