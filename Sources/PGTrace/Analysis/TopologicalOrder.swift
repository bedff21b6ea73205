/// An incremental pseudo-topological order of the lock-order graph: a level per class that
/// never decreases along an edge (Bender, Fineman, Gilbert and Tarjan's algorithm for sparse
/// graphs, "A new approach to incremental cycle detection", 2015). It answers exactly, in
/// O(√E) amortized per new edge (O(E^1.5) over a whole analysis), whether a new dependency
/// closes a cycle, so that lockdep's strong-path search runs only when some path does; and it
/// prunes that search to the classes whose level allows them to reach its target.
///
/// Invariants: for every edge `x -> y`, `level(x) <= level(y)`; and `sameLevel[y]` holds every
/// `x` with an edge `x -> y` and `level(x) == level(y)`. So a path from `a` to `b` needs
/// `level(a) <= level(b)`, and one within a level is made of `sameLevel` edges. Unlike the
/// paper's setting, the lock-order graph may hold cycles (a deadlock reported, or one through
/// recursive reads that is none): an edge that closes one is added all the same, its classes
/// ending on one level.
///
/// When every edge is known before the first is checked (the graph checks run from the fact
/// log), the levels are kept only inside the whole graph's strongly connected components:
/// most edges join two components, close no cycle and cost nothing (`init(components:)`).
///
/// The algorithm's bound is for a graph without cycles. In one with a large cycle, every
/// class of it sits on one level, and an edge between two of them that the search back does
/// not settle within its √E steps raised the whole cycle a level, a pass over all its edges
/// (helper-138: 2,000 classes taken in random orders, 2.5 s at 40k events, 98 s at 240k, 69%
/// of it here). So classes an edge has shown to reach each other are kept together
/// (`together`, a union-find): an edge between two of them closes a cycle, and is not
/// ordered at all, as every path it opens runs through them already. Their level is one
/// (a cycle's classes share theirs, and a raise of one reaches all), so the levels still
/// bound every path of the whole graph, the edges not ordered included.
struct TopologicalOrder {
    /// Per class: its level (1 for a class in no edge yet). 32 bits: each edge ordered sets
    /// a level at most one past the others' (above or below), so after E of them every level
    /// is within 1 - E ... 1 + E: room for 2^31 - 2 edges ordered, as many as the graph,
    /// which numbers its edges in 32 bits, holds (8 bytes a class were 16 MB of two million).
    private var level: [Int32] = []
    /// Per class: whether it is in some edge.
    private var placed: [Bool] = []
    /// Per class: the classes its edges lead to, and its predecessors on its own level, each
    /// list a run of one buffer (`AdjacencyLists`): two arrays a class were two allocations
    /// for each class in a cycle, a quarter of what ordering 32k new classes cost.
    private var successors = AdjacencyLists()
    private var sameLevel = AdjacencyLists()
    private var edgeCount = 0
    // Search scratch space: visit marks by generation.
    private var visited: [UInt32] = []
    private var generation: UInt32 = 0
    private var stack: [Int32] = []
    /// An edge `reaches` added ahead of its `add`, and whether it closed a cycle.
    private var early: (from: Int, to: Int, closedCycle: Bool)?
    /// Per class, its parent among classes known to reach each other (itself for a root):
    /// two classes of one tree reach each other through ordered edges.
    private var together: [Int32] = []
    /// Per class, its strongly connected component in the whole graph, when every edge that
    /// will be added is known in advance (`StrongComponents`: -1 for a class in no edge, and
    /// an edge between components goes from the greater number to the lesser); empty when
    /// the graph grows as the replay learns it. With it, the levels order only the edges
    /// inside components: a path between two classes of one component never leaves it, and
    /// an edge between two components closes no cycle.
    private let component: [Int32]

    /// An order for a graph learnt edge by edge.
    init() { component = [] }

    /// An order for a graph whose every edge is known in advance, by the strongly connected
    /// component of each class in it (`StrongComponents.of`), with room for each class's
    /// edges and same-level predecessors (at most its degrees in the whole graph, which
    /// `LockGraph` has counted): the lists then never move as the checks add edges, and the
    /// per-class arrays never grow (on a trace of 16k two-class cycles, growing them was a
    /// fifth of what the order cost).
    init(components: [Int32], outDegrees: [Int32], inDegrees: [Int32]) {
        precondition(
            outDegrees.count == components.count && inDegrees.count == components.count,
            "an order of \(components.count) classes given degrees of \(outDegrees.count) and \(inDegrees.count)")
        component = components
        let nodeCount = components.count
        level = [Int32](repeating: 1, count: nodeCount)
        placed = [Bool](repeating: false, count: nodeCount)
        visited = [UInt32](repeating: 0, count: nodeCount)
        together = (0..<Int32(nodeCount)).map { $0 }
        successors.reserve(degrees: outDegrees)
        sameLevel.reserve(degrees: inDegrees)
    }

