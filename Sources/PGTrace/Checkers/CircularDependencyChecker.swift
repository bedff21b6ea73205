/// Builds the lock-order graph as lockdep does and reports `circular-dependency` when a new
/// dependency closes a strong cycle. A lock sequence already validated (same chain key) costs
/// one hash lookup, as with lockdep's chain cache.
///
/// The replay gives the dependency facts (`GraphFact.dependency`); the graph checks apply
/// each, in the order of its evidence (`apply`): the cycle search, then the edge.
public final class CircularDependencyChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.acquiring, .prefetching] }

    public let graph: LockGraph
    private let facts: GraphFactLog
    private let context: CheckerContext
    @exclusivity(unchecked) private(set) var validatedChains = ChainKeySet()
    /// What the cycles reported and not yet made are made from; held by the context's pending
    /// findings too, which empty it when they let go of it (their findings made, or the graph
    /// checked again: `discard`), and it starts again from cycle 0. One a report's
    /// `FindingList` reads is left to it, and the next cycle goes into a new one (`handOut`).
    /// Not a weak reference that went with them: each cycle reported took a weak load and
    /// store, and its retains and releases through the side table that gives the store (some
    /// 60 ms of the checks after the last event at a million cycles). The log's weak
    /// reference to the store (`GraphFactLog.addReader`) gives it that side table now, once.
    private lazy var pendingCycles = PendingCycles(context: context, log: facts)
    /// How many cycles are kept for reports not yet made.
    var cyclesKept: Int { pendingCycles.count }

    public init(graph: LockGraph, facts: GraphFactLog, context: CheckerContext) {
        self.graph = graph
        self.facts = facts
        self.context = context
    }

    /// Each trace validates its own chains: a chain seen in a trace whose evidence comes
    /// later must not hide this one's. A store of cycles a report reads is let go of here
    /// too, not only at the next cycle: the report keeps it as long as it needs it
    /// (helper-142).
    public func replayWillBegin(_ replay: ReplayEngine) {
        validatedChains = ChainKeySet(bound: context.options.chainCacheBound)
        letGoOfHandedOutCycles()
    }

    /// The cache (4 MB when full) goes when the trace ends: the graph checks that follow
    /// build the graph, and a run's memory peaks there.
    public func replayDidEnd(_ replay: ReplayEngine) { validatedChains = ChainKeySet(bound: context.options.chainCacheBound) }

    /// The two lookups of `validate` that miss the caches when a chain is new, asked for
    /// before the observers ahead of this one run: the chain's slot in the cache, and the
    /// slot of the dependency on `top` in the log's index. On a million short cycles, where
    /// every chain is new, they were most of this checker's time (perf: the cache's insert
    /// alone 5% of the run's samples, at its one load of the slot).
    /// Not for a lock `validate` passes over at once (a trylock, a check=0 one).
    public func replay(_ replay: ReplayEngine, prefetchFor lock: HeldLock, over top: HeldLock) {
        guard !lock.isTry, lock.validates else { return }
        validatedChains.prefetch(lock.chainKey)
        guard top.classID != lock.classID else { return }
        facts.prefetch(GraphFact.dependencyKey(top.classID, lock.classID, .lockOrder, DependencyTypes(holder: top.mode, next: lock.mode)))
    }

    public func replay(_ replay: ReplayEngine, willAcquire lock: HeldLock) { validate(lock, replay, cpu: lock.site.cpu) }

    /// Lockdep validates a lock taken again above one released out of order as it validates
    /// any acquisition: a chain new since is checked, and its dependencies recorded. Held
    /// `A`, `B` (a recursive read), `C`: C depends on B alone; B released, C is taken again
    /// over A and A -> C is a dependency (lockdep's reacquire_held_locks).
    public func replay(_ replay: ReplayEngine, willReacquire lock: HeldLock, at site: EventSite) {
        // The dependency cites the lock's own acquisition: it was taken with the holder held.
        // The locks below it are those of the cpu the task runs on now, the release's.
        validate(lock, replay, cpu: site.cpu)
    }

    /// Lockdep's validate_chain for `lock`, about to be pushed over the locks its context holds
    /// on `cpu`.
    private func validate(_ lock: HeldLock, _ replay: ReplayEngine, cpu: Int) {
        // Lockdep validates no trylock: it cannot wait, so it cannot deadlock.
        // Nor a check=0 acquisition (novalidate): it adds no dependency and is never recursive.
        guard !lock.isTry, lock.validates else { return }
        // Recursion is judged on the interrupted task's locks too, which the chain key does not
        // cover: check it before the chain counts as validated.
        if replay.isNestedOrRecursive(lock, cpu: cpu) { return }
        // The held locks read in place, one at a time (a copy of the list costs its retain).
        let heldCount = replay.heldCount(cpu: cpu)
        // A chain head (the first lock of its context) depends on nothing: there is nothing to
        // validate, and the cache is not asked (half of its inserts in a trace of short nests,
        // each a cache miss in a table of megabytes, and room taken from chains that have
        // something to validate).
        guard heldCount > 0, validatedChains.insert(lock.chainKey) else { return }
        // Lockdep's check_prevs_add: depend on the nearest held lock, and on each trylock
        // above it (a trylock's own dependencies were never recorded).
        func forEachNewDependency(_ body: (HeldLock, DependencyTypes) -> Void) {
            for index in (0..<heldCount).reversed() {
                let holder = replay.heldLock(cpu: cpu, at: index)
                // A nest lock's run is one entry of lockdep's array, its first member (the
                // others, folded, are its references): that member's mode and trylock are the
                // entry's. An irq's lock folded into the task's is no entry of the irq's at all.
                if holder.isFolded { continue }
                // A check=0 lock held is passed over: A, a novalidate lock, then B is A -> B.
                guard holder.validates else { continue }
                if holder.classID != lock.classID {
                    let types = DependencyTypes(holder: holder.mode, next: lock.mode)
                    if !facts.knows(GraphFact.dependencyKey(holder.classID, lock.classID, .lockOrder, types)) {
                        body(holder, types)
                    }
                }
                if !holder.isTry { break }
            }
        }
        // One moment for them all; made for one, it leaves out its holder, which the fact keeps.
        // Nearly always there is one: the walk is made again only for trylocks above it.
        var (first, more): ((HeldLock, DependencyTypes)?, Bool) = (nil, false)
        forEachNewDependency { holder, types in
            if first == nil { first = (holder, types) } else { more = true }
        }
        guard let (holder, types) = first else { return }
        let moment = context.moments.record(replay, cpu: cpu, leavingOut: more ? nil : holder)
        func record(_ holder: HeldLock, _ types: DependencyTypes) {
            facts.record(.dependency(DependencyFact(
                dependency: LockDependency(
                    from: holder.classID, to: lock.classID, kind: .lockOrder, types: types,
                    holderSite: holder.site, site: lock.site),
                holderMode: holder.mode, nextMode: lock.mode, moment: moment)))
        }
        if more { forEachNewDependency(record) } else { record(holder, types) }
    }

    // MARK: The graph check

    /// Lockdep's check_noncircular for a new dependency, then the dependency enters the graph.
    public func apply(_ fact: DependencyFact) {
        let dependency = fact.dependency
        let known = graph.edgeTypes(from: dependency.from, to: dependency.to) ?? []
        guard !known.isSuperset(of: dependency.types) else { return }
        if let path = graph.strongPathEdges(
            from: dependency.to, nextMode: fact.nextMode, to: dependency.from, holderMode: fact.holderMode)
        {
            report(fact, path: path)
        }
        graph.add(fact)
    }

    /// Reports the cycle `fact` closes through `path`, edges of the graph.
    private func report(_ fact: DependencyFact, path: [Int32]) {
        // Its text is made when the findings are asked for (`CheckerContext.reportGraphFindingOnce`),
        // from the fact and path kept as they were: the log and the graph may change before (a
        // library reading the findings between traces; stop 54). Its names and key are made
        // then, from classes that do not change (kept, they were some 90 bytes a cycle), and
        // its key now only where a finding made may share it. Reported once: a cycle met again
        // is not counted, nor kept where its finding is made (one met again before the
        // findings are made is kept till then, and dropped: the pending findings are not
        // looked up at each report).
        letGoOfHandedOutCycles()
        let cycles = pendingCycles
        let number = cycles.add(fact, path: path, of: graph)
        // Not kept where no entry refers to it, unless the store was let go of meanwhile: an
        // observer told of the finding may have read the findings (the store emptied) or made
        // a report that reads it (handed out; helper-142).
        if !context.reportGraphFindingOnce(.circularDependency, severity: .error, maker: cycles, number: number),
            !cycles.isHandedOut, cycles.count == number + 1
        {
            cycles.removeLast()
        }
    }

    /// Takes a new store where a report reads the one kept (`PendingCycles.handOut`): it takes
    /// no more cycles, and the report and the context's pending findings keep it as long as
    /// they need it.
    private func letGoOfHandedOutCycles() {
        if pendingCycles.isHandedOut { pendingCycles = PendingCycles(context: context, log: facts) }
    }

    /// The cycle's classes, following its edges (`to`, each edge's next class): next -> ... ->
    /// holder -> next.
    private static func names(_ fact: DependencyFact, through to: some Collection<ClassID>, context: CheckerContext) -> [String] {
        var names: [String] = []
        names.reserveCapacity(to.count + 1)
        names.append(context.name(of: fact.dependency.to))
        for id in to { names.append(context.name(of: id)) }
        return names
    }

    /// The key of the cycle `fact` closes through `path`: its names sorted by their bytes, as
    /// the findings compare keys (as Strings, two names alike but for their Unicode
    /// normalization are equal and keep the order the path met them in, and one cycle reached
    /// from two edges had two keys: helper-77).
    fileprivate static func key(_ fact: DependencyFact, path: some Collection<LockDependency>, context: CheckerContext) -> String {
        FindingKey.of(names(fact, through: path.lazy.map(\.to), context: context))
    }

    /// The report of the cycle `fact` closes through `path`.
    fileprivate static func finding(_ fact: DependencyFact, path: [LockDependency], context: CheckerContext) -> Finding {
        let names = names(fact, through: path.lazy.map(\.to), context: context)
        let key = FindingKey.of(names)
        let dependency = fact.dependency
        let newLink = ChainLink(
            holder: context.name(of: dependency.from), acquired: context.name(of: dependency.to),
            holderEvidence: context.evidence(dependency.holderSite, "holds \(context.name(of: dependency.from))"),
            evidence: context.evidence(dependency.site, "acquires \(context.name(of: dependency.to))"))
        // Built in place: a cycle through thousands of classes is one array, not a copy of it.
        var links: [ChainLink] = []
        links.reserveCapacity(path.count + 1)
        for edge in path {
            links.append(ChainLink(
                holder: context.name(of: edge.from), acquired: context.name(of: edge.to),
                holderEvidence: context.evidence(edge.holderSite, "holds \(context.name(of: edge.from))"),
                evidence: context.evidence(edge.site, "acquires \(context.name(of: edge.to)) while holding \(context.name(of: edge.from))")))
        }
        links.append(newLink)

        let source = names[0]
        let target = context.name(of: dependency.from)
        let parent = path.count > 1 ? context.name(of: path[path.count - 1].from) : source
        let scenario = Scenario(
            columns: ["CPU0", "CPU1"],
            steps: [
                (0, "lock(\(target));"), (1, "lock(\(parent));"), (1, "lock(\(target));"),
                (0, "lock(\(source));"),
            ])
        var notes: [String] = []
        if path.count > 1 {
            notes.append("Chain exists of: \(source) --> \(parent) --> \(target)")
        }
        var locations = [newLink.evidence, newLink.holderEvidence]
        locations.reserveCapacity(links.count + 1)
        locations.append(contentsOf: links.dropLast().lazy.map(\.evidence))
        let order = (names + [names[0]]).joined(separator: " -> ")
        var finding = Finding(
            rule: .circularDependency, severity: .error,
            message: "\(target) is held while acquiring \(source), but \(source) already depends on \(target) (\(order))",
            locks: names,
            locations: locations,
            chain: links, scenario: scenario, notes: notes, key: key)
        if let moment = fact.moment { context.attachHeldLocks(to: &finding, moment: moment, holder: fact.holder) }
        return finding
    }
}

