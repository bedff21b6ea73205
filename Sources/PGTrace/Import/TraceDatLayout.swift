/// What libtracecmd (3.1) and libtraceevent take on trust in a trace.dat, checked before they
/// read it: a corrupt file is an error naming the byte where it is corrupt, never a crash, a
/// hang, or records silently missing from a report that looks complete.
///
/// * The file version and the size of a long: libtracecmd takes any version up to 7, and
///   with one but 6 or 7 the pages below went unchecked (a commit of 0xffffffff crashed it);
///   a long is 4 or 8 bytes (libtracecmd reads the commit's size from `header_page`).
/// * The event formats, which libtraceevent parses as libtracecmd opens the file: ASCII text
///   whose `__print_flags` and `__print_symbolic` read fields they declare (a byte of another
///   kind in a field's declaration crashed it, and `__print_flags(REC->name` of no field); in
///   a version 7 file, those of its sections that are not compressed. Each format's id, which
///   libtraceevent finds a record's format by, given once, in decimal; the common fields,
///   which pgtrace reads where the lowest id's format places them, placed alike by all
///   (`EventFormatChecks`). What libtraceevent trips on beyond these, its parse of the
///   formats tried in a process of its own finds (`EventFormatTexts`).
/// * The header's page size: libtracecmd divides by it (0 is SIGFPE) and cuts each cpu's data
///   into pages of that size (with a wrong one, it stops reading a cpu at the first page that
///   does not parse, and says nothing).
/// * Where each cpu's data lies: a range past the end of the file is refused with a line on
///   standard output; data that starts off a page boundary ends after its first page.
/// * Each data page's commit (how many bytes of events it holds): kbuffer reads events up to
///   it, and a count of lost events just after it, wherever that is (0xffffffff: SIGSEGV).
/// * The events' lengths: a padding event whose length leads back makes libtraceevent loop
///   forever; a record that runs past its page's data is read past the page.
///
/// The headers are walked by their sizes before libtracecmd opens the file. The pages are
/// checked as the records go by: libtracecmd reads each cpu's pages in order, one at a time,
/// and reads a cpu's next record before it hands over the one before; so two pages that hold
/// records, checked ahead of the record in hand on each cpu, are always ahead of what it
/// reads. Each page is read just before libtracecmd maps it: the file is read once, in order.
/// In a version 7 file with compressed data (pages that exist only as libtracecmd unpacks
/// them), only the page size and where each cpu's data lies are checked.
final class TraceDatLayout {
    /// The file versions whose layout is checked: those trace-cmd writes.
    static let versions = 6...7

    /// The pages the ring buffer can have (a sub-buffer may be larger than the machine's page).
    static let pageSizes = 4096...(16 << 20)

    /// A cpu's data, where the header says it is.
    struct CPUData {
        let cpu: Int
        let offset: Int
        let size: Int
        /// Where the header says so (for messages).
        let entry: Int
    }

    let displayName: String
    let fileSize: Int
    let pageSize: Int
    /// The size of a long the header gives.
    let headerLongSize: Int
    /// The event formats, for libtraceevent to parse apart before libtracecmd opens the file
    /// (`TraceDatFile`); dropped once it has.
    private(set) var formatTexts: EventFormatTexts
    private let descriptor: FileDescriptor
    /// The file's byte order.
    let bigEndian: Bool

    /// Per cpu id (none in a compressed file): the next page to check, the end of the cpu's
    /// data, and the last two pages found to hold records.
    private struct Pages {
        var next: Int
        let end: Int
        var earlier = -1
        var later = -1
    }
    private var pages: [Pages?] = []
    /// Where a page's events begin (8 bytes of timestamp, then the commit, a kernel long).
    private var dataStart = 16
    /// The kernel's long: the commit's size, and that of the lost-event count after the data.
    private var longSize = 8
    /// Pages of a kernel before 2.6.31 (another event encoding): only their commits are checked.
    private var oldFormat = false
    private let page: UnsafeMutableRawBufferPointer