    /// How many edges the levels order (for tests: an edge between classes known to reach
    /// each other is not ordered).
    var orderedEdges: Int { edgeCount }

    /// Whether this is an order of known components (`init(components:)`).
    var isOfKnownComponents: Bool { !component.isEmpty }

    private func component(of node: Int) -> Int32 { node < component.count ? component[node] : -1 }

    /// Whether the levels leave the edge `u -> v` out: it joins two components of the whole
    /// graph, so it closes no cycle, and orders nothing a search inside a component needs.
    private func isBetweenComponents(_ u: Int, _ v: Int) -> Bool {
        guard !component.isEmpty else { return false }
        let cu = component(of: u)
        return cu < 0 || cu != component(of: v)
    }

    /// Gives classes up to `node` a level and lists (the per-class arrays and both lists
    /// always cover the same classes).
    @inline(__always)
    private mutating func grow(to node: Int) {
        assert(successors.nodeCount == level.count && sameLevel.nodeCount == level.count, "the lists cover other classes than the levels")
        if node >= level.count { growAll(to: node) }
    }

    /// Gives classes up to `node` a level of 1, no edge, and empty lists.
    private mutating func growAll(to node: Int) {
        while level.count <= node {
            together.append(Int32(level.count))
            level.append(1)
            placed.append(false)
            visited.append(0)
        }
        successors.grow(toInclude: node)
        sameLevel.grow(toInclude: node)
    }

    /// The root of `node`'s tree of classes known to reach each other (halving the path).
    private mutating func root(_ node: Int) -> Int {
        var node = node
        while Int(together[node]) != node {
            together[node] = together[Int(together[node])]
            node = Int(together[node])
        }
        return node
    }

    /// Whether an edge has shown that `u` and `v` reach each other.
    private mutating func areTogether(_ u: Int, _ v: Int) -> Bool {
        u < together.count && v < together.count && root(u) == root(v)
    }

    /// False when no path of the graph can lead from `from` to `to` (a class reaches itself).
    /// With known components, false when none can in the whole graph to come (of which the
    /// graph so far is a part).
    func mayReach(from: ClassID, to: ClassID) -> Bool {
        if from == to { return true }
        let a = Int(from), b = Int(to)
        if !component.isEmpty {
            let ca = component(of: a), cb = component(of: b)
            if ca < 0 || cb < 0 { return false }
            // Tarjan's numbering: a path between components goes down.
            if ca != cb { return ca > cb }
        }
        guard a < level.count, b < level.count, placed[a], placed[b] else { return false }
        return level[a] <= level[b]
    }

    /// Whether a path leads from `from` to `to`, exactly (a search of the classes whose level
    /// allows it). In an order of known components, only for two classes of one component
    /// (the levels hold no edge between components).
    mutating func reaches(from: ClassID, to: ClassID) -> Bool {
        assert(!isBetweenComponents(Int(from), Int(to)) || from == to, "reaches across components")
        guard mayReach(from: from, to: to) else { return false }
        return from == to || areTogether(Int(from), Int(to)) || searchForward(from: Int(from), to: Int(to))
    }

    /// Whether adding `from -> to` closes a cycle (whether `to` reaches `from`), exactly, as
    /// lockdep's check_noncircular asks before adding a dependency. The search that answers
    /// is the one adding the edge makes, so the edge is added at once; the `add` that follows
    /// finds it there. (An edge asked about and never added stays in the order: a path it
    /// would open is then only a search that finds nothing, never a wrong answer.)
    mutating func addClosingCycle(from: ClassID, to: ClassID) -> Bool {
        let u = Int(from), v = Int(to)
        if u == v { return true }
        if isBetweenComponents(u, v) { return false }
        if let early, early.from == u, early.to == v { return early.closedCycle }
        if areTogether(u, v) {
            early = (u, v, true)
            return true
        }
        if u < successors.nodeCount, successors.contains(Int32(v), in: u) { return reaches(from: to, to: from) }
        let closedCycle = insert(from: u, to: v)
        early = (u, v, closedCycle)
        return closedCycle
    }

    /// Adds the edge `from -> to` (once per distinct pair).
    mutating func add(from: ClassID, to: ClassID) {
        let u = Int(from), v = Int(to)
        // A class's edge to itself is a cycle of its own, and orders nothing.
        guard u != v, !isBetweenComponents(u, v) else { return }
        if let early, early.from == u, early.to == v {
            self.early = nil
            return
        }
        if areTogether(u, v) { return }
        // An edge `addClosingCycle` added for a dependency that was then not added, and is now.
        if u < successors.nodeCount, successors.contains(Int32(v), in: u) { return }
        _ = insert(from: u, to: v)
    }

