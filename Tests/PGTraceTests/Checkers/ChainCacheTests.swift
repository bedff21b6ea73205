@testable import PGTrace
import Testing

/// The chain cache is a cache, bounded as lockdep bounds its chains: past its capacity it
/// starts again empty, so its memory stays bounded however many distinct chains a trace has.
@Suite struct ChainCacheTests {
    @Test func aFullCacheStartsAgain() {
        var cache = ChainKeySet()
        let keys = (1...UInt64(ChainKeySet.capacity)).map { $0 &* 0x9E37_79B9_7F4A_7C15 }
        var inserted = 0
        for key in keys where cache.insert(key) { inserted += 1 }
        #expect(inserted == keys.count)
        var again = cache.insert(keys[0])
        #expect(!again, "still cached at capacity")
        again = cache.insert(0xDEAD_BEEF)
        #expect(again, "one more: the cache starts again empty")
        again = cache.insert(keys[0])
        #expect(again, "so an old chain is validated again")
        again = cache.insert(keys[0])
        #expect(!again)
    }

    /// One task takes A, B (in `bMode`) and C (three chains, two the cache keeps: a chain head
    /// depends on nothing, and is not cached), then `fillers` chains of G and one more lock
    /// each, then A, B as a trylock and C again, then C and A.
    static func trylockChainMetAgain(fillers: Int, bMode: LockMode = .write) -> TraceBuilder {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "t1"
        trace.acquire("A")
        trace.acquire("B", mode: bMode)
        trace.acquire("C")
        for name in ["C", "B", "A"] { trace.release(name) }
        for filler in 0..<fillers { trace.nest("G", "F\(filler)") }
        trace.acquire("A")
        trace.acquire("B", mode: bMode, isTry: true)
        trace.acquire("C")
        for name in ["C", "B", "A"] { trace.release(name) }
        trace.acquire("C")
        trace.acquire("A")
        trace.release("A")
        trace.release("C")
        return trace
    }

    static func analyze(_ trace: TraceBuilder, chainCacheBound: Int) throws -> Analysis {
        var options = AnalysisOptions()
        options.chainCacheBound = chainCacheBound
        let analysis = Analysis(options: options)
        try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: "chains.xml")
        return analysis
    }

    /// A chain key holds each lock's class and read state, not its trylock (in lockdep as
    /// here), so the chain A, B, C met again with B a trylock is not validated again, and C
    /// gets no dependency on A, the lock below the trylock: the cycle C, A closes goes
    /// through B, as lockdep reports it. Past the cache's bound it started again empty, and
    /// the chain validated again adds A -> C: the same trace's cycle is then A -> C -> A
    /// (helper-84's trace, with a bound of 4 chains where the analysis's is 2^18; its fillers
    /// are chains of two locks since stop 55, heads not being cached).
    @Test func aChainValidatedAgainOnceTheCacheStartsAgainAddsTheDependencyPastATrylock() throws {
        // Two chains kept (A's alone is a head) and the trylock's (not validated, so not kept):
        // the cache never fills.
        let cached = try Self.analyze(Self.trylockChainMetAgain(fillers: 0), chainCacheBound: 4)
        #expect(cached.lockOrderEdge("A", "C") == nil)
        #expect(cached.findings.map(\.rule) == [.circularDependency])
        #expect(cached.findings.first?.locks == ["A", "B", "C"])

        let validatedAgain = try Self.analyze(Self.trylockChainMetAgain(fillers: 4), chainCacheBound: 4)
        #expect(validatedAgain.lockOrderEdge("A", "C") != nil)
        #expect(validatedAgain.findings.map(\.rule) == [.circularDependency])
        #expect(validatedAgain.findings.first?.locks == ["A", "C"])

        // Under the analysis's own bound, the same trace is the first one's.
        let underTheBound = try Self.analyze(Self.trylockChainMetAgain(fillers: 4), chainCacheBound: ChainKeySet.capacity)
        #expect(underTheBound.lockOrderEdge("A", "C") == nil)
        #expect(underTheBound.findings.map(\.rule) == [.circularDependency])
        #expect(underTheBound.findings.first?.locks == ["A", "B", "C"])
    }

    /// Chain heads do not fill the cache: with `fillers` of one lock each (heads, which depend
    /// on nothing), the chain A, B, C stays cached at a bound of 4, and C gets no dependency on
    /// A. (Until stop 55 heads were cached and filled it, as lockdep counts them among its
    /// chains, and the chain was validated again: the cycle was A -> C -> A.)
    @Test func chainHeadsDoNotFillTheCache() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "t1"
        trace.nest("A", "B", "C")
        for filler in 0..<8 { trace.nest("F\(filler)") }
        trace.acquire("A")
        trace.acquire("B", isTry: true)
        trace.acquire("C")
        for name in ["C", "B", "A"] { trace.release(name) }
        trace.nest("C", "A")
        let analysis = try Self.analyze(trace, chainCacheBound: 4)
        #expect(analysis.lockOrderEdge("A", "C") == nil)
        #expect(analysis.findings.map(\.rule) == [.circularDependency])
        #expect(analysis.findings.first?.locks == ["A", "B", "C"])
    }

    /// The same with B a recursive read: A -(ER)-> B -(SN)-> C is no strong path (an
    /// -(*R)-> edge followed by an -(S*)-> one), so while the chain is cached, C, A closes no
    /// cycle lockdep reports; validated again past the bound, A -> C makes one. The bound
    /// decides the verdict itself.
    @Test func pastTheBoundADependencyPastATrylockCanMakeACycle() throws {
        let cached = try Self.analyze(Self.trylockChainMetAgain(fillers: 4, bMode: .recursiveRead), chainCacheBound: 1 << 18)
        #expect(cached.lockOrderEdge("A", "C") == nil)
        #expect(cached.findings.isEmpty)

        let validatedAgain = try Self.analyze(Self.trylockChainMetAgain(fillers: 4, bMode: .recursiveRead), chainCacheBound: 4)
        #expect(validatedAgain.lockOrderEdge("A", "C") != nil)
        #expect(validatedAgain.findings.map(\.rule) == [.circularDependency])
        #expect(validatedAgain.findings.first?.locks == ["A", "C"])
    }
}

