import Foundation

/// Runs the `pgtrace` executable in a process of its own, as a user or a CI job does.
///
/// The binary is the one built beside the tests (the debug build of `swift test`), or the one
/// `PGTRACE_BINARY` names: `.ci/run` points it at the release build, so that the command-line
/// suites also check what users install (a bug only the optimizer exposes is still a bug).
enum CommandRunner {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutBytes: Data
    }

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["PGTRACE_BINARY"], !path.isEmpty {
            return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: Repository.root + "/"))
        }
        // The test bundle sits beside the products of the same build.
        var url = Bundle.main.bundleURL
        if url.pathExtension == "xctest" { url.deleteLastPathComponent() }
        return url.appendingPathComponent("pgtrace")
    }

    /// Runs `executable` (the pgtrace binary unless given) with `arguments` in `directory`
    /// (the repository unless given), feeding it `stdin` and collecting what it prints.
    static func run(
        _ arguments: [String], stdin: Data? = nil, directory: String = Repository.root,
        environment: [String: String] = [:], executable: URL? = nil
    ) throws -> Run {
        let process = Process()
        process.executableURL = executable ?? binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.run()
        // Read both pipes while writing: a large report must not fill a pipe and stall.
        let group = DispatchGroup()
        nonisolated(unsafe) var stdoutData = Data()
        nonisolated(unsafe) var stderrData = Data()
        DispatchQueue.global().async(group: group) { stdoutData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { stderrData = err.fileHandleForReading.readDataToEndOfFile() }
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
        try input.fileHandleForWriting.close()
        group.wait()
        process.waitUntilExit()
        return Run(
            status: process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self), stdoutBytes: stdoutData)
    }

    /// A new empty directory, removed by `cleanup`.
    static func temporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("pgtrace-test-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
