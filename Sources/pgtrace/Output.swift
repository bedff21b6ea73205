import Glibc
import PGTrace

/// Where a command writes what it produces: standard output, or a file. A regular file (or a
/// new one) is replaced atomically: written to a temporary file beside it, then renamed, so
/// that a failed or interrupted run leaves the old file whole (the temporary file is removed
/// on SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE and SIGXFSZ too, unless the run was started
/// ignoring them); a file the shell's `>` could not write is refused, and one only the
/// shell's way is open to (another user's file in a sticky directory such as /tmp, a file
/// in a directory that takes no new file) is written in place as `>` would, and a failed run
/// leaves it cut. Anything else the path names (a device such as /dev/null, a FIFO, a
/// process substitution) is written in place, as a shell redirection would; a descriptor the
/// path names (/dev/stdout), or the file one writes to already (standard output sent to a
/// file), is written through that descriptor, as `>&1` would. A symbolic link is followed:
/// the file it names is replaced, or made, and the link stays. The executable's one file of
/// libc calls.
final class Output {
    private let path: String?
    private let descriptor: Int32
    private let temporaryPath: String?
    /// The file the temporary file replaces (the path with its links followed).
    private let target: String?
    private var committed = false

    /// Opens `path` for writing (nil: standard output). Refuses a path that names one of
    /// `inputs` (`-` stands for whatever standard input is): writing there would destroy
    /// what is being read.
    init(_ path: String?, inputs: [String] = []) throws {
        self.path = path
        guard let path else {
            (descriptor, temporaryPath, target) = (STDOUT_FILENO, nil, nil)
            return
        }
        try Self.refuseInputs(path, inputs: inputs)
        (descriptor, temporaryPath, target) = try Self.openForWriting(path)
        if let temporaryPath { PendingFiles.add(temporaryPath) }
    }

