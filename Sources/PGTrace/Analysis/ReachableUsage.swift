/// For each lock class, the irq usage bits of the classes before it and after it in the
/// lock-order graph (along any path, strong or not): a superset of what lockdep's usage
/// searches can find there. When it shows no bit a search wants, the search cannot succeed
/// and is skipped, and a search visits only classes from which a wanted bit can be reached.
///
/// Each class's sets only grow, a bit at a time, and a bit is passed on only to classes
/// that lack it: over a whole analysis each edge carries each of the 8 bits at most once
/// in each direction. The edges are the graph's own (`LockOrderNeighbours`): the sets are
/// the same whatever order they are followed in, and the graph need not keep its edges
/// twice (8 bytes a dependency).
struct ReachableUsage {
    /// Per class: the usage of the classes with a path to it, and of those it has a path to.
    private(set) var before: [LockUsage] = []
    private(set) var after: [LockUsage] = []
    private var pending: [(node: Int32, bits: LockUsage)] = []

    private mutating func grow(to node: Int) {
        before.grow(toInclude: node, filling: [])
        after.grow(toInclude: node, filling: [])
    }

    func before(_ id: ClassID) -> LockUsage { Int(id) < before.count ? before[Int(id)] : [] }
    func after(_ id: ClassID) -> LockUsage { Int(id) < after.count ? after[Int(id)] : [] }

    /// `id` got `bits` of usage: the classes after it in `graph` now have them before, and the
    /// reverse.
    mutating func marked<Graph: LockOrderNeighbours>(_ id: ClassID, _ bits: LockUsage, in graph: Graph) {
        grow(to: Int(id))
        spread(bits, from: Int(id), forward: true, in: graph)
        spread(bits, from: Int(id), forward: false, in: graph)
    }

    /// `graph` has a new lock-order edge `from -> to`, whose classes' own bits are `fromUsage`
    /// and `toUsage` (values, not a function that gives them: a closure over the graph
    /// retained and released it at each of a million edges).
    mutating func added<Graph: LockOrderNeighbours>(
        from: ClassID, to: ClassID, fromUsage: LockUsage, toUsage: LockUsage, in graph: Graph
    ) {
        let u = Int(from), v = Int(to)
        grow(to: max(u, v))
        pass(before[u].union(fromUsage), to: v, forward: true, in: graph)
        pass(after[v].union(toUsage), to: u, forward: false, in: graph)
    }

    /// Passes `bits` on from `node` to the classes after it (or before it).
    private mutating func spread<Graph: LockOrderNeighbours>(_ bits: LockUsage, from node: Int, forward: Bool, in graph: Graph) {
        graph.forEachLockOrderNeighbour(of: node, after: forward) { next in
            pass(bits, to: next, forward: forward, in: graph)
        }
    }

    /// Gives `node` the bits of `bits` it lacks, and the classes after (or before) it likewise.
    private mutating func pass<Graph: LockOrderNeighbours>(_ bits: LockUsage, to node: Int, forward: Bool, in graph: Graph) {
        // Nothing `node` lacks, as for most new edges (most classes have no usage bit to pass
        // on): no walk begins.
        if bits.subtracting(forward ? before[node] : after[node]).isEmpty { return }
        assert(pending.isEmpty, "a walk left classes to pass bits on to")
        pending.append((Int32(node), bits))
        while let (node, bits) = pending.popLast() {
            let node = Int(node)
            let known = forward ? before[node] : after[node]
            let new = bits.subtracting(known)
            guard !new.isEmpty else { continue }
            if forward { before[node].formUnion(new) } else { after[node].formUnion(new) }
            graph.forEachLockOrderNeighbour(of: node, after: forward) { next in
                pending.append((Int32(next), new))
            }
        }
    }
}

/// The lock-order edges `ReachableUsage` follows: the graph's.
protocol LockOrderNeighbours {
    /// Calls `body` with each class a lock-order edge leads to from `node` (`after`), or
    /// from which one leads to it.
    func forEachLockOrderNeighbour(of node: Int, after: Bool, _ body: (Int) -> Void)
}
