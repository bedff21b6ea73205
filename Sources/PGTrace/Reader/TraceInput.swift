/// A trace source opened once: its first bytes read and its content sniffed from them, so
/// that a FIFO or standard input is never opened or read twice, a directory is refused at
/// once, and binary data is refused before it is read to the end.
public final class TraceInput {
    /// What the first bytes say the trace is.
    public enum Content: Sendable {
        /// Trace format v1: `<?xml`, `<trace`, or a comment or DOCTYPE before it.
        case xml
        /// trace-cmd's binary `trace.dat` (its magic).
        case traceDat
        /// Kernel text output: ftrace, trace-cmd report, perf script (whose first line may
        /// well start with `<`: `<idle>-0`, `<...>-4083`).
        case text
        /// A pgtrace summary (docs/summary-format.md): its first line's `{"pgtrace-summary":`.
        case summary
    }

    public let displayName: String
    public let content: Content
    let descriptor: FileDescriptor
    /// The file's size when it is a regular file (for progress).
    public let size: Int?
    /// Bytes read while sniffing; a reader consumes them before reading on.
    private var prefix: ArraySlice<UInt8>

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
            // Enough to tell `<trace` from `<idle>-0`.
            if let first = Self.firstSignificant(bytes), bytes.count >= first + 16 { break }
        }
        prefix = bytes[...]
        guard let first = Self.firstSignificant(bytes) else {
            if bytes.count >= Self.sniffLength {
                throw TraceInputError(
                    file: displayName, line: 1, column: 1,
                    message: "\(Self.sniffLength / 1024) KiB of blank text and no trace; expected a trace in XML format v1, a trace.dat or kernel text output")
            }
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "is empty; expected a trace in XML format v1, a trace.dat or kernel text output (ftrace, trace-cmd report, perf script)")
        }
        if bytes.starts(with: Self.traceDatMagic) {
            content = .traceDat
        } else if bytes[first...].starts(with: SummaryLine.magic.utf8) {
            content = .summary
        } else if Self.isXML(bytes[first...]) {
            content = .xml
        } else {
            content = .text
            try Self.refuseWideText(bytes, displayName: displayName)
            try Self.refuseBinary(bytes, displayName: displayName)
        }
    }

    /// Refuses text in UTF-16 or UTF-32, by its byte-order mark or by a '<' in its first unit
    /// (an XML trace's first byte): pgtrace reads traces as UTF-8, and such a file read as
    /// bytes was "binary data (a NUL byte)" (helper-138).
    static func refuseWideText(_ bytes: [UInt8], displayName: String) throws(TraceInputError) {
        let encodings: [(start: [UInt8], name: String)] = [
            ([0x00, 0x00, 0xFE, 0xFF], "UTF-32"), ([0xFF, 0xFE, 0x00, 0x00], "UTF-32"),
            ([0x00, 0x00, 0x00, 0x3C], "UTF-32"), ([0x3C, 0x00, 0x00, 0x00], "UTF-32"),
            ([0xFE, 0xFF], "UTF-16"), ([0xFF, 0xFE], "UTF-16"), ([0x00, 0x3C], "UTF-16"), ([0x3C, 0x00], "UTF-16"),
        ]
        guard let wide = encodings.first(where: { bytes.starts(with: $0.start) }) else { return }
        throw TraceInputError(
            file: displayName, line: 1, column: 1,
            message: "is \(wide.name) text; pgtrace reads traces in UTF-8 (convert it first, e.g. iconv -f \(wide.name) -t UTF-8)")
    }

    /// What `bytes` (the start of an input) say it is; nil for blanks only.
    public static func content(ofStart bytes: [UInt8]) -> Content? {
        guard let first = firstSignificant(bytes) else { return nil }
        if bytes.starts(with: traceDatMagic) { return .traceDat }
        if bytes[first...].starts(with: SummaryLine.magic.utf8) { return .summary }
        return isXML(bytes[first...]) ? .xml : .text
    }

    /// XML by its first markup: a declaration, a comment, a DOCTYPE (refused by the reader
    /// with its own message) or the `<trace` element itself.
    static func isXML(_ bytes: ArraySlice<UInt8>) -> Bool {
        for opening in ["<?xml", "<!--", "<!DOCTYPE", "<!doctype"] where bytes.starts(with: opening.utf8) { return true }
        guard bytes.starts(with: "<trace".utf8) else { return false }
        let next = bytes.dropFirst(6).first
        return next == nil || [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/")].contains(next!)
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

    /// Reads the next bytes of the trace into `buffer` (the sniffed ones first); 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceInputError) -> Int {
        if !prefix.isEmpty {
            let count = min(prefix.count, buffer.count)
            prefix.prefix(count).withUnsafeBytes { buffer.copyMemory(from: $0) }
            prefix = prefix.dropFirst(count)
            return count
        }
        return try descriptor.read(into: buffer)
    }

    /// A descriptor that can be read again from its start, for a reader that seeks (a
    /// trace.dat's sections): the file itself, or for a stream an unnamed copy of all of it.
    func seekableDescriptor() throws(TraceInputError) -> FileDescriptor {
        if size != nil { return descriptor }
        let copy = try FileDescriptor.anonymousTemporaryFile(displayName: displayName)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let bytes = try read(into: &buffer)
            if bytes.isEmpty { break }
            var failure: TraceInputError?
            bytes.withUnsafeBytes { raw in
                do throws(TraceInputError) { try copy.write(raw) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        return copy
    }
}
