import Foundation
import Testing

/// Compares output with a file under Tests/PGTraceTests/Golden; `PGTRACE_UPDATE_GOLDEN=1
/// swift test` rewrites the files instead (review the diff before committing).
func expectGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let path = Repository.path("Tests/PGTraceTests/Golden/\(name)")
    if ProcessInfo.processInfo.environment["PGTRACE_UPDATE_GOLDEN"] != nil {
        try? actual.write(toFile: path, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
        Issue.record("no golden file \(name); run PGTRACE_UPDATE_GOLDEN=1 swift test", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let first = Array(zip(expectedLines, actualLines)).firstIndex { $0 != $1 } ?? min(expectedLines.count, actualLines.count)
        Issue.record(
            "\(name) differs from its golden file at line \(first + 1):\n  expected: \(first < expectedLines.count ? String(expectedLines[first]) : "<end>")\n  actual:   \(first < actualLines.count ? String(actualLines[first]) : "<end>")",
            sourceLocation: sourceLocation)
    }
}

/// Runs `python3 -c script arguments…`, for checks made with Python's well-kept libraries
/// (jsonschema for SARIF, networkx for GraphML). .ci/run installs them when missing.
func python(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
