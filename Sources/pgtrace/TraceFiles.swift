import ArgumentParser
import Foundation
import PGTrace

/// The trace files argument shared by analyze, graph and lint.
struct TraceFiles: ParsableArguments {
    @Argument(help: "Trace files in format v1 (- reads standard input).")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one trace file") }
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
    FileManager.default.createFile(atPath: path, contents: nil)
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
