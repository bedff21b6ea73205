import Foundation
import PGTrace
import Testing

/// What users and CI jobs throw at the binary that is not a well-behaved file: each case ends
/// in exit 2 with the file and a clear reason, or in correct work; never a trap, a hang, a
/// destroyed input or a file left behind.
@Suite struct HostileCommandTests {
    typealias Run = CommandRunner.Run

    private func pgtrace(_ arguments: [String], stdin: String? = nil, directory: String = Repository.root, environment: [String: String] = [:]) throws -> Run {
        try CommandRunner.run(arguments, stdin: stdin.map { Data($0.utf8) }, directory: directory, environment: environment)
    }

    /// A number the kernel keeps in /proc/sys (0 if it cannot be read).
    private static func kernelSetting(_ path: String) -> Int {
        (try? String(contentsOfFile: "/proc/sys/" + path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }
    static let protectedRegular = kernelSetting("fs/protected_regular")
    static let userNamespaces = kernelSetting("user/max_user_namespaces")

    /// Runs a shell script with the binary as `$PGTRACE` (for what Process cannot set up:
    /// ignored signals, closed descriptors).
    private func shell(_ script: String, directory: String = Repository.root) throws -> Run {
        try CommandRunner.run(
            ["-c", script], directory: directory, environment: ["PGTRACE": CommandRunner.binary.path],
            executable: URL(fileURLWithPath: "/bin/bash"))
    }

    /// A task may name itself anything (prctl PR_SET_NAME): a capture's names reach the text
    /// report and the messages on standard error with their control characters shown, never
    /// as escape sequences the terminal obeys. JSON keeps them, escaped its own way.
    /// Two locks whose names differ in that one is typed out as `lock\x01` and the other holds
    /// the byte 0x01 are two classes, and read as two: the text report traps no more (it keyed
    /// lock usage by the shown name, and both showed as lock\x01), and names the cycle.
    @Test func namesThatShowAlikeAreStillTwo() throws {
        let capture = [
            "# tracer: nop",
            "            bash-100     [000] .....    10.000001: lock_acquire: 00000000aaaa0001 lock\\x01",
            "            bash-100     [000] .....    10.000002: lock_acquire: 00000000aaaa0002 lock\u{1}",
            "            bash-100     [000] .....    10.000003: lock_release: 00000000aaaa0002 lock\u{1}",
            "            bash-100     [000] .....    10.000004: lock_release: 00000000aaaa0001 lock\\x01",
            "            bash-100     [000] .....    10.000005: lock_acquire: 00000000aaaa0002 lock\u{1}",
            "            bash-100     [000] .....    10.000006: lock_acquire: 00000000aaaa0001 lock\\x01",
        ].joined(separator: "\n") + "\n"
        for format in ["text", "junit"] {
            let run = try pgtrace(format == "text" ? ["analyze", "--color", "never", "-"] : ["lint", "--format", "junit", "-"], stdin: capture)
            #expect(run.status == 1, "\(format): \(run.stderr)")
        }
        let text = try pgtrace(["analyze", "--color", "never", "-"], stdin: capture)
        #expect(text.stdout.contains("lock\\x01 is held while acquiring lock\\\\x01"), "\(text.stdout)")
        #expect(TerminalText.escaped("a\\b\\") == "a\\b\\")
        #expect(TerminalText.escaped("\\u{85}") == "\\\\u{85}")
        #expect(TerminalText.escaped("\\\u{85}") == "\\\\\\u{85}")
    }

    @Test func namesFromACaptureCannotDriveTheTerminal() throws {
        let name = "evil\u{1B}]0;owned\u{07}\u{1B}[2J"
        let capture = [
            "          \(name)-100   [001] ....  100.000000: lock_acquire: ffff888000001000 A",
            "          \(name)-100   [001] ....  100.000001: lock_acquire: ffff888000002000 B\u{1B}[31m",
            "          \(name)-100   [001] ....  100.000002: lock_release: ffff888000002000 B\u{1B}[31m",
            "          \(name)-100   [001] ....  100.000003: lock_release: ffff888000001000 A",
            "          \(name)-100   [001] ....  100.000004: lock_acquire: ffff888000002000 B\u{1B}[31m",
            "          \(name)-100   [001] ....  100.000005: lock_acquire: ffff888000001000 A",
        ].joined(separator: "\n") + "\n"
        let text = try pgtrace(["analyze", "--color", "never", "-"], stdin: capture)
        #expect(text.status == 1)
        #expect(!text.stdout.contains("\u{1B}") && !text.stdout.contains("\u{07}"))
        #expect(text.stdout.contains("(B\\x1b[31m)"))
        #expect(text.stdout.contains("task evil\\x1b]0;owned\\x07\\x1b[2J-100"))
        let colored = try pgtrace(["analyze", "--color", "always", "-"], stdin: capture)
        #expect(colored.stdout.contains("\u{1B}[1;31mWARNING"))
        #expect(!colored.stdout.contains("B\u{1B}[31m") && !colored.stdout.contains("\u{1B}[2J"))
        let stats = try pgtrace(["stats", "-"], stdin: capture)
        #expect(stats.status == 0)
        #expect(!stats.stdout.contains("\u{1B}") && stats.stdout.contains("B\\x1b[31m"))
        let json = try pgtrace(["analyze", "--format", "json", "-"], stdin: capture)
        #expect(json.stdout.contains("B\\u001b[31m"))
        // lint's lines of accepted and stale baseline entries quote the findings' messages.
        let baseline = try CommandRunner.temporaryDirectory("escape") + "/baseline.json"
        defer { try? FileManager.default.removeItem(atPath: (baseline as NSString).deletingLastPathComponent) }
        #expect(try pgtrace(["lint", "--write-baseline", baseline, "-"], stdin: capture).status == 1)
        let accepted = try pgtrace(["lint", "--baseline", baseline, "-"], stdin: capture)
        #expect(accepted.stdout.contains("accepted (baseline): circular-dependency: "), "\(accepted.stdout)")
        let stale = try pgtrace(["lint", "--baseline", baseline, "traces/pgd-lock-abba-fixed.xml"])
        #expect(stale.stdout.contains("stale baseline entry"), "\(stale.stdout)")
        for run in [accepted, stale] { #expect(!run.stdout.contains("\u{1B}") && !run.stderr.contains("\u{1B}")) }
        // An error that quotes the capture's line.
        let broken = try pgtrace(["analyze", "-"], stdin: capture + "          \(name)-100   [001] ....  bad\u{1B}[2J\n")
        #expect(broken.status == 2)
        #expect(!broken.stderr.contains("\u{1B}"), "\(broken.stderr)")
    }

    @Test func validateAndLintReadEveryShippedTrace() throws {
        let traces = try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))
            .filter { $0.hasSuffix(".xml") }.sorted().map { "traces/\($0)" }
        for trace in traces {
            let validate = try pgtrace(["validate", trace])
            #expect(validate.status == 0, "validate \(trace): \(validate.status) \(validate.stderr)")
            for format in ["text", "sarif", "junit"] {
                let lint = try pgtrace(["lint", "--format", format, trace])
                #expect(lint.status == 0 || lint.status == 1, "lint --format \(format) \(trace): \(lint.status) \(lint.stderr)")
                #expect(!lint.stdout.isEmpty)
            }
        }
    }

    /// Numbers past what the import can hold: each an error at its line, not an overflow trap.
    @Test(arguments: [
        // A timestamp past Int64's nanoseconds.
        ("# tracer: nop\n  bash-1   [000] .... 99999999999.000000: lock_acquire: 0000000012345678 &a\n",
         "<stdin>:2:23: error: timestamp 99999999999.000000 is past what pgtrace counts in"),
        // A cpu past what pgtrace models.
        ("# tracer: nop\nCPU:9223372036854775807 [LOST 5 EVENTS]\n  bash-1   [000] .... 1.000000: lock_acquire: 0000000012345678 &a\n",
         "<stdin>:2:1: error: cpu 9223372036854775807 is more than the 8192 cpus"),
    ])
    func anOverflowingNumberIsAnErrorAtItsLine(capture: String, error: String) throws {
        let run = try pgtrace(["analyze", "-"], stdin: capture)
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix(error), "\(run.stderr)")
    }

