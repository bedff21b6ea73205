/// A trace source opened once: its first bytes read and its content sniffed from them, so
/// that a FIFO or standard input is never opened or read twice, a directory is refused at
/// once, and binary data is refused before it is read to the end.
public final class TraceInput {
    /// What the first bytes say the trace is.
    public enum Content: Sendable {
        /// Trace format v1 (the first character that is not blank is `<`).
        case xml
        /// Kernel text output: ftrace, trace-cmd report, perf script.
        case text
    }

    public let displayName: String
    public let content: Content
    let descriptor: FileDescriptor
    /// The file's size when it is a regular file (for progress).
    public let size: Int?
    /// Bytes read while sniffing; a reader consumes them before reading on.
    private var prefix: ArraySlice<UInt8>
    /// The anonymous copy of a text stream, kept open while the importer reads it.
    private var spool: FileDescriptor?

    /// The first bytes of a trace-cmd `trace.dat` (tracecmd_output's magic: 0x17 0x08 'D', then "tracing").
    static let traceDatMagic: [UInt8] = [0x17, 0x08, 0x44] + Array("tracing".utf8)

    /// How many bytes are read to judge the content.
    static let sniffLength = 64 * 1024

    /// Opens `path` (`-` for standard input) and sniffs it.
    public convenience init(path: String, displayName: String? = nil) throws(TraceInputError) {
        let name = displayName ?? (path == "-" ? "<stdin>" : path)
        let descriptor = path == "-" ? FileDescriptor.standardInput() : try FileDescriptor(reading: path, displayName: name)
        try self.init(descriptor: descriptor)
    }

    init(descriptor: FileDescriptor) throws(TraceInputError) {
        self.descriptor = descriptor
        displayName = descriptor.displayName
        switch try descriptor.kind() {
        case .directory: throw TraceInputError(file: displayName, message: "is a directory, not a trace file")
        case .regular(let size): self.size = size
        case .stream: self.size = nil
        }
        // Read until a character that is not blank shows, or a chunk's worth.
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count < Self.sniffLength {
            let read = try descriptor.read(into: &chunk)
            if read.isEmpty { break }
            bytes += read
            if Self.firstSignificant(bytes) != nil { break }
        }
        prefix = bytes[...]
        let first = Self.firstSignificant(bytes)
        if first == nil, bytes.count >= Self.sniffLength {
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "\(Self.sniffLength / 1024) KiB of blank text and no trace; expected a trace in XML format v1 or kernel text output")
        }
        if bytes.starts(with: Self.traceDatMagic) {
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "a trace-cmd trace.dat file, which this pgtrace cannot read yet; analyze the text of `trace-cmd report -i \(displayName)` instead")
        }
        if let first, bytes[first] != UInt8(ascii: "<") {
            content = .text
            try Self.refuseBinary(bytes, displayName: displayName)
        } else {
            content = .xml
        }
    }

    /// Refuses text that holds a NUL byte (binary data), naming where the first one is.
    static func refuseBinary(_ bytes: [UInt8], displayName: String) throws(TraceInputError) {
        guard let nul = bytes.firstIndex(of: 0) else { return }
        let line = 1 + bytes[..<nul].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let lineStart = bytes[..<nul].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        throw TraceInputError(
            file: displayName, line: line, column: nul - lineStart + 1,
            message: "binary data (a NUL byte); expected a trace in XML format v1 or kernel text output (ftrace, trace-cmd report, perf script)")
    }

    /// Refuses a text stream whose first lines are no trace format pgtrace knows.
    static func judgeText(_ bytes: [UInt8], displayName: String) throws(TraceInputError) {
        try refuseBinary(bytes, displayName: displayName)
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true).prefix(200)
            .map { Substring(String(decoding: $0, as: UTF8.self)) }
        if !lines.isEmpty, TextTraceFormat.detect(lines) == nil, !lines.contains(where: TraceImporter.isCommentOrHeader) {
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "not a trace pgtrace knows: expected XML (format v1), ftrace, trace-cmd report or perf script output")
        }
    }

    /// The index of the first byte that is neither blank nor part of a UTF-8 byte-order mark.
    static func firstSignificant(_ bytes: [UInt8]) -> Int? {
        bytes.firstIndex { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
    }

    /// The next bytes of the trace, the sniffed ones first; empty at the end.
    func read(into buffer: inout [UInt8]) throws(TraceInputError) -> ArraySlice<UInt8> {
        if !prefix.isEmpty {
            defer { prefix = [] }
            return prefix
        }
        return try descriptor.read(into: &buffer)
    }

    /// A path the text importer can open for each of its passes: the file itself when it is a
    /// regular file, else an anonymous copy of the stream (nothing is left on disk).
    public func textPath(originalPath: String) throws -> String {
        try textPath(originalPath: originalPath, temporaryDirectory: nil)
    }

    func textPath(originalPath: String, temporaryDirectory: String?) throws -> String {
        if size != nil, originalPath != "-" { return originalPath }
        if let spool { return spool.procPath }
        let copy = try FileDescriptor.anonymousTemporaryFile(in: temporaryDirectory, displayName: displayName)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        // A stream is copied to its end before the import's first pass: judge its start first,
        // so that an endless stream of something else is refused, not copied for ever.
        var sample: [UInt8] = []
        var judged = false
        while true {
            let bytes = try read(into: &buffer)
            if !judged, bytes.isEmpty || sample.count + bytes.count >= Self.sniffLength {
                judged = true
                try Self.judgeText(sample + bytes.prefix(Self.sniffLength - sample.count), displayName: displayName)
            } else if !judged {
                sample += bytes
            }
            if bytes.isEmpty { break }
            try bytes.withUnsafeBytes { try copy.write($0) }
        }
        spool = copy
        return copy.procPath
    }
}