    /// The descriptor to write `path` through; with the temporary file it is and the file that
    /// replaces, unless written in place.
    private static func openForWriting(_ path: String) throws -> (descriptor: Int32, temporary: String?, target: String?) {
        // A descriptor the path names through its links (/dev/stdout, /dev/fd/3, a link to
        // /proc/self/fd/1): written through it, at its offset, as `>&1` would. One the run was
        // started without (its place held by /dev/null, read-only) cannot be written.
        let named = namedDescriptor(path)
        if let named {
            if reservedDescriptors.contains(named) {
                throw cannotWrite(path, EBADF)
            }
            let mode = fcntl(named, F_GETFL)
            if mode >= 0, mode & O_ACCMODE != O_RDONLY { return (try duplicate(named, for: path), nil, nil) }
        }
        var status = stat()
        let exists = stat(path, &status) == 0
        let missing = !exists && errno == ENOENT
        if exists, (status.st_mode & S_IFMT) == S_IFDIR {
            throw TraceInputError(file: path, message: "cannot write: is a directory")
        }
        // What a descriptor of the run writes to already (`/dev/stdout` where the shell sent
        // standard output to a file, a link to /proc/self/fd/3, that file's own path, a pipe
        // or a socket): written through a duplicate of that descriptor, at its offset, as
        // `>&1` would. A file replaced by a rename would take the shell's own writes before
        // and after to a file no longer there.
        if exists, let writer = descriptorWriting(to: status) {
            return (try duplicate(writer, for: path), nil, nil)
        }
        if exists, (status.st_mode & S_IFMT) != S_IFREG {
            // A device, a FIFO, a pipe: written in place.
            return (try openInPlace(path, O_WRONLY), nil, nil)
        }
        // A link never has a file of its own put in its place (for /dev/stdout without /proc,
        // the machine's). One to nothing (the kernel follows it and finds no file, and nor
        // does the walk of its links): the file is made where its links end, by the same
        // rename (a failed run leaves nothing there), in a directory that must exist. Any
        // other that does not resolve (a loop, a link the kernel will not follow, a closed
        // descriptor, a file open but deleted) is opened through, as the shell's `>` would,
        // and the kernel decides: an error for all but the last.
        var link = stat()
        let isLink = lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK
        let real = exists ? resolvedPath(path) : nil
        let resolved: String
        if isLink, real == nil {
            var end = stat()
            guard missing, named == nil, let last = linkChain(path)?.last,
                lstat(last, &end) != 0, errno == ENOENT
            else {
                return (try openInPlace(path, O_WRONLY | O_CREAT | O_TRUNC), nil, nil)
            }
            resolved = last
        } else {
            // A regular file whose absolute path does not resolve (past PATH_MAX) is replaced
            // through the path as given.
            resolved = real ?? path
            // Replaced only where the path's links lead to the very file the kernel found: a
            // link to a file open but deleted reads as `name (deleted)`, and another file may
            // be called that.
            var found = stat()
            if exists, lstat(resolved, &found) != 0 || !sameInode(found, status) {
                return (try openInPlace(path, O_WRONLY | O_TRUNC), nil, nil)
            }
            // Replaced only where the shell's `>` could write it: the kernel opens the path for
            // writing as the shell would (O_CREAT too: fs.protected_regular applies only with
            // it), but without truncating it, and applies its own checks (the file's
            // permissions for all but root, fs.protected_regular for root too). A rename needs
            // only the directory's: a read-only file was replaced. A lease on a file to be
            // replaced is not waited for (the old file is left as it was): EWOULDBLOCK comes
            // after every check.
            if exists {
                let probe = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0o666)
                guard probe >= 0 || errno == EWOULDBLOCK else { throw cannotWrite(path, errno) }
                if probe >= 0 { _ = close(probe) }
                // Another user's file in a sticky directory (/tmp) that the shell may write, but
                // not rename over: written in place, as the shell would (a lease waited for, a
                // failed run leaves the file cut), where the rename failed after the whole run.
                if stickyDirectoryKeeps(resolved, status) { return (try openInPlace(path, O_WRONLY | O_TRUNC), nil, nil) }
            }
        }
        let (directory, base) = split(resolved)
        var template = Array((directory + "." + base + ".pgtrace-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            let code = errno
            // A writable file in a directory that takes no new file: written in place.
            if exists, access(path, W_OK) == 0, let inPlace = try? openInPlace(path, O_WRONLY | O_TRUNC) {
                return (inPlace, nil, nil)
            }
            throw cannotWrite(path, code)
        }
        // The replaced file keeps its permissions; a new one gets the umask's.
        _ = fchmod(fd, exists ? status.st_mode & 0o7777 : 0o666 & ~Self.umask)
        return (fd, template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }, resolved)
    }

    /// Whether the directory `target` is in keeps this process from replacing it: a sticky
    /// directory (such as /tmp) lets only the file's owner (`status`), the directory's, and a
    /// process with CAP_FOWNER over the file rename over it (the kernel's check_sticky: the
    /// capability counts only where the file's owner and group are mapped into the process's
    /// user namespace, as in a rootless container they may not be; the effective user stands
    /// for the file-system one, which pgtrace never sets apart).
    private static func stickyDirectoryKeeps(_ target: String, _ status: stat) -> Bool {
        let user = geteuid()
        guard status.st_uid != user else { return false }
        var directory = stat()
        let name = split(target).directory
        guard stat(name.isEmpty ? "." : name, &directory) == 0, directory.st_mode & 0o1000 != 0, directory.st_uid != user else {
            return false
        }
        let fowner = hasCapability(3)  // CAP_FOWNER
        return !(fowner && isMapped(status.st_uid, "/proc/self/uid_map") && isMapped(status.st_gid, "/proc/self/gid_map"))
    }

    /// Whether `id` is mapped into the process's user namespace: inside one of the ranges
    /// `map` (/proc/self/uid_map or gid_map) lists, each `inside outside count`. An id that is
    /// not reads as the overflow id (65534), outside them. Without /proc: mapped.
    private static func isMapped(_ id: UInt32, _ map: String) -> Bool {
        guard let lines = procLines(map) else { return true }
        return lines.contains { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { UInt64($0) }
            return fields.count == 3 && UInt64(id) >= fields[0] && UInt64(id) - fields[0] < fields[2]
        }
    }

    /// Whether the process's effective capabilities hold `capability` (a bit of
    /// /proc/self/status's CapEff; without /proc, whether it runs as root).
    private static func hasCapability(_ capability: Int) -> Bool {
        let mask = procLines("/proc/self/status")?.lazy.compactMap { line in
            line.hasPrefix("CapEff:") ? UInt64(String(line.dropFirst("CapEff:".count).filter(\.isHexDigit)), radix: 16) : nil
        }.first
        guard let mask else { return geteuid() == 0 }
        return mask & (1 << UInt64(capability)) != 0
    }

    /// The lines of a small file the kernel makes (/proc/self/...), each as fgets reads it (up
    /// to 255 bytes); nil if it cannot be opened.
    private static func procLines(_ path: String) -> [String]? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var lines: [String] = []
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            lines.append(String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return lines
    }

    /// Whether two stat results describe one file (device and inode).
    private static func sameInode(_ one: stat, _ other: stat) -> Bool {
        one.st_dev == other.st_dev && one.st_ino == other.st_ino
    }

    /// The error for a path that cannot be written, with the system's reason for `code`.
    private static func cannotWrite(_ path: String, _ code: Int32) -> TraceInputError {
        TraceInputError(file: path, message: "cannot write: \(String(cString: strerror(code)))")
    }

    /// `path` with its links and its directories' resolved (realpath); nil if it does not
    /// resolve.
    private static func resolvedPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// Opens `path` with `flags` (and close-on-exec), new files with the umask's permissions.
    private static func openInPlace(_ path: String, _ flags: Int32) throws -> Int32 {
        let fd = open(path, flags | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw cannotWrite(path, errno) }
        return fd
    }

    /// A duplicate of `fd`, to write `path` through.
    private static func duplicate(_ fd: Int32, for path: String) throws -> Int32 {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw cannotWrite(path, errno) }
        return copy
    }

    /// The paths `path`'s own links lead through, `path` first, to the first that is no link
    /// or does not exist (a link's relative target joined to its directory as written: where
    /// the kernel resolves that directory through a magic link, such as /proc/PID/root, its
    /// resolved text names another place); nil past 40 links, the kernel's limit.
    private static func linkChain(_ path: String) -> [String]? {
        var chain = [path]
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        while chain.count <= 41 {
            let current = chain[chain.count - 1]
            let count = readlink(current, &buffer, buffer.count - 1)
            guard count >= 0 else { return chain }
            let target = String(decoding: buffer[..<count].lazy.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            chain.append(target.hasPrefix("/") ? target : split(current).directory + target)
        }
        return nil
    }

    /// `path` split after its last slash: its directory with that slash ("" if it has none),
    /// and its last name.
    private static func split(_ path: String) -> (directory: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    /// The directory `path` is in, its links resolved where it exists.
    private static func directory(of path: String) -> String {
        let directory = split(path).directory
        let given = directory.isEmpty ? "." : directory
        return resolvedPath(given) ?? given
    }

    /// The descriptor of this process that `path` names through its links (/dev/stdout leads
    /// to /proc/self/fd/1), if it names one: a link in the process's own descriptor
    /// directory, however spelled, by its number written plainly.
    private static func namedDescriptor(_ path: String) -> Int32? {
        let directories = ["/proc/self/fd", "/proc/thread-self/fd"].compactMap(resolvedPath)
        guard !directories.isEmpty else { return nil }
        for link in linkChain(path) ?? [] {
            let name = split(link).base
            guard let fd = Int32(name), String(fd) == name, fd >= 0, directories.contains(directory(of: link)) else { continue }
            return fd
        }
        return nil
    }

    /// The lowest descriptor of the process open for writing on the file `status` describes
    /// (device and inode), if any: those /proc/self/fd lists, or standard output and error
    /// where it is not mounted.
    private static func descriptorWriting(to status: stat) -> Int32? {
        var descriptors: [Int32] = []
        if let directory = opendir("/proc/self/fd") {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if let fd = Int32(name), fd != dirfd(directory) { descriptors.append(fd) }
            }
            closedir(directory)
        } else {
            descriptors = [STDOUT_FILENO, STDERR_FILENO]
        }
        return descriptors.sorted().first { fd in
            var opened = stat()
            let mode = fcntl(fd, F_GETFL)
            return mode >= 0 && mode & O_ACCMODE != O_RDONLY && fstat(fd, &opened) == 0
                && sameInode(opened, status)
        }
    }

    deinit {
        if let temporaryPath, !committed {
            _ = close(descriptor)
            _ = unlink(temporaryPath)
            PendingFiles.remove(temporaryPath)
        } else if temporaryPath == nil, path != nil, !committed {
            _ = close(descriptor)
        }
    }

    /// Refuses an output path that names an input of the run.
    static func refuseInputs(_ path: String, inputs: [String]) throws {
        var status = stat()
        guard let target = identity(stat(path, &status), status) else { return }
        for input in inputs {
            let same = input == "-"
                ? identity(fstat(STDIN_FILENO, &status), status) == target
                : identity(stat(input, &status), status) == target
            if same {
                throw TraceInputError(file: path, message: "is also an input of this run; refusing to overwrite it (give another output path)")
            }
        }
    }

    /// Whether two output paths name one file: the same regular file if they exist, else the
    /// same path once their links and their directories' are followed.
    static func sameFile(_ first: String, _ second: String) -> Bool {
        var status = stat()
        if let one = identity(stat(first, &status), status), let other = identity(stat(second, &status), status) {
            return one == other
        }
        func absolute(_ path: String) -> String { directory(of: path) + "/" + split(path).base }
        return absolute(linkChain(first)?.last ?? first) == absolute(linkChain(second)?.last ?? second)
    }

    /// Whether writing `path` would write where standard output goes (/dev/stdout, or the file,
    /// pipe or socket it was sent to): two outputs there would be one stream of both. A
    /// terminal or another device is not counted: what is written there is only shown (or,
    /// /dev/null, not at all; a closed standard output is held by it).
    static func isStandardOutput(_ path: String) -> Bool {
        var named = stat()
        var standard = stat()
        guard stat(path, &named) == 0, fstat(STDOUT_FILENO, &standard) == 0 else { return false }
        return sameInode(named, standard) && (standard.st_mode & S_IFMT) != S_IFCHR
    }

    /// The process's umask (read by setting and restoring it).
    private static let umask: mode_t = {
        let mask = Glibc.umask(0o022)
        _ = Glibc.umask(mask)
        return mask
    }()

    /// The regular file a stat call found (device and inode); nil if the call failed or
    /// found something else.
    private static func identity(_ result: Int32, _ status: stat) -> [UInt64]? {
        guard result == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
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
                // A descriptor made non-blocking by whoever reads it: wait until it takes more.
                if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                    var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&ready, 1, -1)
                    continue
                }
                guard count > 0 else { return String(cString: strerror(errno)) }
                offset += count
            }
            return nil
        }
    }

    /// Writes to standard error; there is nowhere to say that this failed.
    static func writeToStandardError(_ text: String) { _ = write(text, to: STDERR_FILENO) }

    /// Puts the file in place (for standard output and devices: nothing more to do).
    func commit() throws {
        guard let path else { return }
        committed = true
        guard let temporaryPath, let target else {
            guard close(descriptor) == 0 else { throw Self.cannotWrite(path, errno) }
            return
        }
        defer { PendingFiles.remove(temporaryPath) }
        guard fsync(descriptor) == 0 || errno == EINVAL, close(descriptor) == 0, rename(temporaryPath, target) == 0 else {
            let code = errno
            _ = unlink(temporaryPath)
            throw Self.cannotWrite(path, code)
        }
    }

    /// Writes what `body` hands its writer to `path` (nil: standard output) as it comes, 64 KiB
    /// at a time, then puts the file in place: a long output is never held whole.
    static func stream(to path: String?, inputs: [String], _ body: (_ write: (String) throws -> Void) throws -> Void) throws {
        let out = try Output(path, inputs: inputs)
        var buffer = ""
        try body { piece in
            buffer += piece
            if buffer.utf8.count >= 1 << 16 {
                try out.write(buffer)
                buffer = ""
            }
        }
        try out.write(buffer)
        try out.commit()
    }

    /// Writes `text` to `path` (nil: standard output) and puts it in place.
    static func write(_ text: String, to path: String?, inputs: [String] = []) throws {
        let output = try Output(path, inputs: inputs)
        try output.write(text)
        try output.commit()
    }

    /// Makes sure descriptors 0, 1 and 2 are open before anything else is: a file opened while
    /// one is closed would take its number, and a report meant for standard output would go
    /// into it. A closed one is opened read-only on /dev/null, so writing there still fails
    /// (EBADF) and reading finds nothing.
    static func reserveStandardDescriptors() {
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            reservedDescriptors.append(fd)
            let null = open("/dev/null", O_RDONLY)
            if null >= 0, null != fd {
                _ = dup2(null, fd)
                _ = close(null)
            }
        }
    }

    /// The standard descriptors the run was started without (`reserveStandardDescriptors`).
    nonisolated(unsafe) private static var reservedDescriptors: [Int32] = []
}

