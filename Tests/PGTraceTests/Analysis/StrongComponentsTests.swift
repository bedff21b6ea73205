import Testing

@testable import PGTrace

@Suite struct StrongComponentsTests {
    @Test func cyclesShareAComponentAndEdgesBetweenComponentsGoDown() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 <-> 4, 6 -> 6; 5 is in no edge.
        let edges: [(from: Int32, to: Int32)] = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 3), (6, 6)]
        let component = StrongComponents.of(nodeCount: 7, edges: edges)
        #expect(component[0] == component[1] && component[1] == component[2])
        #expect(component[3] == component[4])
        #expect(component[0] != component[3])
        #expect(component[0] > component[3], "the edge 2 -> 3 goes from the greater number to the lesser")
        #expect(component[5] == -1)
        #expect(component[6] >= 0 && component[6] != component[0] && component[6] != component[3])
    }

    @Test(arguments: 0..<100)
    func componentsAreTheClassesThatReachEachOther(seed: Int) {
        var random = SplitMix(state: UInt64(seed) &+ 77)
        let count = 2 + random.next(25)
        var edges: [(from: Int32, to: Int32)] = []
        for _ in 0..<random.next(3 * count) {
            edges.append((Int32(random.next(count)), Int32(random.next(count))))
        }
        let component = StrongComponents.of(nodeCount: count, edges: edges)
        let reach = LockGraphSearchTests.reachability(edges.map { (Int($0.from), Int($0.to)) }, classes: count)
        let inEdge = Set(edges.flatMap { [Int($0.from), Int($0.to)] })
        for a in 0..<count {
            #expect((component[a] >= 0) == inEdge.contains(a), "seed \(seed): \(a)")
            for b in 0..<count where a != b && inEdge.contains(a) && inEdge.contains(b) {
                #expect((component[a] == component[b]) == (reach[a][b] && reach[b][a]), "seed \(seed): \(a), \(b) in \(edges)")
            }
        }
        for edge in edges where component[Int(edge.from)] != component[Int(edge.to)] {
            #expect(component[Int(edge.from)] > component[Int(edge.to)], "seed \(seed): \(edge)")
        }
    }

    /// A search without recursion: a chain of 200k classes, and the same closed into one
    /// cycle, would overflow a thread's stack otherwise.
    @Test func aLongChainAndALongCycle() {
        let count = 200_000
        var edges = (0..<(count - 1)).map { (from: Int32($0), to: Int32($0 + 1)) }
        let chain = StrongComponents.of(nodeCount: count, edges: edges)
        #expect(Set(chain).count == count)
        #expect(chain[0] > chain[count - 1])
        edges.append((Int32(count - 1), 0))
        let cycle = StrongComponents.of(nodeCount: count, edges: edges)
        #expect(Set(cycle) == [cycle[0]])
    }
}
