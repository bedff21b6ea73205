import Testing

@testable import PGTrace

/// A dependency's sites are stored once: a graph built by an analysis keeps each edge in 16
/// bytes and finds its sites in the fact that created it (`GraphFactLog`); a dependency added
/// by the library's caller keeps its sites in the graph. Either way an edge gives back the
/// sites of the event that first created it.
@Suite struct LockGraphStorageTests {
    private static let types = DependencyTypes(holder: .write, next: .write)

    private static func trace(_ pairs: [(String, String)], linesBefore: Int = 0) -> [UInt8] {
        var trace = TraceBuilder(cpus: 1)
        // Releases of nothing held would be findings: pad with irq toggles instead.
        for _ in 0..<linesBefore { trace.event("irq-disable"); trace.event("irq-enable") }
        for (outer, inner) in pairs { trace.nest(outer, inner) }
        return Array(trace.xml.utf8)
    }

    private static func id(_ analysis: Analysis, _ name: String) -> ClassID {
        (0..<Int32(analysis.classes.count)).first { analysis.context.name(of: $0) == name }!
    }

    /// Each fact of the log that created an edge, by its ends.
    private static func creatingFacts(_ analysis: Analysis) -> [String: LockDependency] {
        var first: [String: LockDependency] = [:]
        for entry in analysis.facts.sortedEntries() {
            guard case .dependency(let fact) = entry.fact else { continue }
            let key = "\(fact.dependency.from)->\(fact.dependency.to)"
            if first[key] == nil { first[key] = fact.dependency }
        }
        return first
    }

    @Test func anAnalysisGraphCitesItsFactsSitesAndKeepsNoneOfItsOwn() throws {
        let analysis = Analysis()
        try analysis.analyze(bytes: Self.trace([("A", "B"), ("B", "C"), ("A", "C")]), displayName: "t.xml")
        let facts = Self.creatingFacts(analysis)
        let edges = analysis.graph.edges
        #expect(edges.count == 3)
        #expect(analysis.graph.dependencyCount == 3)
        for edge in edges {
            let fact = try #require(facts["\(edge.from)->\(edge.to)"])
            #expect(edge.holderSite == fact.holderSite && edge.site == fact.site)
        }
        // A -> B: A taken on the trace's first event line, B on the next.
        let ab = try #require(analysis.graph.edge(from: Self.id(analysis, "A"), to: Self.id(analysis, "B")))
        #expect(ab.site.position.line == ab.holderSite.position.line + 1)
        #expect(analysis.graph.sitesKeptInGraph == 0)
    }

