/// Reads a text file line by line in 64 KiB chunks: memory holds one chunk and one line.
struct LineReader {
    private let file: FileDescriptor
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var pending: [UInt8] = []
    private var start = 0
    private var done = false
    /// Lines longer than this are cut (and reported by the caller as unparseable).
    static let maximumLineLength = 1 << 20

    init(file: FileDescriptor) { self.file = file }

    /// The next line without its newline, or nil at the end of the file.
    mutating func next() throws(DecodeFailure) -> Substring? {
        while true {
            if let newline = pending[start...].firstIndex(of: 0x0A) {
                let line = String(decoding: pending[start..<newline], as: UTF8.self)
                start = newline + 1
                return Substring(line)
            }
            if start > 0 {
                pending.removeSubrange(..<start)
                start = 0
            }
            if done {
                guard !pending.isEmpty else { return nil }
                let line = String(decoding: pending, as: UTF8.self)
                pending.removeAll()
                return Substring(line)
            }
            let read: ArraySlice<UInt8>
            do { read = try file.read(into: &buffer) } catch { throw DecodeFailure(error.message) }
            if read.isEmpty {
                done = true
            } else {
                pending.append(contentsOf: read)
                if pending.count > Self.maximumLineLength, !pending.contains(0x0A) {
                    throw DecodeFailure("a line longer than \(Self.maximumLineLength) bytes; this is not a text trace")
                }
            }
        }
    }
}