    /// Walks the headers of the trace.dat on `descriptor` (a regular file) by their sizes and
    /// checks the page size and each cpu's data range.
    init(descriptor: FileDescriptor) throws(TraceInputError) {
        self.descriptor = descriptor
        displayName = descriptor.displayName
        guard case .regular(let size) = try descriptor.kind() else {
            throw TraceInputError(file: descriptor.displayName, message: "a trace.dat must be read from a file")
        }
        fileSize = size
        var walk = Walk(descriptor: descriptor, fileSize: size)
        try walk.expect(TraceInput.traceDatMagic, "trace-cmd's magic")
        let versionOffset = walk.offset
        let versionText = try walk.string("the file version")
        // The versions trace-cmd writes, whose layouts are checked here: libtracecmd takes any
        // number up to 7, and with one it does not know reads pages unchecked (a page's commit
        // of 0xffffffff crashed it, a padding event's length hung it).
        guard let version = Int(String(decoding: versionText, as: UTF8.self)), Self.versions.contains(version) else {
            throw TraceInputError(
                file: displayName, byteOffset: versionOffset,
                message: "the file version is \"\(String(decoding: versionText, as: UTF8.self))\"; pgtrace reads trace.dat versions 6 and 7, which trace-cmd writes: the trace.dat is corrupt or of another tool")
        }
        bigEndian = try walk.bytes(1, "the byte order").first! != 0
        walk.bigEndian = bigEndian
        let longSizeOffset = walk.offset
        let longSize = Int(try walk.bytes(1, "the size of a long").first!)
        headerLongSize = longSize
        guard longSize == 4 || longSize == 8 else {
            throw TraceInputError(
                file: displayName, byteOffset: longSizeOffset,
                message: "the header's size of a long is \(longSize); a kernel's long is 4 or 8 bytes: the trace.dat is corrupt")
        }
        let pageSizeOffset = walk.offset
        let pageSize = Int(try walk.number(4, "the page size"))
        guard pageSize & (pageSize - 1) == 0, Self.pageSizes.contains(pageSize) else {
            throw TraceInputError(
                file: displayName, byteOffset: pageSizeOffset,
                message: "the header's page size is \(pageSize); a ring-buffer page is a power of two from \(Self.pageSizes.lowerBound) to \(Self.pageSizes.upperBound) bytes: the trace.dat is corrupt")
        }
        self.pageSize = pageSize
        page = UnsafeMutableRawBufferPointer.allocate(byteCount: pageSize, alignment: 16)
        // A compressed file's cpu data is chunks that libtracecmd unpacks: only its range is checked.
        var compressed = false
        var cpus: [CPUData] = []
        if version == 6 { cpus = try walk.cpuDataVersion6() } else { (cpus, compressed) = try walk.cpuDataVersion7() }
        formatTexts = walk.texts
        for data in cpus where data.size > 0 {
            func fail(_ message: String) -> TraceInputError {
                TraceInputError(file: displayName, byteOffset: data.entry, message: "cpu \(data.cpu)'s data (\(data.size) bytes at byte \(data.offset)) \(message)")
            }
            guard data.offset <= fileSize, data.size <= fileSize - data.offset else {
                throw fail("runs past the end of the file (\(fileSize) bytes): the trace.dat is truncated or corrupt")
            }
            if compressed { continue }
            guard data.offset % pageSize == 0, data.size % pageSize == 0 else {
                throw fail("is not whole \(pageSize)-byte pages (the page size at byte \(pageSizeOffset)): the trace.dat is corrupt")
            }
            guard data.cpu < TraceDecoder.maximumCPUs else {
                throw fail("is of a cpu past the \(TraceDecoder.maximumCPUs) cpus pgtrace models: the trace.dat is corrupt")
            }
            while pages.count <= data.cpu { pages.append(nil) }
            pages[data.cpu] = Pages(next: data.offset, end: data.offset + data.size)
        }
    }

    deinit { page.deallocate() }

    /// The event formats' texts are no longer needed.
    func dropFormatTexts() { formatTexts = EventFormatTexts() }

