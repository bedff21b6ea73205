import FuzzSupport
import PGTrace

import Glibc

/// libFuzzer's entry point for the text importer (ftrace, trace-cmd report, perf script): each
/// input is written to a scratch file (as a user's capture is one), and goes
/// through `Analysis.analyze([.file(path:displayName:)])` — sniffed as text, imported, read and
/// replayed with all checkers — strict and lenient, then through `TraceImporter.convert` and
/// the XML it produces through the reader with schema validation. An input error is fine, a
/// crash or a hang is a bug. Built by `scripts/fuzz.sh --target text`; not part of `swift test`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzText(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // What the analysis would not sniff as text goes to the XML reader, which the other target
    // covers: tell libFuzzer to keep such inputs out of the corpus.
    guard TraceInput.content(ofStart: Array(bytes.prefix(512))) == .text else { return -1 }
    writeScratch(bytes)
    for (lenient, rawNames) in [(false, false), (true, true)] {
        var options = AnalysisOptions(maxDepth: 8)
        options.importOptions = TraceImporter.Options(rawNames: rawNames, lenient: lenient)
        let analysis = Analysis(options: options)
        expectingOnlyInputErrors {
            try analysis.analyze([.file(path: scratchPath, displayName: "fuzz.txt")])
            renderEveryFormat(analysis)
        }
    }
    // `pgtrace import`: the text to format v1, then that XML as `pgtrace lint` reads it.
    var xml: [UInt8] = []
    let imported = expectingOnlyInputErrors {
        let importer = try TraceImporter(
            path: scratchPath, displayName: "fuzz.txt", options: TraceImporter.Options(lenient: true))
        try importer.convert { xml.append(contentsOf: $0.utf8) }
        _ = importer.summary.report
    }
    guard imported else { return 0 }
    let analysis = Analysis(options: AnalysisOptions(maxDepth: 8, validatesSchema: true))
    expectingOnlyInputErrors {
        try analysis.analyze(bytes: xml, displayName: "fuzz-imported.xml")
        _ = TextReporter().render(AnalysisReport(analysis))
    }
    return 0
}

/// One scratch file per fuzzing process (libFuzzer's -jobs/-fork run several).
let scratchPath: String = {
    let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    return "\(directory)/pgtrace-fuzz-text-\(getpid()).txt"
}()

func writeScratch(_ bytes: UnsafeBufferPointer<UInt8>) {
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot create \(scratchPath): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            fatalError("cannot write \(scratchPath): \(String(cString: strerror(errno)))")
        }
        offset += written
    }
}

@_cdecl("pgtrace_fuzz_text_main")
public func fuzzTextMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    // libFuzzer ends the process with exit(): remove the scratch file then.
    atexit { unlink(scratchPath) }
    return runFuzzer(argc, argv) { data, size in fuzzText(data, size) }
}