/// The cycles reported and not yet made (`CheckerContext.reportGraphFindingOnce`), and what
/// each is made from: the dependency that closed it and its path, each by the position of its
/// fact in the log, which holds its classes, sites, modes and moment already (4 bytes a
/// dependency: kept by value, a cycle of two classes took some 185 bytes, the most of any
/// one thing a million cycles kept). A dependency the log does not hold as it was met (one
/// a caller applied; an edge whose fact was replaced) is kept by value, and every one is
/// when the log is about to replace an entry (`GraphFactLogReader`: a later trace's or a
/// summary's lesser evidence), so that a finding says what its graph check saw.
private final class PendingCycles: PendingFindingMaker, GraphFactLogReader {
    /// A cycle: the closing fact at `first` of `dependencies`, its path after it.
    private struct Cycle {
        var first: Int
        var pathCount: Int32
    }

    /// The context whose pending findings hold this store.
    private unowned let context: CheckerContext
    private let log: GraphFactLog
    // No run-time exclusivity checks: each access is brief and calls back into nothing
    // (with them, four `swift_beginAccess` a cycle reported, 43M instructions at 131k cycles).
    /// Each cycle's dependencies: the position of its fact in the log, or, bitwise
    /// complemented, its place in `copies`.
    @exclusivity(unchecked) private var dependencies = ChunkedArray<Int32>()
    /// The dependencies kept by value, in the order of `dependencies`.
    @exclusivity(unchecked) private var copies = ChunkedArray<DependencyFact>()
    @exclusivity(unchecked) private var cycles = ChunkedArray<Cycle>()
    /// Whether the log tells this store before it replaces an entry (`GraphFactLog.addReader`).
    private var readsLog = false

