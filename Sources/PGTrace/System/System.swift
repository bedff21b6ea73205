import Glibc

/// The library's file calls, in one place (as swift-nio keeps its `System.swift`): every call
/// that a signal can interrupt is retried, and failures become errors naming the file and
/// libc's reason. Nothing else in the library calls `open`, `read`, `write` or `close` (the
/// executable writes its outputs in its own `Output.swift`).
enum Posix {
    /// libc's text for an errno value.
    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Drops this process's copy of pages of a read-only private map of a file
    /// (MADV_DONTNEED): touched again, they are read back from the page cache. Only for
    /// ranges that `fileMapping(containing:)` says are such a map: on anonymous memory it
    /// would zero the data.
    static func dropFilePages(_ start: UInt, length: Int) {
        // Whole pages of this machine within the range (its pages may be larger than 4 KiB).
        let page = UInt(max(4096, sysconf(Int32(_SC_PAGESIZE))))
        let first = (start + page - 1) / page * page
        let end = (start + UInt(length)) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, Int(end - first), MADV_DONTNEED)
    }

    /// The range of the mapping that holds `address` if it maps a file (an inode), from
    /// /proc/self/maps; nil for anonymous memory or if it cannot be told.
    static func fileMapping(containing address: UInt) -> Range<UInt>? {
        guard let maps = try? FileDescriptor(reading: "/proc/self/maps").readToEnd() else { return nil }
        return maps.withUnsafeBufferPointer { fileMapping(containing: address, in: $0) }
    }

    /// The mapping of `address` in the text of /proc/self/maps, each line
    /// "7f55aa604000-7f55aa9fc000 r--p 00004000 fd:01 1234567   /path": scanned in place (the
    /// text holds hundreds of lines, and is read again at every new map a trace.dat uses).
    static func fileMapping(containing address: UInt, in maps: UnsafeBufferPointer<UInt8>) -> Range<UInt>? {
        var index = 0
        /// A number in `radix` at `index`, moving past it; nil if there is none.
        func number(radix: UInt) -> UInt? {
            var value: UInt = 0
            let start = index
            while index < maps.count {
                let byte = maps[index]
                let digit: UInt
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = UInt(byte - UInt8(ascii: "a") + 10)
                default: return index > start ? value : nil
                }
                value = value &* radix &+ digit
                index += 1
            }
            return index > start ? value : nil
        }
        func skipField() {
            while index < maps.count, maps[index] != 0x20, maps[index] != 0x0A { index += 1 }
            while index < maps.count, maps[index] == 0x20 { index += 1 }
        }
        while index < maps.count {
            let lineStart = index
            if let low = number(radix: 16), index < maps.count, maps[index] == UInt8(ascii: "-") {
                index += 1
                if let high = number(radix: 16), low <= address, address < high {
                    // Past the range, the permissions, the offset and the device: the inode.
                    for _ in 0..<4 { skipField() }
                    guard let inode = number(radix: 10) else { return nil }
                    return inode != 0 ? low..<high : nil
                }
            }
            index = lineStart
            while index < maps.count, maps[index] != 0x0A { index += 1 }
            index += 1
        }
        return nil
    }

    /// Runs `call` until it is not interrupted by a signal; -1 leaves errno set.
    @inline(__always)
    static func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }
}

/// A file descriptor pgtrace opened, closed exactly once when its owner lets go of it, so a
/// read that is abandoned half way (a cancelled analysis, an error) never leaks it.
public final class FileDescriptor {
    /// What is behind the descriptor, as far as reading it goes.
    public enum Kind: Equatable, Sendable {
        /// A regular file of this many bytes: it can be read again from the start.
        case regular(size: Int)
        case directory
        /// A FIFO, a terminal, a character device, a socket: read once, in order.
        case stream
    }

    let raw: Int32
    private let owned: Bool
    /// The name in messages (the path as the user gave it, or `<stdin>`).
    public let displayName: String

    private init(raw: Int32, owned: Bool, displayName: String) {
        self.raw = raw
        self.owned = owned
        self.displayName = displayName
    }