    /// Inserts `u -> v`; whether it closed a cycle (whether `v` reached `u`), in which case
    /// `u` and `v` are kept together from now on.
    private mutating func insert(from u: Int, to v: Int) -> Bool {
        let closedCycle = order(from: u, to: v)
        if closedCycle { together[root(u)] = Int32(root(v)) }
        return closedCycle
    }

    /// Orders `u -> v` (Bender, Fineman, Gilbert and Tarjan's insertion); whether it closed a
    /// cycle.
    private mutating func order(from u: Int, to v: Int) -> Bool {
        grow(to: max(u, v))
        // A class in no edge yet has no order to keep: its level is where this edge goes up
        // (a new lock taken under a known one, or a known one under a new first lock).
        if !placed[v] {
            level[v] = level[u] + 1
        } else if !placed[u] {
            level[u] = level[v] - 1
        }
        placed[u] = true
        placed[v] = true
        edgeCount += 1
        defer { successors.append(Int32(v), to: u) }
        // Step 1: an edge that goes up needs nothing.
        if level[u] < level[v] { return false }
        // Step 2: search back from u along its own level, up to √E edges.
        let limit = max(8, Int(Double(edgeCount).squareRoot()))
        bumpGeneration()
        let backward = generation
        visited[u] = backward
        stack.removeAllKeepingRoom()
        stack.append(Int32(u))
        var traversed = 0
        var limited = false
        search: while let node = stack.popLast() {
            for position in 0..<sameLevel.count(of: Int(node)) {
                let previous = sameLevel[Int(node), position]
                traversed += 1
                if Int(previous) == v {
                    // v reaches u within their level: a cycle, the levels stay.
                    sameLevel.append(Int32(u), to: v)
                    return true
                }
                if visited[Int(previous)] != backward {
                    visited[Int(previous)] = backward
                    stack.append(previous)
                }
                if traversed >= limit {
                    limited = true
                    break search
                }
            }
        }
        if !limited, level[v] == level[u] {
            sameLevel.append(Int32(u), to: v)
            return false
        }
        // Step 3: raise v (above u if the search back was cut short, to u's level otherwise),
        // then whatever v leads to that is now below its predecessor; a class reached that
        // was found reaching u closes a cycle.
        if limited {
            bumpGeneration()
            visited[u] = generation
        }
        let reachesU = generation
        level[v] = limited ? level[u] + 1 : level[u]
        sameLevel.removeAll(of: v)
        var closedCycle = false
        stack.removeAllKeepingRoom()
        stack.append(Int32(v))
        while let node = stack.popLast() {
            let x = Int(node)
            for position in 0..<successors.count(of: x) {
                let y = Int(successors[x, position])
                if visited[y] == reachesU { closedCycle = true }
                if level[x] == level[y] {
                    sameLevel.append(Int32(x), to: y)
                } else if level[x] > level[y] {
                    level[y] = level[x]
                    sameLevel.removeAll(of: y)
                    sameLevel.append(Int32(x), to: y)
                    stack.append(Int32(y))
                }
            }
        }
        if level[u] == level[v] { sameLevel.append(Int32(u), to: v) }
        return closedCycle || visited[v] == reachesU
    }

    /// A plain search from `start` for `goal` through the classes whose level allows it.
    private mutating func searchForward(from start: Int, to goal: Int) -> Bool {
        bumpGeneration()
        visited[start] = generation
        stack.removeAllKeepingRoom()
        stack.append(Int32(start))
        while let node = stack.popLast() {
            for position in 0..<successors.count(of: Int(node)) {
                let next = successors[Int(node), position]
                let y = Int(next)
                if y == goal { return true }
                guard visited[y] != generation, level[y] <= level[goal] else { continue }
                visited[y] = generation
                stack.append(next)
            }
        }
        return false
    }

    /// Whether the invariants hold (for tests): every edge goes up or along its level, and
    /// every edge along a level is listed.
    var isConsistent: Bool {
        for from in 0..<successors.nodeCount {
            for position in 0..<successors.count(of: from) {
                let y = Int(successors[from, position])
                if level[from] > level[y] { return false }
                if level[from] == level[y], !sameLevel.contains(Int32(from), in: y) { return false }
            }
        }
        for to in 0..<sameLevel.nodeCount {
            for position in 0..<sameLevel.count(of: to) {
                let from = sameLevel[to, position]
                if level[Int(from)] != level[to] || !successors.contains(Int32(to), in: Int(from)) { return false }
            }
        }
        return true
    }

    private mutating func bumpGeneration() {
        generation &+= 1
        if generation == 0 {
            for index in visited.indices { visited[index] = 0 }
            generation = 1
        }
    }
}