    /// Whether a `FindingList` reads its cycles: they stay as they are, and no more are added.
    private(set) var isHandedOut = false

    init(context: CheckerContext, log: GraphFactLog) {
        self.context = context
        self.log = log
    }

    var count: Int { cycles.count }

    func discard() {
        guard !isHandedOut else { return }
        (dependencies, copies, cycles) = (ChunkedArray(), ChunkedArray(), ChunkedArray())
    }

    func handOut() { isHandedOut = true }

    /// Lets go of the last cycle kept (its finding was made, or will be, from another).
    func removeLast() {
        precondition(!isHandedOut, "a cycle removed from cycles a report reads")
        let cycle = cycles[cycles.count - 1]
        for _ in 0...Int(cycle.pathCount) {
            // Copies are in the order of the dependencies that name them: the last is last.
            if dependencies[dependencies.count - 1] < 0 { copies.removeLast() }
            dependencies.removeLast()
        }
        cycles.removeLast()
    }

    /// Keeps the cycle `fact` closes through the edges `path` of `graph`: the number it is
    /// made by.
    func add(_ fact: DependencyFact, path: [Int32], of graph: LockGraph) -> Int {
        precondition(!isHandedOut, "a cycle added to cycles a report reads")
        cycles.append(Cycle(first: dependencies.count, pathCount: Int32(path.count)))
        keep(log.position(of: fact), else: fact)
        for edge in path {
            keep(
                graph.factPosition(ofEdge: edge),
                else: DependencyFact(dependency: graph.dependency(ofEdge: edge), holderMode: .write, nextMode: .write, moment: nil))
        }
        return cycles.count - 1
    }

