import ArgumentParser
import Foundation
import PGTrace

/// The trace files argument shared by analyze, graph and lint.
struct TraceFiles: ParsableArguments {
    @Argument(help: "Trace files in format v1 (- reads standard input).")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one trace file") }
        // Each "-" would be spooled to the same file, the second emptying the first.
        guard files.filter({ $0 == "-" }).count <= 1 else {
            throw ValidationError("standard input (-) can be given only once")
        }
    }

    /// The files as analysis sources, standard input spooled to a temporary file.
    func sources() throws -> [Analysis.Source] {
        try files.map { file in
            let (path, name) = try spooled(file)
            return .file(path: path, displayName: name)
        }
    }
}

/// Standard input copied to a temporary file: importing reads a trace twice.
func spooled(_ file: String) throws -> (path: String, name: String) {
    guard file == "-" else { return (file, file) }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-stdin-\(getpid())").path
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    while true {
        let chunk = FileHandle.standardInput.readData(ofLength: 1 << 16)
        if chunk.isEmpty { break }
        out.write(chunk)
    }
    try out.close()
    spooledFiles.append(path)
    return (path, "<stdin>")
}

nonisolated(unsafe) var spooledFiles: [String] = []
