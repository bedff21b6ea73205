import Foundation
@testable import PGTrace
import Testing

/// A report's findings made as each is read (`FindingList`): `pgtrace analyze` writes a
/// million cycles a finding at a time, holding one, and what it writes is what the findings
/// made all at once printed.
@Suite struct FindingListTests {
    /// The reports of `sources`, made all at once and made when read, each as
    /// `analyzeSeparatingConflicts` groups the traces.
    static func reports(_ sources: [Analysis.Source]) throws -> (made: AnalysisReport, whenRead: AnalysisReport) {
        let made = try Analysis.analyzeSeparatingConflicts(sources, options: AnalysisOptions())
        let whenRead = try Analysis.analyzeSeparatingConflicts(sources, options: AnalysisOptions())
        return (AnalysisReport(made), AnalysisReport(whenRead, makingFindingsWhenRead: true))
    }

    /// The two reports agree finding for finding, in what each finding keeps without being
    /// made, and byte for byte in every format.
    static func expectSame(_ made: AnalysisReport, _ whenRead: AnalysisReport, _ comment: Comment) {
        #expect(Array(made.findings) == Array(whenRead.findings), comment)
        let list = whenRead.findings
        #expect(list.indices.map(list.fingerprint(at:)) == Array(list).map(\.fingerprint), comment)
        #expect(list.indices.map(list.rule(at:)) == Array(list).map(\.rule), comment)
        #expect(list.indices.map(list.severity(at:)) == Array(list).map(\.severity), comment)
        #expect(TextReporter().render(made) == TextReporter().render(whenRead), comment)
        #expect(JSONReporter().render(made) == JSONReporter().render(whenRead), comment)
        #expect(SARIFReporter().render(made) == SARIFReporter().render(whenRead), comment)
        #expect(JUnitReporter().render(made) == JUnitReporter().render(whenRead), comment)
    }