/// Temporary output files not yet renamed into place, removed if a signal ends the run. A
/// fixed table of C strings, so that the signal handler only reads memory and calls unlink.
enum PendingFiles {
    private static let capacity = 8
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        return slots
    }()

    static func add(_ path: String) {
        installHandlers
        for index in 0..<capacity where slots[index] == nil {
            slots[index] = strdup(path)
            return
        }
    }

    static func remove(_ path: String) {
        for index in 0..<capacity {
            if let slot = slots[index], String(cString: slot) == path {
                slots[index] = nil
                free(slot)
            }
        }
    }

    /// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE (a reader of standard error gone) and SIGXFSZ
    /// (past `ulimit -f`) unlink the pending files, then end the process as the signal would
    /// have. One the run was started ignoring stays ignored (SIGPIPE ignored, a write to a
    /// closed pipe is an error to report).
    private static let installHandlers: Void = {
        // The table made before any handler can read it.
        _ = slots
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGXFSZ] {
            var current = sigaction()
            if sigaction(signal, nil, &current) == 0,
                let handler = current.__sigaction_handler.sa_handler,
                unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
            {
                continue
            }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                for index in 0..<PendingFiles.capacity {
                    if let slot = PendingFiles.slots[index] { _ = unlink(slot) }
                }
                Glibc.signal(number, SIG_DFL)
                raise(number)
            }
            sigemptyset(&action.sa_mask)
            _ = sigaction(signal, &action, nil)
        }
    }()
}
