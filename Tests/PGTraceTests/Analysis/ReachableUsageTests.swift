import Testing

@testable import PGTrace

@Suite struct ReachableUsageTests {
    /// The usage of every class with a lock-order path to `id` (`.backward`) or that `id` has
    /// one to (`.forward`), and its own: by a search over the edges, each edge of the kind
    /// it was first added with (a later fact of another kind widens it, never retypes it).
    static func expected(
        _ id: Int, _ direction: LockGraph.Direction, edges: [(from: Int, to: Int, kind: DependencyKind)],
        usage: [LockUsage]
    ) -> LockUsage {
        var firstKind: [[Int]: DependencyKind] = [:]
        for edge in edges where firstKind[[edge.from, edge.to]] == nil { firstKind[[edge.from, edge.to]] = edge.kind }
        var seen: Set<Int> = [id], queue = [id], result = usage[id]
        while let node = queue.popLast() {
            for (ends, kind) in firstKind where kind == .lockOrder {
                let (from, to) = direction == .forward ? (ends[0], ends[1]) : (ends[1], ends[0])
                if from == node, seen.insert(to).inserted {
                    queue.append(to)
                    result.formUnion(usage[to])
                }
            }
        }
        return result
    }

    static let bits: [LockUsage.Bit] = LockUsage.IrqState.allCases.flatMap { state in
        [false, true].flatMap { enabled in [false, true].map { read in LockUsage.Bit(state, enabled: enabled, read: read) } }
    }

    @Test(arguments: 0..<60)
    func everyClassSeesTheUsageOfWhatItReachesByLockOrderEdges(seed: Int) {
        var random = SplitMix(state: UInt64(seed) &+ 900)
        let classes = 3 + random.next(20)
        let kinds: [DependencyKind] = [.lockOrder, .lockOrder, .lockOrder, .ipi, .kmap]
        // Usage bits and edges of every kind, in a random order, then the same again on a
        // graph built from the dependencies announced in advance (as the analysis rebuilds it).
        var steps: [(mark: (id: Int, bit: LockUsage.Bit)?, edge: (from: Int, to: Int, kind: DependencyKind)?)] = []
        for _ in 0..<(classes * 5) {
            if random.next(3) == 0 {
                steps.append(((random.next(classes), Self.bits[random.next(Self.bits.count)]), nil))
            } else {
                let (from, to) = (random.next(classes), random.next(classes))
                if from != to { steps.append((nil, (from, to, kinds[random.next(kinds.count)]))) }
            }
        }
        let edges = steps.compactMap(\.edge)
        for rebuilt in [false, true] {
            let graph = LockGraph()
            if rebuilt {
                graph.removeAll(expecting: edges.map { (from: ClassID($0.from), to: ClassID($0.to)) })
            }
            var usage = [LockUsage](repeating: [], count: classes)
            var added: [(from: Int, to: Int, kind: DependencyKind)] = []
            for step in steps {
                if let (id, bit) = step.mark {
                    _ = graph.mark(ClassID(id), bit, at: LockGraphSearchTests.site)
                    usage[id].formUnion(bit.mask)
                }
                if let edge = step.edge {
                    graph.add(
                        from: ClassID(edge.from), to: ClassID(edge.to), kind: edge.kind, types: [.en],
                        holderSite: LockGraphSearchTests.site, site: LockGraphSearchTests.site)
                    added.append(edge)
                }
                for id in 0..<classes {
                    for direction in [LockGraph.Direction.forward, .backward] {
                        let found = graph.reachableUsage(of: ClassID(id), direction: direction)
                        let wanted = Self.expected(id, direction, edges: added, usage: usage)
                        #expect(found == wanted, "seed \(seed) rebuilt \(rebuilt): class \(id) \(direction)")
                    }
                }
            }
            if rebuilt { graph.expectedDependenciesAdded() }
        }
    }
}