    /// The log's guess of the fact being checked (`GraphFactLog.willCheck`) finds a fact's
    /// position where it is right and changes nothing where it is wrong: every dependency and
    /// usage bit is found at its own position, whichever position is guessed, and with
    /// whichever fact (a fact not the log's there is passed over: its key is not there).
    @Test func aGuessedPositionFindsTheFactOrIsPassedOver() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.nest("A", "B")
        trace.event("irq-disable")
        trace.nest("B", "C")
        trace.event("irq-enable")
        trace.nest("A", "C")
        let analysis = Analysis()
        try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: "t.xml")
        let log = analysis.facts
        let entries = log.entries
        var asked = (dependencies: 0, usage: 0)
        // Each position with its own fact and with the next one's; places outside the log
        // with the first fact.
        let outside: [(position: Int, fact: Int)?] = [nil] + [-1, entries.count, entries.count + 5].map { ($0, 0) }
        let inside = entries.indices.flatMap { [($0, $0), ($0, ($0 + 1) % entries.count)] }
        for guess in outside + inside {
            if let guess { log.willCheck(entries[guess.fact].fact, at: guess.position) } else { log.didCheck() }
            for (position, entry) in entries.enumerated() {
                switch entry.fact {
                case .dependency(let fact):
                    #expect(log.position(of: fact.dependency) == position)
                    var moved = fact.dependency
                    moved.site = moved.holderSite
                    #expect(log.position(of: moved) == nil)
                    asked.dependencies += 1
                case .usage(let fact):
                    #expect(log.position(ofUsage: fact.bit, for: fact.classID, at: fact.site) == position)
                    #expect(log.position(ofUsage: fact.bit, for: fact.classID, at: Self.elsewhere) == nil)
                    asked.usage += 1
                default: continue
                }
            }
        }
        log.didCheck()
        #expect(asked.dependencies > 0 && asked.usage > 0)
    }

    /// A site of no event of the trace.
    private static let elsewhere = EventSite(
        position: TracePosition(file: 0, line: 999, column: 1, event: 999), cpu: 0, task: nil, at: nil, function: nil)

    /// Traces out of name order: the graph is rebuilt from the log, and an edge cites the
    /// least evidence (a.xml's), read second.
    @Test func outOfOrderTracesLeaveEdgesCitingTheLeastEvidence() throws {
        let analysis = Analysis()
        try analysis.analyze([
            .bytes(Self.trace([("A", "B")]), displayName: "b.xml"),
            .bytes(Self.trace([("A", "B")], linesBefore: 3), displayName: "a.xml"),
        ])
        let edge = try #require(analysis.graph.edge(from: Self.id(analysis, "A"), to: Self.id(analysis, "B")))
        #expect(analysis.context.files[edge.site.position.file] == "a.xml")
        #expect(analysis.context.files[edge.holderSite.position.file] == "a.xml")
        #expect(analysis.graph.sitesKeptInGraph == 0)
    }

    /// A cycle's report cites the sites of the edges on its path, which the search gives
    /// back from the log.
    @Test func aCyclesPathCitesTheSitesOfItsEdges() throws {
        let analysis = Analysis()
        try analysis.analyze(bytes: Self.trace([("A", "B"), ("B", "A")]), displayName: "t.xml")
        let (a, b) = (Self.id(analysis, "A"), Self.id(analysis, "B"))
        let path = try #require(analysis.graph.strongPath(from: a, nextMode: .write, to: b, holderMode: .write))
        let ab = try #require(Self.creatingFacts(analysis)["\(a)->\(b)"])
        #expect(path.count == 1)
        #expect(path[0].site == ab.site && path[0].holderSite == ab.holderSite)
    }

    @Test func aCallersGraphKeepsTheSitesItWasGiven() throws {
        let graph = LockGraph()
        let first = LockGraphSearchTests.site
        var second = first
        second.position = TracePosition(file: 2, line: 40, column: 3, event: 17)
        graph.add(from: 0, to: 1, types: Self.types, holderSite: first, site: second)
        graph.add(from: 1, to: 2, types: Self.types, holderSite: second, site: first)
        // Wider types for 0 -> 1 keep the first sites.
        graph.add(from: 0, to: 1, types: .sn, holderSite: second, site: second)
        let edge = try #require(graph.edge(from: 0, to: 1))
        #expect(edge.holderSite == first && edge.site == second && edge.types == [.en, .sn])
        let path = try #require(graph.search(from: 0, rootOnlyXR: false, includeRoot: false) { node, _ in node == 2 })
        #expect(path.path.map(\.site) == [second, first])
        #expect(graph.sitesKeptInGraph == 2)
        graph.removeAll()
        #expect(graph.sitesKeptInGraph == 0)
    }

    /// A log of thousands of facts (its index grown past 1,024 and 2,048 slots) knows each
    /// once: a second trace of the same dependencies adds none, and the graph has each once.
    @Test func aLogOfThousandsOfFactsKnowsEachOnce() throws {
        let names = (0..<60).map { "L\($0)" }
        let pairs = names.indices.flatMap { i in names.indices.filter { $0 > i }.map { (names[i], names[$0]) } }
        let analysis = Analysis()
        try analysis.analyze([
            .bytes(Self.trace(pairs), displayName: "a.xml"), .bytes(Self.trace(pairs), displayName: "b.xml"),
        ])
        let dependencies = analysis.facts.entries.filter { if case .dependency = $0.fact { return true } else { return false } }
        #expect(dependencies.count == pairs.count)
        #expect(Set(dependencies.map(\.file)) == [0])
        #expect(analysis.graph.dependencyCount == pairs.count)
        for (from, to) in pairs {
            let edge = analysis.graph.edge(from: Self.id(analysis, from), to: Self.id(analysis, to))
            #expect(edge.map { analysis.context.name(of: $0.from) == from && analysis.context.name(of: $0.to) == to } == true)
        }
    }

    /// Merged from two summaries of the same dependencies, the log's thousands of facts are
    /// each kept once, with the lesser trace's evidence (the merge's own path into the index).
    @Test func summariesOfThousandsOfFactsMergeIntoEachOnce() throws {
        let names = (0..<60).map { "L\($0)" }
        let pairs = names.indices.flatMap { i in names.indices.filter { $0 > i }.map { (names[i], names[$0]) } }
        let xml = String(decoding: Self.trace(pairs), as: UTF8.self)
        let summaries = try ["b.xml", "a.xml"].map { try SummaryMergeTests.summary([($0, xml)]) }
        let analysis = Analysis()
        try analysis.analyze(summaries.enumerated().map { .bytes(Array($1.utf8), displayName: "\($0).sum") })
        let dependencies = analysis.facts.entries.filter { if case .dependency = $0.fact { return true } else { return false } }
        #expect(dependencies.count == pairs.count)
        #expect(Set(dependencies.map { analysis.context.files[$0.file] }) == ["a.xml"])
        #expect(analysis.graph.dependencyCount == pairs.count)
    }

    /// A caller's graph grows its edge index as it goes: after thousands of edges, each is
    /// found at its ends and added again changes nothing.
    @Test func aCallersGraphOfThousandsOfEdgesFindsEachOnce() throws {
        let graph = LockGraph()
        let site = LockGraphSearchTests.site
        let pairs = (0..<3_000).map { (ClassID($0 % 70), ClassID(70 + $0 / 70)) }
        for (from, to) in pairs { #expect(graph.add(from: from, to: to, types: Self.types, holderSite: site, site: site)) }
        for (from, to) in pairs { #expect(!graph.add(from: from, to: to, types: Self.types, holderSite: site, site: site)) }
        #expect(graph.dependencyCount == pairs.count)
        for (from, to) in pairs {
            let edge = try #require(graph.edge(from: from, to: to))
            #expect(edge.from == from && edge.to == to)
            #expect(graph.edge(from: to, to: from) == nil)
        }
    }

    /// Edges are indexed when one is next looked up: a thousand edges from classes no edge
    /// left before are added with no lookup, then each is found, widened in place (not added
    /// twice), and edges added after a lookup are found as well.
    @Test func edgesAddedWithoutALookupAreFoundWhenOneIsMade() throws {
        let graph = LockGraph()
        let site = LockGraphSearchTests.site
        let first = (0..<1_000).map { (ClassID($0), ClassID(1_000 + $0)) }
        for (from, to) in first { #expect(graph.add(from: from, to: to, types: [.en], holderSite: site, site: site)) }
        #expect(try #require(graph.edge(from: 500, to: 1_500)).types == [.en])
        #expect(graph.edge(from: 500, to: 1_501) == nil)
        let more = (0..<1_000).map { (ClassID(1_000 + $0), ClassID($0)) }
        for (from, to) in more { #expect(graph.add(from: from, to: to, types: Self.types, holderSite: site, site: site)) }
        for (from, to) in first { #expect(graph.add(from: from, to: to, types: [.sr], holderSite: site, site: site)) }
        #expect(graph.dependencyCount == 2_000)
        for (from, to) in first + more {
            let edge = try #require(graph.edge(from: from, to: to))
            #expect(edge.from == from && edge.to == to)
        }
        #expect(try #require(graph.edge(from: 7, to: 1_007)).types == [.en, .sr])
        // No class has a negative id, and none past the last: no edge, asked of either.
        #expect(graph.edge(from: -1, to: 0) == nil)
        #expect(graph.edge(from: 5_000, to: 0) == nil)
    }

    /// The graph remembers its last lookup (the checks ask whether a dependency is new, then
    /// add it): an edge asked about, not there, then added, is found; one asked about, then
    /// widened, shows its new bits; and an emptied graph holding as many edges again, other
    /// ones, answers from its own.
    @Test func theLastLookupRemembersNothingPastAChange() throws {
        let graph = LockGraph()
        let site = LockGraphSearchTests.site
        #expect(graph.add(from: 1, to: 2, types: [.en], holderSite: site, site: site))
        #expect(graph.edgeTypes(from: 1, to: 3) == nil)
        #expect(graph.add(from: 1, to: 3, types: [.en], holderSite: site, site: site))
        #expect(graph.edgeTypes(from: 1, to: 3) == [.en])
        #expect(graph.add(from: 1, to: 3, types: [.sr], holderSite: site, site: site))
        #expect(graph.edgeTypes(from: 1, to: 3) == [.en, .sr])
        #expect(try #require(graph.edge(from: 1, to: 3)).types == [.en, .sr])
        // Two edges again, from classes none left before (added without a lookup).
        graph.removeAll()
        #expect(graph.add(from: 1, to: 5, types: [.sn], holderSite: site, site: site))
        #expect(graph.add(from: 6, to: 7, types: [.sn], holderSite: site, site: site))
        #expect(graph.edgeTypes(from: 1, to: 3) == nil)
        #expect(graph.edgeTypes(from: 1, to: 5) == [.sn])
        #expect(graph.edgeTypes(from: 5, to: 1) == nil)
    }

    /// After the analysis, the caller empties the graph and adds a dependency the log holds
    /// with other sites: the edge keeps the caller's.
    @Test func aCallersDependencyWithOtherSitesThanTheLogsKeepsItsOwn() throws {
        let analysis = Analysis()
        try analysis.analyze(bytes: Self.trace([("A", "B")]), displayName: "t.xml")
        let (a, b) = (Self.id(analysis, "A"), Self.id(analysis, "B"))
        analysis.graph.removeAll()
        var site = LockGraphSearchTests.site
        site.position = TracePosition(file: 0, line: 99, column: 1, event: 99)
        analysis.graph.add(from: a, to: b, types: Self.types, holderSite: site, site: site)
        let edge = try #require(analysis.graph.edge(from: a, to: b))
        #expect(edge.site.position.line == 99 && edge.holderSite.position.line == 99)
        #expect(analysis.graph.sitesKeptInGraph == 1)
        // The fact's own site, but another holder's: still the caller's.
        let fact = try #require(Self.creatingFacts(analysis)["\(a)->\(b)"])
        analysis.graph.removeAll()
        analysis.graph.add(from: a, to: b, types: Self.types, holderSite: site, site: fact.site)
        #expect(analysis.graph.edge(from: a, to: b)?.holderSite.position.line == 99)
        #expect(analysis.graph.sitesKeptInGraph == 1)
    }

    /// A reviewer's case: a trace with a lesser name brings lesser evidence of a dependency
    /// the graph holds, and the analysis fails before the graph is checked again. The edge
    /// still shows what the checks saw, not evidence they never checked.
    @Test func anEdgeKeepsItsSitesWhenItsFactIsReplacedUntilTheGraphIsChecked() throws {
        let analysis = Analysis()
        try analysis.analyze([.bytes(Self.trace([("A", "B")]), displayName: "b.xml")])
        let (a, b) = (Self.id(analysis, "A"), Self.id(analysis, "B"))
        #expect(throws: (any Error).self) {
            try analysis.analyze([
                .bytes(Self.trace([("A", "B")], linesBefore: 3), displayName: "a.xml"),
                .bytes(Array("<trace version=\"1\"><events><acquire".utf8), displayName: "c.xml"),
            ])
        }
        let edge = try #require(analysis.graph.edge(from: a, to: b))
        #expect(analysis.context.files[edge.site.position.file] == "b.xml")
        #expect(analysis.graph.sitesKeptInGraph == 1)
        // Checked again: the least evidence, from the log.
        analysis.checkGraph()
        let checked = try #require(analysis.graph.edge(from: a, to: b))
        #expect(analysis.context.files[checked.site.position.file] == "a.xml")
        #expect(analysis.graph.sitesKeptInGraph == 0)
    }

    /// A class's usage bits, as the graph checks set them, cite the sites of the usage facts
    /// in the log (A and B are taken with irqs on: {ENABLED-HARDIRQ} and {ENABLED-SOFTIRQ}).
    @Test func aUsageBitCitesItsFactsSiteAndTheGraphKeepsNoneOfItsOwn() throws {
        let analysis = Analysis()
        try analysis.analyze(bytes: Self.trace([("A", "B")]), displayName: "t.xml")
        let b = Self.id(analysis, "B")
        let enabled = LockUsage.Bit(.hardirq, enabled: true, read: false)
        let fact = try #require(analysis.facts.fact(for: GraphFact.usageKey(b, enabled)))
        guard case .usage(let usage) = fact else { Issue.record("not a usage fact: \(fact)"); return }
        #expect(analysis.graph.site(of: enabled, for: b) == usage.site)
        #expect(analysis.graph.site(of: enabled, for: b)?.position.line == 5)
        #expect(analysis.graph.site(of: .init(.hardirq, enabled: false, read: false), for: b) == nil)
        #expect(analysis.graph.usageSitesKeptInGraph == 0)
    }

    /// A caller's mark keeps its site in the graph.
    @Test func aCallersUsageBitKeepsTheSiteItWasGiven() {
        let graph = LockGraph()
        let bit = LockUsage.Bit(.softirq, enabled: false, read: true)
        #expect(graph.mark(3, bit, at: LockGraphSearchTests.site))
        #expect(!graph.mark(3, bit, at: LockGraphSearchTests.site))
        #expect(graph.site(of: bit, for: 3) == LockGraphSearchTests.site)
        #expect(graph.site(of: bit, for: 2) == nil)
        #expect(graph.usageSitesKeptInGraph == 1)
    }

    /// The usage bits' twin of the reviewer's case above: a usage fact replaced by a trace
    /// with a lesser name leaves the bit citing what the checks saw until they run again.
    @Test func aUsageBitKeepsItsSiteWhenItsFactIsReplacedUntilTheGraphIsChecked() throws {
        let analysis = Analysis()
        try analysis.analyze([.bytes(Self.trace([("A", "B")]), displayName: "b.xml")])
        let b = Self.id(analysis, "B")
        let enabled = LockUsage.Bit(.hardirq, enabled: true, read: false)
        #expect(throws: (any Error).self) {
            try analysis.analyze([
                .bytes(Self.trace([("A", "B")], linesBefore: 3), displayName: "a.xml"),
                .bytes(Array("<trace version=\"1\"><events><acquire".utf8), displayName: "c.xml"),
            ])
        }
        let site = try #require(analysis.graph.site(of: enabled, for: b))
        #expect(analysis.context.files[site.position.file] == "b.xml")
        #expect(analysis.graph.usageSitesKeptInGraph > 0)
        analysis.checkGraph()
        let checked = try #require(analysis.graph.site(of: enabled, for: b))
        #expect(analysis.context.files[checked.position.file] == "a.xml")
        #expect(analysis.graph.usageSitesKeptInGraph == 0)
    }

    /// What the memory figures of docs/performance.md rest on.
    @Test func anEdgeIsSixteenBytesAFactThirtyTwoAndAMomentTwentyFour() {
        #expect(MemoryLayout<LockGraph.Edge>.stride == 16)
        #expect(PackedFacts.bytesPerEntry == 32)
        #expect(MemoryLayout<EventSite>.stride == 32)
        #expect(MemoryLayout<MomentStore.Packed>.stride == 24)
        // A class's search marks; a pending finding.
        #expect(MemoryLayout<LockGraph.SearchMark>.stride == 16)
        #expect(MemoryLayout<PendingFindings.Entry>.stride == 32)
    }

    /// A moment made for one dependency keeps its held locks but the holder, which the fact
    /// keeps; read with the fact's holder, it gives back every lock in its place. A moment
    /// shared by dependencies (a trylock's and the lock's below it) keeps them all.
    @Test func aMomentForOneDependencyLeavesItsHolderToTheFact() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.nest("A", "B")  // A -> B, held [A]
        trace.acquire("X")
        trace.event("hardirq-enter")
        trace.nest("Y", "Z")  // Y -> Z in the irq, held [X, Y]: Y is not the last of the task's
        trace.event("hardirq-exit")
        trace.release("X")
        trace.acquire("C")
        trace.acquire("D", isTry: true)
        trace.acquire("E")  // D -> E and C -> E, one moment, held [C, D]
        for lock in ["E", "D", "C"] { trace.release(lock) }
        trace.acquire("P")
        trace.event("rcu-read-lock")
        trace.acquire("Q")  // P -> Q, held [P, rcu_read_lock]: the holder goes back first
        trace.release("Q")
        trace.event("rcu-read-unlock")
        trace.release("P")
        let analysis = try analyze(trace)
        var (held, kept): ([String: [String]], [String: [String]]) = ([:], [:])
        for entry in analysis.facts.sortedEntries() {
            guard case .dependency(let fact) = entry.fact, let moment = fact.moment else { continue }
            let name = { (id: ClassID) in analysis.context.name(of: id) }
            let key = name(fact.dependency.from) + "->" + name(fact.dependency.to)
            let locks = analysis.context.moments.moment(moment, holder: fact.holder).held
            held[key] = locks.map { name($0.classID) }
            kept[key] = analysis.context.moments.keptHeldClasses(moment).map(name)
            // Each lock with the site it was taken at.
            #expect(locks.contains { $0.classID == fact.dependency.from && $0.site == fact.dependency.holderSite })
        }
        #expect(held == ["A->B": ["A"], "Y->Z": ["X", "Y"], "D->E": ["C", "D"], "C->E": ["C", "D"], "P->Q": ["P", "rcu_read_lock"]])
        // A and Y are their facts'.
        #expect(kept == ["A->B": [], "Y->Z": ["X"], "D->E": ["C", "D"], "C->E": ["C", "D"], "P->Q": ["rcu_read_lock"]])
    }

    /// The dependencies one context makes under one lock share their moment, which keeps no
    /// held lock (each fact keeps its holder): A -> B, A -> C and X -> Y on kworker/0:1. Another
    /// task's (A -> D), or a moment that keeps another held lock (Y -> Z, under X), is its own.
    @Test func dependenciesUnderOneLockOfOneContextShareTheirMoment() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "kworker/0:1"
        trace.nest("A", "B")
        trace.nest("A", "C")
        trace.task = "kworker/0:2"
        trace.nest("A", "D")
        trace.task = "kworker/0:1"
        trace.nest("X", "Y", "Z")
        let analysis = try analyze(trace)
        var moments: [String: MomentID] = [:]
        var held: [String: [String]] = [:]
        for entry in analysis.facts.sortedEntries() {
            guard case .dependency(let fact) = entry.fact, let moment = fact.moment else { continue }
            let name = { (id: ClassID) in analysis.context.name(of: id) }
            let key = name(fact.dependency.from) + "->" + name(fact.dependency.to)
            moments[key] = moment
            held[key] = analysis.context.moments.moment(moment, holder: fact.holder).held.map { name($0.classID) }
        }
        #expect(held == ["A->B": ["A"], "A->C": ["A"], "X->Y": ["X"], "A->D": ["A"], "Y->Z": ["X", "Y"]])
        #expect(moments["A->B"] == moments["A->C"] && moments["A->B"] == moments["X->Y"])
        #expect(Set(["A->B", "A->D", "Y->Z"].compactMap { moments[$0] }).count == 3)
    }

    /// A holder deeper than a moment can place (its place is 16 bits) is kept with the
    /// others, never put back at another place (a trace of 65,537 held locks takes minutes).
    @Test func aHolderTooDeepToPlaceIsKept() {
        #expect(MomentStore.leftOutPlace(0) == 0 && MomentStore.leftOutPlace(32_767) == 32_767)
        #expect(MomentStore.leftOutPlace(32_768) == nil && MomentStore.leftOutPlace(65_537) == nil)
    }

    /// A graph built again from known dependencies lists the classes up to the last one in a
    /// dependency, whatever the hint of how many classes there are (the degrees are counted
    /// for the hint's classes, then cut).
    @Test func aGraphBuiltFromKnownDependenciesListsTheirClassesOnly() {
        for classes in [0, 1, 2, 3, 1_000] {
            let graph = LockGraph()
            graph.removeAll(expecting: [(from: ClassID(1), to: ClassID(0))], classes: classes)
            #expect(graph.listedClasses == 2, "hint \(classes)")
        }
        let graph = LockGraph()
        graph.removeAll(expecting: [(from: ClassID(0), to: ClassID(4)), (from: ClassID(4), to: ClassID(2))], classes: 1_000)
        #expect(graph.listedClasses == 5)
        graph.removeAll(expecting: [(from: ClassID, to: ClassID)](), classes: 1_000)
        #expect(graph.listedClasses == 0)
    }

    /// The dependencies are walked twice, each time from the start: a sequence that gives
    /// them once (its second walk empty) is refused, not taken for a graph without cycles.
    @Test func dependenciesThatCannotBeWalkedTwiceAreRefused() async {
        await #expect(processExitsWith: .failure) {
            final class Shared {
                var iterator = [(from: ClassID(0), to: ClassID(1)), (from: ClassID(1), to: ClassID(0))].makeIterator()
            }
            let shared = Shared()
            LockGraph().removeAll(expecting: AnySequence { AnyIterator { shared.iterator.next() } }, classes: 2)
        }
    }

    /// A moment's held locks end where the next one's start: each gives back its own.
    @Test func eachMomentGivesBackItsOwnHeldLocks() {
        let store = MomentStore()
        let site = LockGraphSearchTests.site
        let held = { (classes: [ClassID]) in classes.map { ReplayMoment.Held(classID: $0, site: site) } }
        let lists: [[ClassID]] = [[1, 2], [], [3], [4, 5, 6], []]
        let ids = lists.map { store.add(ReplayMoment(cpu: 0, task: .anonymous(cpu: 0), irqState: nil, held: held($0), mayMissHeldLocks: false)) }
        #expect(ids.map { store.moment($0, holder: nil).held.map(\.classID) } == lists)
    }
}
