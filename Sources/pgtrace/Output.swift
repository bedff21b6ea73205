import Glibc
import PGTrace

/// Where a command writes what it produces: standard output, or a file replaced atomically
/// (written to a temporary file beside it, then renamed), so that a failed or interrupted
/// run leaves the old file whole. The executable's one file of libc calls.
final class Output {
    private let path: String?
    private let descriptor: Int32
    private let temporaryPath: String?
    private var committed = false

    /// Opens `path` for writing (nil: standard output). Refuses a path that names one of
    /// `inputs`: writing there would destroy what is being read.
    init(_ path: String?, inputs: [String] = []) throws {
        self.path = path
        guard let path else {
            descriptor = STDOUT_FILENO
            temporaryPath = nil
            return
        }
        if let target = Self.identity(path), inputs.contains(where: { $0 != "-" && Self.identity($0) == target }) {
            throw TraceInputError(file: path, message: "is also an input of this run; refusing to overwrite it (give another output path)")
        }
        var status = stat()
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            throw TraceInputError(file: path, message: "cannot write: is a directory")
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array((directory + "." + base + ".pgtrace-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw TraceInputError(file: path, message: "cannot write: \(String(cString: strerror(errno)))")
        }
        _ = fchmod(fd, 0o644 & ~Self.umask)
        descriptor = fd
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        if let temporaryPath {
            if !committed {
                _ = close(descriptor)
                _ = unlink(temporaryPath)
            }
        }
    }

    /// The process's umask (read by setting and restoring it).
    private static let umask: mode_t = {
        let mask = Glibc.umask(0o022)
        _ = Glibc.umask(mask)
        return mask
    }()

    /// The file `path` names (device and inode), following symbolic links; nil if none.
    private static func identity(_ path: String) -> [UInt64]? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return [UInt64(status.st_dev), UInt64(status.st_ino)]
    }

    /// Writes `text` in full, retrying after signals; a closed or full output is an error.
    func write(_ text: String) throws {
        if let reason = Self.write(text, to: descriptor) {
            throw TraceInputError(file: path ?? "<stdout>", message: "cannot write: \(reason)")
        }
    }

    /// Writes all of `text` to `descriptor`; libc's reason when it cannot.
    private static func write(_ text: String, to descriptor: Int32) -> String? {
        var text = text
        return text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return String(cString: strerror(errno)) }
                offset += count
            }
            return nil
        }
    }

    /// Writes to standard error; there is nowhere to say that this failed.
    static func writeToStandardError(_ text: String) { _ = write(text, to: STDERR_FILENO) }

    /// Puts the file in place (a no-op for standard output).
    func commit() throws {
        guard let path, let temporaryPath else { return }
        committed = true
        let closed = close(descriptor)
        guard closed == 0, rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = unlink(temporaryPath)
            throw TraceInputError(file: path, message: "cannot write: \(reason)")
        }
    }

    /// Writes `text` to `path` (nil: standard output) and puts it in place.
    static func write(_ text: String, to path: String?, inputs: [String] = []) throws {
        let output = try Output(path, inputs: inputs)
        try output.write(text)
        try output.commit()
    }
}