    /// What libtracecmd read of the ring buffer's page header (`header_page`): the size of the
    /// commit field, which it takes for the kernel's long; and the pre-2.6.31 event encoding.
    func pageHeader(commitSize: Int, oldFormat: Bool) {
        longSize = commitSize == 8 ? 8 : 4
        dataStart = 8 + longSize
        self.oldFormat = oldFormat
    }

    /// Checks the pages libtracecmd reads before it hands over each cpu's first record.
    func checkFirstPages() throws(TraceInputError) {
        for cpu in pages.indices where pages[cpu] != nil { try checkPages(cpu: cpu, beyond: -1) }
    }

    /// Called with each record (its cpu and file offset) before libtracecmd reads on: checks
    /// the pages ahead of it that libtracecmd may read before the next call.
    @inline(__always) func passed(cpu: Int, offset: Int) throws(TraceInputError) {
        guard cpu >= 0, cpu < pages.count, let state = pages[cpu], state.earlier <= offset, state.next < state.end else { return }
        try checkPages(cpu: cpu, beyond: offset)
    }

    /// Checks `cpu`'s pages until two beyond `offset` hold records, or to the end of its data.
    private func checkPages(cpu: Int, beyond offset: Int) throws(TraceInputError) {
        guard var state = pages[cpu] else { return }
        while state.next < state.end, state.earlier <= offset {
            if try check(page: state.next, cpu: cpu) {
                state.earlier = state.later
                state.later = state.next
            }
            state.next += pageSize
        }
        pages[cpu] = state
    }

    /// Checks the page at `offset` as kbuffer reads it (kbuffer_load_subbuffer, then
    /// __next_event over every event); whether it holds a record.
    private func check(page offset: Int, cpu: Int) throws(TraceInputError) -> Bool {
        guard try descriptor.read(into: page, at: offset) == pageSize else {
            throw TraceInputError(
                file: displayName, byteOffset: offset,
                message: "cpu \(cpu)'s page is cut short by the end of the file: the trace.dat is truncated")
        }
        let commit = longSize == 8 ? long(at: 8) : UInt64(word(at: 8))
        // The low 27 bits count the bytes of events; bit 31 says events were lost before the
        // page, bit 30 that their count is stored (a long) after the events.
        let size = Int(commit & 0x7ff_ffff)
        let countStored = commit & (1 << 31) != 0 && commit & (1 << 30) != 0
        let room = pageSize - dataStart - (countStored ? longSize : 0)
        guard size <= room else {
            throw TraceInputError(
                file: displayName, byteOffset: offset + 8,
                message: "cpu \(cpu)'s page at byte \(offset) says it holds \(size) bytes of events\(countStored ? " and a count of lost events" : "") (commit 0x\(String(commit, radix: 16))); a \(pageSize)-byte page has room for \(room): the trace.dat is corrupt")
        }
        if oldFormat { return false }
        func corrupt(_ at: UInt32, _ message: String) -> TraceInputError {
            TraceInputError(
                file: displayName, byteOffset: offset + dataStart + Int(at),
                message: "cpu \(cpu)'s page at byte \(offset): \(message): the trace.dat is corrupt")
        }
        let end = UInt32(size)
        var next: UInt32 = 0
        var holdsRecord = false
        while next < end {
            let current = next
            let at = dataStart + Int(current)
            guard at + 4 <= pageSize else { throw corrupt(current, "an event's header runs past the end of the page") }
            let header = word(at: at)
            let type = bigEndian ? header >> 27 : header & 31
            var index = current &+ 4
            var length = type &* 4
            if type == 0 || type >= 29 {
                guard at + 8 <= pageSize else { throw corrupt(current, "an event's header runs past the end of the page") }
                let second = word(at: at + 4)
                switch type {
                case 29: length = second  // padding
                case 30, 31: (index, length) = (current &+ 8, 0)  // time extend, absolute time stamp
                default: (index, length) = (current &+ 8, (second &- 4 &+ 3) & ~3)  // a long record
                }
            }
            next = index &+ length
            if type >= 29 {
                // kbuffer reads on from `next`: a padding length that leads back loops
                // forever, one that leads past the events drops the records after it.
                guard type != 29 || (next > current && next <= end) else {
                    throw corrupt(current, "a padding event's length (\(Int32(bitPattern: length))) leads \(next > current ? "past" : "back into") the page's \(size) bytes of events")
                }
                continue
            }
            guard next >= index, next <= end else {
                throw corrupt(current, "a record of \(Int32(bitPattern: length)) bytes runs past the page's \(size) bytes of events")
            }
            holdsRecord = true
        }
        return holdsRecord
    }

