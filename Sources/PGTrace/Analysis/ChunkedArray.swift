/// An array that grows only at its end, kept in chunks of 4,096 elements, each allocated at
/// its full size once: it grows without copying, and holds at most one chunk more than its
/// elements, where an array that doubles holds up to twice its elements, and both sizes while
/// it copies (each size in pages the kernel must give it afresh: on this project's machine,
/// some 2 µs a page). For what grows with what the analysis learns and is never removed
/// (`MomentStore`, `GraphFactLog`), so that its memory follows the graph, not the steps of
/// its doubling.
///
/// A value, copied when written while another copy shares it. The chunks are memory it
/// allocates itself (`Storage`): chunks as arrays of their own cost an array's bounds check,
/// and a uniqueness check on every append, twice over, at every fact the analysis records.
struct ChunkedArray<Element>: RandomAccessCollection {
    private static var shift: Int { 12 }
    private static var chunkSize: Int { 1 << shift }
    private static var mask: Int { chunkSize - 1 }

    /// The chunks, and the table of them: allocated, initialized up to `count`, deinitialized
    /// and freed by it alone. (The table is memory of its own, not an array, so that reading
    /// an element checks one bound, its index against `count`.)
    fileprivate final class Storage {
        @exclusivity(unchecked) var chunks: UnsafeMutablePointer<UnsafeMutablePointer<Element>>
        @exclusivity(unchecked) var chunkCount = 0
        @exclusivity(unchecked) var chunkCapacity = 4
        @exclusivity(unchecked) var count = 0

        init() { chunks = .allocate(capacity: chunkCapacity) }

        /// A new chunk at the end of the table.
        func addChunk() {
            if chunkCount == chunkCapacity {
                let bigger = UnsafeMutablePointer<UnsafeMutablePointer<Element>>.allocate(capacity: chunkCapacity * 2)
                bigger.moveInitialize(from: chunks, count: chunkCount)
                chunks.deallocate()
                chunks = bigger
                chunkCapacity *= 2
            }
            (chunks + chunkCount).initialize(to: .allocate(capacity: ChunkedArray.chunkSize))
            chunkCount += 1
        }

        /// A copy of every element, in chunks of its own.
        func copy() -> Storage {
            let copy = Storage()
            for index in 0..<chunkCount {
                copy.addChunk()
                copy.chunks[index].initialize(from: chunks[index], count: elements(inChunk: index))
            }
            copy.count = count
            return copy
        }

        private func elements(inChunk index: Int) -> Int { Swift.min(ChunkedArray.chunkSize, count - (index << ChunkedArray.shift)) }

        deinit {
            for index in 0..<chunkCount {
                chunks[index].deinitialize(count: elements(inChunk: index))
                chunks[index].deallocate()
            }
            chunks.deinitialize(count: chunkCount)
            chunks.deallocate()
        }
    }

    private var storage = Storage()

    init() {}

    var count: Int { storage.count }
    var startIndex: Int { 0 }
    var endIndex: Int { storage.count }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    mutating func append(_ element: Element) {
        makeUnique()
        let slot = storage.count & Self.mask
        if slot == 0 { storage.addChunk() }
        (storage.chunks[storage.chunkCount - 1] + slot).initialize(to: element)
        storage.count += 1
    }

    /// Removes the last element; a chunk left empty is freed (an append adds a chunk where
    /// the count is a multiple of the chunk's size).
    mutating func removeLast() {
        precondition(storage.count > 0, "removeLast() of an empty ChunkedArray")
        makeUnique()
        storage.count -= 1
        let slot = storage.count & Self.mask
        let chunk = storage.chunks[storage.chunkCount - 1]
        (chunk + slot).deinitialize(count: 1)
        if slot == 0 {
            chunk.deallocate()
            (storage.chunks + storage.chunkCount - 1).deinitialize(count: 1)
            storage.chunkCount -= 1
        }
    }

    /// Read and written in place, not copied out: a copy of each element read (the fact
    /// log's whole 96-byte entries, before they were packed) cost more than the chunks saved.
    subscript(index: Int) -> Element {
        _read {
            precondition(index >= 0 && index < storage.count, "index \(index) out of 0..<\(storage.count)")
            yield storage.chunks[index >> Self.shift][index & Self.mask]
        }
        _modify {
            precondition(index >= 0 && index < storage.count, "index \(index) out of 0..<\(storage.count)")
            makeUnique()
            yield &storage.chunks[index >> Self.shift][index & Self.mask]
        }
    }

    /// Walks the elements chunk by chunk, with no bound checked per element (the graph
    /// reads the whole fact log so, twice, before the checks begin).
    struct Iterator: IteratorProtocol {
        fileprivate let storage: Storage
        fileprivate var index = 0
        fileprivate var chunk: UnsafeMutablePointer<Element>?

        mutating func next() -> Element? {
            guard index < storage.count else { return nil }
            let slot = index & ChunkedArray.mask
            if slot == 0 { chunk = storage.chunks[index >> ChunkedArray.shift] }
            index += 1
            return chunk.unsafelyUnwrapped[slot]
        }
    }

    func makeIterator() -> Iterator { Iterator(storage: storage) }
}
