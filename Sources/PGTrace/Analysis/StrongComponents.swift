/// The strongly connected components of a directed graph given by its edges (Tarjan's
/// algorithm, without recursion: a graph of 100k classes would overflow a thread's stack).
///
/// Why: when the graph checks run from the fact log, every dependency they will add is known
/// before the first is checked. A new dependency `u -> v` closes a cycle only if `v` reaches
/// `u`, which puts both in one component of the whole graph, and every path between two
/// classes of one component stays inside it. So the incremental order (`TopologicalOrder`)
/// needs only the edges inside components, and a dependency between two components is
/// answered "no cycle" without a search.
enum StrongComponents {
    /// Per node of `0..<outDegrees.count`: its component, numbered in the order Tarjan's
    /// algorithm completes them, so that an edge between two components goes from the
    /// greater number to the lesser; -1 for a node in no edge. `outDegrees` says how many of
    /// `edges` leave each node (the caller has counted them, in a walk of its own), and
    /// `edges` is read once, from its start.
    static func of<Edges: Sequence>(outDegrees: [Int32], edges: Edges) -> [Int32] where Edges.Element == (from: Int32, to: Int32) {
        let nodeCount = outDegrees.count
        // The edges by source, each node's targets in one run.
        var targets = AdjacencyLists()
        targets.reserve(degrees: outDegrees)
        var inEdge = [Bool](repeating: false, count: nodeCount)
        var read = 0
        for edge in edges {
            targets.append(edge.to, to: Int(edge.from))
            inEdge[Int(edge.from)] = true
            inEdge[Int(edge.to)] = true
            read += 1
        }
        // A walk that gave fewer edges than were counted (a sequence read once, whose second
        // walk is empty) would leave classes out of their components, and the cycle checks
        // would then miss cycles through them without a word.
        let counted = outDegrees.reduce(0) { $0 + Int($1) }
        precondition(read == counted, "the edges walked again were \(read), not the \(counted) counted")

        var component = [Int32](repeating: -1, count: nodeCount)
        var index = [Int32](repeating: -1, count: nodeCount)
        var low = [Int32](repeating: 0, count: nodeCount)
        var onStack = [Bool](repeating: false, count: nodeCount)
        var stack: [Int32] = []
        // The depth-first search's own stack: a node and the place in its list of the next
        // edge to follow.
        var calls: [(node: Int32, next: Int32)] = []
        var counter: Int32 = 0
        var components: Int32 = 0

        func visit(_ node: Int32) {
            index[Int(node)] = counter
            low[Int(node)] = counter
            counter += 1
            stack.append(node)
            onStack[Int(node)] = true
            calls.append((node, 0))
        }

        for root in 0..<nodeCount where inEdge[root] && index[root] < 0 {
            visit(Int32(root))
            while let (node, next) = calls.last {
                let v = Int(node)
                if Int(next) < targets.count(of: v) {
                    calls[calls.count - 1].next += 1
                    let w = Int(targets[v, Int(next)])
                    if index[w] < 0 {
                        visit(Int32(w))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                    continue
                }
                calls.removeLast()
                if let parent = calls.last { low[Int(parent.node)] = min(low[Int(parent.node)], low[v]) }
                if low[v] == index[v] {
                    while let member = stack.popLast() {
                        onStack[Int(member)] = false
                        component[Int(member)] = components
                        if member == node { break }
                    }
                    components += 1
                }
            }
        }
        return component
    }
}
