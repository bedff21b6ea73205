import Testing

@testable import PGTrace

@Suite struct AdjacencyListsTests {
    /// What the lists hold, read back through their own interface.
    static func contents(_ lists: AdjacencyLists) -> [[Int32]] {
        (0..<lists.nodeCount).map { node in (0..<lists.count(of: node)).map { lists[node, $0] } }
    }

    /// Appends `count` random numbers, each to the node `node` draws, to `lists` and to the
    /// arrays `model` alike.
    static func appendRandomly(
        _ count: Int, to lists: inout AdjacencyLists, and model: inout [[Int32]], _ random: inout SplitMix,
        node: (inout SplitMix) -> Int
    ) {
        for _ in 0..<count {
            let node = node(&random)
            let value = Int32(truncatingIfNeeded: random.next())
            lists.append(value, to: node)
            model[node].append(value)
        }
    }

    @Test func listsKeepTheOrderOfTheirAppendsWhenTheyMove() {
        var lists = AdjacencyLists()
        // Node 2 outgrows its room three times while nodes 0 and 5 are appended to between.
        for value in Int32(0)..<9 {
            lists.append(value, to: 2)
            lists.append(100 + value, to: value % 2 == 0 ? 0 : 5)
        }
        #expect(lists.nodeCount == 6)
        #expect(Self.contents(lists) == [[100, 102, 104, 106, 108], [], Array(0..<9), [], [], [101, 103, 105, 107]])
    }

    @Test(arguments: 0..<40)
    func randomAppendsReadBackAsArraysWouldHoldThem(seed: Int) {
        var random = SplitMix(state: UInt64(seed) &+ 11)
        let nodes = 1 + random.next(60)
        var model = [[Int32]](repeating: [], count: nodes)
        var lists = AdjacencyLists()
        // Half the seeds reserve first, from degrees that are right, short or over.
        if seed % 2 == 0 {
            var degrees = [Int32](repeating: 0, count: nodes)
            for node in 0..<nodes { degrees[node] = Int32(random.next(6)) }
            lists.reserve(degrees: degrees)
            #expect(lists.nodeCount == nodes)
            #expect(lists.placesTaken == Int(degrees.reduce(0, +)))
        } else {
            lists.grow(toInclude: nodes - 1)
        }
        Self.appendRandomly(random.next(400), to: &lists, and: &model, &random) { $0.next(nodes) }
        #expect(Self.contents(lists) == model, "seed \(seed)")
    }

    @Test(arguments: 0..<6)
    func manyRandomAppendsReadBackAfterThePackings(seed: Int) {
        var random = SplitMix(state: UInt64(seed) &+ 4242)
        let nodes = 500 + random.next(2500)
        var model = [[Int32]](repeating: [], count: nodes)
        var lists = AdjacencyLists()
        if seed % 2 == 1 {
            // Room reserved for a few, then far more appended: reserved runs move and are packed.
            lists.reserve(degrees: (0..<nodes).map { _ in Int32(random.next(4)) })
        }
        // Skewed: a tenth of the nodes take half the appends.
        Self.appendRandomly(60_000, to: &lists, and: &model, &random) { random in
            random.next(2) == 0 ? random.next(nodes / 10) : random.next(nodes)
        }
        #expect(Self.contents(lists) == model, "seed \(seed)")
        #expect(lists.placesTaken <= 2 * 60_000 + 60_000 / 2 + 4 * nodes, "seed \(seed): \(lists.placesTaken) places")
    }

    @Test func listsReservedFromTheirDegreesNeverMove() {
        var lists = AdjacencyLists()
        let degrees: [Int32] = [3, 0, 1, 7, 2]
        lists.reserve(degrees: degrees)
        for (node, degree) in degrees.enumerated() {
            for value in 0..<degree { lists.append(value, to: node) }
        }
        #expect(lists.placesTaken == 13, "each list filled its own room")
        #expect(Self.contents(lists) == [[0, 1, 2], [], [0], Array(0..<7), [0, 1]])
        lists.append(9, to: 1)
        #expect(lists.placesTaken == 15, "a list past its room moves to the end, with room for two")
        #expect(Self.contents(lists)[1] == [9])
    }

    @Test func aGrowingListLeavesItsFormerRoomBehind() {
        var lists = AdjacencyLists()
        for value in Int32(0)..<1025 { lists.append(value, to: 0) }
        // Rooms of 2, 4, ..., 2048: 4094 places for 1025 numbers.
        #expect(lists.placesTaken == 4094)
        #expect(lists.placesTaken <= 4 * 1025)
        #expect(Self.contents(lists)[0] == Array(0..<1025))
    }

    @Test func listsGrowingTogetherArePackedDownOnceAQuarterOfTheBufferIsLeftBehind() {
        // 300 lists grown a number at a time in turn, as a timeline grows a dense graph: each
        // moves at 2, 4, ..., 32 numbers, and every list moves before any moves again, so
        // no place left behind could be reused as it is (18,600 of them by the end).
        var lists = AdjacencyLists()
        var model = [[Int32]](repeating: [], count: 300)
        for round in Int32(0)..<64 {
            for node in 0..<300 {
                lists.append(round * 1000 + Int32(node), to: node)
                model[node].append(round * 1000 + Int32(node))
            }
        }
        #expect(Self.contents(lists) == model)
        // Each list has room for 64: 19,200 in all, and at most a quarter more left behind.
        #expect(lists.placesTaken <= 19_200 + 19_200 / 4)
        #expect(lists.placesTaken >= 19_200)
    }

    /// The order's lists of same-level predecessors are emptied and refilled as classes move
    /// up (`TopologicalOrder`): an emptied list keeps its room and its place, reads as empty,
    /// takes appends again, and the lists read back as arrays would hold them, packings and
    /// all; `contains` sees a list's present numbers only.
    @Test(arguments: 0..<8)
    func listsEmptiedAndRefilledReadBackAsArrays(seed: Int) {
        var random = SplitMix(state: UInt64(seed) &+ 77)
        let nodes = 50 + random.next(400)
        var model = [[Int32]](repeating: [], count: nodes)
        var lists = AdjacencyLists()
        lists.grow(toInclude: nodes - 1)
        for round in 0..<40 {
            Self.appendRandomly(500, to: &lists, and: &model, &random) { $0.next(nodes) }
            for _ in 0..<(nodes / 4) {
                let node = random.next(nodes)
                let before = lists.placesTaken
                lists.removeAll(of: node)
                model[node].removeAll()
                #expect(lists.placesTaken == before && lists.count(of: node) == 0)
            }
            #expect(Self.contents(lists) == model, "seed \(seed), round \(round)")
        }
        for node in 0..<nodes {
            for value in model[node].prefix(3) { #expect(lists.contains(value, in: node)) }
        }
        // A number appended and then emptied away is not seen, though its place still holds it.
        lists.removeAll(of: 0)
        lists.append(-5, to: 0)
        lists.removeAll(of: 0)
        #expect(!lists.contains(-5, in: 0))
        #expect(lists.count(of: 0) == 0)
    }

    @Test func removingAllLeavesNoListsAndAllowsAReserve() {
        var lists = AdjacencyLists()
        lists.append(1, to: 3)
        lists.removeAll()
        #expect(lists.nodeCount == 0 && lists.placesTaken == 0)
        lists.reserve(degrees: [1, 1])
        lists.append(4, to: 1)
        #expect(Self.contents(lists) == [[], [4]])
    }
}