    /// Keeps a dependency by the position of its fact in the log, else by value.
    private func keep(_ position: Int?, else copy: @autoclosure () -> DependencyFact) {
        guard let position, let stored = Int32(exactly: position) else {
            copies.append(copy())
            dependencies.append(~Int32(copies.count - 1))
            return
        }
        if !readsLog {
            log.addReader(self)
            readsLog = true
        }
        dependencies.append(stored)
    }

    /// The log is about to replace an entry: every dependency read from it is kept by value.
    func logWillReplaceEntries() {
        readsLog = false
        var kept = ChunkedArray<DependencyFact>()
        for index in dependencies.indices {
            kept.append(dependency(dependencies[index]))
            dependencies[index] = ~Int32(kept.count - 1)
        }
        copies = kept
    }

    /// A dependency kept, as `dependencies` holds it.
    private func dependency(_ stored: Int32) -> DependencyFact {
        guard stored >= 0 else { return copies[Int(~stored)] }
        guard let fact = log.dependencyFact(at: Int(stored)) else { preconditionFailure("fact \(stored) is not a dependency") }
        return fact
    }

    /// The site of a dependency kept and its holder's.
    private func sites(_ stored: Int32) -> (site: EventSite, holderSite: EventSite) {
        guard stored >= 0 else {
            let copy = copies[Int(~stored)].dependency
            return (copy.site, copy.holderSite)
        }
        let (site, other) = log.sites(at: Int(stored))
        guard let other else { preconditionFailure("fact \(stored) is not a dependency") }
        return (site, other)
    }

    /// Cycle `number`: the fact that closed it and its path.
    private func cycle(_ number: Int) -> (fact: DependencyFact, path: LazyMapSequence<Range<Int>, LockDependency>) {
        let cycle = cycles[number]
        let path = (cycle.first + 1)..<(cycle.first + 1 + Int(cycle.pathCount))
        return (dependency(dependencies[cycle.first]), path.lazy.map { self.dependency(self.dependencies[$0]).dependency })
    }

    func key(of number: Int) -> String {
        let (fact, path) = cycle(number)
        return CircularDependencyChecker.key(fact, path: path, context: context)
    }

    func finding(_ number: Int) -> Finding {
        let (fact, path) = cycle(number)
        return CircularDependencyChecker.finding(fact, path: Array(path), context: context)
    }

    /// As `CircularDependencyChecker.finding` cites them: where the closing dependency's lock
    /// was taken, where its holder was, then each dependency of the path where it was made.
    func locationCount(of number: Int) -> Int { 2 + Int(cycles[number].pathCount) }

