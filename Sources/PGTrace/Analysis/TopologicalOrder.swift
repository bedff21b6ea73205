/// An incremental topological order of the lock-order graph's strongly connected components
/// (Pearce and Kelly's algorithm, as Abseil's GraphCycles and the tracing-mutex crate keep it;
/// components merged when an edge closes a cycle, as Haeupler et al. describe). It answers in
/// O(1) that no path can lead from one class to another, so that lockdep's searches are
/// skipped where they cannot succeed, and pruned to the classes that can lead to their target.
///
/// Invariant: for every edge between two components, the source's position is lower. So a
/// path from `a` to `b` in different components needs `position(a) < position(b)`. An edge
/// that agrees with the order costs O(1); one that does not reorders only the components
/// whose positions lie between its ends and that are reachable from them (the affected
/// region), and merges those on a new cycle into one component.
struct TopologicalOrder {
    /// Per class: the representative class of its component (always one step: members of a
    /// merged component are relabelled, the smaller into the larger).
    private var component: [Int32] = []
    /// Per representative: its position; `Int.min` for a class in no edge yet.
    private var position: [Int] = []
    /// Per representative: its classes (empty for a class that is not one).
    private var members: [[Int32]] = []
    /// Each class's distinct successors and predecessors.
    private var successors: [[Int32]] = []
    private var predecessors: [[Int32]] = []
    /// The positions handed out so far lie in lowest...highest.
    private var lowest = 0
    private var highest = 0
    // Search scratch space: visit marks by generation, and the two regions.
    private var visited: [UInt32] = []
    private var generation: UInt32 = 0
    private var stack: [Int32] = []
    private var forwardRegion: [Int32] = []
    private var backwardRegion: [Int32] = []
    private var slots: [Int] = []
    private var keyed: [(Int, Int32)] = []

    private mutating func grow(to node: Int) {
        while component.count <= node {
            component.append(Int32(component.count))
            position.append(.min)
            members.append([Int32(members.count)])
            successors.append([])
            predecessors.append([])
            visited.append(0)
        }
    }

    /// False when no path of the graph can lead from `from` to `to` (a class reaches itself).
    func mayReach(from: ClassID, to: ClassID) -> Bool {
        let from = Int(from), to = Int(to)
        guard from < component.count, to < component.count else { return from == to }
        let a = Int(component[from]), b = Int(component[to])
        if a == b { return true }
        return position[a] != .min && position[b] != .min && position[a] < position[b]
    }

    /// Whether a path leads from `from` to `to`, exactly: by the order where it can tell,
    /// else by a search of the classes between the two (kept for the `add` of the edge
    /// `to -> from` that usually follows, which needs the same search).
    mutating func reaches(from: ClassID, to: ClassID) -> Bool {
        guard mayReach(from: from, to: to) else { return false }
        let start = Int(component[Int(from)]), goal = Int(component[Int(to)])
        if start == goal { return true }
        var found: [Int32] = []
        swap(&found, &probe.region)
        collectRegion(from: start, forward: true, bound: position[goal], into: &found)
        swap(&found, &probe.region)
        probe.start = start
        probe.bound = position[goal]
        probe.edges = edgeCount
        return visited[goal] == generation
    }

    /// The last search `reaches` made: valid while no edge was added since.
    private var probe: (start: Int, bound: Int, edges: Int, region: [Int32]) = (-1, 0, -1, [])
    private var edgeCount = 0

    /// Adds the edge `from -> to` (once per distinct pair).
    mutating func add(from: ClassID, to: ClassID) {
        let u = Int(from), v = Int(to)
        grow(to: max(u, v))
        defer {
            successors[u].append(Int32(v))
            predecessors[v].append(Int32(u))
            edgeCount += 1
        }
        // A class in no edge yet has no other edge: any free position on the side of the
        // other end that agrees will do; next to it, where the rest of its order likely is.
        let uPlaced = position[Int(component[u])] != .min, vPlaced = position[Int(component[v])] != .min
        if !uPlaced && !vPlaced {
            highest += Self.spacing
            place(Int(component[u]), near: highest, step: 1)
        } else if !uPlaced {
            place(Int(component[u]), near: position[Int(component[v])] - 1, step: -1)
        }
        if !vPlaced { place(Int(component[v]), near: position[Int(component[u])] + 1, step: 1) }
        let cu = Int(component[u]), cv = Int(component[v])
        guard cu != cv, position[cu] > position[cv] else { return }
        reorder(source: cu, target: cv)
    }

    /// Room left between the positions first handed out, for classes placed next to them.
    private static let spacing = 1 << 20
    /// Positions taken (each component has its own).
    private var taken: Set<Int> = []

    /// Gives `node` the first free position from `start` on, stepping by `step`.
    private mutating func place(_ node: Int, near start: Int, step: Int) {
        var candidate = start
        while taken.contains(candidate) { candidate += step }
        position[node] = candidate
        taken.insert(candidate)
        highest = max(highest, candidate)
        lowest = min(lowest, candidate)
    }

