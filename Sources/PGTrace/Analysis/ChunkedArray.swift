/// An append-only array kept in chunks of 4,096 elements, each allocated at its full size
/// once: it grows without copying, and holds at most one chunk more than its elements, where
/// an array that doubles holds up to twice its elements, and both sizes while it copies. For
/// what grows with what the analysis learns and is never removed (`MomentStore`), so that its
/// memory follows the graph, not the steps of its doubling.
struct ChunkedArray<Element> {
    private static var shift: Int { 12 }
    private static var chunkSize: Int { 1 << shift }
    private var chunks: [[Element]] = []
    private(set) var count = 0

    init() {}

    mutating func append(_ element: Element) {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "index \(index) out of 0..<\(count)")
        return chunks[index >> Self.shift][index & (Self.chunkSize - 1)]
    }
}
