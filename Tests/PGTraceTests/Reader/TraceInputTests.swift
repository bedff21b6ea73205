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

    @Test func aTraceDatIsNamedForWhatItIs() throws {
        let path = try file("trace.dat", [0x17, 0x08, 0x44] + Array("tracing6\0\u{1}".utf8))
        #expect(throws: TraceInputError(file: path, line: 1, column: 1, message: "a trace-cmd trace.dat file, which this pgtrace cannot read yet; analyze the text of `trace-cmd report -i \(path)` instead")) {
            _ = try TraceInput(path: path)
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
        do {
            let importer = TraceImporter(path: path, displayName: "long.txt")
            let next = try importer.chunks()
            #expect(try next() != nil)
            #expect(Self.descriptors(on: path).count == 1)
        }
        // The reader let go of the chunks half way (a cancelled analysis does): no descriptor
        // on the file is left.
        #expect(Self.descriptors(on: path).isEmpty)
    }

    @Test func aStreamOfTextIsCopiedToAFileWithNoName() throws {
        let directory = try temporaryDirectory("spool")
        var pipe: [Int32] = [0, 0]
        #expect(Glibc.pipe(&pipe) == 0)
        let capture = Array("# tracer: nop\n  bash-1   [000] .... 1.000000: lock_acquire: 0000000012345678 &a\n".utf8)
        capture.withUnsafeBytes { _ = Glibc.write(pipe[1], $0.baseAddress, $0.count) }
        close(pipe[1])
        let input = try TraceInput(path: "/proc/self/fd/\(pipe[0])", displayName: "<pipe>")
        close(pipe[0])
        #expect(input.content == .text)
        let copy = try input.textPath(originalPath: "-", temporaryDirectory: directory)
        #expect(copy.hasPrefix("/proc/self/fd/"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(capture))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
}