    @Test func aFIFOIsReadOnceByEveryCommand() throws {
        let directory = try CommandRunner.temporaryDirectory("fifo")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = directory + "/trace"
        #expect(mkfifo(fifo, 0o600) == 0)
        let cases: [(arguments: [String], source: String, status: Int32)] = [
            (["analyze", fifo], "traces/pgd-lock-abba.xml", 1),
            (["lint", fifo], "traces/pgd-lock-abba.xml", 1),
            (["graph", fifo], "traces/pgd-lock-abba.xml", 0),
            (["validate", fifo], "traces/pgd-lock-abba.xml", 0),
            (["analyze", fifo], "Tests/PGTraceTests/Fixtures/import/abba.perf-script.txt", 1),
            (["import", fifo], "Tests/PGTraceTests/Fixtures/import/abba.perf-script.txt", 0),
        ]
        for (arguments, source, status) in cases {
            // The writer is a shell in the background; timeout bounds a hang. (SIGKILL: a child
            // of the test process inherits a mask that blocks the other signals.)
            let script = "timeout -s KILL 20 cat \(Repository.path(source)) > \(fifo) & timeout -s KILL 20 \"$PGTRACE\" \(arguments.joined(separator: " ")); status=$?; wait; exit $status"
            let run = try shell(script)
            #expect(run.status == status, "\(arguments) on \(source): \(run.status) \(run.stderr)")
            #expect(!run.stdout.isEmpty)
        }
    }

    @Test func standardInputThatIsADirectoryIsAnError() throws {
        for command in ["analyze", "lint", "graph", "validate", "import"] {
            let run = try shell("\"$PGTRACE\" \(command) - < /")
            #expect(run.status == 2, "\(command): \(run.status) \(run.stderr)")
            #expect(run.stderr.contains("<stdin>: error: is a directory"), "\(command): \(run.stderr)")
        }
    }

    @Test func aClosedStandardOutputWithSIGPIPEIgnoredIsAnErrorNotATrap() throws {
        // Closed outright (EBADF), and a pipe whose reader has gone (EPIPE).
        let closed = try shell("trap '' PIPE; \"$PGTRACE\" analyze traces/pgd-lock-abba.xml >&-")
        #expect(closed.status == 2, "\(closed.status) \(closed.stderr)")
        #expect(closed.stderr.contains("<stdout>: error: cannot write: Bad file descriptor"), "\(closed.stderr)")
        let directory = try CommandRunner.temporaryDirectory("pipe")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gone = try shell(
            "trap '' PIPE; exec 3>&1; mkfifo pipe; (exec 0<pipe) & exec 4>pipe; wait; \"$PGTRACE\" analyze \(Repository.path("traces/pgd-lock-abba.xml")) >&4; echo \"status $?\" >&3",
            directory: directory)
        #expect(gone.stdout.contains("status 2"), "\(gone.stdout) \(gone.stderr)")
        #expect(gone.stderr.contains("cannot write: Broken pipe"), "\(gone.stderr)")
    }

