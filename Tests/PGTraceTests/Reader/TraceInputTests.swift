import Foundation
import Testing

@testable import PGTrace

/// A source is opened once and judged by its first bytes.
@Suite final class TraceInputTests {
    /// Each test's files, removed when it ends.
    private var directories: [String] = []

    deinit { for directory in directories { try? FileManager.default.removeItem(atPath: directory) } }

    private func temporaryDirectory(_ label: String) throws -> String {
        let directory = try CommandRunner.temporaryDirectory(label)
        directories.append(directory)
        return directory
    }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let directory = try temporaryDirectory("input")
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func xmlAndTextAreToldByTheirFirstCharacter() throws {
        let xml = try TraceInput(path: try file("a.trace", Array("\u{FEFF}\n  <?xml version=\"1.0\"?><trace version=\"1\"/>".utf8)))
        #expect(xml.content == .xml)
        // The name says XML; the content says text.
        let text = try TraceInput(path: try file("b.xml", Array("# tracer: nop\n bash-1 [000] .... 1.0: lock_acquire: x &a\n".utf8)))
        #expect(text.content == .text)
    }

    @Test func binaryDataIsRefusedWhereItsFirstNULIs() throws {
        let path = try file("c.dat", Array("line one\nab".utf8) + [0, 1, 2])
        #expect(throws: TraceInputError(file: path, line: 2, column: 3, message: "binary data (a NUL byte); expected a trace in XML format v1 or kernel text output (ftrace, trace-cmd report, perf script)")) {
            _ = try TraceInput(path: path)
        }
    }

    /// A trace saved in UTF-16 or UTF-32 (with a byte-order mark or without) is told so, not
    /// called binary data for its NUL bytes.
    @Test(arguments: [
        ([0xFF, 0xFE] as [UInt8], "utf-16le", "UTF-16"), ([0xFE, 0xFF], "utf-16be", "UTF-16"), ([], "utf-16le", "UTF-16"),
        ([], "utf-16be", "UTF-16"), ([0xFF, 0xFE, 0, 0], "utf-32le", "UTF-32"), ([], "utf-32be", "UTF-32"),
    ])
    func aTraceInAWideEncodingIsRefusedAsSuch(_ mark: [UInt8], _ encoding: String, _ named: String) throws {
        let text = "<?xml version=\"1.0\" encoding=\"\(named)\"?>\n<trace version=\"1\"/>\n"
        let units: [UInt8]
        switch encoding {
        case "utf-16le": units = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        case "utf-16be": units = text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case "utf-32le": units = text.unicodeScalars.flatMap { [UInt8($0.value & 0xFF), 0, 0, 0] }
        default: units = text.unicodeScalars.flatMap { [0, 0, 0, UInt8($0.value & 0xFF)] }
        }
        let path = try file("wide.xml", mark + units)
        #expect(throws: TraceInputError(file: path, line: 1, column: 1, message: "is \(named) text; pgtrace reads traces in UTF-8 (convert it first, e.g. iconv -f \(named) -t UTF-8)")) {
            _ = try TraceInput(path: path)
        }
    }

    @Test func aTraceDatIsKnownByItsMagicNotItsName() throws {
        let path = try file("capture.bin", [0x17, 0x08, 0x44] + Array("tracing6\0\u{1}".utf8))
        #expect(try TraceInput(path: path).content == .traceDat)
    }

    @Test func xmlIsKnownByItsMarkupAndTextByEverythingElse() throws {
        for (text, content) in [
            ("<?xml version=\"1.0\"?><trace version=\"1\"/>", TraceInput.Content.xml),
            ("<trace version=\"1\"/>", .xml), ("\n  <!-- a comment --><trace/>", .xml),
            ("<idle>-0     [001] d.s3 20803.501685: lock_acquire: 0000000008b91ab4 &sg_policy->update_lock\n", .text),
            ("<...>-4083  [004] ....   395.705673: sys_rt_sigprocmask -> 0x0\n", .text),
            ("<tracer>\n", .text),
        ] {
            let path = try file("sniff.txt", Array(text.utf8))
            #expect(try TraceInput(path: path).content == content, "\(text)")
        }
    }

    @Test func aDirectoryIsRefusedAtOnce() throws {
        let directory = try temporaryDirectory("input-dir")
        #expect(throws: TraceInputError(file: directory, message: "is a directory, not a trace file")) {
            _ = try TraceInput(path: directory)
        }
    }

    /// The descriptors of this process open on `path`.
    static func descriptors(on path: String) -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == path }
    }

    @Test func anImportAbandonedHalfWayClosesItsFile() throws {
        var text = "# tracer: nop\n"
        for index in 0..<20_000 {
            text += "  bash-1   [000] .... \(index).000000: lock_acquire: 0000000012345678 &a\n"
            text += "  bash-1   [000] .... \(index).000001: lock_release: 0000000012345678 &a\n"
        }
        let path = try file("long.txt", Array(text.utf8))
        struct Stop: Error {}
        do {
            let importer = try TraceImporter(path: path, displayName: "long.txt")
            #expect(throws: Stop.self) {
                try importer.read(header: { _ in }, event: { _ in
                    #expect(Self.descriptors(on: path).count == 1)
                    throw Stop()
                })
            }
        }
        // The reader stopped half way (a cancelled analysis does): no descriptor on the file
        // is left.
        #expect(Self.descriptors(on: path).isEmpty)
    }

    @Test func aStreamOfTextIsReadOnceAsItComes() throws {
        var pipe: [Int32] = [0, 0]
        #expect(Glibc.pipe(&pipe) == 0)
        let capture = Array("# tracer: nop\n  bash-1   [000] .... 1.000000: lock_acquire: 0000000012345678 &a\n".utf8)
        capture.withUnsafeBytes { _ = Glibc.write(pipe[1], $0.baseAddress, $0.count) }
        close(pipe[1])
        let input = try TraceInput(path: "/proc/self/fd/\(pipe[0])", displayName: "<pipe>")
        close(pipe[0])
        #expect(input.content == .text && input.size == nil)
        var waits = 0
        var events: [EventKind] = []
        let importer = TraceImporter(input: input, symbols: SymbolTable())
        try importer.read(willWait: { waits += 1 }, header: { #expect($0.partial) }, event: { events.append($0.kind) })
        // The flags column states the irq state: an irq-enable, then the acquisition.
        #expect(events.count == 2 && waits >= 1)
    }
}
