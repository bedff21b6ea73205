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

    /// Adds the edge `from -> to` (once per distinct pair).
    mutating func add(from: ClassID, to: ClassID) {
        let u = Int(from), v = Int(to)
        grow(to: max(u, v))
        defer {
            successors[u].append(Int32(v))
            predecessors[v].append(Int32(u))
        }
        // A class in no edge yet has no other edge: put it at the end that agrees.
        if position[Int(component[u])] == .min {
            lowest -= 1
            position[Int(component[u])] = lowest
        }
        if position[Int(component[v])] == .min {
            highest += 1
            position[Int(component[v])] = highest
        }
        let cu = Int(component[u]), cv = Int(component[v])
        guard cu != cv, position[cu] > position[cv] else { return }
        reorder(source: cu, target: cv)
    }

    /// Pearce–Kelly for a new edge from component `source` to `target` placed before it.
    private mutating func reorder(source: Int, target: Int) {
        let upper = position[source], lower = position[target]
        // The components reachable from the target up to the source's position, and those
        // reaching the source down to the target's: nothing else can change place.
        forwardRegion = region(from: target, forward: true) { $0 <= upper }
        backwardRegion = region(from: source, forward: false) { $0 >= lower }
        // The edge closes a cycle when the target reaches the source: the components on it
        // (reached from the target and reaching the source) become one.
        bumpGeneration()
        for node in backwardRegion { visited[Int(node)] = generation }
        let closesCycle = visited[target] == generation
        var slots = (forwardRegion + backwardRegion).map { position[Int($0)] }
        slots.sort()
        var previous = Int.min
        slots.removeAll { slot in
            defer { previous = slot }
            return slot == previous
        }
        var cycle: [Int32] = []
        if closesCycle {
            cycle = forwardRegion.filter { visited[Int($0)] == generation }
            bumpGeneration()
            for node in cycle { visited[Int(node)] = generation }
            forwardRegion.removeAll { visited[Int($0)] == generation }
            backwardRegion.removeAll { visited[Int($0)] == generation }
        }
        forwardRegion.sort { position[Int($0)] < position[Int($1)] }
        backwardRegion.sort { position[Int($0)] < position[Int($1)] }
        // Those reaching the source first, in their order, then the cycle, then those reached
        // from the target: the former take the lowest slots, the latter the highest.
        for (index, node) in backwardRegion.enumerated() { position[Int(node)] = slots[index] }
        for (index, node) in forwardRegion.enumerated() {
            position[Int(node)] = slots[slots.count - forwardRegion.count + index]
        }
        if closesCycle { merge(cycle, at: slots[backwardRegion.count]) }
    }

    /// The components reachable from `start` (along edges or against them) whose positions
    /// `within` accepts, `start` included.
    private mutating func region(from start: Int, forward: Bool, within: (Int) -> Bool) -> [Int32] {
        bumpGeneration()
        var found: [Int32] = [Int32(start)]
        visited[start] = generation
        stack.removeAll(keepingCapacity: true)
        stack.append(Int32(start))
        while let node = stack.popLast() {
            for member in members[Int(node)] {
                for next in forward ? successors[Int(member)] : predecessors[Int(member)] {
                    let next = Int(component[Int(next)])
                    guard visited[next] != generation, within(position[next]) else { continue }
                    visited[next] = generation
                    found.append(Int32(next))
                    stack.append(Int32(next))
                }
            }
        }
        return found
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

    private mutating func bumpGeneration() {
        generation &+= 1
        if generation == 0 {
            for index in visited.indices { visited[index] = 0 }
            generation = 1
        }
    }
}