    @Test func binaryDataIsRefusedWithoutReadingToTheEnd() throws {
        // /dev/urandom never ends: judging it must not need its end.
        let run = try shell("timeout -s KILL 20 \"$PGTRACE\" analyze /dev/urandom; echo \"status $?\"")
        #expect(run.stdout.contains("status 2"), "\(run.stdout)")
        #expect(run.stderr.hasPrefix("/dev/urandom:"))
        #expect(run.stderr.contains("binary data"))
        let endless = try shell("yes 'not a trace' | timeout -s KILL 20 \"$PGTRACE\" analyze -; echo \"status $?\"")
        #expect(endless.stdout.contains("status 2"), "\(endless.stdout)")
        #expect(endless.stderr.contains("not a trace pgtrace knows"), "\(endless.stderr)")
    }

    @Test func anOutputNeverOverwritesAnInput() throws {
        let directory = try CommandRunner.temporaryDirectory("inputs")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trace = directory + "/t.xml"
        try FileManager.default.copyItem(atPath: Repository.path("traces/pgd-lock-abba.xml"), toPath: trace)
        let original = try Data(contentsOf: URL(fileURLWithPath: trace))
        for arguments in [
            ["analyze", trace, "--output", trace], ["lint", trace, "--output", trace],
            ["lint", trace, "--write-baseline", trace], ["graph", trace, "--output", trace],
            ["analyze", trace, "--output", directory + "/../" + URL(fileURLWithPath: directory).lastPathComponent + "/t.xml"],
        ] {
            let run = try pgtrace(arguments)
            #expect(run.status == 2, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains("is also an input of this run; refusing to overwrite it"), "\(run.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: trace)) == original)
        }
        let text = directory + "/capture.txt"
        try FileManager.default.copyItem(atPath: Repository.path("Tests/PGTraceTests/Fixtures/import/abba.perf-script.txt"), toPath: text)
        let capture = try Data(contentsOf: URL(fileURLWithPath: text))
        let imported = try pgtrace(["import", text, "-o", text])
        #expect(imported.status == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: text)) == capture)
    }

    @Test func outputsAreReplacedWholeOrNotAtAll() throws {
        let directory = try CommandRunner.temporaryDirectory("atomic")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = directory + "/report.txt"
        try "the previous report\n".write(toFile: report, atomically: false, encoding: .utf8)
        // A run that fails on its input leaves the old report as it was, and no temporary file.
        let failed = try pgtrace(["analyze", "--output", report, "-"], stdin: "<trace version=\"1\"><events><acquire")
        #expect(failed.status == 2)
        #expect(try String(contentsOfFile: report, encoding: .utf8) == "the previous report\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["report.txt"])
        let done = try pgtrace(["analyze", "--output", report, "traces/pgd-lock-abba.xml"])
        #expect(done.status == 1)
        #expect(try String(contentsOfFile: report, encoding: .utf8).contains("possible circular locking dependency"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["report.txt"])
    }

    /// Every command that writes a file removes its temporary file when the run fails, also
    /// `timeline`, whose file is open while the traces are read (a run that kept its
    /// analysis, and through it the output, until exit left `.out.pgtrace-XXXXXX` behind).
    @Test func aFailedRunOfAnyCommandLeavesNoTemporaryFile() throws {
        let inputs = try CommandRunner.temporaryDirectory("failed-inputs")
        defer { try? FileManager.default.removeItem(atPath: inputs) }
        try "<trace version=\"1\">\n<garbage".write(toFile: inputs + "/bad.xml", atomically: false, encoding: .utf8)
        try "{\"not\": \"a summary\"}\n".write(toFile: inputs + "/bad.summary", atomically: false, encoding: .utf8)
        let good = "traces/pgd-lock-abba.xml"
        let runs: [[String]] = [
            ["analyze", good, inputs + "/bad.xml"], ["lint", good, inputs + "/bad.xml"], ["graph", good, inputs + "/bad.xml"],
            ["stats", good, inputs + "/bad.xml"], ["timeline", good, inputs + "/bad.xml"], ["summarize", good, inputs + "/bad.xml"],
            ["merge", inputs + "/bad.summary"], ["import", inputs + "/bad.xml"],
        ]
        for arguments in runs {
            let directory = try CommandRunner.temporaryDirectory("failed-\(arguments[0])")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let run = try pgtrace(arguments + ["-o", directory + "/out"])
            #expect(run.status == 2, "\(arguments[0]): \(run.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [], "\(arguments[0])")
        }
    }

