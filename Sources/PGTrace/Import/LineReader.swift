/// Splits a byte stream into lines without copying them: each line is handed over as a view
/// of the reader's buffer, valid during the call. Memory holds one buffer (64 KiB, more only
/// for a longer line); only the tail of a line cut by a read is moved.
struct LineReader {
    /// Lines longer than this are refused: no kernel trace prints one.
    static let maximumLineLength = 1 << 20

    private let read: (UnsafeMutableRawBufferPointer) throws -> Int
    private var storage = [UInt8](repeating: 0, count: 64 * 1024)
    /// The longest line taken: `maximumLineLength` for a text trace.
    private let limit: Int

    init(limit: Int = LineReader.maximumLineLength, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.read = read
        self.limit = limit
    }

    /// Calls `body` with each line (without its newline), its 1-based number, and whether a
    /// newline ended it (not so for a last line cut short), to the end.
    mutating func forEachLine(
        _ body: (_ line: UnsafeBufferPointer<UInt8>, _ number: Int, _ complete: Bool) throws -> Void
    ) throws {
        var number = 0
        // Bytes read but not yet handed out: storage[0..<filled], a line's start at 0.
        var filled = 0
        while true {
            if filled == storage.count {
                guard storage.count < limit * 2 else { throw LineTooLong(line: number + 1) }
                storage += [UInt8](repeating: 0, count: storage.count)
            }
            let count = try storage.withUnsafeMutableBytes { try read(UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if count == 0 { break }
            let searchFrom = filled
            filled += count
            let consumed = try storage.withUnsafeBufferPointer { all -> Int in
                var lineStart = 0
                var index = searchFrom
                while let newline = UnsafeBufferPointer(rebasing: all[index..<filled]).firstIndex(ofByte: 0x0A) {
                    let end = index + newline
                    number += 1
                    if end - lineStart > limit { throw LineTooLong(line: number) }
                    try body(UnsafeBufferPointer(rebasing: all[lineStart..<end]), number, true)
                    lineStart = end + 1
                    index = lineStart
                }
                return lineStart
            }
            if consumed > 0 {
                storage.withUnsafeMutableBytes { bytes in
                    bytes.baseAddress!.copyMemory(from: bytes.baseAddress! + consumed, byteCount: filled - consumed)
                }
                filled -= consumed
            }
            if filled > limit { throw LineTooLong(line: number + 1) }
        }
        if filled > 0 {
            try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[..<filled]), number + 1, false) }
        }
    }
}

/// A line past `LineReader.maximumLineLength`.
struct LineTooLong: Error {
    let line: Int
    var message: String { "a line longer than \(LineReader.maximumLineLength) bytes; this is not a text trace" }
}
