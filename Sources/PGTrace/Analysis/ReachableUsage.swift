/// For each lock class, the irq usage bits of the classes before it and after it in the
/// lock-order graph (along any path, strong or not): a superset of what lockdep's usage
/// searches can find there. When it shows no bit a search wants, the search cannot succeed
/// and is skipped, and a search visits only classes from which a wanted bit can be reached.
///
/// Each class's sets only grow, a bit at a time, and a bit is passed on only to classes
/// that lack it: over a whole analysis each edge carries each of the 8 bits at most once
/// in each direction.
struct ReachableUsage {
    /// Per class: the usage of the classes with a path to it, and of those it has a path to.
    private(set) var before: [LockUsage] = []
    private(set) var after: [LockUsage] = []
    private var successors = AdjacencyLists()
    private var predecessors = AdjacencyLists()
    private var pending: [(node: Int32, bits: LockUsage)] = []

    private mutating func grow(to node: Int) {
        guard before.count <= node else { return }
        before.grow(toInclude: node, filling: [])
        after.grow(toInclude: node, filling: [])
        successors.grow(toInclude: node)
        predecessors.grow(toInclude: node)
    }

    func before(_ id: ClassID) -> LockUsage { Int(id) < before.count ? before[Int(id)] : [] }
    func after(_ id: ClassID) -> LockUsage { Int(id) < after.count ? after[Int(id)] : [] }

    /// Room for the edges to come, as `AdjacencyLists.reserve(degrees:)`: node `n` will have
    /// at most `successors[n]` edges from it and `predecessors[n]` to it. Only before any.
    mutating func reserve(successors: [Int32], predecessors: [Int32]) {
        self.successors.reserve(degrees: successors)
        self.predecessors.reserve(degrees: predecessors)
        grow(to: max(successors.count, predecessors.count) - 1)
    }

    /// `id` got `bits` of usage: the classes after it now have them before, and the reverse.
    mutating func marked(_ id: ClassID, _ bits: LockUsage) {
        grow(to: Int(id))
        spread(bits, from: Int(id), forward: true)
        spread(bits, from: Int(id), forward: false)
    }

    /// A new lock-order edge `from -> to`, `usage` giving each class's own bits.
    mutating func added(from: ClassID, to: ClassID, usage: (ClassID) -> LockUsage) {
        let u = Int(from), v = Int(to)
        grow(to: max(u, v))
        successors.append(Int32(v), to: u)
        predecessors.append(Int32(u), to: v)
        pass(before[u].union(usage(from)), to: v, forward: true)
        pass(after[v].union(usage(to)), to: u, forward: false)
    }

    /// Passes `bits` on from `node` to the classes after it (or before it).
    private mutating func spread(_ bits: LockUsage, from node: Int, forward: Bool) {
        for position in 0..<(forward ? successors.count(of: node) : predecessors.count(of: node)) {
            pass(bits, to: Int(forward ? successors[node, position] : predecessors[node, position]), forward: forward)
        }
    }

    /// Gives `node` the bits of `bits` it lacks, and the classes after (or before) it likewise.
    private mutating func pass(_ bits: LockUsage, to node: Int, forward: Bool) {
        pending.removeAll(keepingCapacity: true)
        pending.append((Int32(node), bits))
        while let (node, bits) = pending.popLast() {
            let node = Int(node)
            let known = forward ? before[node] : after[node]
            let new = bits.subtracting(known)
            guard !new.isEmpty else { continue }
            if forward { before[node].formUnion(new) } else { after[node].formUnion(new) }
            for position in 0..<(forward ? successors.count(of: node) : predecessors.count(of: node)) {
                pending.append((forward ? successors[node, position] : predecessors[node, position], new))
            }
        }
    }
}