    @Test func aFailedWriteLeavesTheOldFileWhole() throws {
        // The file-size limit makes the write fail half way (EFBIG): the old report stays,
        // and no temporary file is left beside it.
        let directory = try CommandRunner.temporaryDirectory("efbig")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "the previous report\n".write(toFile: directory + "/report.json", atomically: false, encoding: .utf8)
        let run = try shell("trap '' XFSZ; ulimit -f 2; \"$PGTRACE\" analyze --format json traces/seed004-pin-ptlocks-without-nest.xml --output \(directory)/report.json")
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("report.json: error: cannot write: File too large"), "\(run.stderr)")
        #expect(try String(contentsOfFile: directory + "/report.json", encoding: .utf8) == "the previous report\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["report.json"])
    }

    @Test func devicesFIFOsAndLinksAreWrittenWhereTheyPoint() throws {
        let directory = try CommandRunner.temporaryDirectory("special-outputs")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // /dev/stdout stays what it is, and the report reaches standard output.
        let stdout = try pgtrace(["analyze", "traces/pgd-lock-abba.xml", "--output", "/dev/stdout"])
        #expect(stdout.status == 1)
        #expect(stdout.stdout.contains("possible circular locking dependency"))
        var status = stat()
        #expect(lstat("/dev/stdout", &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK)
        // A FIFO's reader gets the report.
        let fifo = try shell("mkfifo \(directory)/out; cat \(directory)/out > \(directory)/got & \"$PGTRACE\" analyze traces/pgd-lock-abba.xml --output \(directory)/out; wait; test -p \(directory)/out && wc -c < \(directory)/got")
        #expect((Int(fifo.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 1000, "\(fifo.stdout) \(fifo.stderr)")
        // A link stays a link; the file it names gets the report and keeps its permissions.
        try "old\n".write(toFile: directory + "/real.txt", atomically: false, encoding: .utf8)
        chmod(directory + "/real.txt", 0o600)
        try FileManager.default.createSymbolicLink(atPath: directory + "/link.txt", withDestinationPath: directory + "/real.txt")
        let linked = try pgtrace(["analyze", "traces/pgd-lock-abba.xml", "--output", directory + "/link.txt"])
        #expect(linked.status == 1)
        #expect(lstat(directory + "/link.txt", &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK)
        #expect(stat(directory + "/real.txt", &status) == 0 && status.st_mode & 0o777 == 0o600)
        #expect(try String(contentsOfFile: directory + "/real.txt", encoding: .utf8).contains("possible circular locking dependency"))
    }

    /// `--output` naming the file a shell sent a descriptor to (standard output through a
    /// link to /proc/self/fd/1, as /dev/stdout is; descriptor 3 likewise): the report goes
    /// there after what the shell wrote, and what the shell writes after follows it. Replaced
    /// by a rename, both went to a file no longer there, and with that file deleted the link
    /// itself was replaced by a file (for /dev/stdout, run as root, the machine's:
    /// helper-111).
    @Test func theFileADescriptorWritesToIsWrittenThroughIt() throws {
        let directory = try CommandRunner.temporaryDirectory("descriptor-file")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trace = Repository.path("traces/pgd-lock-abba.xml")
        let run = try shell("""
            ln -s /proc/self/fd/1 out
            ln -s /proc/self/fd/3 three
            { echo BEFORE; "$PGTRACE" analyze '\(trace)' --output out; echo "status $?"; } > log
            { echo BEFORE >&3; "$PGTRACE" analyze '\(trace)' --output three; echo "status $?" >&3; } 3> log3
            ( exec > gone; rm gone; "$PGTRACE" analyze '\(trace)' --output out; echo "deleted: status $?" >&2 )
            { echo BEFORE >&5; "$PGTRACE" analyze '\(trace)' --output /dev/fd/5; echo "status $?" >&5; } > log5 5>> log5
            ln -s /proc/self/fd fds
            { echo BEFORE >&6; "$PGTRACE" analyze '\(trace)' --output fds/./6; echo "status $?" >&6; } > log6 6>> log6
            "$PGTRACE" analyze '\(trace)' --output out >&- 2> err; echo "closed: status $? $(cat err)" >&2
            for spelled in /dev/fd//1 fds/1 /proc/self/fd/./1; do
                "$PGTRACE" analyze '\(trace)' --output $spelled >&- 2> /dev/null; echo "$spelled: status $?" >&2
            done
            "$PGTRACE" analyze '\(trace)' --output /dev/fd/01 > /dev/null 2>&1; echo "01: status $?" >&2
            rm err; test -L out && test -L three && echo "links stay"
            ls -A
            """, directory: directory)
        // Through the descriptor the path names (appending, as 5>> opened it), not the lowest
        // one open on that file (1, at the file's start).
        for name in ["log", "log3", "log5", "log6"] {
            let log = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            #expect(log.hasPrefix("BEFORE\n"), "\(name): \(log.prefix(200))")
            #expect(log.contains("possible circular locking dependency"), "\(name)")
            #expect(log.hasSuffix("status 1\n"), "\(name): \(log.suffix(200))")
        }
        #expect(run.stderr.contains("deleted: status 1"), "\(run.stderr)")
        // Standard output closed: its place is held by /dev/null, read-only, and the report
        // is not written there.
        #expect(run.stderr.contains("closed: status 2 out: error: cannot write: Bad file descriptor"), "\(run.stderr)")
        // However the descriptor's path is spelled; and 01 is no descriptor's name.
        for spelled in ["/dev/fd//1", "fds/1", "/proc/self/fd/./1"] {
            #expect(run.stderr.contains("\(spelled): status 2"), "\(spelled) \(run.stderr)")
        }
        #expect(run.stderr.contains("01: status 2"), "\(run.stderr)")
        // The links stay, and no temporary file is left beside them.
        #expect(run.stdout == "links stay\nfds\nlog\nlog3\nlog5\nlog6\nout\nthree\n", "\(run.stdout)")
    }

    /// A link that does not resolve is never replaced by a file of its own: one to nothing
    /// has its target made, by the rename that makes any new file (a failed run makes
    /// nothing), and two such links to one target are one file; one into a missing
    /// directory, a loop, and one to a closed descriptor are errors (exit 2); one to a file
    /// deleted and open only for reading is written in place, and a file named as such a link
    /// reads (`victim (deleted)`) is left alone (helper-115). Forty links are the kernel's
    /// limit, not past it; and a file the kernel does not reach (more links, counting those of
    /// its directories) is neither replaced nor its mode changed. A regular file whose
    /// absolute path is past PATH_MAX (realpath fails) is still replaced whole, or left whole
    /// by a run that fails (helpers 112 to 114).
    @Test func aLinkThatDoesNotResolveIsNeverReplaced() throws {
        let directory = try CommandRunner.temporaryDirectory("unresolved-links")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trace = Repository.path("traces/pgd-lock-abba.xml")
        try #"<trace version="1"><events><acquire cpu="0" task="t" lock="A"/><bogus/></events></trace>"#
            .write(toFile: directory + "/bad.xml", atomically: false, encoding: .utf8)
        let run = try shell("""
            ln -s missing dangling; ln -s nodir/x intonothing; ln -s loop loop; ln -s /proc/self/fd/7 seven
            ln -s /proc/self/fd/5 five; echo old > deleted
            for link in dangling intonothing loop seven; do
                "$PGTRACE" analyze '\(trace)' --output $link 2> err; echo "$link $? $(cut -d: -f2- err | head -1 | sed 's/^ //')"
            done
            ( exec 5< deleted; rm deleted; "$PGTRACE" analyze '\(trace)' --output five; echo "five $?" )
            for link in dangling intonothing loop seven five; do test -L $link || echo "$link is no link"; done
            grep -c 'possible circular locking dependency' missing
            echo decoy > 'victim (deleted)'; chmod 600 'victim (deleted)'; echo victim > victim
            ( exec 3< victim; rm victim; "$PGTRACE" analyze '\(trace)' --output /dev/fd/3; echo "deleted $?" )
            echo "decoy $(cat 'victim (deleted)') $(stat -c %a 'victim (deleted)')"
            ln -s missing2 dangling2; "$PGTRACE" timeline '\(directory)/bad.xml' --output dangling2 2> /dev/null
            echo "failed $?"; test -e missing2 || echo "nothing made"
            ln -s missing3 d3; ln -s missing3 d4; "$PGTRACE" lint '\(trace)' --output d3 --write-baseline d4 2> /dev/null; echo "one file $?"
            for i in $(seq 0 39); do ln -s m$((i + 1)) m$i; done
            "$PGTRACE" timeline '\(directory)/bad.xml' --output m0 2> /dev/null; echo "forty links $?"; test -e m40 || echo "nothing made"
            mkdir real; echo secret > real/target; chmod 600 real/target
            ln -s real D20; for i in $(seq 0 19); do ln -s D$((i + 1)) D$i; done
            ln -s D0/target l30; for i in $(seq 0 29); do ln -s l$((i + 1)) l$i; done
            "$PGTRACE" analyze '\(trace)' --output l0 2> err; echo "too deep $? $(cut -d: -f2- err | sed 's/^ //') $(cat real/target) $(stat -c %a real/target)"
            top=$PWD; long=$(printf 'd%.0s' {1..250})
            for i in $(seq 18); do mkdir $long && cd $long; done
            echo OLD > tl; "$PGTRACE" timeline '\(directory)/bad.xml' --output tl 2> /dev/null; echo "long $? $(cat tl)"
            "$PGTRACE" analyze '\(trace)' --output tl > /dev/null; echo "long $? $(grep -c 'possible circular' tl) $(ls -A | wc -l)"
            cd "$top"; rm -rf $long
            """, directory: directory)
        #expect(run.stdout == """
            dangling 1\u{20}
            intonothing 2 error: cannot write: No such file or directory
            loop 2 error: cannot write: Too many levels of symbolic links
            seven 2 error: cannot write: No such file or directory
            five 1
            1
            deleted 1
            decoy decoy 600
            failed 2
            nothing made
            one file 2
            forty links 2
            nothing made
            too deep 2 error: cannot write: Too many levels of symbolic links secret 600
            long 2 OLD
            long 1 1 1

            """, "\(run.stdout) \(run.stderr)")
    }

    /// The shell's `>` decides what may be written. A file it could not write (read-only,
    /// for a user other than root) is not replaced by a rename either, which asks only the
    /// directory's permission: exit 2 with the kernel's reason, and the file as it was (it
    /// was replaced: helper-115). A file the user may write is still replaced whole, and
    /// keeps its mode. Another user's file in a sticky directory, which the shell may write
    /// but the user may not rename over, is written in place, and stays its owner's (the
    /// rename failed after the whole run: helper-116). Run as another user (nobody) where
    /// the tests run as root, whom neither the file's mode nor the sticky bit stops.
    @Test func theShellsPermissionsDecideWhatIsWritten() throws {
        let directory = try CommandRunner.temporaryDirectory("read-only")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try shell("""
            chmod 777 .; cp "$PGTRACE" ./pgtrace; chmod 755 pgtrace
            cp '\(Repository.path("traces/pgd-lock-abba.xml"))' t.xml; chmod 644 t.xml
            echo old > ro; chmod 444 ro; echo old > rw; chmod 640 rw
            mkdir -m 1777 sticky; echo old > sticky/theirs; chmod 666 sticky/theirs; owner=$(stat -c %u sticky/theirs)
            as=(); if [ "$(id -u)" = 0 ]; then chown 65534:65534 ro rw; as=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi
            "${as[@]}" bash -c 'echo shell > ro' 2> /dev/null || echo "the shell refuses"
            "${as[@]}" ./pgtrace analyze t.xml --output ro 2> err; echo "ro $? $(cut -d: -f2- err | sed 's/^ //')"
            echo "$(cat ro) $(stat -c %a ro)"
            "${as[@]}" ./pgtrace analyze t.xml --output rw; echo "rw $? $(grep -c 'possible circular' rw) $(stat -c %a rw)"
            "${as[@]}" ./pgtrace analyze t.xml --output sticky/theirs; echo "sticky $? $(grep -c 'possible circular' sticky/theirs) $(stat -c %a sticky/theirs)"
            [ "$(stat -c %u sticky/theirs)" = "$owner" ] && echo "the owner stays"
            rm pgtrace; ls -A . sticky
            """, directory: directory)
        #expect(run.stdout == """
            the shell refuses
            ro 2 error: cannot write: Permission denied
            old 444
            rw 1 1 640
            sticky 1 1 666
            the owner stays
            .:
            err
            ro
            rw
            sticky
            t.xml

            sticky:
            theirs

            """, "\(run.stdout) \(run.stderr)")
    }

    /// A sticky directory (/tmp) lets only a file's owner, the directory's and a process with
    /// CAP_FOWNER rename over a file. Where the shell may write the file but pgtrace may not
    /// rename over it (another user's file, the directory another's too, or root without
    /// CAP_FOWNER, or with it in a user namespace the file's owner is not mapped into, as in a
    /// rootless container), it is written in place and keeps its inode and owner; the rename
    /// failed after the whole run (helpers 116 to 118). Where it may (its own file, its own
    /// directory), the file is replaced whole as anywhere. Run as root, which can be another
    /// user, where fs.protected_regular is off (on, the shell's `>` is refused in most of these
    /// cases, and so is pgtrace: `protectedRegularFilesAreLeftAsTheyWere`).
    @Test(.enabled(if: getuid() == 0 && Self.protectedRegular == 0 && Self.userNamespaces > 0))
    func aStickyDirectoryIsWrittenAsTheShellWould() throws {
        let directory = try CommandRunner.temporaryDirectory("sticky")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try shell("""
            chmod 755 .; cp "$PGTRACE" ./pgtrace; chmod 755 pgtrace
            cp '\(Repository.path("traces/pgd-lock-abba.xml"))' t.xml; chmod 644 t.xml
            mkdir -m 1777 roots mine; chown 65534:65534 mine
            for f in roots/theirs roots/mine mine/theirs; do echo old > $f; chmod 666 $f; done; chown 65534:65534 roots/mine
            mkdir -m 1777 others; chown 1000:1000 others
            for f in others/f others/g; do echo old > $f; chmod 666 $f; chown 1001:1001 $f; done
            nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
            nofowner=(setpriv --inh-caps=-fowner --bounding-set=-fowner)
            check() {
                before=$(stat -c %i "$2"); shift 0
                "${@:3}" ./pgtrace analyze t.xml --output "$2" 2> /dev/null; status=$?
                [ "$(stat -c %i "$2")" = "$before" ] && how="in place" || how="replaced"
                echo "$1 $status $how $(stat -c %u "$2") $(grep -c 'possible circular' "$2")"
            }
            check "another's file" roots/theirs "${nobody[@]}"
            check "its own file" roots/mine "${nobody[@]}"
            check "its own directory" mine/theirs "${nobody[@]}"
            check "root without CAP_FOWNER" others/f "${nofowner[@]}"
            check "root" others/f
            check "root in a user namespace" others/g unshare --user --map-root-user
            rm pgtrace; ls -A . roots mine others
            """, directory: directory)
        #expect(run.stdout == """
            another's file 1 in place 0 1
            its own file 1 replaced 65534 1
            its own directory 1 replaced 65534 1
            root without CAP_FOWNER 1 in place 1001 1
            root 1 replaced 0 1
            root in a user namespace 1 in place 1001 1
            .:
            mine
            others
            roots
            t.xml

            mine:
            theirs

            others:
            f
            g

            roots:
            mine
            theirs

            """, "\(run.stdout) \(run.stderr)")
    }

    /// A file someone holds a lease on is replaced without waiting for the lease to be broken
    /// (45 s, /proc/sys/fs/lease-break-time): the file it was is left as it was. The check
    /// that the shell could write the file waited (helper-116). When pgtrace is done, the
    /// lease on the old file is still being broken (/proc/locks), where a run that waited
    /// leaves none. Run where leases are on and python3 can take one.
    @Test(.enabled(if: (try? String(contentsOfFile: "/proc/sys/fs/leases-enable", encoding: .utf8))?.hasPrefix("1") == true
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func aLeaseOnAFileToReplaceIsNotWaitedFor() throws {
        let directory = try CommandRunner.temporaryDirectory("lease")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try shell("""
            echo old > leased
            python3 -c '
            import fcntl, os, signal, time
            signal.signal(signal.SIGIO, signal.SIG_IGN)
            fd = os.open("leased", os.O_RDONLY)
            fcntl.fcntl(fd, 1024, fcntl.F_RDLCK)  # F_SETLEASE
            open("ready", "w").close()
            time.sleep(120)' & holder=$!
            while [ ! -e ready ] && kill -0 $holder 2> /dev/null; do sleep 0.05; done
            inode=$(stat -c %i leased)
            "$PGTRACE" analyze '\(Repository.path("traces/pgd-lock-abba.xml"))' --output leased; echo "status $? $(grep -c 'possible circular' leased)"
            grep -q "LEASE *BREAKING.*:$inode " /proc/locks && echo "the lease is still being broken"
            kill -KILL $holder; wait
            """, directory: directory)
        #expect(run.stdout == "status 1 1\nthe lease is still being broken\n", "\(run.stdout) \(run.stderr)")
    }

    /// With fs.protected_regular on (systemd's default; root may not open another user's file
    /// in a sticky directory with O_CREAT, as the shell's `>` does), root does not replace that
    /// file either: exit 2, the file as it was (it was replaced, and made root's). Run where
    /// the tests run as root and the setting is on.
    @Test(.enabled(if: getuid() == 0 && Self.protectedRegular >= 1))
    func protectedRegularFilesAreLeftAsTheyWere() throws {
        let directory = try CommandRunner.temporaryDirectory("protected-regular")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try shell("""
            mkdir -m 1777 sticky; echo old > sticky/theirs; chmod 666 sticky/theirs; chown 65534:65534 sticky/theirs
            echo shell > sticky/theirs 2> /dev/null || echo "the shell refuses"
            "$PGTRACE" analyze '\(Repository.path("traces/pgd-lock-abba.xml"))' --output sticky/theirs 2> err; echo "$? $(cut -d: -f2- err | sed 's/^ //')"
            echo "$(cat sticky/theirs) $(stat -c %u sticky/theirs)"; ls -A sticky
            """, directory: directory)
        #expect(run.stdout == "the shell refuses\n2 error: cannot write: Permission denied\nold 65534\ntheirs\n", "\(run.stdout) \(run.stderr)")
    }

    /// Standard error a pipe whose reader is gone: SIGPIPE ends the run as it would, and the
    /// output's temporary file goes with it (it was left behind: helper-113). Ignored, SIGPIPE
    /// stays ignored, and the run goes on to its end.
    @Test func aReaderOfStandardErrorGoneLeavesNoTemporaryFile() throws {
        let directory = try CommandRunner.temporaryDirectory("stderr-gone")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"<trace version="1"><events><bogus/></events></trace>"#.write(toFile: directory + "/bad.xml", atomically: false, encoding: .utf8)
        let trace = Repository.path("traces/pgd-lock-abba.xml")
        let run = try shell("""
            mkfifo pipe; (exec 0<pipe) & exec 4>pipe; wait
            "$PGTRACE" validate bad.xml '\(trace)' --output report 2>&4; echo "status $?"
            trap '' PIPE; "$PGTRACE" validate bad.xml '\(trace)' --output ignored 2>&4; echo "ignored $?"
            ls -A
            """, directory: directory)
        #expect(run.stdout == "status 141\nignored 2\nbad.xml\nignored\npipe\n", "\(run.stdout) \(run.stderr)")
    }

    @Test func aClosedStandardOutputIsNotReusedForAnInput() throws {
        // With fd 1 closed, the copy of a text stream must not take its number and receive
        // the import's own output.
        let run = try shell("cat Tests/PGTraceTests/Fixtures/import/abba.perf-script.txt | \"$PGTRACE\" import - >&-")
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("<stdout>: error: cannot write: Bad file descriptor"), "\(run.stderr)")
    }

    @Test func anInputOnStandardInputIsNotOverwrittenEither() throws {
        let directory = try CommandRunner.temporaryDirectory("stdin-input")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trace = directory + "/t.xml"
        try FileManager.default.copyItem(atPath: Repository.path("traces/pgd-lock-abba.xml"), toPath: trace)
        let original = try Data(contentsOf: URL(fileURLWithPath: trace))
        let run = try shell("\"$PGTRACE\" analyze - --output \(trace) < \(trace)")
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: trace)) == original)
        // Refused before anything is printed.
        let lint = try pgtrace(["lint", trace, "--write-baseline", trace])
        #expect(lint.status == 2)
        #expect(lint.stdout.isEmpty)
    }

    @Test func anErrorInTheReplayOfAStreamDoesNotWaitForTheWriter() throws {
        // A live stream (trace_pipe) whose writer never ends: the replay's error is reported
        // and the run ends (a hang is cut by SIGKILL after 30 s, status 137).
        let directory = try CommandRunner.temporaryDirectory("live")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try shell("""
            mkfifo in
            (printf '<trace version="1"><events>\\n<bh-enable cpu="0"/>\\n'; exec sleep 600) > in & writer=$!
            timeout -s KILL 30 "$PGTRACE" analyze - < in; echo "status $?"
            kill -KILL $writer
            """, directory: directory)
        #expect(run.stdout.contains("status 2"), "\(run.stdout) \(run.stderr)")
        #expect(run.stderr.hasPrefix("<stdin>:2:"), "\(run.stderr)")
    }

    /// A declared encoding that does not read the file: one located error that says so, on
    /// every command that reads a trace. libxml2's own "encoding error : input conversion
    /// failed ..." came first, with no place, then an error of another cause ("Blank needed
    /// here") or, where the document just ended, of none ("the trace ends early"): helper-138,
    /// helper-139.
    @Test func anEncodingThatFailsIsOneLocatedError() throws {
        let directory = try CommandRunner.temporaryDirectory("encoding")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("<?xml version=\"1.0\" encoding=\"EBCDIC-US\"?>\n<trace version=\"1\" cpus=\"1\"><events/></trace>\n".utf8)
            .write(to: URL(fileURLWithPath: directory + "/e.xml"))
        try Data(Array("<?xml version=\"1.0\" encoding=\"EUC-JP\"?>\n<trace version=\"1\" source=\"".utf8) + [0xFF, 0xFF, 0xFE] + Array("\"><events/></trace>\n".utf8))
            .write(to: URL(fileURLWithPath: directory + "/j.xml"))
        // Past the start, in an event's attribute: libxml2 says it only as it finishes the
        // document, which was then taken for a trace cut short (helper-140).
        let events = String(repeating: "<acquire cpu=\"0\" lock=\"A\"/><release cpu=\"0\" lock=\"A\"/>\n", count: 10)
        try Data(
            Array("<?xml version=\"1.0\" encoding=\"EUC-JP\"?>\n<trace version=\"1\" cpus=\"1\"><events>\n\(events)<acquire cpu=\"0\" lock=\"A\" at=\"X".utf8)
                + [0xFF, 0xFE] + Array("Y\"/>\n\(events)</events></trace>\n".utf8)
        ).write(to: URL(fileURLWithPath: directory + "/k.xml"))
        for (file, expected) in [
            ("e.xml", "e.xml:1:41: error: malformed XML: input conversion failed due to input error, bytes 0x74 0x72 0x61 0x63\n"),
            ("j.xml", "j.xml:2:1: error: malformed XML: input conversion failed due to input error, bytes 0xFF 0xFF 0xFE 0x22\n"),
            ("k.xml", "k.xml:13:1: error: malformed XML: input conversion failed due to input error, bytes 0xFF 0xFE 0x59 0x22\n"),
        ] {
            for command in ["analyze", "lint", "validate", "graph", "summarize"] {
                let run = try pgtrace([command, file], directory: directory)
                #expect(run.status == 2 && run.stdout.isEmpty, "\(command): \(run.status) \(run.stdout)")
                #expect(run.stderr == expected, "\(command): \(run.stderr)")
            }
        }
        // A declared encoding that reads the file is no error.
        try Data(Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<trace version=\"1\" source=\"caf".utf8) + [0xE9] + Array("\"><events/></trace>\n".utf8))
            .write(to: URL(fileURLWithPath: directory + "/l.xml"))
        let latin = try pgtrace(["analyze", "l.xml"], directory: directory)
        #expect(latin.status == 0 && latin.stderr.isEmpty, "\(latin.stderr)")
    }

    /// libxml2 compares each attribute of a start tag with every one before it before
    /// pgtrace sees any: an element of 150,000 attributes (1.7 MB) kept the binary busy for
    /// some 6 s, 300,000 for 23 s. It is refused at the tag, from a file or a pipe.
    @Test func aStartTagOfThousandsOfAttributesIsAnErrorNotAHang() throws {
        let directory = try CommandRunner.temporaryDirectory("attributes")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let attributes = (0..<150_000).map { " a\($0)=\"1\"" }.joined()
        try "<?xml version=\"1.0\"?>\n<trace version=\"1\" cpus=\"1\"><events><acquire cpu=\"0\" lock=\"x\"\(attributes)/></events></trace>\n"
            .write(toFile: directory + "/wide.xml", atomically: false, encoding: .utf8)
        let run = try pgtrace(["analyze", "wide.xml"], directory: directory)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr == "wide.xml:2:37: error: <acquire> has more than 1000 attributes\n", "\(run.stderr)")
        let piped = try shell("\"$PGTRACE\" lint - < wide.xml", directory: directory)
        #expect(piped.status == 2)
        #expect(piped.stderr == "<stdin>:2:37: error: <acquire> has more than 1000 attributes\n", "\(piped.stderr)")
        // A long comment, and a long value holding '=' and '>', are not attributes.
        let value = String(repeating: "a=b>c ", count: 100_000)
        try "<?xml version=\"1.0\"?>\n<trace version=\"1\" cpus=\"1\"><!-- \(attributes) --><events><acquire cpu=\"0\" lock=\"x\" x-v=\"\(value)\"/></events></trace>\n"
            .write(toFile: directory + "/long.xml", atomically: false, encoding: .utf8)
        for command in ["analyze", "validate"] {
            let run = try pgtrace([command, "long.xml"], directory: directory)
            #expect(run.status == 0, "\(command): \(run.stderr)")
        }
    }

    @Test func blankInputIsRefusedWithoutReadingForEver() throws {
        let run = try shell("yes '' | timeout -s KILL 20 \"$PGTRACE\" analyze -; echo \"status $?\"")
        #expect(run.stdout.contains("status 2"), "\(run.stdout)")
        #expect(run.stderr.contains("KiB of blank text and no trace"), "\(run.stderr)")
    }

    @Test func aSiteWithoutAFunctionHasOneFingerprintHoweverTheTraceIsNamed() throws {
        let directory = try CommandRunner.temporaryDirectory("fingerprint-names")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "<trace version=\"1\"><events>\n<acquire cpu=\"0\" lock=\"A\"/>\n<might-sleep cpu=\"0\"/>\n<release cpu=\"0\" lock=\"A\"/>\n</events></trace>\n"
            .write(toFile: directory + "/s.xml", atomically: true, encoding: .utf8)
        let written = try pgtrace(["lint", "s.xml", "--write-baseline", "b.json"], directory: directory)
        #expect(written.status == 1)
        for spelling in ["./s.xml", directory + "/s.xml"] {
            let run = try pgtrace(["lint", spelling, "--baseline", "b.json"], directory: directory)
            #expect(run.status == 0, "\(spelling): \(run.stdout)")
        }
        let piped = try shell("\"$PGTRACE\" lint - --baseline b.json < s.xml", directory: directory)
        #expect(piped.status == 0, "\(piped.stdout)")
    }

    @Test func anUnwritableOutputSaysWhyAndPrintsNoUsage() throws {
        let run = try pgtrace(["analyze", "traces/pgd-lock-abba.xml", "--output", "/nonexistent-dir/report.txt"])
        #expect(run.status == 2)
        #expect(run.stderr == "/nonexistent-dir/report.txt: error: cannot write: No such file or directory\n")
        let lint = try pgtrace(["lint", "traces/pgd-lock-abba.xml", "--write-baseline", "/"])
        #expect(lint.status == 2)
        #expect(lint.stderr.contains("/: error: cannot write: is a directory"), "\(lint.stderr)")
        #expect(!lint.stderr.contains("NSCocoaErrorDomain"))
        #expect(!lint.stderr.contains("Usage:"))
    }

    @Test func standardInputLeavesNothingInTheTemporaryDirectory() throws {
        let directory = try CommandRunner.temporaryDirectory("tmpdir")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let capture = Repository.path("Tests/PGTraceTests/Fixtures/import/abba.perf-script.txt")
        // While the run is stopped half way through its input, the temporary directory holds
        // no copy of it; nor after the run is killed outright (SIGKILL: no handler runs, so
        // only a file that never had a name leaves nothing behind).
        let script = """
            export TMPDIR=\(directory)
            mkfifo \(directory)/../in-$$
            "$PGTRACE" analyze - < \(directory)/../in-$$ > /dev/null & pid=$!
            exec 3> \(directory)/../in-$$
            head -c 200 \(capture) >&3
            sleep 1
            echo "during: $(ls -A \(directory) | wc -l)"
            kill -KILL $pid; wait $pid; echo "status $?"
            echo "after: $(ls -A \(directory) | wc -l)"
            rm -f \(directory)/../in-$$
            """
        let run = try shell(script)
        #expect(run.stdout.contains("during: 0"), "\(run.stdout)")
        #expect(run.stdout.contains("after: 0"), "\(run.stdout)")
        let whole = try pgtrace(["analyze", "-"], stdin: try String(contentsOfFile: capture, encoding: .utf8), environment: ["TMPDIR": directory])
        #expect(whole.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func versionIsPrinted() throws {
        let run = try pgtrace(["--version"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("pgtrace "))
        #expect(run.stdout.split(separator: ".").count == 3)
    }
}