/// The cache is a trace's own: its table, grown with the trace's chains (4 MB once past 131k
/// of them), is let go when the trace's replay ends, before the graph checks that follow.
@Suite struct ChainCacheLifetimeTests {
    @Test func theTableGoesWhenTheTraceEnds() throws {
        let symbols = SymbolTable()
        let context = CheckerContext(symbols: symbols, classes: LockClassTable(), options: AnalysisOptions())
        let facts = GraphFactLog { ["t.xml"] }
        let checker = CircularDependencyChecker(graph: LockGraph(), facts: facts, context: context)
        let replay = ReplayEngine.forTests(symbols: symbols, cpus: 1, observers: [checker])
        let empty = checker.validatedChains.slotCount
        // 2,000 chains of two locks each, the first held throughout: the table grows past its
        // first size.
        var line = 0
        func apply(_ kind: EventKind) throws {
            line += 1
            try replay.apply(Event(kind: kind, cpu: 0, position: TracePosition(file: 0, line: line, column: 1, event: line)))
        }
        let held = LockRef(name: symbols.intern("held"))
        try apply(.acquire(held, mode: .write, isTry: false, irq: nil, bh: false, nest: nil))
        for index in 0..<2000 {
            let lock = LockRef(name: symbols.intern("lock\(index)"))
            try apply(.acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil))
            try apply(.release(lock, irq: nil, bh: false))
        }
        try apply(.release(held, irq: nil, bh: false))
        #expect(checker.validatedChains.slotCount >= 4 * empty)
        replay.finish()
        #expect(checker.validatedChains.slotCount == empty)
    }

    /// A chain head (a lock taken with nothing held) depends on nothing and is not cached:
    /// 2,000 locks taken alone leave the table at its first size.
    @Test func aChainHeadIsNotCached() throws {
        let symbols = SymbolTable()
        let context = CheckerContext(symbols: symbols, classes: LockClassTable(), options: AnalysisOptions())
        let checker = CircularDependencyChecker(graph: LockGraph(), facts: GraphFactLog { ["t.xml"] }, context: context)
        let replay = ReplayEngine.forTests(symbols: symbols, cpus: 1, observers: [checker])
        let empty = checker.validatedChains.slotCount
        for index in 0..<2000 {
            let lock = LockRef(name: symbols.intern("lock\(index)"))
            let at = { (event: Int) in TracePosition(file: 0, line: event + 1, column: 1, event: event) }
            try replay.apply(Event(
                kind: .acquire(lock, mode: .write, isTry: false, irq: nil, bh: false, nest: nil), cpu: 0, position: at(2 * index)))
            try replay.apply(Event(kind: .release(lock, irq: nil, bh: false), cpu: 0, position: at(2 * index + 1)))
        }
        #expect(checker.validatedChains.slotCount == empty)
    }

    /// The checker asks the engine for the hint that lets it prefetch a new chain's slots
    /// (`replay(_:prefetchFor:over:)`), which `.all` does not give: without it no result
    /// changes, and the cache's misses would come back unseen.
    @Test func theCheckerAsksForThePrefetchHint() {
        let context = CheckerContext(symbols: SymbolTable(), classes: LockClassTable(), options: AnalysisOptions())
        let checker = CircularDependencyChecker(graph: LockGraph(), facts: GraphFactLog { ["t.xml"] }, context: context)
        #expect(checker.observedEvents.contains(.prefetching))
        #expect(checker.observedEvents.contains(.acquiring))
    }
}
