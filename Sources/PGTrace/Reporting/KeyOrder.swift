/// The places of `count` items in the order of their keys, where the items of one key are
/// found by a binary search (`LockGraphView`, `GraphMLWriter`): the items' own order, where
/// it is that already (a report keeps its nodes and edges sorted by name), else an order of
/// their places. Why: a set or a dictionary by name was tens of bytes a class, and a graph
/// of 250k classes held several.
///
/// Keys are names compared by their UTF-8 bytes (`ByteOrder`), as the analysis tells
/// classes apart.
struct KeyOrder<Key: ByteOrder> {
    private let count: Int
    private let key: (Int) -> Key
    private let order: [Int]?

    init(count: Int, key: @escaping (Int) -> Key) {
        self.count = count
        self.key = key
        let isSorted = count < 2 || (1..<count).allSatisfy { !key($0).precedes(key($0 - 1)) }
        order = isSorted ? nil : (0..<count).sorted { key($0).precedes(key($1)) }
    }

    private func item(_ rank: Int) -> Int { order?[rank] ?? rank }

    /// Calls `body` with the place of each item whose key is `wanted`, in the order of the
    /// items' places where they are sorted.
    func forEach(_ wanted: Key, _ body: (Int) -> Void) {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if key(item(middle)).precedes(wanted) { low = middle + 1 } else { high = middle }
        }
        while low < count, key(item(low)).isSame(as: wanted) {
            body(item(low))
            low += 1
        }
    }

    /// The greatest place of an item whose key is `wanted`.
    func last(_ wanted: Key) -> Int? {
        var last: Int?
        forEach(wanted) { last = max(last ?? $0, $0) }
        return last
    }
}
