/// A list of numbers per node of a graph (its edges or its neighbours), all in one buffer:
/// each node's list is a run of `storage`, in the order its numbers were appended.
///
/// Why: an array per class was an allocation per class and direction (four per class
/// between `LockGraph` and `ReachableUsage`: 400k of them at 100k classes; two more in
/// `TopologicalOrder`), each grown by
/// doubling and retained whenever it was read. When the graph is built again from known
/// dependencies, every run is made at once with room for its node's degree
/// (`reserve(degrees:)`), so no list moves. A list that outgrows its room (a graph still
/// growing: the timeline, several traces out of order) moves to the end of the buffer with
/// twice the room, leaving its old place unused; once the unused places are a quarter of
/// the room the lists have, the lists are packed down in place (`compact`), so the buffer
/// holds at most 1.25 times their room, which is at most twice what they hold (arrays grown
/// by doubling: twice, and some 48 bytes an array).
struct AdjacencyLists {
    /// Where a node's list is: `storage[start ..< start + count]`, with room up to `capacity`.
    private struct Run {
        var start: Int32
        var count: Int32
        var capacity: Int32
    }

    private var storage: [Int32] = []
    private var runs: [Run] = []
    /// Places in `storage` left behind by lists that moved.
    private var unused = 0

    /// How many nodes have a list (empty or not).
    var nodeCount: Int { runs.count }

    /// How many places the buffer has given out, to lists or left unused.
    var placesTaken: Int { storage.count }

    /// How many numbers `node`'s list holds.
    func count(of node: Int) -> Int { Int(runs[node].count) }

    /// Number `position` of `node`'s list, in the order they were appended.
    subscript(node: Int, position: Int) -> Int32 {
        let run = runs[node]
        precondition(position >= 0 && position < Int(run.count), "adjacency position out of range")
        return storage[Int(run.start) + position]
    }

    /// Gives nodes up to `node` an empty list.
    mutating func grow(toInclude node: Int) {
        runs.grow(toInclude: node, filling: Run(start: 0, count: 0, capacity: 0))
    }

    /// Empty lists for nodes `0 ..< degrees.count`, node `n`'s with room for `degrees[n]`
    /// numbers, in one buffer of their sum; the lists must all be empty.
    mutating func reserve(degrees: [Int32]) {
        precondition(storage.isEmpty && runs.allSatisfy { $0.count == 0 }, "reserve(degrees:) on lists in use")
        var runs: [Run] = []
        runs.reserveCapacity(degrees.count)
        var start = 0
        for degree in degrees {
            runs.append(Run(start: Self.offset(start), count: 0, capacity: degree))
            start += Int(degree)
        }
        // Left unwritten: only a list's first `count` places are ever read, each written
        // first, and room never used (degrees count a dependency once per fact, which may be
        // more than its edges) is then never touched, so it takes no memory.
        let total = Int(Self.offset(start))
        storage = [Int32](unsafeUninitializedCapacity: total) { _, initialized in initialized = total }
        self.runs = runs
    }

    /// Appends `value` to `node`'s list (giving nodes up to it a list first).
    @inline(__always)
    mutating func append(_ value: Int32, to node: Int) {
        // Where the list has room, as it always has in a graph built again from known
        // dependencies: a write of the value and of the count. (Through the general path, with
        // its growth and packing checks, an append took some 100 instructions: 1.25M of them
        // in the checks of 125k two-class cycles.)
        if node < runs.count {
            let run = runs[node]
            if run.count < run.capacity {
                storage[Int(run.start) + Int(run.count)] = value
                runs[node].count = run.count + 1
                return
            }
        }
        appendMoving(value, to: node)
    }

    /// Appends `value` to `node`'s list, which is full or not yet made (a list of no room):
    /// the list moves to the end of the buffer with twice the room (two for a new list), and
    /// its old place stays unused.
    private mutating func appendMoving(_ value: Int32, to node: Int) {
        grow(toInclude: node)
        var run = runs[node]
        assert(run.count == run.capacity, "a list with room appended to out of line")
        let capacity = max(2, Int(run.capacity) * 2)
        // (Element by element: a slice of the buffer appended to it would copy it all.)
        let start = storage.count
        for position in Int(run.start) ..< Int(run.start) + Int(run.count) { storage.append(storage[position]) }
        storage.append(contentsOf: repeatElement(0, count: capacity - Int(run.count)))
        unused += Int(run.capacity)
        run.start = Self.offset(start)
        run.capacity = Self.offset(capacity)
        storage[Int(run.start) + Int(run.count)] = value
        run.count += 1
        runs[node] = run
        if unused > 4096, unused * 4 > storage.count - unused { compact() }
    }

    /// Packs the lists down, in the order of their places, each keeping its room: the places
    /// left behind are taken back (the buffer's capacity stays, for the lists to grow into).
    /// Each packing follows growth of a quarter of the lists' room, so their cost is linear
    /// in the numbers appended.
    private mutating func compact() {
        var order = runs.indices.filter { runs[$0].capacity > 0 }
        order.sort { runs[$0].start < runs[$1].start }
        var next = 0
        for node in order {
            let run = runs[node]
            // Downward, and in the order of their places: a run never meets one not yet moved.
            for position in 0..<Int(run.count) { storage[next + position] = storage[Int(run.start) + position] }
            runs[node].start = Self.offset(next)
            next += Int(run.capacity)
        }
        storage.removeSubrange(next...)
        unused = 0
    }

    /// Empties `node`'s list, which keeps its room.
    mutating func removeAll(of node: Int) {
        runs[node].count = 0
    }

    /// Whether `node`'s list holds `value`.
    func contains(_ value: Int32, in node: Int) -> Bool {
        let run = runs[node]
        return storage[Int(run.start) ..< Int(run.start) + Int(run.count)].contains(value)
    }

    mutating func removeAll() {
        storage = []
        runs = []
        unused = 0
    }

    /// A place in the buffer, which holds at most 2^31 - 1 numbers (8 GB of them).
    private static func offset(_ value: Int) -> Int32 {
        guard let offset = Int32(exactly: value) else { preconditionFailure("more than 2^31 adjacency entries") }
        return offset
    }
}