    /// Opens `path` for reading (`O_CLOEXEC`; a FIFO waits for its writer, as `cat` does).
    public convenience init(reading path: String, displayName: String? = nil) throws(TraceInputError) {
        let name = displayName ?? path
        let fd = Posix.retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw TraceInputError(file: name, message: "cannot open: \(Posix.reason(errno))") }
        self.init(raw: fd, owned: true, displayName: name)
    }

    /// Standard input, which this object never closes.
    public static func standardInput() -> FileDescriptor {
        FileDescriptor(raw: STDIN_FILENO, owned: false, displayName: "<stdin>")
    }

    /// A new file with no name in the temporary directory (created and unlinked at once):
    /// nothing is left behind, whatever ends the process.
    static func anonymousTemporaryFile(in directory: String? = nil, displayName: String) throws(TraceInputError) -> FileDescriptor {
        let directory = directory ?? getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/pgtrace-spool-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw TraceInputError(file: displayName, message: "cannot create a temporary file in \(directory): \(Posix.reason(errno))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return FileDescriptor(raw: fd, owned: true, displayName: displayName)
    }

    deinit {
        if owned { _ = close(raw) }
    }

    /// What the descriptor reads from.
    public func kind() throws(TraceInputError) -> Kind {
        var status = stat()
        guard fstat(raw, &status) == 0 else {
            throw TraceInputError(file: displayName, message: "cannot stat: \(Posix.reason(errno))")
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .regular(size: Int(status.st_size))
        case S_IFDIR: return .directory
        default: return .stream
        }
    }

    /// Reads up to `buffer.count` bytes; 0 at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TraceInputError) -> Int {
        guard buffer.count > 0 else { return 0 }
        let count = Posix.retryingOnInterrupt { Glibc.read(raw, buffer.baseAddress, buffer.count) }
        guard count >= 0 else {
            let code = errno
            throw TraceInputError(
                file: displayName,
                message: code == EISDIR ? "is a directory, not a trace file" : "read failed: \(Posix.reason(code))")
        }
        return count
    }

    /// Reads `buffer.count` bytes at `offset` of the file (pread: where the descriptor reads
    /// next stays as it was); fewer only at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(TraceInputError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = Posix.retryingOnInterrupt { pread(raw, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done)) }
            guard count >= 0 else { throw TraceInputError(file: displayName, message: "read failed: \(Posix.reason(errno))") }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Fills `buffer` from `offset` of the file (pread); the bytes read, fewer only at the end.
    func read(into buffer: inout [UInt8], at offset: Int) throws(TraceInputError) -> Int {
        var failure: TraceInputError?
        let count = buffer.withUnsafeMutableBytes { bytes in
            do throws(TraceInputError) { return try read(into: bytes, at: offset) } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        return count
    }

    /// Reads into `buffer` from its start: the bytes read, empty at the end of the file.
    public func read(into buffer: inout [UInt8]) throws(TraceInputError) -> ArraySlice<UInt8> {
        var failure: TraceInputError?
        let count = buffer.withUnsafeMutableBytes { bytes in
            do throws(TraceInputError) { return try read(into: bytes) } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        return buffer[0..<count]
    }

    /// Reads what is left of the file (policies, baselines: small files).
    public func readToEnd() throws(TraceInputError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let chunk = try read(into: &buffer)
            if chunk.isEmpty { return bytes }
            bytes += chunk
        }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(TraceInputError) {
        var offset = 0
        while offset < bytes.count {
            let count = Posix.retryingOnInterrupt { Glibc.write(raw, bytes.baseAddress! + offset, bytes.count - offset) }
            guard count > 0 else {
                throw TraceInputError(file: displayName, message: "write failed: \(Posix.reason(errno))")
            }
            offset += count
        }
    }

    /// Whether `path` names a regular file (which can be read again), following links.
    public static func isRegularFile(_ path: String) -> Bool {
        var status = stat()
        return path != "-" && stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }

    /// A path that opens this same file again (`/proc/self/fd/N`), for a file with no name.
    var procPath: String { "/proc/self/fd/\(raw)" }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The index of the first `byte`, found by libc's memchr (vectorized, as grep's is).
    func firstIndex(ofByte byte: UInt8) -> Int? {
        guard let base = baseAddress, count > 0, let found = memchr(base, Int32(byte), count) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Whether these bytes are `text`'s, compared by memcmp.
    func equals(_ text: StaticString) -> Bool {
        count == text.utf8CodeUnitCount && (count == 0 || memcmp(baseAddress!, text.utf8Start, count) == 0)
    }

    /// Whether these bytes start with `text`'s.
    func hasPrefix(_ text: StaticString) -> Bool {
        count >= text.utf8CodeUnitCount && (text.utf8CodeUnitCount == 0 || memcmp(baseAddress!, text.utf8Start, text.utf8CodeUnitCount) == 0)
    }

    /// Where `text` first occurs in these bytes (memchr for its first byte, then memcmp).
    func firstRange(of text: StaticString) -> Range<Int>? {
        let length = text.utf8CodeUnitCount
        guard let base = baseAddress, length > 0 else { return nil }
        var start = 0
        while start + length <= count,
            let found = memchr(base + start, Int32(text.utf8Start.pointee), count - start - length + 1)
        {
            let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + index, text.utf8Start, length) == 0 { return index..<(index + length) }
            start = index + 1
        }
        return nil
    }
}