    /// The 4-byte number at `index` of the page in hand, in the file's byte order.
    @inline(__always) private func word(at index: Int) -> UInt32 {
        let raw = page.loadUnaligned(fromByteOffset: index, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    /// The 8-byte number at `index` of the page in hand, in the file's byte order.
    @inline(__always) private func long(at index: Int) -> UInt64 {
        let raw = page.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        return bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
    }

    /// The headers, walked by the sizes they give, read through a window of the file.
    private struct Walk {
        let descriptor: FileDescriptor
        let fileSize: Int
        var bigEndian = false
        var offset = 0
        private var window: [UInt8] = []
        private var windowStart = 0
        /// The checks of the event formats met so far.
        private var formats: EventFormatChecks
        /// The event formats met, for libtraceevent to parse apart.
        var texts = EventFormatTexts()

        init(descriptor: FileDescriptor, fileSize: Int) {
            self.descriptor = descriptor
            self.fileSize = fileSize
            formats = EventFormatChecks(displayName: descriptor.displayName)
        }

        func error(at offset: Int, _ message: String) -> TraceInputError {
            TraceInputError(file: descriptor.displayName, byteOffset: offset, message: message)
        }

        private func pastEnd(_ what: String) -> TraceInputError {
            error(at: offset, "\(what) runs past the end of the file (\(fileSize) bytes): the trace.dat is truncated or corrupt")
        }

        /// The next `count` bytes (a few: numbers, names).
        mutating func bytes(_ count: Int, _ what: String) throws(TraceInputError) -> ArraySlice<UInt8> {
            guard count <= fileSize - offset else { throw pastEnd(what) }
            if offset < windowStart || offset + count > windowStart + window.count {
                window = [UInt8](repeating: 0, count: min(max(count, 64 * 1024), fileSize - offset))
                windowStart = offset
                guard try descriptor.read(into: &window, at: offset) == window.count else { throw pastEnd(what) }
            }
            defer { offset += count }
            return window[(offset - windowStart)..<(offset - windowStart + count)]
        }

        /// A number of `size` bytes in the file's byte order.
        mutating func number(_ size: Int, _ what: String) throws(TraceInputError) -> UInt64 {
            var value: UInt64 = 0
            for (index, byte) in try bytes(size, what).enumerated() {
                value |= UInt64(byte) << (8 * (bigEndian ? size - 1 - index : index))
            }
            return value
        }

        mutating func skip(_ count: UInt64, _ what: String) throws(TraceInputError) {
            guard count <= UInt64(fileSize - offset) else { throw pastEnd(what) }
            offset += Int(count)
        }

        /// Reads past `count` bytes of an event format (or of the ring buffer's headers),
        /// which libtraceevent parses as libtracecmd opens the file: checked first
        /// (`EventFormatChecks`).
        mutating func formatText(_ count: UInt64, _ what: String, of kind: FormatKind = .event) throws(TraceInputError) {
            guard count <= UInt64(fileSize - offset) else { throw pastEnd(what) }
            let start = offset
            let text = try bytes(Int(count), what)
            try formats.check(text, at: start, what, ofEvent: kind == .event)
            switch kind {
            case .event: texts.appendFormat(text, at: start)
            case .headerPage: texts.setHeaderPage(text, at: start)
            case .headerEvent: break  // libtracecmd reads it, libtraceevent does not parse it
            }
        }

        enum FormatKind { case headerPage, headerEvent, event }

        /// A NUL-terminated string (a name: at most 4 KiB), without its NUL.
        mutating func string(_ what: String) throws(TraceInputError) -> [UInt8] {
            let start = offset
            var text: [UInt8] = []
            while true {
                let byte = try bytes(1, what).first!
                if byte == 0 { return text }
                text.append(byte)
                guard text.count < 4096 else { throw error(at: start, "\(what) has no end (no NUL in 4 KiB): the trace.dat is corrupt") }
            }
        }

        mutating func expect(_ text: [UInt8], _ what: String) throws(TraceInputError) {
            let start = offset
            guard try Array(bytes(text.count, what)) == text else {
                throw error(at: start, "expected \(what) here: the trace.dat is corrupt")
            }
        }

        /// A cpu count, which pgtrace must be able to model.
        mutating func cpuCount(_ size: Int, _ what: String) throws(TraceInputError) -> Int {
            let start = offset
            let count = try number(size, what)
            guard count <= UInt64(TraceDecoder.maximumCPUs) else {
                throw error(at: start, CPULimit.declaredBeyondModel("the trace.dat", Int(count)))
            }
            return Int(count)
        }

        /// A cpu's data range: offset and size.
        mutating func cpuData(_ cpu: Int, _ what: String) throws(TraceInputError) -> CPUData {
            let entry = offset
            let dataOffset = try number(8, what)
            let size = try number(8, what)
            return CPUData(cpu: cpu, offset: Int(clamping: dataOffset), size: Int(clamping: size), entry: entry)
        }

        /// Version 6: the header sections in their order, the options, then the flyrecord
        /// section's table of each cpu's data (trace-cmd.dat.v6(5)).
        mutating func cpuDataVersion6() throws(TraceInputError) -> [CPUData] {
            try headerInfo()
            try ftraceFormats()
            try eventFormats()
            try skip(try number(4, "the kallsyms section"), "the kallsyms section")
            try skip(try number(4, "the printk formats section"), "the printk formats section")
            try skip(try number(8, "the saved command lines section"), "the saved command lines section")
            var cpus = try cpuCount(4, "the cpu count")
            var section = offset
            var name = try Array(bytes(10, "the options section"))
            if name.starts(with: "options".utf8) {
                while true {
                    let id = try number(2, "the options section")
                    if id == 0 { break }
                    let size = try number(4, "the options section")
                    let data = offset
                    if id == 8, size >= 4 { cpus = try cpuCount(4, "the cpu count option") }  // CPUCOUNT
                    offset = data
                    try skip(size, "the options section")
                }
                section = offset
                name = try Array(bytes(10, "the data section's name"))
            }
            if name.starts(with: "latency".utf8) { return [] }
            guard name == Array("flyrecord\0".utf8) else {
                throw error(at: section, "expected \"flyrecord\" or \"latency\" here: the trace.dat is corrupt")
            }
            var table: [CPUData] = []
            for cpu in 0..<cpus { table.append(try cpuData(cpu, "the table of the cpus' data")) }
            return table
        }

        /// Version 7: the options sections, chained from the header, whose BUFFER option of
        /// the top instance (named "") says where each cpu's data is (trace-cmd.dat.v7(5));
        /// and whether that data is compressed. Nothing if an options section is compressed.
        mutating func cpuDataVersion7() throws(TraceInputError) -> (cpus: [CPUData], compressed: Bool) {
            let compression = try string("the compression's name")
            _ = try string("the compression's version")
            let compressed = compression != Array("none".utf8)
            var link = offset
            var next = try number(8, "the options' offset")
            var top: [CPUData] = []
            /// The sections of event formats the options name (HEADER_INFO, FTRACE_EVENTS,
            /// EVENT_FORMATS): their ids and where the options say they are.
            var formats: [(id: UInt64, offset: UInt64, option: Int)] = []
            var sections = 0
            while next != 0 {
                sections += 1
                guard next < UInt64(fileSize), sections <= 1024 else {
                    throw error(at: link, "the next options section's offset (\(next)) is \(sections > 1024 ? "one of a loop: the trace.dat is corrupt" : "past the end of the file: the trace.dat is truncated or corrupt")")
                }
                offset = Int(next)
                let section = offset
                let id = try number(2, "an options section")
                let flags = try number(2, "an options section")
                try skip(12, "an options section")
                guard id == 0 else { throw error(at: section, "expected an options section (id 0), found id \(id): the trace.dat is corrupt") }
                if flags & 1 != 0 {
                    texts.missSome()
                    return ([], compressed)
                }
                next = 0
                options: while true {
                    let id = try number(2, "the options section")
                    let size = try number(4, "the options section")
                    let data = offset
                    switch id {
                    case 0:  // DONE: where the next options section is
                        link = offset
                        next = try number(8, "the options section")
                        break options
                    case 16, 17, 18:  // HEADER_INFO, FTRACE_EVENTS, EVENT_FORMATS: where they are
                        formats.append((id, try number(8, "an option of event formats"), data))
                    case 3:  // BUFFER: an instance's flyrecord data
                        _ = try number(8, "a buffer option")
                        if try string("a buffer option's name").isEmpty {
                            _ = try string("a buffer option's clock")
                            // The instance's page size, which trace-cmd.dat.v7(5) leaves out
                            // but trace-cmd 3.1 writes and reads.
                            _ = try number(4, "a buffer option's page size")
                            top = []
                            for _ in 0..<(try cpuCount(4, "a buffer option's cpu count")) {
                                let cpu = try number(4, "a buffer option")
                                top.append(try cpuData(Int(min(cpu, UInt64(Int32.max))), "a buffer option"))
                            }
                            guard UInt64(offset - data) <= size else {
                                throw error(at: data, "a buffer option runs past its \(size) bytes: the trace.dat is corrupt")
                            }
                        }
                    default: break
                    }
                    offset = data
                    try skip(size, "the options section")
                }
            }
            for section in formats { try formatSection(section.id, at: section.offset, namedAt: section.option) }
            return (top, compressed)
        }

        /// A version 7 section of event formats, checked as version 6's are (a compressed
        /// one is libtracecmd's to unpack and is not).
        mutating func formatSection(_ id: UInt64, at start: UInt64, namedAt option: Int) throws(TraceInputError) {
            guard start < UInt64(fileSize) else {
                throw error(at: option, "the section of event formats (id \(id)) is said to be at byte \(start), past the end of the file: the trace.dat is truncated or corrupt")
            }
            offset = Int(start)
            let found = try number(2, "a section of event formats")
            let flags = try number(2, "a section of event formats")
            try skip(12, "a section of event formats")
            guard found == id else {
                throw error(at: Int(start), "expected the section of event formats (id \(id)) that the option at byte \(option) names, found id \(found): the trace.dat is corrupt")
            }
            if flags & 1 != 0 {
                texts.missSome()
                return
            }
            switch id {
            case 16: try headerInfo()
            case 17:
                texts.beginSection()
                try ftraceFormats()
            default:
                texts.beginSection()
                try eventFormats()
            }
        }

        /// The ring buffer's headers (version 6's first sections, version 7's HEADER_INFO).
        mutating func headerInfo() throws(TraceInputError) {
            try expect(Array("header_page\0".utf8), "the header_page section")
            try formatText(try number(8, "the header_page section"), "the header_page section", of: .headerPage)
            try expect(Array("header_event\0".utf8), "the header_event section")
            try formatText(try number(8, "the header_event section"), "the header_event section", of: .headerEvent)
        }

        /// The ftrace events' formats: a count, then each format's size and text.
        mutating func ftraceFormats() throws(TraceInputError) {
            texts.beginSystem("ftrace".utf8)
            for _ in 0..<(try number(4, "the ftrace event formats section")) {
                try formatText(try number(8, "the ftrace event formats section"), "the ftrace event formats section")
            }
        }

        /// The other events' formats: a count of systems, then each system's name, count of
        /// formats, and each format's size and text.
        mutating func eventFormats() throws(TraceInputError) {
            for _ in 0..<(try number(4, "the event formats section")) {
                texts.beginSystem(try string("an event system's name"))
                for _ in 0..<(try number(4, "the event formats section")) {
                    try formatText(try number(8, "the event formats section"), "the event formats section")
                }
            }
        }
    }
}
