/// Splits a byte stream into lines without copying them: each line is handed over as a view
/// of the reader's buffer, valid during the call. Memory holds one chunk and one line.
struct LineReader {
    /// Lines longer than this are refused: no kernel trace prints one.
    static let maximumLineLength = 1 << 20

    private let read: (inout [UInt8]) throws -> ArraySlice<UInt8>
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    /// Bytes of the current chunk not yet handed out, the start of a line among them.
    private var pending: [UInt8] = []

    init(read: @escaping (inout [UInt8]) throws -> ArraySlice<UInt8>) { self.read = read }

    /// Calls `body` with each line (without its newline) and its 1-based number, to the end.
    mutating func forEachLine(
        _ body: (_ line: UnsafeBufferPointer<UInt8>, _ number: Int) throws -> Void
    ) throws {
        var number = 0
        while true {
            let bytes = try read(&chunk)
            if bytes.isEmpty { break }
            pending.append(contentsOf: bytes)
            var consumed = 0
            try pending.withUnsafeBufferPointer { all in
                while let newline = all[consumed...].firstIndex(of: 0x0A) {
                    number += 1
                    try body(UnsafeBufferPointer(rebasing: all[consumed..<newline]), number)
                    consumed = newline + 1
                }
            }
            pending.removeSubrange(..<consumed)
            if pending.count > Self.maximumLineLength { throw LineTooLong(line: number + 1) }
        }
        if !pending.isEmpty {
            try pending.withUnsafeBufferPointer { try body($0, number + 1) }
            pending.removeAll()
        }
    }
}

/// A line past `LineReader.maximumLineLength`.
struct LineTooLong: Error {
    let line: Int
    var message: String { "a line longer than \(LineReader.maximumLineLength) bytes; this is not a text trace" }
}