    func place(_ index: Int, of number: Int) -> (file: String, line: Int, column: Int, event: Int) {
        let position = site(index, of: number).position
        return (context.files[position.file], position.line, position.column, position.event)
    }

    private func site(_ index: Int, of number: Int) -> EventSite {
        let cycle = cycles[number]
        switch index {
        case 0: return sites(dependencies[cycle.first]).site
        case 1: return sites(dependencies[cycle.first]).holderSite
        default: return sites(dependencies[cycle.first + index - 1]).site
        }
    }

    /// A cycle's finding has no objects, and its identity is its key (but for trace places
    /// in it: `Finding.identity`).
    func baseFingerprint(of number: Int) -> UInt64 {
        let files = context.files
        let unnamed = (0..<locationCount(of: number)).lazy.map { self.site($0, of: number) }
            .filter { $0.function == nil && $0.at == nil }.map { (file: files[$0.position.file], line: $0.position.line) }
        return Finding.baseFingerprintValue(
            rule: .circularDependency, identity: Finding.identity(key: key(of: number), unnamed: unnamed), objects: [])
    }
}

/// Lockdep's chain cache: the chain keys already validated. Keys are well-mixed hashes, so an
/// open-addressing table indexed by their low bits needs no hashing of its own.
///
/// A cache, bounded as lockdep bounds its chains (MAX_LOCKDEP_CHAINS: 2^16 by default, 2^20
/// with syzbot's settings; here 2^18, a table of 4 MB at most): when full it starts again
/// empty, where lockdep, out of chains, turns itself off ("MAX_LOCKDEP_CHAINS too low!").
/// A chain seen before is then validated again. It finds its dependencies in the graph
/// already, save one the cache had skipped: a key holds each entry's class and read state,
/// not its trylock, so a chain validated with an entry taken outright is not validated
/// again where that entry is a trylock, whose holder below would add a dependency
/// (docs/trace-format.md, `nest`); validated again, it adds it. So past 2^18 distinct
/// chains in one trace, such a dependency may be added where lockdep with chains to spare
/// would skip it. Chains of two locks or more: a chain head (a lock taken with nothing held)
/// depends on nothing and is not cached, where lockdep counts it among its chains (since
/// stop 55: a trace past the bound gets such a dependency later than before). At 2^20 the
/// table was the one structure of the kernel-shaped benchmark growing past a million
/// events (16 MB at 16M events), and at 2^18 that benchmark is no slower; at 2^16 its peak
/// was some 5 MB lower, in the same time, but such a dependency would come four times
/// sooner (docs/performance.md, stop 48).
struct ChainKeySet {
    static let capacity = 1 << 18
    /// How many keys it holds before it starts again: `capacity`, but in tests.
    private let bound: Int
    private var slots = [UInt64](repeating: 0, count: 1024)
    private var count = 0

    init(bound: Int = ChainKeySet.capacity) { self.bound = bound }

    /// The table's size, in keys (for tests: it grows with the chains, and is back to its
    /// first size when a trace ends).
    var slotCount: Int { slots.count }

    /// Inserts `key`; true if it was not there. (Key 0 is the empty chain, never inserted.)
    mutating func insert(_ key: UInt64) -> Bool {
        let key = Self.stored(key)
        var slot = home(key)
        while slots[slot] != 0 {
            if slots[slot] == key { return false }
            slot = (slot + 1) & (slots.count - 1)
        }
        if count >= bound {
            for index in slots.indices { slots[index] = 0 }
            count = 0
            slot = home(key)
        }
        slots[slot] = key
        count += 1
        if count * 2 > slots.count, slots.count < 2 * bound { grow() }
        return true
    }

    /// Asks for the cache line `insert(key)` will read first (`prefetch`). Mutating only so
    /// that the table is read in place: a copy of the set would retain it.
    mutating func prefetch(_ key: UInt64) {
        let slot = home(Self.stored(key))
        slots.withUnsafeBufferPointer { PGTrace.prefetch($0.baseAddress! + slot) }
    }

    /// A key as the table holds it: 0 marks an empty slot, so the empty chain's is 1.
    @inline(__always) private static func stored(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

    /// Where a stored key is first looked for.
    @inline(__always) private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: key) & (slots.count - 1) }

    private mutating func grow() {
        var bigger = [UInt64](repeating: 0, count: slots.count * 2)
        for key in slots where key != 0 {
            var slot = Int(truncatingIfNeeded: key) & (bigger.count - 1)
            while bigger[slot] != 0 { slot = (slot + 1) & (bigger.count - 1) }
            bigger[slot] = key
        }
        slots = bigger
    }
}
