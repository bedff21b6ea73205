import Foundation
import Testing

/// `pgtrace summarize`, `pgtrace merge` and summaries read by analyze, graph and lint, as a
/// CI farm runs them: summarize each run, merge the summaries, analyse the merge.
@Suite struct SummaryCommandTests {
    let cli = AnalyzeCommandTests()

    /// A new directory for the test's files, removed when the closure ends.
    func inTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let directory = try CommandRunner.temporaryDirectory("summary")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    static let traces = ["traces/pgd-free-in-irq.xml", "traces/pgd-lock-abba.xml", "traces/thp-flush-under-page-table-lock.xml"]
    static let capture = "Tests/PGTraceTests/Fixtures/import/abba.perf-script.txt"

    @Test func summariesMergedInAnyGroupingReportAsOneRun() throws {
        try inTemporaryDirectory { directory in
            let all = Self.traces + [Self.capture]
            for (index, trace) in all.enumerated() {
                let run = try cli.pgtrace(["summarize", trace, "-o", "\(directory)/\(index).sum"])
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.stdout == "")
            }
            #expect(try cli.pgtrace(["merge", "\(directory)/3.sum", "\(directory)/0.sum", "-o", "\(directory)/a.sum"]).status == 0)
            #expect(try cli.pgtrace(["merge", "\(directory)/2.sum", "\(directory)/1.sum", "-o", "\(directory)/b.sum"]).status == 0)
            #expect(try cli.pgtrace(["merge", "\(directory)/b.sum", "\(directory)/a.sum", "-o", "\(directory)/fleet.sum"]).status == 0)
            let direct = try cli.pgtrace(["summarize", "-o", "\(directory)/direct.sum"] + all.reversed())
            #expect(direct.status == 0)
            // The same state, the same bytes, however it was reached.
            let fleet = try String(contentsOfFile: "\(directory)/fleet.sum", encoding: .utf8)
            #expect(fleet == (try String(contentsOfFile: "\(directory)/direct.sum", encoding: .utf8)))

            for format in ["text", "json"] {
                let oneRun = try cli.pgtrace(["analyze", "--format", format] + all)
                let merged = try cli.pgtrace(["analyze", "--format", format, "\(directory)/fleet.sum"])
                #expect(oneRun.status == 1)
                #expect(merged.status == 1)
                #expect(merged.stdout == oneRun.stdout)
            }
            let graph = try cli.pgtrace(["graph", "--format", "json", "\(directory)/fleet.sum"])
            #expect(graph.status == 0)
            #expect(graph.stdout == (try cli.pgtrace(["graph", "--format", "json"] + all)).stdout)
            let lint = try cli.pgtrace(["lint", "--format", "sarif", "\(directory)/fleet.sum"])
            #expect(lint.status == 1)
            #expect(lint.stdout == (try cli.pgtrace(["lint", "--format", "sarif"] + all)).stdout)
            // A summary beside a trace: as all the traces.
            let beside = try cli.pgtrace(["analyze", "\(directory)/a.sum", "\(directory)/b.sum"])
            #expect(beside.stdout == (try cli.pgtrace(["analyze"] + all)).stdout)
        }
    }

    @Test func aSummaryIsReadFromStandardInput() throws {
        try inTemporaryDirectory { directory in
            let summary = try cli.pgtrace(["summarize", "traces/pgd-lock-abba.xml"])
            #expect(summary.status == 0)
            #expect(summary.stdout.hasPrefix("{\"pgtrace-summary\":1,"))
            let run = try cli.pgtrace(["analyze", "-"], stdin: summary.stdout)
            #expect(run.status == 1)
            #expect(run.stdout == (try cli.pgtrace(["analyze", "traces/pgd-lock-abba.xml"])).stdout)
            let merged = try cli.pgtrace(["merge", "-", "-o", "\(directory)/m.sum"], stdin: summary.stdout)
            #expect(merged.status == 0)
            #expect(try String(contentsOfFile: "\(directory)/m.sum", encoding: .utf8) == summary.stdout)
        }
    }

    @Test func validateChecksASummary() throws {
        let summary = try cli.pgtrace(["summarize", "traces/pgd-lock-abba.xml", "traces/pgd-free-in-irq.xml"])
        let run = try cli.pgtrace(["validate", "-"], stdin: summary.stdout)
        #expect(run.status == 0)
        #expect(run.stdout == "<stdin>: valid summary (2 traces, 16 events)\n")
    }

    /// A summary made with other trace checks merges (merge takes its options from its
    /// summaries) and validates; analysing it beside other options is still refused.
    @Test func aSummaryOfOtherTraceChecksMergesAndValidates() throws {
        try inTemporaryDirectory { directory in
            for options in [["--max-depth", "4"], ["--policy", "traces/seed003-kmap-series.policy"]] {
                let summary = try cli.pgtrace(["summarize"] + options + ["traces/pgd-lock-abba.xml", "-o", "\(directory)/x.sum"])
                #expect(summary.status == 0, "\(options) \(summary.stderr)")
                let merged = try cli.pgtrace(["merge", "\(directory)/x.sum", "-o", "\(directory)/m.sum"])
                #expect(merged.status == 0, "\(options) \(merged.stderr)")
                #expect(try String(contentsOfFile: "\(directory)/m.sum", encoding: .utf8) == String(contentsOfFile: "\(directory)/x.sum", encoding: .utf8))
                let valid = try cli.pgtrace(["validate", "\(directory)/x.sum"])
                #expect(valid.status == 0, "\(options) \(valid.stderr)")
                let analyzed = try cli.pgtrace(["analyze", "\(directory)/x.sum"])
                #expect(analyzed.status == 2 && analyzed.stderr.contains("make the summary with the same options"), "\(options)")
            }
            // Two that agree merge; two that do not are refused, naming what each was made with.
            for name in ["a", "b"] {
                #expect(try cli.pgtrace(["summarize", "--max-depth", "10", "traces/pgd-lock-abba.xml", "--name", name, "-o", "\(directory)/\(name).sum"]).status == 0)
            }
            #expect(try cli.pgtrace(["merge", "\(directory)/a.sum", "\(directory)/b.sum", "-o", "\(directory)/ab.sum"]).status == 0)
            let mixed = try cli.pgtrace(["merge", "\(directory)/a.sum", "\(directory)/x.sum", "-o", "\(directory)/ax.sum"])
            #expect(mixed.status == 2)
            #expect(mixed.stderr.contains("the summaries before it with --max-depth 10 and no --policy"), "\(mixed.stderr)")
        }
    }

    @Test func whatACommandDoesNotReadIsExitTwo() throws {
        let summary = try cli.pgtrace(["summarize", "traces/pgd-lock-abba.xml"]).stdout
        let merge = try cli.pgtrace(["merge", "traces/pgd-lock-abba.xml"])
        #expect(merge.status == 2)
        #expect(merge.stderr.contains("traces/pgd-lock-abba.xml:1:1: error: is a trace, not a pgtrace summary; merge reads summaries"))
        for command in ["stats", "timeline"] {
            let run = try cli.pgtrace([command, "-"], stdin: summary)
            #expect(run.status == 2)
            #expect(run.stderr.contains("<stdin>:1:1: error: is a pgtrace summary; \(command) reads traces"))
        }
        let importRun = try cli.pgtrace(["import", "-"], stdin: summary)
        #expect(importRun.status == 2)
        #expect(importRun.stderr.contains("is a pgtrace summary"))
    }

    @Test func aBadSummaryIsExitTwoAtItsLineAndWritesNothing() throws {
        try inTemporaryDirectory { directory in
            let summary = try cli.pgtrace(["summarize", "traces/pgd-lock-abba.xml"]).stdout
            let cut = String(summary.prefix(summary.utf8.count / 2))
            for command in [["analyze", "-"], ["merge", "-", "-o", "\(directory)/out.sum"]] {
                let run = try cli.pgtrace(command, stdin: cut)
                #expect(run.status == 2)
                #expect(run.stderr.hasPrefix("<stdin>:"))
                #expect(run.stdout == "")
            }
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/out.sum"))
            let newer = summary.replacingOccurrences(of: "{\"pgtrace-summary\":1,", with: "{\"pgtrace-summary\":7,")
            let run = try cli.pgtrace(["analyze", "-"], stdin: newer)
            #expect(run.status == 2)
            #expect(run.stderr.hasPrefix("<stdin>:1:1: error: a summary of format version 7; this pgtrace reads version 1"))
        }
    }

    @Test func tracesThatDisagreeMakeNoSummary() throws {
        try inTemporaryDirectory { directory in
            // pgd_lock is an rwlock in one trace and a spinlock in the other.
            let run = try cli.pgtrace(["summarize", "traces/pgd-lock-abba.xml", "traces/pgd-lock-rwlock-write-in-irq.xml", "-o", "\(directory)/x.sum"])
            #expect(run.status == 2)
            #expect(run.stderr.contains("class 'pgd_lock' declared again with another type"))
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/x.sum"))
            // Summaries of each are made, and refused together.
            #expect(try cli.pgtrace(["summarize", "traces/pgd-lock-abba.xml", "-o", "\(directory)/a.sum"]).status == 0)
            #expect(try cli.pgtrace(["summarize", "traces/pgd-lock-rwlock-write-in-irq.xml", "-o", "\(directory)/b.sum"]).status == 0)
            let merge = try cli.pgtrace(["merge", "\(directory)/a.sum", "\(directory)/b.sum", "-o", "\(directory)/x.sum"])
            #expect(merge.status == 2)
            #expect(merge.stderr.contains("class 'pgd_lock' is declared"))
        }
    }

    /// An AB-BA of A (nested at `subclass`) and B: one task takes A then B, another B then A.
    static func nestedABBA(subclass: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <trace version="1" cpus="2">
          <events>
            <acquire cpu="0" task="t1" lock="A" subclass="\(subclass)"/>
            <acquire cpu="0" task="t1" lock="B"/>
            <release cpu="0" task="t1" lock="B"/>
            <release cpu="0" task="t1" lock="A" subclass="\(subclass)"/>
            <acquire cpu="1" task="t2" lock="B"/>
            <acquire cpu="1" task="t2" lock="A" subclass="\(subclass)"/>
            <release cpu="1" task="t2" lock="A" subclass="\(subclass)"/>
            <release cpu="1" task="t2" lock="B"/>
          </events>
        </trace>

        """
    }

    /// A subclass past lockdep's MAX_LOCKDEP_SUBCLASSES (8) was read and analysed, and its
    /// summary written, but no reader took that summary back ("a subclass must be 0 to 7"):
    /// one rule for traces and summaries, and a trace breaks it where it is written (exit 2).
    @Test func aSubclassPastSevenIsRefusedWhereItIsWritten() throws {
        try inTemporaryDirectory { directory in
            for value in ["8", "4294967296"] {
                let trace = "\(directory)/sub\(value).xml"
                try Self.nestedABBA(subclass: value).write(toFile: trace, atomically: true, encoding: .utf8)
                let refusal = "\(trace):4:5: error: attribute 'subclass' of <acquire> must be 0 to 7 (lockdep's MAX_LOCKDEP_SUBCLASSES is 8), not '\(value)'\n"
                for command in [["analyze"], ["summarize", "-o", "\(directory)/sub.sum"], ["graph"], ["stats"]] {
                    let run = try cli.pgtrace(command + [trace])
                    #expect(run.status == 2, "\(command)")
                    #expect(run.stderr == refusal, "\(command)")
                    #expect(run.stdout == "", "\(command)")
                }
                #expect(!FileManager.default.fileExists(atPath: "\(directory)/sub.sum"))
                // validate and lint check the schema first, which says the same at the same place.
                let schema = "\(trace):4:5: error: does not match schemas/trace-v1.xsd: Element 'acquire', attribute 'subclass': [facet 'maxInclusive'] The value '\(value)' is greater than the maximum value allowed ('7').\n"
                for command in [["validate"], ["lint", "--format", "text"]] {
                    let run = try cli.pgtrace(command + [trace])
                    #expect(run.status == 2, "\(command)")
                    #expect(run.stderr == schema, "\(command)")
                }
            }
        }
    }

    /// Subclass 7, lockdep's last, goes through a summary as through the trace.
    @Test func subclassSevenSurvivesASummary() throws {
        try inTemporaryDirectory { directory in
            let trace = "\(directory)/sub7.xml"
            try Self.nestedABBA(subclass: "7").write(toFile: trace, atomically: true, encoding: .utf8)
            #expect(try cli.pgtrace(["validate", trace]).status == 0)
            let summarize = try cli.pgtrace(["summarize", trace, "-o", "\(directory)/sub7.sum"])
            #expect(summarize.status == 0, "\(summarize.stderr)")
            for format in ["text", "json"] {
                let direct = try cli.pgtrace(["analyze", "--format", format, trace])
                let summarized = try cli.pgtrace(["analyze", "--format", format, "\(directory)/sub7.sum"])
                #expect(direct.status == 1)
                #expect(summarized.status == 1, "\(summarized.stderr)")
                #expect(summarized.stdout == direct.stdout)
                #expect(direct.stdout.contains("A/7"))
            }
            // A summary holds the same rule, in the same words.
            let summary = try String(contentsOfFile: "\(directory)/sub7.sum", encoding: .utf8)
            let eight = summary.replacingOccurrences(of: "\"subclass\":7,", with: "\"subclass\":8,")
            #expect(eight != summary)
            let run = try cli.pgtrace(["analyze", "-"], stdin: eight)
            #expect(run.status == 2)
            #expect(run.stderr == "<stdin>:6:1: error: a subclass must be 0 to 7 (lockdep's MAX_LOCKDEP_SUBCLASSES is 8), not 8\n")
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