    /// Every shipped trace, alone and all together (some of them declare a class two ways,
    /// and are analysed apart).
    @Test func theShippedTracesReportTheSameMadeWhenRead() throws {
        let paths = try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))
            .filter { $0.hasSuffix(".xml") }.sorted().map { Repository.path("traces/" + $0) }
        #expect(paths.count > 40)
        for path in paths {
            let (made, whenRead) = try Self.reports([.file(path)])
            Self.expectSame(made, whenRead, "\(path)")
        }
        let (made, whenRead) = try Self.reports(paths.map { .file($0) })
        #expect(made.analysisCount > 1)
        Self.expectSame(made, whenRead, "all shipped traces")
    }

    /// Random traces of up to three files on up to three cpus, cycles among a dozen classes
    /// (some named like a trace's place, `t0.xml:9`, which a fingerprint leaves out) beside
    /// the traces' own findings (a release of a lock not held, a lock taken twice), some
    /// files declaring a class as a mutex where the others take it as a spinlock (analysed
    /// apart): the findings made when read are the findings made at once, in their order and
    /// occurrences, and print the same.
    @Test func randomTracesReportTheSameMadeWhenRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-finding-list-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SplitMix(state: 73)
        var withPending = 0
        for round in 0..<60 {
            var paths: [String] = []
            for file in 0..<(1 + random.next(3)) {
                let name = "t\(file).xml"
                let names = (0..<12).map { $0 < 2 ? "\(name):\(3 + random.next(40))" : "L\($0)" }
                var trace = TraceBuilder(cpus: 3)
                if random.next(4) == 0 { trace.declare("L5", .mutex) }
                for _ in 0..<(5 + random.next(30)) {
                    trace.cpu = random.next(3)
                    switch random.next(12) {
                    case 0: trace.release(names[random.next(12)])
                    case 1:
                        let lock = names[random.next(12)]
                        trace.nest(lock, lock)
                    default:
                        let held = (0..<(2 + random.next(3))).map { _ in names[random.next(12)] }
                        for lock in held { trace.acquire(lock, mode: random.next(5) == 0 ? .read : .write) }
                        for lock in held.reversed() { trace.release(lock) }
                    }
                }
                let path = directory.appendingPathComponent("r\(round)-" + name).path
                try trace.xml.write(toFile: path, atomically: true, encoding: .utf8)
                paths.append(path)
            }
            let sources = paths.map { Analysis.Source.file($0) }
            let (made, whenRead) = try Self.reports(sources)
            if made.findings.contains(where: { $0.rule == .circularDependency }) { withPending += 1 }
            Self.expectSame(made, whenRead, "round \(round)")
        }
        #expect(withPending > 20)
    }

    /// A finding not made yet is made when it is read, and only then: the report's counts,
    /// rules, severities and fingerprints, the text report's table of them and a finding
    /// chosen by its number make none but the ones printed.
    @Test func aPendingFindingIsMadeOnlyWhenRead() throws {
        let (report, maker) = try Self.hundredCycles()
        #expect(report.findings.count == 100)
        #expect(report.findings.count(of: .error) == 100 && report.fails(at: .error))
        // In the order of their places: the last reported cites the earliest line.
        #expect(report.findings.fingerprint(at: 0) == Finding.fnv1a64("v2\ncircular-dependency\nA99 B99\n"))
        #expect(maker.made == 0)
        #expect(report.findings[0].message == "cycle 99")
        #expect(maker.made == 1)
        let summary = TextReporter().summary(report.findings)
        #expect(summary.contains("  circular-dependency     100         0\n"))
        #expect(maker.made == 1 + TextReporter.listedFindings)
        maker.made = 0
        var pieces = 0
        TextReporter().write(report) { _ in pieces += 1 }
        #expect(pieces == 101)
        #expect(maker.made == 100 + TextReporter.listedFindings)
    }

    /// Makes the cycles of a hundred classes' pairs, counting the findings it makes.
    final class Counting: PendingFindingMaker {
        var made = 0
        func key(of number: Int) -> String { "A\(number) B\(number)" }
        func finding(_ number: Int) -> Finding {
            made += 1
            return Finding(
                rule: .circularDependency, severity: .error, message: "cycle \(number)", locks: ["A\(number)", "B\(number)"],
                locations: [place(number)], key: key(of: number))
        }
        func place(_ number: Int) -> Evidence {
            Evidence(file: "test.xml", line: 1000 - number, column: 3, event: 1000 - number, cpu: 0, role: "acquires B\(number)")
        }
        func discard() {}
        func handOut() {}
        func locationCount(of number: Int) -> Int { 1 }
        func place(_ index: Int, of number: Int) -> (file: String, line: Int, column: Int, event: Int) { place(number).orderPlace }
        func baseFingerprint(of number: Int) -> UInt64 {
            Finding.baseFingerprintValue(rule: .circularDependency, identity: key(of: number), objects: [])
        }
    }

    /// A report of a hundred cycles reported without their text, each made by `Counting`.
    static func hundredCycles() throws -> (AnalysisReport, Counting) {
        var trace = TraceBuilder()
        trace.nest("X")
        let analysis = try analyze(trace)
        let maker = Counting()
        for number in 0..<100 {
            analysis.context.reportGraphFindingOnce(.circularDependency, severity: .error, maker: maker, number: number)
        }
        return (AnalysisReport(analysis, makingFindingsWhenRead: true), maker)
    }

    /// lint compares a baseline with the findings by what each keeps, and writes one making
    /// each finding once, for its message.
    @Test func aBaselineIsComparedWithoutMakingAFinding() throws {
        let (report, maker) = try Self.hundredCycles()
        let baseline = Baseline(findings: report.findings)
        #expect(maker.made == 100)
        #expect(baseline.findings.map(\.fingerprint) == Array(report.findings).map(\.fingerprint))
        #expect(baseline.findings.first?.message == "cycle 99")
        maker.made = 0
        let all = baseline.compare(report.findings)
        #expect(all.new.isEmpty && all.accepted.count == 100 && all.stale.isEmpty)
        var half = baseline
        half.findings.removeLast(50)
        half.findings.append(Baseline.Entry(fingerprint: "0123456789abcdef", rule: "circular-dependency", message: "gone"))
        let some = half.compare(report.findings)
        #expect(some.new.count == 50 && some.accepted.count == 50 && some.stale.map(\.message) == ["gone"])
        #expect(some.new.indices.map(some.new.fingerprint(at:)) == report.findings.indices.suffix(50).map(report.findings.fingerprint(at:)))
        #expect(maker.made == 0)
        // JUnit's suites are told by each finding's first place, its cases made as written.
        let junit = JUnitReporter().render(report, accepted: Set(half.findings.map(\.fingerprint)))
        #expect(junit.contains("<testsuite name=\"test.xml\" tests=\"100\" failures=\"50\" errors=\"0\" skipped=\"50\">"))
        #expect(maker.made == 100)
    }

    /// An analysis may go on after a report made its findings when read, on the report's
    /// thread: the report stays as it was, and the analysis finds what it would have.
    @Test func anAnalysisGoesOnAfterAReportOfFindingsMadeWhenRead() throws {
        func cycle(_ a: String, _ b: String) -> TraceBuilder {
            var trace = TraceBuilder()
            trace.nest(a, b)
            trace.nest(b, a)
            return trace
        }
        let analysis = Analysis()
        try analysis.analyze(bytes: Array(cycle("A", "B").xml.utf8), displayName: "one.xml")
        let first = AnalysisReport(analysis, makingFindingsWhenRead: true)
        let text = TextReporter().render(first)
        try analysis.analyze(bytes: Array(cycle("C", "D").xml.utf8), displayName: "two.xml")
        try analysis.analyze(bytes: Array(cycle("A", "B").xml.utf8), displayName: "three.xml")
        #expect(TextReporter().render(first) == text)
        #expect(first.findings.map(\.locks) == [["A", "B"]])
        let whole = try analyze([("one.xml", cycle("A", "B").xml), ("two.xml", cycle("C", "D").xml), ("three.xml", cycle("A", "B").xml)])
        let later = AnalysisReport(analysis, makingFindingsWhenRead: true)
        #expect(Array(later.findings) == Array(AnalysisReport(whole).findings))
        #expect(analysis.findings == whole.findings)
        #expect(later.findings.map(\.locks) == [["A", "B"], ["C", "D"]])
        #expect(TextReporter().render(first) == text)
    }

    /// The usage string of every class is made for a report only where a finding may print
    /// lock lines (helper-141: it was made for any finding, 14 MB and 0.1 s at 250k classes
    /// beside one pgd warning).
    @Test func usageIsMadeOnlyWhereAFindingMayNameLocks() throws {
        let warning = try Self.reports([.file(Repository.path("traces/seed000-pgd-free-mop-up-before-unlist.xml"))]).whenRead
        #expect(warning.findings.count == 1 && !warning.findings.mayNameLocks)
        let cycle = try Self.reports([.file(Repository.path("traces/pgd-lock-abba.xml"))]).whenRead
        #expect(cycle.findings.count == 1 && cycle.findings.mayNameLocks)
        #expect(cycle.findings[0].usage == ["pgd_lock": "{....}-{2:2}", "mm->page_table_lock": "{+.+.}-{2:2}"])
    }

    /// The cycles a report reads are left to it: the next check of the graph keeps its cycles
    /// in a store of its own, which holds this check's cycles only (helper-141: a store kept
    /// for good gained every check's cycles again, 1, 3, 6, 10, ... for a report a trace).
    @Test func theCyclesAReportReadsAreLeftToIt() throws {
        let analysis = Analysis()
        let checker = try #require(analysis.checkers.lazy.compactMap { $0 as? CircularDependencyChecker }.first)
        var traces: [(name: String, xml: String)] = []
        var reports: [(AnalysisReport, String)] = []
        var kept: [Int] = []
        for index in 0..<6 {
            var trace = TraceBuilder()
            trace.nest("A\(index)", "B\(index)")
            trace.nest("B\(index)", "A\(index)")
            traces.append(("t\(index).xml", trace.xml))
            try analysis.analyze(bytes: Array(trace.xml.utf8), displayName: "t\(index).xml")
            kept.append(checker.cyclesKept)
            let report = AnalysisReport(analysis, makingFindingsWhenRead: true)
            #expect(TextReporter().render(report) == TextReporter().render(AnalysisReport(try analyze(traces))))
            reports.append((report, TextReporter().render(report)))
        }
        #expect(kept == [1, 2, 3, 4, 5, 6])
        for (report, text) in reports { #expect(TextReporter().render(report) == text) }
        #expect(Array(reports[5].0.findings) == Array(AnalysisReport(analysis).findings))
    }
}
