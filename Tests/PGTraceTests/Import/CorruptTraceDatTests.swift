import Foundation
import Testing

/// The shipped trace.dat captures with one field corrupted, as a disk, a copy or a fuzzer
/// corrupts them, built here from ../shared/captures: each is an error at the byte where it is
/// corrupt (exit 2), never libtracecmd's crash or hang, never a partial report that looks
/// complete, and nothing of libtracecmd's on standard output. Run as a user runs pgtrace (a
/// crash must not take the test process with it).
@Suite final class CorruptTraceDatTests {
    /// This test's files, removed with it.
    let directory: String

    init() throws { directory = try CommandRunner.temporaryDirectory("dat-corrupt") }
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Where the fields are in lisa-sched_load.trace.dat (version 6, little-endian, 6 cpus,
    /// 4096-byte pages, an 8-byte commit): checked against the file before it is changed.
    enum Lisa {
        static let name = "lisa-sched_load.trace.dat"
        static let pageSize = 14
        static let table = 3_235_658
        static let cpu0 = 3_235_840
        /// cpu 3's last page (its data: 57344 bytes at byte 3338240).
        static let cpu3Last = 3_338_240 + 57_344 - 4096
    }

    /// trappy-trace.trace.dat: 8 cpus, a 4-byte commit (a 32-bit kernel long).
    enum Trappy {
        static let name = "trappy-trace.trace.dat"
        static let table = 2_477_877
        static let cpu0 = 2_478_080
    }

    /// The capture with `bytes` written at each offset, as `label`.dat; its path.
    func corrupted(_ capture: String, _ label: String, _ edits: [(Int, [UInt8])]) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(capture)))
        for (offset, bytes) in edits { data.replaceSubrange(offset..<(offset + bytes.count), with: bytes) }
        let path = directory + "/\(label).dat"
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// A number of the capture as it ships.
    static func number<T: FixedWidthInteger>(_ capture: String, at offset: Int, as: T.Type) throws -> T {
        let data = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(capture)))
        return data[offset..<(offset + MemoryLayout<T>.size)].reversed().reduce(0) { $0 << 8 | T($1) }
    }

    /// Runs pgtrace on `path` (standard input with `stdin`) under `timeout`: a hang fails the
    /// test, not the run.
    static func run(_ arguments: [String], _ path: String, stdin: Data? = nil) throws -> CommandRunner.Run {
        try CommandRunner.run(
            ["120", CommandRunner.binary.path] + arguments + [stdin == nil ? path : "-"], stdin: stdin,
            executable: URL(fileURLWithPath: "/usr/bin/timeout"))
    }

    static func expectError(_ run: CommandRunner.Run, _ place: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 2, "exit \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stdout.isEmpty, "\(run.stdout.prefix(200))", sourceLocation: sourceLocation)
        #expect(run.stderr.hasPrefix("\(place): error: \(message)"), "\(run.stderr)", sourceLocation: sourceLocation)
    }

    @Test func theShippedFieldsAreWhereTheseTestsSay() throws {
        #expect(try Self.number(Lisa.name, at: Lisa.pageSize, as: UInt32.self) == 4096)
        #expect(try Self.number(Lisa.name, at: Lisa.table, as: UInt64.self) == UInt64(Lisa.cpu0))
        #expect(try Self.number(Lisa.name, at: Lisa.cpu0 + 8, as: UInt64.self) <= 4080)
        #expect(try Self.number(Lisa.name, at: Lisa.table + 3 * 16 + 8, as: UInt64.self) == 57_344)
        #expect(try Self.number(Trappy.name, at: Lisa.pageSize, as: UInt32.self) == 4096)
        #expect(try Self.number(Trappy.name, at: Trappy.table, as: UInt64.self) == UInt64(Trappy.cpu0))
    }

    /// libtracecmd divides by the page size (0: SIGFPE) and cuts the data into pages of it.
    @Test(arguments: [UInt32(0), 1, 2048, 4097, 2_147_483_647])
    func aPageSizeNoRingBufferHasIsAnError(_ size: UInt32) throws {
        for capture in [Lisa.name, Trappy.name] {
            let path = try corrupted(capture, "page-size-\(size)", [(Lisa.pageSize, Self.littleEndian(size))])
            for command in ["analyze", "validate", "import"] {
                Self.expectError(
                    try Self.run([command], path), "\(path): byte 14",
                    "the header's page size is \(size); a ring-buffer page is a power of two")
            }
        }
    }

    /// A page size that divides by nothing is caught where the cpus' data is not whole pages
    /// of it: read with it, 110 of lisa's 448 events came out, and no error.
    @Test func aPageSizeTheDataIsNotWholePagesOfIsAnError() throws {
        let lisa = try corrupted(Lisa.name, "page-size-8192", [(Lisa.pageSize, Self.littleEndian(UInt32(8192)))])
        Self.expectError(
            try Self.run(["analyze"], lisa), "\(lisa): byte \(Lisa.table)",
            "cpu 0's data (36864 bytes at byte \(Lisa.cpu0)) is not whole 8192-byte pages (the page size at byte 14)")
        let trappy = try corrupted(Trappy.name, "page-size-8192", [(Lisa.pageSize, Self.littleEndian(UInt32(8192)))])
        Self.expectError(
            try Self.run(["analyze", "--format", "json"], trappy), "\(trappy): byte \(Trappy.table)",
            "cpu 0's data (12288 bytes at byte \(Trappy.cpu0)) is not whole 8192-byte pages")
    }

    /// kbuffer reads a page's events up to its commit, and the lost-event count after them:
    /// 0xffffffff was SIGSEGV, in pgtrace as in `trace-cmd report`.
    @Test func aCommitPastItsPageIsAnError() throws {
        let first = try corrupted(Lisa.name, "commit-first", [(Lisa.cpu0 + 8, Self.littleEndian(UInt64(0xffff_ffff)))])
        let message = "cpu 0's page at byte \(Lisa.cpu0) says it holds 134217727 bytes of events and a count of lost events (commit 0xffffffff); a 4096-byte page has room for 4072"
        Self.expectError(try Self.run(["analyze"], first), "\(first): byte \(Lisa.cpu0 + 8)", message)
        // Standard input is copied, then read the same.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: first))
        Self.expectError(try Self.run(["analyze"], first, stdin: bytes), "<stdin>: byte \(Lisa.cpu0 + 8)", message)
        // One byte more than the page holds; a 4-byte commit (trappy's).
        let over = try corrupted(Lisa.name, "commit-4081", [(Lisa.cpu0 + 8, Self.littleEndian(UInt64(4081)))])
        Self.expectError(
            try Self.run(["analyze"], over), "\(over): byte \(Lisa.cpu0 + 8)",
            "cpu 0's page at byte \(Lisa.cpu0) says it holds 4081 bytes of events (commit 0xff1); a 4096-byte page has room for 4080")
        let trappy = try corrupted(Trappy.name, "commit", [(Trappy.cpu0 + 8, Self.littleEndian(UInt32(0x2000)))])
        Self.expectError(
            try Self.run(["import"], trappy), "\(trappy): byte \(Trappy.cpu0 + 8)",
            "cpu 0's page at byte \(Trappy.cpu0) says it holds 8192 bytes of events (commit 0x2000); a 4096-byte page has room for 4084")
    }

    /// A page libtracecmd reads only while the records go by: checked before it gets there.
    @Test func aCorruptPageDeepInTheDataIsAnError() throws {
        let path = try corrupted(Lisa.name, "commit-last", [(Lisa.cpu3Last + 8, Self.littleEndian(UInt64(0xffff_ffff)))])
        Self.expectError(
            try Self.run(["analyze", "--format", "json"], path), "\(path): byte \(Lisa.cpu3Last + 8)",
            "cpu 3's page at byte \(Lisa.cpu3Last) says it holds 134217727 bytes")
    }

    /// kbuffer goes on from where a padding event's length leads: back into the page, it
    /// read the same events forever (`trace-cmd report` too).
    @Test func aPaddingEventThatLeadsBackIsAnError() throws {
        for (label, page) in [("first", Lisa.cpu0), ("second", Lisa.cpu0 + 4096)] {
            let path = try corrupted(
                Lisa.name, "padding-\(label)", [(page + 16, Self.littleEndian(UInt32(29)) + Self.littleEndian(Int32(-4)))])
            Self.expectError(
                try Self.run(["analyze"], path), "\(path): byte \(page + 16)",
                "cpu 0's page at byte \(page): a padding event's length (-4) leads back into the page's")
        }
    }

    /// libtracecmd refuses a cpu's data past the end of the file with a line on standard
    /// output, which landed in the JSON report.
    @Test func aCPUDataRangePastTheEndIsAnErrorAndStandardOutputStaysEmpty() throws {
        let path = try corrupted(Lisa.name, "data-offset", [(Lisa.table, Self.littleEndian(UInt64(0x7fff_ffff_ffff_0000)))])
        Self.expectError(
            try Self.run(["analyze", "--format", "json"], path), "\(path): byte \(Lisa.table)",
            "cpu 0's data (36864 bytes at byte 9223372036854710272) runs past the end of the file (3436544 bytes)")
    }

    /// A hook option (`trace-cmd record -H`) makes libtracecmd 3.1 print it with printf as it
    /// opens the file: a sound file, whose report must stay the report alone.
    @Test func libtracecmdsOwnPrintingNeverReachesStandardOutput() throws {
        // The option goes before the end of lisa's (empty) options; the table after it moves
        // into the padding before the cpus' data, which stays where it is.
        let original = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(Lisa.name)))
        let end = Lisa.table - 12  // the options' end (0), then "flyrecord\0"
        #expect(original[end..<Lisa.table] == Data([0, 0] + Array("flyrecord\0".utf8)))
        let hook = Array("sched:sched_switch,next_pid/sched:sched_wakeup,pid\0".utf8)
        var data = original.prefix(end)
        data += Self.littleEndian(UInt16(6)) + Self.littleEndian(UInt32(hook.count)) + hook
        data += original[end..<(Lisa.table + 6 * 16)]
        data += Data(count: Lisa.cpu0 - data.count)
        data += original[Lisa.cpu0...]
        let path = directory + "/hook.dat"
        try data.write(to: URL(fileURLWithPath: path))
        let json = try CommandRunner.run(["analyze", "--format", "json", path])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(!json.stdout.contains("start sched"))
        #expect((try? JSONSerialization.jsonObject(with: json.stdoutBytes)) != nil, "\(json.stdout.suffix(300))")
        let imported = try CommandRunner.run(["import", path])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasSuffix("</events></trace>\n") && !imported.stdout.contains("start sched"), "\(imported.stdout.suffix(300))")
    }

    /// A version 7 file (trace-cmd convert; scripts/with-deps installs trace-cmd): its cpus'
    /// data is found through its options sections, and its pages are checked the same.
    @Test func aVersion7FileReadsAsItsVersion6AndItsPagesAreChecked() throws {
        let v7 = directory + "/v7.dat"
        let (status, _) = try WrittenTraceDatTests.run(
            "trace-cmd", ["convert", "-i", try RealCaptureTests.capture(Lisa.name), "-o", v7, "--file-version", "7", "--compression", "none"])
        #expect(status == 0, "trace-cmd convert failed; scripts/with-deps installs trace-cmd")
        let read = try CommandRunner.run(["analyze", v7])
        #expect(read.status == 0 && read.stdout == "pgtrace: 1 trace, 448 events: no findings\n", "\(read.stdout)\(read.stderr)")
        // cpu 0's first page, copied as it is: found by its first 64 bytes.
        var data = try Data(contentsOf: URL(fileURLWithPath: v7))
        let original = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(Lisa.name)))
        let page = try #require(data.range(of: original[Lisa.cpu0..<(Lisa.cpu0 + 64)])).lowerBound
        data.replaceSubrange((page + 8)..<(page + 16), with: Self.littleEndian(UInt64(0x1_0000)))
        let corrupt = directory + "/v7-commit.dat"
        try data.write(to: URL(fileURLWithPath: corrupt))
        Self.expectError(
            try CommandRunner.run(["analyze", corrupt]), "\(corrupt): byte \(page + 8)",
            "cpu 0's page at byte \(page) says it holds 65536 bytes of events")
        // Its event formats, in a section of their own, checked as version 6's.
        var formats = try Data(contentsOf: URL(fileURLWithPath: v7))
        let digit = try #require(formats.range(of: Data("field:__u8 dst[4];".utf8))).lowerBound + "field:__u8 dst[".utf8.count
        formats[digit] = 0xff
        let badFormat = directory + "/v7-format.dat"
        try formats.write(to: URL(fileURLWithPath: badFormat))
        Self.expectError(
            try CommandRunner.run(["analyze", badFormat]), "\(badFormat): byte \(digit)",
            "the event formats section holds the byte 0xff, where an event format is ASCII text")
    }

    /// Where `text` first is in the capture as it ships.
    static func offset(of text: String, in capture: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(capture)))
        return try #require(data.range(of: Data(text.utf8))).lowerBound
    }

    /// libtracecmd takes any version up to 7, and with one but 6 or 7 (trace-cmd's) the
    /// pages went unchecked: version "5" and a commit of 0xffffffff crashed it (a fuzzer's).
    @Test func aFileVersionTraceCmdDoesNotWriteIsAnError() throws {
        #expect(try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(Lisa.name)))[10...11] == Data("6\0".utf8))
        for version in ["5", "l"] {
            let path = try corrupted(
                Lisa.name, "version-\(version)", [(10, Array(version.utf8)), (Lisa.cpu0 + 8, Self.littleEndian(UInt64(0xffff_ffff)))])
            for command in ["analyze", "validate", "import"] {
                Self.expectError(
                    try Self.run([command], path), "\(path): byte 10",
                    "the file version is \"\(version)\"; pgtrace reads trace.dat versions 6 and 7, which trace-cmd writes")
            }
        }
    }

    /// The size of the kernel's long, which says how the pages' commits are read.
    @Test func aLongOfNeither4Nor8BytesIsAnError() throws {
        for size: UInt8 in [0, 255] {
            let path = try corrupted(Trappy.name, "long-\(size)", [(13, [size])])
            Self.expectError(
                try Self.run(["analyze"], path), "\(path): byte 13", "the header's size of a long is \(size); a kernel's long is 4 or 8 bytes")
        }
    }

    /// libtraceevent parses every event format as libtracecmd opens the file: one byte that
    /// is not text in a field's declaration (`__u8 dst[\xff]`) was SIGSEGV inside it.
    @Test func aByteThatIsNotTextInAnEventFormatIsAnError() throws {
        let declaration = try Self.offset(of: "field:__u8 dst[4];", in: Lisa.name)
        let digit = declaration + "field:__u8 dst[".utf8.count
        // 0xff, UTF-8's é for "4]" (valid UTF-8, still no token to libtraceevent), a control character.
        for (label, bytes) in [("ff", [UInt8(0xff)]), ("e-acute", [0xc3, 0xa9]), ("01", [0x01])] {
            let path = try corrupted(Lisa.name, "format-\(label)", [(digit, bytes)])
            for command in ["analyze", "import"] {
                Self.expectError(
                    try Self.run([command], path), "\(path): byte \(digit)",
                    "the event formats section holds the byte 0x\(String(bytes[0], radix: 16)), where an event format is ASCII text")
            }
        }
        let header = try Self.offset(of: "27 bits", in: Trappy.name)
        let path = try corrupted(Trappy.name, "header-event", [(header, [0xff, 0xff])])
        Self.expectError(
            try Self.run(["analyze"], path), "\(path): byte \(header)", "the header_event section holds the byte 0xff, where an event format is ASCII text")
    }

    /// libtraceevent writes through the field `__print_flags(REC->name` names, found or not:
    /// `REC->3tate` for `REC->state` was SIGSEGV inside it (a fuzzer's).
    @Test func aPrintFmtThatReadsAFieldItDoesNotDeclareIsAnError() throws {
        let use = try Self.offset(of: "__print_flags(REC->state", in: Lisa.name)
        let reference = use + "__print_flags(REC->".utf8.count
        let path = try corrupted(Lisa.name, "print-fmt", [(reference, Array("3".utf8))])
        let message = "the format of writeback_single_inode_start: its print fmt reads the field \"3tate\" for __print_flags, which it does not declare"
        for command in ["analyze", "validate"] { Self.expectError(try Self.run([command], path), "\(path): byte \(reference)", message) }
        // A print fmt whose text says `field:` is no declaration (a stranger's review found
        // the check passed over such a line).
        let original = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(Lisa.name)))
        let literal = try #require(original.range(of: Data("print fmt: \"".utf8), options: .backwards, in: (use - 2048)..<use)).upperBound
        let field = try corrupted(Lisa.name, "print-fmt-field", [(reference, Array("3".utf8)), (literal, Array("field:".utf8))])
        Self.expectError(try Self.run(["analyze"], field), "\(field): byte \(reference)", message)
        // libtraceevent's tokens skip blanks: `REC-> tate` is the field "tate" (a fuzzer's).
        let blank = try corrupted(Lisa.name, "print-fmt-blank", [(reference, Array(" ".utf8))])
        Self.expectError(
            try Self.run(["analyze"], blank), "\(blank): byte \(reference + 1)",
            "the format of writeback_single_inode_start: its print fmt reads the field \"tate\" for __print_flags, which it does not declare")
    }

    /// A field an event pgtrace reads placed where no record can hold it: its offset and
    /// size were added in 32 bits (2147483640 + 16 wrapped, and the name was read 2 GB past
    /// the record: SIGSEGV), and its records would otherwise be skipped as if unused.
    @Test func aFieldPlacedPastAnyRecordIsAnError() throws {
        // sched_switch's format rewritten, at its length, as a lock_acquire of a corrupt `name`.
        let original = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(Lisa.name)))
        let start = try Self.offset(of: "name: sched_switch\n", in: Lisa.name)
        let printFormat = try #require(original.range(of: Data("print fmt:".utf8), in: start..<original.count)).lowerBound
        let end = try #require(original[printFormat...].firstIndex(of: UInt8(ascii: "\n")))
        let common = try #require(original.range(of: Data("format:\n".utf8), in: start..<end))
        let commonFields = try #require(original.range(of: Data("\n\n".utf8), in: common.upperBound..<end)).upperBound
        var text = Array(original[start..<commonFields])
        text.replaceSubrange(0..<"name: sched_switch".utf8.count, with: Array("name: lock_acquire".utf8))
        text += Array("\tfield:unsigned int flags;\toffset:8;\tsize:4;\tsigned:0;\n".utf8)
        text += Array("\tfield:unsigned long lockdep_addr;\toffset:16;\tsize:8;\tsigned:0;\n".utf8)
        text += Array("\tfield:char name[16];\toffset:2147483640;\tsize:16;\tsigned:0;\n\nprint fmt: \"x\"".utf8)
        let room = end - start
        try #require(text.count <= room)
        text += Array(repeating: UInt8(ascii: " "), count: room - text.count)
        let path = try corrupted(Lisa.name, "field-place", [(start, text)])
        let run = try Self.run(["analyze"], path)
        #expect(run.status == 2 && run.stdout.isEmpty, "\(run.status) \(run.stdout.prefix(200))")
        // At its first record: lisa's first sched_switch is its 35th record.
        #expect(
            run.stderr.hasPrefix(
                "\(path):35:1: error: the format of lock_acquire places its field name at offset 2147483640, 16 bytes, where no record of the file's 4096-byte pages can hold it"),
            "\(run.stderr)")
    }

    /// libtraceevent finds a record's format by its id: with two formats of one id, one's
    /// records were read as the other's; with none, they were "unknown" (a fuzzer's).
    @Test func aFormatsIDMissingOrGivenTwiceIsAnError() throws {
        let sched = try Self.offset(of: "name: sched_switch\nID: 95\n", in: Lisa.name)
        let numa = try Self.offset(of: "name: sched_swap_numa\nID: 78\n", in: Lisa.name)
        #expect(sched < numa)
        let twice = try corrupted(Lisa.name, "id-twice", [(sched + "name: sched_switch\nID: ".utf8.count, Array("78".utf8))])
        Self.expectError(
            try Self.run(["analyze"], twice), "\(twice): byte \(numa + "name: sched_swap_numa\n".utf8.count)",
            "the format of sched_swap_numa gives the ID 78, as another format does")
        let none = try corrupted(Lisa.name, "id-none", [(sched + "name: sched_switch\n".utf8.count, Array("XX".utf8))])
        Self.expectError(try Self.run(["validate"], none), "\(none): byte \(sched)", "the format of sched_switch has no ID line")
    }

    /// Every event shares the common fields, and pgtrace reads them, for every record, where
    /// the lowest id's format (ftrace's `function`) places them: its common_flags at offset 0
    /// gave a false sleep-in-atomic finding (a fuzzer's).
    @Test func commonFieldsPlacedOtherwiseByOneFormatIsAnError() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: try RealCaptureTests.capture(Lisa.name)))
        let firstFormat = try Self.offset(of: "name: ", in: Lisa.name)
        let firstName = String(decoding: original[(firstFormat + 6)...].prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let reference = try Self.offset(of: "\tfield:unsigned short common_type;", in: Lisa.name)
        let function = try Self.offset(of: "name: function\nID: 1\n", in: Lisa.name)
        let common = try #require(original.range(of: Data("\tfield:unsigned short common_type;".utf8), in: function..<(function + 512))).lowerBound
        let flags = try #require(original.range(of: Data("\tfield:unsigned char common_flags;\toffset:2;".utf8), in: function..<(function + 512))).lowerBound
        try #require(firstName != "function")
        let path = try corrupted(Lisa.name, "common", [(flags + "\tfield:unsigned char common_flags;\toffset:".utf8.count, Array("0".utf8))])
        Self.expectError(
            try Self.run(["analyze"], path), "\(path): byte \(common)",
            "the format of function places the common fields otherwise than the format of \(firstName) does (at byte \(reference)), where every event shares them")
    }

    /// libtraceevent trips on more than pgtrace checks for (a stray brace after a `?:`, in
    /// the format of an event with no records, was SIGSEGV in tep_parse_event): its parse
    /// is tried in a process of its own first, and a crash there is an error at the format
    /// it was parsing (it was at 1:1, the file's whole headers named).
    @Test func aFormatThatCrashesLibtraceeventIsAnErrorAtThatFormat() throws {
        let use = "REC->get ? \"get\" : \"set\", REC->value"
        let comma = try Self.offset(of: use, in: Lisa.name) + "REC->get ? \"get\" : \"set\"".utf8.count
        let format = try Self.offset(of: "name: gpio_value\n", in: Lisa.name)
        let path = try corrupted(Lisa.name, "brace", [(comma, Array("}".utf8))])
        let crashed = "libtraceevent crashed (Segmentation fault, signal 11) parsing the format of gpio_value, tried apart from pgtrace: the trace.dat is corrupt\n"
        for command in ["analyze", "validate", "import"] {
            let run = try Self.run([command], path)
            #expect(run.status == 2 && run.stdout.isEmpty, "\(command): \(run.status) \(run.stdout.prefix(200))")
            #expect(run.stderr == "\(path): byte \(format): error: \(crashed)", "\(run.stderr)")
        }
        // Started with SIGCHLD ignored, the kernel reaped the child itself, its crash went
        // unseen, and the file was opened in pgtrace's own process (a stranger's review; bash,
        // whose trap keeps it ignored past exec, where dash's does not).
        let ignoring = try CommandRunner.run(
            ["-c", "trap '' CHLD; exec \"$0\" analyze \"$1\"", CommandRunner.binary.path, path], executable: URL(fileURLWithPath: "/bin/bash"))
        #expect(ignoring.status == 2 && ignoring.stderr == "\(path): byte \(format): error: \(crashed)", "\(ignoring.status) \(ignoring.stderr)")

        // Version 7 (trace-cmd convert): libtracecmd parses its sections of formats last first,
        // and the child with it; the format named is still the one it crashed in.
        let v7 = directory + "/v7.dat"
        let (status, _) = try WrittenTraceDatTests.run(
            "trace-cmd", ["convert", "-i", try RealCaptureTests.capture(Lisa.name), "-o", v7, "--file-version", "7", "--compression", "none"])
        #expect(status == 0, "trace-cmd convert failed; scripts/with-deps installs trace-cmd")
        var data = try Data(contentsOf: URL(fileURLWithPath: v7))
        let v7Comma = try #require(data.range(of: Data(use.utf8))).lowerBound + "REC->get ? \"get\" : \"set\"".utf8.count
        let v7Format = try #require(data.range(of: Data("name: gpio_value\n".utf8))).lowerBound
        data[v7Comma] = UInt8(ascii: "}")
        let v7Brace = directory + "/v7-brace.dat"
        try data.write(to: URL(fileURLWithPath: v7Brace))
        let run = try Self.run(["analyze"], v7Brace)
        #expect(run.status == 2 && run.stderr == "\(v7Brace): byte \(v7Format): error: \(crashed)", "\(run.status) \(run.stderr)")
    }
}