    /// Pearce–Kelly for a new edge from component `source` to `target` placed before it.
    private mutating func reorder(source: Int, target: Int) {
        let upper = position[source], lower = position[target]
        // Scratch arrays taken out of self while self is worked on (their capacity kept).
        var forward: [Int32] = [], backward: [Int32] = [], slots: [Int] = []
        swap(&forward, &forwardRegion)
        swap(&backward, &backwardRegion)
        swap(&slots, &self.slots)
        defer {
            swap(&forward, &forwardRegion)
            swap(&backward, &backwardRegion)
            swap(&slots, &self.slots)
        }
        // The components reachable from the target up to the source's position, and those
        // reaching the source down to the target's: nothing else can change place.
        if probe.edges == edgeCount, probe.start == target, probe.bound == upper {
            swap(&forward, &probe.region)
        } else {
            collectRegion(from: target, forward: true, bound: upper, into: &forward)
        }
        collectRegion(from: source, forward: false, bound: lower, into: &backward)
        // The edge closes a cycle when the target reaches the source: the components on it
        // (reached from the target and reaching the source) become one.
        bumpGeneration()
        for node in backward { visited[Int(node)] = generation }
        let closesCycle = visited[target] == generation
        slots.removeAll(keepingCapacity: true)
        for node in forward { slots.append(position[Int(node)]) }
        for node in backward { slots.append(position[Int(node)]) }
        slots.sort()
        var cycle: [Int32] = []
        if closesCycle {
            // The cycle's components were counted twice.
            var previous = Int.min
            slots.removeAll { slot in
                defer { previous = slot }
                return slot == previous
            }
            cycle = forward.filter { visited[Int($0)] == generation }
            bumpGeneration()
            for node in cycle { visited[Int(node)] = generation }
            forward.removeAll { visited[Int($0)] == generation }
            backward.removeAll { visited[Int($0)] == generation }
        }
        sortByPosition(&forward)
        sortByPosition(&backward)
        // Those reaching the source first, in their order, then the cycle, then those reached
        // from the target: the former take the lowest slots, the latter the highest.
        for (index, node) in backward.enumerated() { position[Int(node)] = slots[index] }
        for (index, node) in forward.enumerated() { position[Int(node)] = slots[slots.count - forward.count + index] }
        if closesCycle {
            merge(cycle, at: slots[backward.count])
            // The cycle's other slots are free again.
            for index in (backward.count + 1)..<(slots.count - forward.count) { taken.remove(slots[index]) }
        }
    }

    /// Collects the components reachable from `start` (along edges, or against them) whose
    /// positions lie up to `bound` (forward) or down to it (backward), `start` included.
    private mutating func collectRegion(from start: Int, forward: Bool, bound: Int, into found: inout [Int32]) {
        bumpGeneration()
        found.removeAll(keepingCapacity: true)
        found.append(Int32(start))
        visited[start] = generation
        var next = 0
        while next < found.count {
            let node = Int(found[next])
            next += 1
            for member in members[node] {
                let neighbours = forward ? successors[Int(member)] : predecessors[Int(member)]
                for neighbour in neighbours {
                    let other = Int(component[Int(neighbour)])
                    guard visited[other] != generation else { continue }
                    let place = position[other]
                    guard forward ? place <= bound : place >= bound else { continue }
                    visited[other] = generation
                    found.append(Int32(other))
                }
            }
        }
    }

    /// Sorts components by position (through keys packed with them: no lookups while sorting).
    private mutating func sortByPosition(_ nodes: inout [Int32]) {
        var keyed: [(Int, Int32)] = []
        swap(&keyed, &self.keyed)
        keyed.removeAll(keepingCapacity: true)
        for node in nodes { keyed.append((position[Int(node)], node)) }
        keyed.sort { $0.0 < $1.0 }
        for index in nodes.indices { nodes[index] = keyed[index].1 }
        swap(&keyed, &self.keyed)
    }

    /// Makes the components of `cycle` one, at `slot`.
    private mutating func merge(_ cycle: [Int32], at slot: Int) {
        let root = Int(cycle.max { members[Int($0)].count < members[Int($1)].count }!)
        for node in cycle where Int(node) != root {
            for member in members[Int(node)] { component[Int(member)] = Int32(root) }
            members[root] += members[Int(node)]
            members[Int(node)] = []
            position[Int(node)] = .min
        }
        position[root] = slot
    }

    /// Whether the invariants hold (for tests): each component's position its own and taken,
    /// and every edge between components going up.
    var isConsistent: Bool {
        let placed = component.indices.filter { component[$0] == Int32($0) && position[$0] != .min }.map { position[$0] }
        guard Set(placed).count == placed.count, Set(placed) == taken else { return false }
        for (from, targets) in successors.enumerated() {
            for to in targets {
                let a = Int(component[from]), b = Int(component[Int(to)])
                if a != b, position[a] >= position[b] { return false }
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
