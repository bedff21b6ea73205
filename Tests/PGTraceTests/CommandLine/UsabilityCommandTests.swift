import Foundation
import Testing

/// What a new user met, command by command (issue 14's "misleading details"), as the binary
/// now behaves.
@Suite struct UsabilityCommandTests {
    func pgtrace(_ arguments: [String]) throws -> CommandRunner.Run {
        try CommandRunner.run(arguments)
    }

    @Test func barePgtraceIsAUsageError() throws {
        let run = try pgtrace([])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("USAGE: pgtrace <subcommand>"))
    }

    @Test func importRefusesSeveralCapturesInOneOutput() throws {
        let capture = "../shared/captures/README.md"
        let run = try pgtrace(["import", capture, capture])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("Unexpected argument"))
        #expect(run.stderr.contains("Usage: pgtrace import <file>"))
    }

    @Test func quietPrintsNothingAndTheStatusTells() throws {
        let buggy = try pgtrace(["analyze", "--quiet", "traces/pgd-lock-abba.xml"])
        #expect(buggy.status == 1)
        #expect(buggy.stdout.isEmpty && buggy.stderr.isEmpty)
        let fixed = try pgtrace(["analyze", "--quiet", "traces/pgd-lock-abba-fixed.xml"])
        #expect(fixed.status == 0)
        #expect(fixed.stdout.isEmpty)
        let valid = try pgtrace(["validate", "--quiet", "traces/pgd-lock-abba.xml"])
        #expect(valid.status == 0 && valid.stdout.isEmpty)
    }

    /// `--quiet` answers from the findings' rules and severities, without their text: the
    /// status is the one the printed report's --rule, --fail-on and --finding would give.
    @Test func quietsStatusFollowsRuleFailOnAndFinding() throws {
        func status(_ arguments: [String], _ traces: String...) throws -> Int32 {
            let run = try pgtrace(["analyze", "--quiet"] + arguments + traces)
            #expect(run.stdout.isEmpty, "\(arguments)")
            return run.status
        }
        // A cycle (an error), and a pgd_list gap (a warning) alone.
        let (cycle, gap) = ("traces/pgd-lock-abba.xml", "traces/seed000-pgd-free-unlist-before-mop-up.xml")
        #expect(try status(["--rule", "circular-dependency"], cycle) == 1)
        #expect(try status(["--rule", "ipi-deadlock"], cycle) == 0)
        #expect(try status(["--fail-on", "never"], cycle) == 0)
        #expect(try status([], gap) == 0)
        #expect(try status(["--fail-on", "warning"], gap) == 1)
        #expect(try status(["--fail-on", "warning", "--rule", "circular-dependency"], gap) == 0)
        #expect(try status(["--finding", "1"], cycle) == 1)
        let missing = try pgtrace(["analyze", "--quiet", "--finding", "2", cycle])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("--finding 2: the report has 1 finding"))
        // The graph's cycle and a trace's gap in one analysis: the status the printed report has.
        for (arguments, expected): ([String], Int32) in [
            ([], 1), (["--rule", "pgd-list-gap"], 0), (["--fail-on", "warning", "--rule", "pgd-list-gap"], 1),
            (["--fail-on", "warning", "--rule", "circular-dependency"], 1), (["--rule", "ipi-deadlock"], 0),
        ] {
            #expect(try pgtrace(["analyze"] + arguments + [cycle, gap]).status == expected, "\(arguments)")
            #expect(try status(arguments, cycle, gap) == expected, "\(arguments)")
            // lint's the same, quiet or not.
            #expect(try pgtrace(["lint"] + arguments + [cycle, gap]).status == expected, "lint \(arguments)")
            let lint = try pgtrace(["lint", "--quiet"] + arguments + [cycle, gap])
            #expect(lint.status == expected && lint.stdout.isEmpty, "lint --quiet \(arguments)")
        }
    }

    @Test func oneEventIsOneEvent() throws {
        let directory = try CommandRunner.temporaryDirectory("one-event")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/one.xml"
        try """
            <?xml version="1.0"?>
            <trace version="1"><events><irq-disable cpu="0"/></events></trace>
            """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try pgtrace(["analyze", path]).stdout.hasSuffix("pgtrace: 1 trace, 1 event: no findings\n"))
        #expect(try pgtrace(["lint", path]).stdout.hasSuffix("pgtrace lint: 1 trace, 1 event: 0 new findings (0 errors)\n"))
        #expect(try pgtrace(["validate", path]).stdout == "\(path): valid (1 event)\n")
    }

    @Test func dashOWritesTheReport() throws {
        let directory = try CommandRunner.temporaryDirectory("dash-o")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for command in ["analyze", "lint", "graph"] {
            let run = try pgtrace([command, "-o", directory + "/\(command).out", "traces/pgd-lock-abba-fixed.xml"])
            #expect(run.status == 0, "\(command): \(run.stderr)")
            #expect(run.stdout.isEmpty)
            #expect(FileManager.default.fileExists(atPath: directory + "/\(command).out"))
        }
    }

    /// Progress is drawn whenever standard error is a terminal, standard output redirected
    /// or not, and never with --no-progress. A FIFO fed in two halves a second apart makes the
    /// run last long enough to draw; `script` gives the run a terminal.
    @Test(arguments: [false, true])
    func progressOnATerminalEvenWithOutputRedirected(_ disabled: Bool) throws {
        let directory = try CommandRunner.temporaryDirectory("progress")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = directory + "/trace.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let trace = try Data(contentsOf: URL(fileURLWithPath: Repository.path("traces/pgd-lock-abba-fixed.xml")))
        let writer = DispatchGroup()
        DispatchQueue.global().async(group: writer) {
            guard let handle = FileHandle(forWritingAtPath: fifo) else { return }
            handle.write(trace.prefix(trace.count / 2))
            Thread.sleep(forTimeInterval: 1.2)
            handle.write(trace.dropFirst(trace.count / 2))
            try? handle.close()
        }
        let command = "\(CommandRunner.binary.path) analyze \(disabled ? "--no-progress " : "")\(fifo) > \(directory)/report.txt"
        let run = try CommandRunner.run(["-qec", command, "/dev/null"], executable: URL(fileURLWithPath: "/usr/bin/script"))
        writer.wait()
        #expect(run.status == 0, "\(run.stdout)")
        #expect(run.stdout.contains("trace.fifo: ") == !disabled, "\(run.stdout.debugDescription)")
        #expect(run.stdout.contains("events/s") == !disabled)
        let report = try String(contentsOfFile: directory + "/report.txt", encoding: .utf8)
        #expect(report.hasSuffix("no findings\n"))
    }

    /// A graph too large to draw is drawn around its findings, saying so and how to get the
    /// whole; --all draws the whole.
    @Test func aLargeGraphIsDrawnAroundItsFindings() throws {
        let directory = try CommandRunner.temporaryDirectory("large-graph")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        /// `inner` taken over `outer` on `cpu`, and both let go of, a line of events.
        func nest(_ outer: String, _ inner: String, cpu: Int = 0) -> String {
            "<acquire cpu=\"\(cpu)\" lock=\"\(outer)\"/><acquire cpu=\"\(cpu)\" lock=\"\(inner)\"/>"
                + "<release cpu=\"\(cpu)\" lock=\"\(inner)\"/><release cpu=\"\(cpu)\" lock=\"\(outer)\"/>\n"
        }
        /// A trace of `events` written as `name` in the directory: its path.
        func write(_ name: String, _ events: String) throws -> String {
            let path = directory + "/" + name
            try "<?xml version=\"1.0\"?>\n<trace version=\"1\"><events>\n\(events)</events></trace>\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let chain = (0..<400).map { nest("L\($0)", "L\($0 + 1)") }.joined()
        let path = try write("large.xml", chain + nest("A", "B") + nest("B", "A"))
        let around = try pgtrace(["graph", path])
        #expect(around.status == 0)
        #expect(around.stderr == "pgtrace graph: 403 classes and 402 dependencies are too many to draw; drawing the 2 classes and 2 dependencies around findings (--all draws everything, --focus CLASS what connects to one class)\n")
        #expect(around.stdout.components(separatedBy: " -> ").count == 3)
        // JSON and GraphML are for programs: the whole graph.
        let whole = try pgtrace(["graph", "--format", "json", path])
        #expect(whole.stderr.isEmpty)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(whole.stdout.utf8)) as? [String: Any])
        #expect((document["dependencies"] as? [Any])?.count == 402)
        let all = try pgtrace(["graph", "--all", path])
        #expect(all.stderr.isEmpty)
        #expect(all.stdout.components(separatedBy: " -> ").count == 403)
        // Without findings there is no part to draw: the whole, with a warning.
        let clean = try write("clean.xml", chain)
        let noFindings = try pgtrace(["graph", clean])
        #expect(noFindings.stderr.hasPrefix("pgtrace graph: 401 classes and 400 dependencies, and no finding marks a part of them: drawing all"))
        #expect(noFindings.stdout.components(separatedBy: " -> ").count == 401)
        // Findings that flag every dependency (201 cycles of two classes) leave no part either,
        // and the warning says so, not that none marks it.
        let allMarked = try write("cycles.xml", (0..<201).map { nest("A\($0)", "B\($0)") + nest("B\($0)", "A\($0)") }.joined())
        let marked = try pgtrace(["graph", allMarked])
        #expect(marked.status == 0)
        #expect(marked.stderr == "pgtrace graph: 402 classes and 402 dependencies, and the findings touch every dependency: drawing all (dot may take minutes; --focus CLASS draws what connects to one class)\n")
        #expect(marked.stdout.components(separatedBy: " -> ").count == 403)
        #expect(marked.stdout.split(separator: "\n").filter { $0.contains(" -> ") && $0.contains("color=red") }.count == 402)
        // So do findings that flag no dependency but name both classes of each (every class
        // taken again while held: recursive-locking), where no edge is drawn red (helper-143).
        let namedClasses = try write(
            "recursive.xml", (0..<301).map { nest("X\($0)", "Y\($0)") + nest("X\($0)", "X\($0)", cpu: 1) + nest("Y\($0)", "Y\($0)", cpu: 1) }.joined())
        let named = try pgtrace(["graph", namedClasses])
        #expect(named.stderr == "pgtrace graph: 602 classes and 301 dependencies, and the findings touch every dependency: drawing all (dot may take minutes; --focus CLASS draws what connects to one class)\n")
        #expect(named.stdout.components(separatedBy: " -> ").count == 302)
        #expect(!named.stdout.split(separator: "\n").contains { $0.contains(" -> ") && $0.contains("color=red") })
    }


    /// man/pgtrace.1 (scripts/generate-manual.sh) documents every subcommand and every option
    /// the binary's help shows, in that subcommand's own entry: a page that lags the binary
    /// fails here (one option of a subcommand missing while another's of the same name is
    /// there, as `validate -o` was, included).
    @Test func theManPageDocumentsEveryCommandAndOption() throws {
        let page = try String(contentsOfFile: Repository.path("man/pgtrace.1"), encoding: .utf8)
        let help = try pgtrace(["--help"]).stdout
        let section = try #require(help.range(of: "SUBCOMMANDS:"))
        let subcommands = help[section.upperBound...].split(separator: "\n")
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map { String($0.hasSuffix(",") ? $0.dropLast() : $0) } }
            .filter { $0 != "See" }
        #expect(subcommands.count >= 5)
        for subcommand in subcommands {
            // The subcommand's entry: from its `.It Em` to the next subcommand's, or the next section.
            let start = page.range(of: ".It Em \(subcommand)\n") ?? page.range(of: ".It Em \"\(subcommand),")
            #expect(start != nil, "\(subcommand) is not in man/pgtrace.1")
            let entry = start.map { start in
                let rest = page[start.upperBound...]
                let end = [rest.range(of: "\n.It Em "), rest.range(of: "\n.Sh ")].compactMap { $0?.lowerBound }.min()
                return String(rest[..<(end ?? rest.endIndex)])
            } ?? ""
            let usage = try pgtrace([subcommand, "--help"]).stdout
            var options: Set<String> = []
            for word in usage.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" || $0 == "=" }) {
                if word.hasPrefix("--"), word.count > 2, word.dropFirst(2).allSatisfy({ $0.isLetter || $0 == "-" }) {
                    options.insert(String(word))
                }
            }
            for option in options.sorted() where option != "--help" && option != "--version" {
                #expect(entry.contains("Fl -\(option.dropFirst(2))") || entry.contains(" , -\(option.dropFirst(2))"), "\(subcommand) \(option) is not in its entry of man/pgtrace.1")
            }
        }
    }

    /// `pgtrace rules` lists every rule id of the contract; `explain RULE` gives lockdep's
    /// words, where it comes from, the shipped traces that show it (which exist), the fix.
    @Test func rulesListAndExplainEveryRule() throws {
        let list = try pgtrace(["rules"])
        #expect(list.status == 0)
        let ids = list.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(Array(ids.prefix(16)) == [
            "circular-dependency", "recursive-locking", "irq-inconsistent", "irq-inversion", "ipi-deadlock", "bad-unlock",
            "depth-overflow", "sleep-in-atomic", "pgd-list-gap", "pin-window", "table-free-race", "kmap-order", "kmap-leak",
            "lock-order-policy", "invalid-wait-context", "nest-lock-not-held",
        ])
        for id in ids.prefix(16) {
            let explain = try pgtrace(["explain", id])
            #expect(explain.status == 0)
            #expect(explain.stdout.contains("Where it comes from:") && explain.stdout.contains("The usual fix:"), "\(id)")
            for line in explain.stdout.split(separator: "\n") where line.hasPrefix("  traces/") {
                let path = String(line.dropFirst(2).split(separator: " ")[0])
                #expect(FileManager.default.fileExists(atPath: Repository.path(path)), "\(id): \(path)")
            }
        }
        let circular = try pgtrace(["rules", "circular-dependency"]).stdout
        #expect(circular.hasPrefix("circular-dependency: WARNING: possible circular locking dependency detected\n"))
        #expect(circular.contains("  traces/pgd-lock-abba.xml\n"))
        #expect(try pgtrace(["explain", "sleep-in-atomic"]).stdout.hasPrefix("sleep-in-atomic: BUG: sleeping function called from invalid context"))
        let unknown = try pgtrace(["explain", "deadlock"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no rule 'deadlock'; the rules are: circular-dependency"))
    }

    /// Many findings end with a table by rule and a numbered list; --finding N (or a
    /// fingerprint) and --rule show one, and the exit status follows what is shown.
    @Test func manyFindingsAreSummarizedAndOneCanBeShown() throws {
        let traces = ["traces/pgd-free-in-irq.xml", "traces/seed000-pgd-free-mop-up-before-unlist.xml"]
        let all = try pgtrace(["analyze"] + traces)
        #expect(all.status == 1)
        #expect(all.stdout.contains("""
            Findings by rule:
              rule              errors  warnings
              irq-inconsistent       1         0
              irq-inversion          1         0
              pgd-list-gap           0         1

            Findings (--finding N shows one, --rule RULE one rule's):
              1  error    irq-inconsistent: pgd_lock  (traces/pgd-free-in-irq.xml:23)
              2  error    irq-inversion: pgd_lock, mm->page_table_lock  (traces/pgd-free-in-irq.xml:24)
              3  warning  pgd-list-gap: pgd_lock  (traces/seed000-pgd-free-mop-up-before-unlist.xml:36)
            """))
        let second = try pgtrace(["analyze", "--finding", "2"] + traces)
        #expect(second.stdout.components(separatedBy: "[irq-inversion]").count == 2)
        #expect(!second.stdout.contains("[irq-inconsistent]") && !second.stdout.contains("Findings by rule"))
        #expect(second.stdout.hasSuffix("1 error, 0 warnings\n"))
        let warnings = try pgtrace(["analyze", "--rule", "pgd-list-gap"] + traces)
        #expect(warnings.status == 0)
        #expect(warnings.stdout.hasSuffix("0 errors, 1 warning\n"))
        let json = try pgtrace(["analyze", "--format", "json", "--finding", "3"] + traces)
        let print = try #require(
            ((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["findings"] as? [[String: Any]])?
                .first?["fingerprint"] as? String)
        let byPrint = try pgtrace(["analyze", "--finding", print] + traces)
        #expect(byPrint.stdout.contains("[pgd-list-gap]") && !byPrint.stdout.contains("[irq-inversion]"))
        let missing = try pgtrace(["analyze", "--finding", "7"] + traces)
        #expect(missing.status == 2)
        #expect(missing.stderr == "pgtrace: error: --finding 7: the report has 3 findings\n")
    }

    /// Colour only on a terminal: never through a pipe (as here) unless --color always, and
    /// never with --color never.
    @Test func colourOnlyWhenAskedOrOnATerminal() throws {
        let piped = try pgtrace(["analyze", "traces/pgd-lock-abba.xml"])
        #expect(!piped.stdout.contains("\u{1B}["))
        let always = try pgtrace(["analyze", "--color", "always", "traces/pgd-lock-abba.xml"])
        #expect(always.stdout.contains("\u{1B}[1;31mWARNING: possible circular locking dependency detected\u{1B}[0m"))
        let directory = try CommandRunner.temporaryDirectory("colour")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // On a terminal (script gives one): coloured, unless NO_COLOR.
        for noColor in [false, true] {
            let command = "env -u NO_COLOR TERM=xterm " + (noColor ? "NO_COLOR=1 " : "") + "\(CommandRunner.binary.path) analyze traces/pgd-lock-abba.xml"
            let run = try CommandRunner.run(["-qec", command, "/dev/null"], executable: URL(fileURLWithPath: "/usr/bin/script"))
            #expect(run.stdout.contains("\u{1B}[1;31mWARNING") == !noColor, "NO_COLOR=\(noColor)")
        }
    }

    /// A policy or baseline that cannot be read says why.
    @Test func anUnreadablePolicyOrBaselineSaysWhy() throws {
        let policy = try pgtrace(["lint", "--policy", "/nonexistent/policy.txt", "traces/pgd-lock-abba-fixed.xml"])
        #expect(policy.status == 2)
        #expect(policy.stderr == "/nonexistent/policy.txt: error: cannot open: No such file or directory\n")
        let baseline = try pgtrace(["lint", "--baseline", "traces", "traces/pgd-lock-abba-fixed.xml"])
        #expect(baseline.status == 2)
        #expect(baseline.stderr == "traces: error: is a directory\n")
    }
}
