import Foundation
import Testing

/// docs/ci.md's commands, run as written, in order, in a copy of the repository's traces:
/// what a CI job copied from the docs would do must work on the shipped traces.
@Suite struct DocumentedCommandTests {
    /// The shell blocks of a Markdown file, and the `run:` steps of its YAML blocks, in order.
    static func commands(inMarkdown text: String) -> [String] {
        var commands: [String] = []
        var block: (language: String, lines: [String])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") {
                if let open = block {
                    if open.language == "sh" { commands.append(open.lines.joined(separator: "\n")) }
                    if open.language == "yaml" { commands += runSteps(open.lines) }
                    block = nil
                } else {
                    block = (String(line.dropFirst(3)), [])
                }
            } else if block != nil {
                block!.lines.append(line)
            }
        }
        return commands
    }

    /// `run: command` and folded `run: >` steps of a GitHub Actions workflow.
    static func runSteps(_ lines: [String]) -> [String] {
        var steps: [String] = []
        var index = 0
        while index < lines.count {
            let trimmed = lines[index].trimmingCharacters(in: .whitespaces)
            if trimmed == "run: >" {
                let indent = lines[index].prefix { $0 == " " }.count
                var folded: [String] = []
                index += 1
                while index < lines.count, lines[index].prefix(while: { $0 == " " }).count > indent {
                    folded.append(lines[index].trimmingCharacters(in: .whitespaces))
                    index += 1
                }
                steps.append(folded.joined(separator: " "))
                continue
            }
            if trimmed.hasPrefix("run: ") { steps.append(String(trimmed.dropFirst(5))) }
            index += 1
        }
        return steps
    }

    @Test func everyCommandOfTheCIGuideWorksOnTheShippedTraces() throws {
        let guide = try String(contentsOfFile: Repository.path("docs/ci.md"), encoding: .utf8)
        let commands = Self.commands(inMarkdown: guide)
        #expect(commands.count == 5)  // two shell blocks, three workflow steps
        let workspace = try CommandRunner.temporaryDirectory("docs-ci")
        defer { try? FileManager.default.removeItem(atPath: workspace) }
        let manager = FileManager.default
        try manager.copyItem(atPath: Repository.path("traces"), toPath: workspace + "/traces")
        // The policy file the guide shows, under the name it gives.
        let policy = try #require(guide.components(separatedBy: "(`lock-order.txt`):\n\n```text\n").last?.components(separatedBy: "```").first)
        try policy.write(toFile: workspace + "/lock-order.txt", atomically: true, encoding: .utf8)
        // pgtrace where the guide runs it (on PATH, and as CI's release build), recording
        // each exit status; the toolchain, git and apt are the job's, not pgtrace's: no-ops.
        let bin = workspace + "/bin"
        try manager.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try manager.createDirectory(atPath: workspace + "/.build/release", withIntermediateDirectories: true)
        let wrapper = """
            #!/bin/sh
            "\(CommandRunner.binary.path)" "$@"
            status=$?
            echo "$status pgtrace $*" >> "\(workspace)/statuses"
            exit $status

            """
        for path in [bin + "/pgtrace", workspace + "/.build/release/pgtrace"] {
            try wrapper.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        for tool in ["swift", "git", "apt-get"] {
            try "#!/bin/sh\nexit 0\n".write(toFile: bin + "/" + tool, atomically: true, encoding: .utf8)
            chmod(bin + "/" + tool, 0o755)
        }
        for command in commands {
            let run = try CommandRunner.run(
                ["-c", command], directory: workspace,
                environment: ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")],
                executable: URL(fileURLWithPath: "/bin/sh"))
            // Findings (1) are the job's business; unreadable input (2) or a crash is not.
            #expect(run.status == 0 || run.status == 1, "\(command): \(run.status) \(run.stderr)")
        }
        let statuses = try String(contentsOfFile: workspace + "/statuses", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1) }
        // Each pgtrace command of the guide ran, none failed to read its input; the baseline
        // written by the first accepts everything the second finds.
        #expect(statuses.count == 4, "\(statuses)")
        for status in statuses { #expect(status[0] == "0" || status[0] == "1", "\(status)") }
        #expect(statuses.count > 1 && statuses[1][0] == "0", "the baseline does not accept what it was written from: \(statuses)")
        for output in ["pgtrace-baseline.json", "pgtrace.sarif", "pgtrace-junit.xml"] {
            #expect(manager.fileExists(atPath: workspace + "/" + output), "\(output)")
        }
    }
}
