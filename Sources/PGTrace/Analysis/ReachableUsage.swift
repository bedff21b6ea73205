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
    private var successors: [[Int32]] = []
    private var predecessors: [[Int32]] = []
    private var pending: [(node: Int32, bits: LockUsage)] = []

    private mutating func grow(to node: Int) {
        while before.count <= node {
            before.append([])
            after.append([])
            successors.append([])
            predecessors.append([])
        }
    }

    func before(_ id: ClassID) -> LockUsage { Int(id) < before.count ? before[Int(id)] : [] }
    func after(_ id: ClassID) -> LockUsage { Int(id) < after.count ? after[Int(id)] : [] }

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
        successors[u].append(Int32(v))
        predecessors[v].append(Int32(u))
        pass(before[u].union(usage(from)), to: v, forward: true)
        pass(after[v].union(usage(to)), to: u, forward: false)
    }

    /// Passes `bits` on from `node` to the classes after it (or before it).
    private mutating func spread(_ bits: LockUsage, from node: Int, forward: Bool) {
        for next in forward ? successors[node] : predecessors[node] { pass(bits, to: Int(next), forward: forward) }
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
            for next in forward ? successors[node] : predecessors[node] { pending.append((next, new)) }
        }
    }
}
