import CLibTraceCmd
import Glibc

/// A trace-cmd `trace.dat`, opened through libtracecmd: the one type that holds its handle.
/// It hands out every cpu's records in timestamp order and reads their fields by name from
/// the event formats the file carries, never through printed text.
final class TraceDatFile {
    /// A record during `forEachRecord`'s callback (its memory is libtracecmd's until then).
    struct Record {
        fileprivate let pointer: UnsafeMutablePointer<tep_record>
        var cpu: Int { Int(pointer.pointee.cpu) }
        /// Nanoseconds.
        var timestamp: UInt64 { UInt64(pointer.pointee.ts) }
        /// Events the ring buffer dropped just before this record: 0 none, -1 some (uncounted).
        var missedEvents: Int64 { Int64(pointer.pointee.missed_events) }
        fileprivate var bytes: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: pointer.pointee.data, count: max(0, Int(pointer.pointee.size)))
        }
    }

    /// An event format of the file (`lock:lock_acquire`).
    struct Format {
        fileprivate let pointer: UnsafeMutablePointer<tep_event>
        let id: Int32
        let name: String
        let system: String
    }

    /// A field of an event format, found by name.
    struct Field {
        fileprivate let pointer: UnsafeMutablePointer<tep_format_field>
    }

    let displayName: String
    /// What libtracecmd trusts in the file, checked before it reads it.
    private let layout: TraceDatLayout
    private let handle: OpaquePointer
    private let tep: OpaquePointer
    /// Formats by event id (ids are small: the kernel numbers its events from 1).
    @exclusivity(unchecked) private var formats: [Format?] = []

    /// Opens the trace.dat on `descriptor` (a seekable file, read from its start; it must
    /// stay open while this file is read).
    init(descriptor: FileDescriptor) throws(TraceInputError) {
        let displayName = descriptor.displayName
        self.displayName = displayName
        // The header's page size and each cpu's data range first: libtracecmd takes them on
        // trust (and each data page, checked as the records are read).
        let layout = try TraceDatLayout(descriptor: descriptor)
        self.layout = layout
        // libtracecmd and libtraceevent print their own complaints; pgtrace says what failed.
        tracecmd_set_loglevel(TEP_LOG_NONE)
        tep_set_loglevel(TEP_LOG_NONE)
        let flags = Int32(PGTRACE_TRACECMD_FL_LOAD_NO_PLUGINS | PGTRACE_TRACECMD_FL_LOAD_NO_SYSTEM_PLUGINS)
        // The event formats are checked for what crashed libtraceevent in fuzzers' corrupt
        // copies of real captures (`EventFormatChecks`), not for all it may trip on: its
        // parse is tried first in a process of its own, which a crash ends alone (libtracecmd's
        // whole opening where some formats are compressed).
        let texts = layout.formatTexts
        let ended =
            texts.complete
            ? texts.parseApart(bigEndian: layout.bigEndian, longSize: layout.headerLongSize, seconds: Self.openingSeconds)
            : EventFormatTexts.Ending(signal: pgtrace_tracecmd_open_head_apart(descriptor.procPath, flags, UInt32(Self.openingSeconds)))
        layout.dropFormatTexts()
        if ended.signal > 0 {
            // At the format it was parsing, where that is known (not where libtracecmd's
            // whole opening was tried).
            let parsing = ended.at?.what ?? "this trace.dat's headers and event formats"
            let message =
                ended.signal == SIGALRM
                ? "libtraceevent was still parsing \(parsing) after \(Self.openingSeconds) s: the trace.dat is corrupt"
                : "libtraceevent crashed (\(strsignal(ended.signal).map { String(cString: $0) } ?? "signal"), signal \(ended.signal)) parsing \(parsing), tried apart from pgtrace: the trace.dat is corrupt"
            if let at = ended.at { throw TraceInputError(file: displayName, byteOffset: at.byte, message: message) }
            throw TraceInputError(file: displayName, line: 1, column: 1, message: message)
        }
        // The headers first, then the cpu data, as trace-cmd report opens a file: on a file
        // truncated in its data, libtracecmd 3.1's tracecmd_open_fd crashes in its own
        // cleanup. Such a half-opened handle is left alone (a few kilobytes, once, before
        // the run fails), never closed. libtracecmd opens the path itself (at its start).
        let (opened, said) = Self.capturingStandardOutput { tracecmd_open_head(descriptor.procPath, flags) }
        guard let handle = opened else {
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "libtracecmd cannot read this trace.dat's headers (truncated, corrupt, or of a version it does not know)\(said)")
        }
        guard let tep = tracecmd_get_tep(handle) else {
            tracecmd_close(handle)
            throw TraceInputError(file: displayName, line: 1, column: 1, message: "this trace.dat carries no event formats")
        }
        // The pages libtracecmd reads as it opens the data, checked with the page header it read.
        layout.pageHeader(commitSize: Int(tep_get_header_page_size(tep)), oldFormat: tep_is_old_format(tep))
        do throws(TraceInputError) { try layout.checkFirstPages() } catch {
            tracecmd_close(handle)
            throw error
        }
        let (initialized, saidOfData) = Self.capturingStandardOutput { tracecmd_init_data(handle) }
        guard initialized >= 0 else {
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "libtracecmd cannot read this trace.dat's event data (truncated or corrupt: `trace-cmd report` says why)\(saidOfData)")
        }
        self.handle = handle
        self.tep = tep
        // The common fields' places, found by name in the file's formats (every event has
        // them at the same place): each record's are then read from its bytes.
        if let event = tep_get_event(tep, 0) {
            func place(_ name: String) -> CommonField? {
                guard let field = tep_find_common_field(event, name) else { return nil }
                let offset = Int(field.pointee.offset), size = Int(field.pointee.size)
                return offset >= 0 && (1...4).contains(size) ? CommonField(offset: offset, size: size) : nil
            }
            common = (place("common_type"), place("common_flags"), place("common_preempt_count"), place("common_pid"))
        }
        bigEndian = tep_is_file_bigendian(tep)
    }

    /// How long libtraceevent may take to parse a file's event formats apart (some tens of
    /// milliseconds for a real capture's 600) before the file is taken for corrupt.
    static let openingSeconds = 60

    /// Serializes the calls whose standard output is captured (C's stdout is one variable).
    private static let standardOutputLock = ConditionLock()

    /// Runs `body`, a libtracecmd call, with C's standard output captured: libtracecmd 3.1
    /// prints some complaints there with printf, whatever its log level, which would land in
    /// pgtrace's report (its JSON, an imported trace). What it printed, as the end of an
    /// error message (dropped when the call succeeds: trace-cmd's own debugging output).
    private static func capturingStandardOutput<T>(_ body: () -> T) -> (T, String) {
        standardOutputLock.withLock { capturingStandardOutputLocked(body) }
    }

    private static func capturingStandardOutputLocked<T>(_ body: () -> T) -> (T, String) {
        var buffer: UnsafeMutablePointer<CChar>?
        var length = 0
        let stream = open_memstream(&buffer, &length)
        let previous = pgtrace_set_stdout(stream)
        let result = body()
        _ = pgtrace_set_stdout(previous)
        guard let stream else { return (result, "") }
        fclose(stream)
        defer { free(buffer) }
        let text = buffer.map { String(cString: $0) }?.trimmingBlanks() ?? ""
        return (result, text.isEmpty ? "" : "; libtracecmd says: \(text.split(separator: "\n").joined(separator: "; "))")
    }

    private struct CommonField {
        let offset: Int
        let size: Int
    }

    private var common: (type: CommonField?, flags: CommonField?, preempt: CommonField?, pid: CommonField?) = (nil, nil, nil, nil)
    private var bigEndian = false

    /// A common field's value as the file stores it (its byte order), if the record holds it:
    /// read at every record, so a field of the machine's byte order is loaded whole.
    @inline(__always) private func value(of field: CommonField?, in record: Record) -> Int? {
        guard let field, field.offset + field.size <= Int(record.pointer.pointee.size),
            let data = record.pointer.pointee.data
        else { return nil }
        if !bigEndian {
            switch field.size {
            case 1: return Int(data.load(fromByteOffset: field.offset, as: UInt8.self))
            case 2: return Int(UInt16(littleEndian: data.loadUnaligned(fromByteOffset: field.offset, as: UInt16.self)))
            case 4: return Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: field.offset, as: UInt32.self)))
            default: break
            }
        }
        let bytes = data.assumingMemoryBound(to: UInt8.self) + field.offset
        var value = 0
        for index in 0..<field.size { value = value << 8 | Int(bytes[bigEndian ? index : field.size - 1 - index]) }
        return value
    }

    deinit { tracecmd_close(handle) }

    /// The cpus the recording covered.
    var cpuCount: Int { Int(tep_get_cpus(tep)) }

    private final class Iteration {
        let body: (Record) throws -> Void
        let layout: TraceDatLayout
        @exclusivity(unchecked) var failure: Error?
        /// Per cpu: where the pages not yet released begin, and the page of the last record.
        @exclusivity(unchecked) var runs: [(start: UInt, last: UInt)] = []
        init(body: @escaping (Record) throws -> Void, layout: TraceDatLayout) {
            self.body = body
            self.layout = layout
        }

        /// libtracecmd maps each cpu's data and reads it page by page, once: the pages left
        /// behind are dropped (256 KiB at a time), so that memory stays flat however long the
        /// file. Only pages of a map of the file are dropped (never memory libtracecmd
        /// allocated, as for a compressed file's pages), and only behind the record in hand.
        func passed(_ record: UnsafeMutablePointer<tep_record>) {
            guard let data = record.pointee.data else { return }
            let cpu = Int(record.pointee.cpu)
            guard cpu >= 0, cpu < 1 << 13 else { return }
            let page = UInt(bitPattern: data) & ~UInt(4095)
            // Most records lie in the page of the one before them on their cpu.
            if cpu < runs.count, runs[cpu].last == page { return }
            while runs.count <= cpu { runs.append((0, 0)) }
            var run = runs[cpu]
            if run.start == 0 {
                run = (page, page)
            } else if page == run.last || page == run.last + 4096 {
                if page - run.start >= 256 * 1024 {
                    drop(from: run.start, to: page)
                    run.start = page
                }
                run.last = page
            } else {
                // Another map: what was read of the last one is done with.
                drop(from: run.start, to: run.last + 4096)
                run = (page, page)
            }
            runs[cpu] = run
        }

        /// Maps found to be of the file, and ranges found not to be.
        @exclusivity(unchecked) private var fileMaps: [Range<UInt>] = []
        @exclusivity(unchecked) private var otherMemory: [UInt] = []

        private func drop(from start: UInt, to end: UInt) {
            guard end > start else { return }
            if !fileMaps.contains(where: { $0.contains(start) && $0.contains(end - 1) }) {
                guard !otherMemory.contains(start), let map = Posix.fileMapping(containing: start),
                    map.contains(end - 1)
                else {
                    if otherMemory.count < 1024 { otherMemory.append(start) }
                    return
                }
                fileMaps.append(map)
            }
            Posix.dropFilePages(start, length: Int(end - start))
        }
    }

    /// Calls `body` with every record of every cpu, in timestamp order; stops at its first error.
    func forEachRecord(_ body: (Record) throws -> Void) throws {
        try withoutActuallyEscaping(body) { body in
            let iteration = Iteration(body: body, layout: layout)
            let context = Unmanaged.passUnretained(iteration).toOpaque()
            let result = tracecmd_iterate_events(handle, nil, 0, { _, record, _, context in
                guard let record else { return 0 }
                // Borrowed, not retained: `iteration` outlives the whole iteration.
                return Unmanaged<Iteration>.fromOpaque(context!)._withUnsafeGuaranteedRef { iteration in
                    do {
                        // libtracecmd reads on when this returns: the pages it may read
                        // before the next record are checked first.
                        try iteration.layout.passed(cpu: Int(record.pointee.cpu), offset: Int(clamping: record.pointee.offset))
                        iteration.passed(record)
                        try iteration.body(Record(pointer: record))
                        return 0
                    } catch {
                        iteration.failure = error
                        return -1
                    }
                }
            }, context)
            if let failure = iteration.failure { throw failure }
            if result < 0 {
                throw TraceInputError(file: displayName, line: 1, column: 1, message: "libtracecmd could not read the records of this trace.dat")
            }
        }
    }

    /// `record`'s event id (common_type).
    func eventID(of record: Record) -> Int32 {
        value(of: common.type, in: record).map { Int32(truncatingIfNeeded: $0) } ?? tep_data_type(tep, record.pointer)
    }

    /// The format of `record`'s event, nil for a record of no known format.
    func format(of record: Record) -> Format? {
        let id = tep_data_type(tep, record.pointer)
        if id >= 0, Int(id) < formats.count, let format = formats[Int(id)] { return format }
        guard let event = tep_find_event_by_record(tep, record.pointer) else { return nil }
        let format = Format(
            pointer: event, id: id, name: event.pointee.name.map { String(cString: $0) } ?? "",
            system: event.pointee.system.map { String(cString: $0) } ?? "")
        if id >= 0, id < 1 << 16 {
            while formats.count <= Int(id) { formats.append(nil) }
            formats[Int(id)] = format
        }
        return format
    }

    /// The field `name` of `format`; nil if it has none. A field placed where no record can
    /// hold it (past a page, or at a negative offset or size, as a corrupt format says) is an
    /// error: its records would be skipped as if pgtrace did not use them.
    func field(_ name: String, of format: Format) throws(DecodeFailure) -> Field? {
        guard let field = tep_find_field(format.pointer, name) else { return nil }
        let offset = Int(field.pointee.offset), size = Int(field.pointee.size)
        guard offset >= 0, size >= 0, offset + size <= layout.pageSize else {
            throw DecodeFailure(
                "the format of \(format.name) places its field \(name) at offset \(offset), \(size) bytes, where no record of the file's \(layout.pageSize)-byte pages can hold it: the trace.dat is corrupt")
        }
        return Field(pointer: field)
    }

    func pid(_ record: Record) -> Int {
        guard let pid = value(of: common.pid, in: record), common.pid?.size == 4 else { return Int(tep_data_pid(tep, record.pointer)) }
        return Int(Int32(truncatingIfNeeded: pid))
    }

    /// `common_flags`: TRACE_FLAG_IRQS_OFF, _HARDIRQ, _SOFTIRQ, _NMI, _BH_OFF, ….
    func flags(_ record: Record) -> Int { value(of: common.flags, in: record) ?? Int(tep_data_flags(tep, record.pointer)) }

    /// `common_preempt_count`.
    func preemptCount(_ record: Record) -> Int {
        value(of: common.preempt, in: record) ?? Int(tep_data_preempt_count(tep, record.pointer))
    }

    /// The command the file's saved cmdlines give `pid` (`<...>` when it has none).
    func command(pid: Int) -> String {
        tep_data_comm_from_pid(tep, Int32(pid)).map { String(cString: $0) } ?? "<...>"
    }

    /// Registers `command` (a switch's next_comm) as `pid`'s with libtraceevent, as trace-cmd's
    /// sched_switch plugin does: a pid the saved cmdlines lack is then named by it. (The name a
    /// task's first record gets stays its name: `TaskNames`.)
    func learnCommand(_ command: UnsafeRawBufferPointer, pid: Int) {
        guard pid > 0, !command.isEmpty else { return }
        var text = Array(command.bindMemory(to: UInt8.self).prefix(255))
        text.append(0)
        _ = text.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { tep_register_comm(tep, $0.baseAddress, Int32(pid)) }
        }
    }

    /// A number field's value; nil if the record is too short to hold it.
    func number(_ field: Field, in record: Record) -> UInt64? {
        let offset = Int(field.pointer.pointee.offset)
        let size = Int(field.pointer.pointee.size)
        guard offset >= 0, size > 0, size <= 8, offset + size <= record.bytes.count else { return nil }
        return UInt64(tep_read_number(tep, record.bytes.baseAddress! + offset, Int32(size)))
    }

    /// A field's bytes (a `__string`, `__bitmask` or fixed array, the dynamic ones found
    /// through their offset word), valid during the callback; nil if out of the record.
    func bytes(_ field: Field, in record: Record) -> UnsafeRawBufferPointer? {
        guard let data = record.bytes.baseAddress else { return nil }
        var length: Int32 = 0
        guard let start = pgtrace_tep_dynamic(field.pointer, data, Int32(record.bytes.count), &length) else { return nil }
        return UnsafeRawBufferPointer(start: start, count: Int(length))
    }

    /// A string field (up to its NUL).
    func string(_ field: Field, in record: Record) -> UnsafeRawBufferPointer? {
        guard let bytes = bytes(field, in: record) else { return nil }
        let end = bytes.bindMemory(to: UInt8.self).firstIndex(ofByte: 0) ?? bytes.count
        return UnsafeRawBufferPointer(rebasing: bytes[..<end])
    }

    /// The kernel function at `address`, from the kallsyms the file carries.
    func function(at address: UInt64) -> String? {
        tep_find_function(tep, address).map { String(cString: $0) }
    }

    /// The cpus set in a `__bitmask` field (an array of the kernel's longs).
    func cpus(inMask bytes: UnsafeRawBufferPointer) -> [Int] {
        let longSize = max(1, Int(tep_get_long_size(tep)))
        let bigEndian = tep_is_file_bigendian(tep)
        var cpus: [Int] = []
        for (index, byte) in bytes.enumerated() where byte != 0 {
            // Within each long, byte 0 holds the lowest bits on a little-endian kernel.
            let word = index / longSize
            let within = bigEndian ? longSize - 1 - index % longSize : index % longSize
            for bit in 0..<8 where byte & (1 << bit) != 0 { cpus.append((word * longSize + within) * 8 + bit) }
        }
        return cpus.sorted()
    }
}

extension String {
    /// The text without C's white space (isspace) at either end, scalar by scalar ("\r\n" is
    /// one character).
    fileprivate func trimmingBlanks() -> String {
        let blanks = " \t\n\r\u{0B}\u{0C}".unicodeScalars
        var text = Substring(self).unicodeScalars
        while let first = text.first, blanks.contains(first) { text.removeFirst() }
        while let last = text.last, blanks.contains(last) { text.removeLast() }
        return String(text)
    }
}
