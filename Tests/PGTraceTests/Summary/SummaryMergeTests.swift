import Foundation
import Testing

@testable import PGTrace

/// The contract's "Fleet summaries": analysing any grouping of the summaries of a set of
/// traces, merged in any order, reports what one analysis of all the traces reports — the
/// same findings, fingerprints and cited evidence, byte for byte.
@Suite struct SummaryMergeTests {
    typealias Trace = (name: String, xml: String)

    // MARK: Support

    /// What `pgtrace summarize` writes for these traces (or summaries).
    static func summary(_ inputs: [Trace], maxDepth: Int = 48) throws -> String {
        let analysis = Analysis(options: AnalysisOptions(maxDepth: maxDepth))
        try analysis.analyze(inputs.map { .bytes(Array($0.xml.utf8), displayName: $0.name) })
        var text = ""
        try SummaryWriter.write(analysis) { text += $0 }
        return text
    }

    /// The JSON report and the text report of one analysis of `inputs`, as `pgtrace analyze
    /// --format json` and `pgtrace analyze` print them.
    static func reports(_ inputs: [Trace], options: AnalysisOptions = AnalysisOptions()) throws -> (json: String, text: String) {
        let analysis = Analysis(options: options)
        try analysis.analyze(inputs.map { .bytes(Array($0.xml.utf8), displayName: $0.name) })
        let report = AnalysisReport(analysis)
        var json = ""
        JSONReporter().write(report, to: { json += $0 })
        var text = ""
        TextReporter().write(report, to: { text += $0 })
        return (json, text)
    }

    /// The shipped traces that one analysis takes together (traces of another configuration
    /// or with another declaration of a class go to an analysis of their own).
    static let shipped: [Trace] = {
        let directory = Repository.path("traces")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var traces: [Trace] = []
        for name in names.sorted() where name.hasSuffix(".xml") {
            // A summary is of one kernel configuration.
            guard let xml = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8),
                !xml.contains("PROVE_RAW_LOCK_NESTING")
            else { continue }
            traces.append(("traces/" + name, xml))
        }
        // Only traces that one analysis takes together: a trace that contradicts one kept
        // before it (another configuration, another declaration of a class) is left out.
        var kept: [Trace] = []
        for trace in traces where (try? analyze(kept + [trace])) != nil { kept.append(trace) }
        return kept
    }()

    /// A small random generator with a seed, for repeatable groupings.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func shuffle<T>(_ items: [T]) -> [T] {
            var items = items
            for index in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(index, next(index + 1)) }
            return items
        }
    }

    /// Summarizes `traces` in random groups (each group's traces in a random order), then
    /// merges the summaries in a random tree: the summary a fleet would end with.
    static func mergedAtRandom(_ traces: [Trace], seed: UInt64) throws -> String {
        var random = Random(state: seed)
        var pending = random.shuffle(traces)
        var summaries: [Trace] = []
        while !pending.isEmpty {
            let size = 1 + random.next(min(4, pending.count))
            summaries.append(("group\(summaries.count).sum", try summary(Array(pending.prefix(size)))))
            pending.removeFirst(size)
        }
        while summaries.count > 1 {
            summaries = random.shuffle(summaries)
            let size = 2 + random.next(min(3, summaries.count - 1))
            let merged = try summary(Array(summaries.prefix(size)))
            summaries.removeFirst(size)
            summaries.append(("merged\(summaries.count).sum", merged))
        }
        return summaries[0].xml
    }

    // MARK: Moments that facts share

    /// One task, irqs on, takes each of `locks` with nothing else held.
    static func oneByOne(_ name: String, _ locks: [String]) -> Trace {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "kworker/0:1"
        trace.event("irq-enable")
        for lock in locks { trace.nest(lock) }
        return (name, trace.xml)
    }

    /// The analysis keeps a moment once for all the facts that would make it again, in one
    /// trace or several (kworker's with irqs on and nothing held: the usage bits of L1 and L3
    /// in one trace, of L2 and L4 in the other). A summary writes it once for each trace, as
    /// the summaries of each trace, merged, do: four moments written before, two now.
    @Test func aMomentTwoTracesShareIsWrittenForEach() throws {
        let traces = [Self.oneByOne("a.xml", ["L1", "L3"]), Self.oneByOne("b.xml", ["L2", "L4"])]
        let together = try Self.summary(traces)
        let apart = try traces.map { ("\($0.name).sum", try Self.summary([$0])) }
        #expect(try Self.summary(apart) == together)
        #expect(together.components(separatedBy: "\"moment\":").count - 1 == 2)
    }

    /// Which facts share a moment that keeps no held lock depends on a cache whose slots
    /// another trace's names move (a hash of the task's symbol) and on the facts recorded
    /// before: 300 tasks, each taking a lock and one under it twice, collide in some slots
    /// and not in others, depending on whether another trace's 20 names came first. The
    /// summary is the same bytes however the traces are grouped and ordered (helper-94).
    @Test func momentsThatKeepNoHeldLockAreWrittenWhateverTheGrouping() throws {
        var other = TraceBuilder(cpus: 1)
        other.task = "a"
        for index in 0..<20 { other.nest("X\(index)") }
        var tasks = TraceBuilder(cpus: 1)
        for round in 0..<2 {
            for task in 0..<300 {
                tasks.task = "t\(task)"
                tasks.nest("P\(round)_\(task)", "Q\(round)_\(task)")
            }
        }
        let traces = [("a.xml", other.xml), ("b.xml", tasks.xml)]
        let together = try Self.summary(traces)
        #expect(try Self.summary(traces.reversed()) == together)
        let apart = try traces.map { ("\($0.0).sum", try Self.summary([$0])) }
        #expect(try Self.summary(apart) == together)
        #expect(try Self.summary(apart.reversed()) == together)
        #expect(try Self.summary([traces[1], apart[0]]) == together)
    }

    /// A -> B and B -> A, each made under one lock by one task, share their moment, which
    /// leaves each one's holder to its fact. The summary writes it for each holder: read
    /// back, the cycle's report says the task held B, not A, when it took A.
    @Test func aMomentTwoHoldersShareIsWrittenForEach() throws {
        var trace = TraceBuilder(cpus: 1)
        trace.task = "kworker/0:1"
        trace.nest("A", "B")
        trace.nest("B", "A")
        let traces = [("abba.xml", trace.xml)]
        let direct = try Self.reports(traces)
        #expect(direct.text.contains("circular-dependency"))
        #expect(try Self.reports([("abba.sum", try Self.summary(traces))]) == direct)
    }

    // MARK: The shipped traces

    @Test func theShippedTracesAreManyAndFindMuch() throws {
        #expect(Self.shipped.count >= 30)
        let analysis = try analyze(Self.shipped)
        #expect(Set(analysis.findings.map(\.rule)).count >= 10)
    }

    @Test func aSummaryOfOneTraceReportsAsTheTrace() throws {
        for trace in Self.shipped {
            let summary = try Self.summary([trace])
            #expect(try Self.reports([("one.sum", summary)]) == (try Self.reports([trace])), "\(trace.name)")
        }
    }

    @Test(arguments: 0..<12)
    func anyGroupingInAnyOrderReportsAsOneRun(seed: Int) throws {
        let oneRun = try Self.reports(Self.shipped)
        let merged = try Self.mergedAtRandom(Self.shipped, seed: UInt64(seed) &* 7919 &+ 17)
        let fromSummaries = try Self.reports([("fleet.sum", merged)])
        #expect(fromSummaries.json == oneRun.json)
        #expect(fromSummaries.text == oneRun.text)
    }

    @Test func theMergedSummaryIsTheSameBytesWhateverTheGrouping() throws {
        let first = try Self.mergedAtRandom(Self.shipped, seed: 1)
        for seed in 2...5 as ClosedRange<UInt64> {
            #expect(try Self.mergedAtRandom(Self.shipped, seed: seed) == first)
        }
        #expect(try Self.summary(Self.shipped) == first)
    }

    @Test func oneRunDoesNotDependOnTheOrderOfItsTraces() throws {
        let inOrder = try Self.reports(Self.shipped)
        var random = Random(state: 99)
        for _ in 0..<3 {
            #expect(try Self.reports(random.shuffle(Self.shipped)) == inOrder)
        }
    }
}

/// What only the merge can see: halves of a bug in different traces, summarized apart.
@Suite struct CrossSummaryFindingTests {
    typealias Trace = (name: String, xml: String)

    static func findings(_ inputs: [Trace]) throws -> [Finding] {
        let analysis = Analysis()
        try analysis.analyze(inputs.map { .bytes(Array($0.xml.utf8), displayName: $0.name) })
        return Array(AnalysisReport(analysis).findings)
    }

    /// Each trace summarized alone, then the summaries analysed together (in both orders).
    static func fromSummaries(_ traces: [Trace]) throws -> [[Finding]] {
        let summaries = try traces.map { ($0.name + ".sum", try SummaryMergeTests.summary([$0])) }
        return [try findings(summaries), try findings(summaries.reversed())]
    }

    /// Seed 000's AB-BA: vmalloc_sync_all takes pgd_lock then page_table_lock in one CI run;
    /// another run's fault path takes them the other way round.
    @Test func anABInOneSummaryAndABAInAnotherAreACycle() throws {
        var ab = TraceBuilder()
        ab.task = "insmod"
        ab.nest("pgd_lock", "mm->page_table_lock")
        var ba = TraceBuilder()
        ba.task = "bash"
        ba.cpu = 1
        ba.nest("mm->page_table_lock", "pgd_lock")
        let traces: [Trace] = [("run-a.xml", ab.xml), ("run-b.xml", ba.xml)]
        #expect(try Self.findings([traces[0]]).isEmpty)
        #expect(try Self.findings([traces[1]]).isEmpty)

        let oneRun = try Self.findings(traces)
        #expect(oneRun.map(\.rule) == [.circularDependency])
        #expect(oneRun.first?.locks == ["pgd_lock", "mm->page_table_lock"])
        // The new dependency is the greater evidence's (run-b.xml), the path the lesser's.
        #expect(oneRun.first?.locations.map(\.file) == ["run-b.xml", "run-b.xml", "run-a.xml"])
        #expect(oneRun.first?.locations.map(\.line) == [ba.line(ofEvent: 1), ba.line(ofEvent: 0), ab.line(ofEvent: 1)])
        for merged in try Self.fromSummaries(traces) { #expect(merged == oneRun) }
    }

    /// An irq-safe class in one run (taken in a hardirq), its dependency on an irq-unsafe one
    /// in another: the inversion exists only in the merged graph.
    @Test func anIrqSafeClassInOneSummaryAndItsUnsafeDependencyInAnother() throws {
        var safe = TraceBuilder()
        safe.event("hardirq-enter", [("irq", "11")])
        safe.acquire("pgd_lock")
        safe.release("pgd_lock")
        safe.event("hardirq-exit")
        var unsafe = TraceBuilder()
        unsafe.task = "modprobe"
        unsafe.nest("mm->page_table_lock")
        unsafe.acquire("pgd_lock", irq: "save")
        unsafe.acquire("mm->page_table_lock")
        unsafe.release("mm->page_table_lock")
        unsafe.release("pgd_lock", irq: "restore")
        let traces: [Trace] = [("ci-1.xml", safe.xml), ("ci-2.xml", unsafe.xml)]
        #expect(try Self.findings([traces[0]]).isEmpty)
        #expect(try Self.findings([traces[1]]).isEmpty)

        let oneRun = try Self.findings(traces)
        #expect(oneRun.map(\.rule) == [.irqInversion])
        #expect(oneRun.first?.locks == ["pgd_lock", "mm->page_table_lock"])
        #expect(Set(oneRun.first?.locations.map(\.file) ?? []) == ["ci-1.xml", "ci-2.xml"])
        for merged in try Self.fromSummaries(traces) { #expect(merged == oneRun) }
    }

    /// A class used outside NMI in one run and taken in an NMI in another.
    @Test func aClassUsedInOneSummaryAndTakenInNMIInAnother() throws {
        var used = TraceBuilder()
        used.task = "syslogd"
        used.acquire("logbuf_lock")
        used.release("logbuf_lock")
        var nmi = TraceBuilder()
        nmi.cpu = 2
        nmi.event("nmi-enter")
        nmi.acquire("logbuf_lock")
        nmi.release("logbuf_lock")
        nmi.event("nmi-exit")
        let traces: [Trace] = [("b-nmi.xml", nmi.xml), ("a-boot.xml", used.xml)]
        let oneRun = try Self.findings(traces)
        #expect(oneRun.map(\.rule) == [.irqInconsistent])
        #expect(oneRun.first?.locations.map(\.file) == ["b-nmi.xml", "a-boot.xml"])
        for merged in try Self.fromSummaries(traces) { #expect(merged == oneRun) }
        // Traces read as if in the order of their names: where the NMI's run comes first,
        // the class's first use is in NMI, which lockdep's verify_lock_unused does not judge.
        let renamed: [Trace] = [("a-nmi.xml", nmi.xml), ("b-boot.xml", used.xml)]
        #expect(try Self.findings(renamed).isEmpty)
        for merged in try Self.fromSummaries(renamed) { #expect(merged.isEmpty) }
    }
}

/// Random traces of a few classes, run through random groupings: the property beyond the
/// shipped traces (cycles, irq usage and inversion, IPI waits in every mix).
@Suite struct GeneratedSummaryTests {
    /// A trace of `sections` nested sections over classes L0…L5 on 3 cpus: some in a
    /// hardirq, some with irqs off, some waiting for an IPI while holding a lock.
    static func trace(seed: UInt64, sections: Int = 12) -> String {
        var random = SummaryMergeTests.Random(state: seed)
        var trace = TraceBuilder(cpus: 3)
        for _ in 0..<sections {
            trace.cpu = random.next(3)
            trace.task = "task\(random.next(4))"
            let kind = random.next(6)
            if kind == 0 { trace.event("hardirq-enter", [("irq", "9")]) }
            if kind == 1 { trace.event("irq-disable") }
            var held: [String] = []
            for _ in 0..<(1 + random.next(3)) {
                let lock = "L\(random.next(6))"
                guard !held.contains(lock) else { continue }
                trace.acquire(lock, mode: random.next(5) == 0 ? .read : .write)
                held.append(lock)
            }
            if kind == 2 { trace.event("ipi-send", [("targets", "all"), ("wait", "true")]) }
            for lock in held.reversed() { trace.release(lock) }
            if kind == 0 { trace.event("hardirq-exit") }
            if kind == 1 { trace.event("irq-enable") }
        }
        return trace.xml
    }

    @Test(arguments: 0..<8)
    func randomTracesInRandomGroupingsReportAsOneRun(seed: Int) throws {
        let traces = (0..<10).map { index in
            (name: "gen-\(seed)-\(index).xml", xml: Self.trace(seed: UInt64(seed * 100 + index) &+ 1))
        }
        let oneRun = try SummaryMergeTests.reports(traces)
        for grouping in 0..<3 as Range<UInt64> {
            let merged = try SummaryMergeTests.mergedAtRandom(traces, seed: UInt64(seed) &* 31 &+ grouping)
            #expect(try SummaryMergeTests.reports([("fleet.sum", merged)]) == oneRun)
        }
    }

    @Test func theGeneratedTracesFindSomething() throws {
        var rules: Set<Rule> = []
        for seed in 0..<8 {
            let traces = (0..<10).map { index in
                (name: "gen-\(seed)-\(index).xml", xml: Self.trace(seed: UInt64(seed * 100 + index) &+ 1))
            }
            rules.formUnion(try analyze(traces).findings.map(\.rule))
        }
        #expect(rules.isSuperset(of: [.circularDependency, .irqInconsistent, .ipiDeadlock]))
    }
}

/// A summary that is not one this pgtrace wrote whole is refused, naming the line.
@Suite struct BadSummaryTests {
    static func error(_ text: String) -> TraceInputError? {
        do {
            let analysis = Analysis()
            try analysis.analyze([.bytes(Array(text.utf8), displayName: "bad.sum")])
            return nil
        } catch let error as TraceInputError {
            return error
        } catch {
            return TraceInputError(file: "?", message: "\(error)")
        }
    }

    static let good: String = {
        var trace = TraceBuilder()
        trace.nest("pgd_lock", "mm->page_table_lock")
        return try! SummaryMergeTests.summary([("a.xml", trace.xml)])
    }()

    @Test func theGoodOneReads() {
        #expect(Self.error(Self.good) == nil)
    }

    @Test func anotherVersionIsRefusedAtItsFirstLine() {
        let text = Self.good.replacingOccurrences(of: "{\"pgtrace-summary\":1,", with: "{\"pgtrace-summary\":2,")
        let error = Self.error(text)
        #expect(error?.line == 1)
        #expect(error?.message.contains("format version 2; this pgtrace reads version 1") == true)
    }

    @Test func aSummaryCutShortIsRefused() {
        var lines = Self.good.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast(2)  // the end line and the empty string after the last newline
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        #expect(error?.message.contains("no end line after this one: it was cut short") == true)
        #expect(error?.line == lines.count)
    }

    @Test func aLineLostInTheMiddleIsRefusedAtTheEnd() {
        var lines = Self.good.split(separator: "\n")
        let fact = lines.firstIndex { $0.contains("\"fact\":\"dependency\"") }!
        lines.remove(at: fact)
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        #expect(error?.line == lines.count)
        #expect(error?.message.contains("the summary is corrupt") == true)
    }

    @Test func aCorruptLineIsRefusedAtItsLine() {
        var lines = Self.good.split(separator: "\n").map(String.init)
        lines[3] = String(lines[3].prefix(10))
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        #expect(error?.line == 4)
        #expect(error?.message.contains("not a summary line") == true)
    }

    /// Found by fuzzing: a misspelt key was passed over, and the line read without it.
    @Test func anUnknownKeyIsRefusedAtItsLine() {
        var lines = Self.good.split(separator: "\n").map(String.init)
        let classLine = lines.firstIndex { $0.hasPrefix("{\"class\":") }!
        lines[classLine] = lines[classLine].replacingOccurrences(of: "\"subclass\"", with: "\"subclbss\"")
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        #expect(error?.line == classLine + 1)
        #expect(error?.message.contains("unknown key 'subclbss'") == true)
    }

    /// A key given twice on a line, flat or not, is refused at its line: the decoder took the
    /// first value where jq takes the last (helper-138).
    @Test func aKeyGivenTwiceIsRefusedAtItsLine() {
        var lines = Self.good.split(separator: "\n").map(String.init)
        let classLine = lines.firstIndex { $0.hasPrefix("{\"class\":") }!
        lines[classLine] = lines[classLine].replacingOccurrences(of: "\"subclass\":", with: "\"subclass\":1,\"subclass\":")
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        #expect(error?.line == classLine + 1)
        #expect(error?.message == "not a summary line (the key 'subclass' is given twice in one object); the summary is corrupt", "\(String(describing: error))")
    }

    /// A line that is JSON but no object, and one that is no JSON, each said for what it is
    /// (a lone string, number, boolean or null is malformed, as JSON without fragments has it).
    @Test func aLineThatIsNoObjectIsRefusedAtItsLine() {
        for (text, said) in [("[1, 2]", "not a JSON object"), ("\"class\"", "malformed JSON"), ("null", "malformed JSON"),
                             ("true", "malformed JSON"), ("{\"class\": ", "malformed JSON")] {
            var lines = Self.good.split(separator: "\n").map(String.init)
            lines[3] = text
            let error = Self.error(lines.joined(separator: "\n") + "\n")
            #expect(error?.line == 4)
            #expect(error?.message.contains(said) == true, "\(String(describing: error))")
        }
    }

    /// Found by fuzzing: two class lines naming one class were both taken, as one.
    @Test func aClassGivenTwiceIsRefused() {
        var lines = Self.good.split(separator: "\n").map(String.init)
        let second = lines.lastIndex { $0.hasPrefix("{\"class\":") }!
        let first = lines.firstIndex { $0.hasPrefix("{\"class\":") && !$0.contains("pseudo") }!
        // The last class line names the first real class's name.
        let name = lines[first].split(separator: ",").first { $0.hasPrefix("\"nameSym\"") }!
        let other = lines[second].split(separator: ",").first { $0.hasPrefix("\"nameSym\"") }!
        lines[second] = lines[second].replacingOccurrences(of: String(other), with: String(name))
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        #expect(error?.line == second + 1)
        #expect(error?.message.contains("is a class the summary has already") == true)
    }

    /// Found in review: a place past 32 bits stopped the program (the log keeps it in 32).
    @Test func aFactsPlaceOutOfRangeIsRefusedAtItsLine() {
        var lines = Self.good.split(separator: "\n").map(String.init)
        let fact = lines.firstIndex { $0.contains("\"fact\":\"dependency\"") }!
        let place = lines[fact].split(separator: ",").first { $0.hasPrefix("\"seq\"") }!
        lines[fact] = lines[fact].replacingOccurrences(of: String(place), with: "\"seq\":2147483648")
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        #expect(error?.line == fact + 1)
        #expect(error?.message.contains("a fact's place 2147483648 is out of range") == true)
    }

    /// A class that depends on itself hid the AB-BA through it (the cycle finding vanished,
    /// exit 0): refused at its line.
    @Test func aDependencyOfAClassOnItselfIsRefusedAtItsLine() throws {
        var lines = Self.good.split(separator: "\n").map(String.init)
        let fact = try #require(lines.firstIndex { $0.contains("\"kind\":\"lock-order\"") })
        let to = try #require(lines[fact].firstMatch(of: /"to":(\d+)/)?.1)
        lines[fact] = lines[fact].replacing(/"from":\d+/, with: "\"from\":\(to)")
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        #expect(error?.line == fact + 1)
        #expect(error?.message.contains("a lock-order dependency of class \(to) on itself") == true, "\(String(describing: error))")
    }

    /// A moment keeps its irq counts in 16 bits: 70000 was read back as 65535.
    @Test func anIrqStateOutOfRangeIsRefusedAtItsLine() throws {
        let lines = Self.good.split(separator: "\n").map(String.init)
        let moment = try #require(lines.firstIndex { $0.contains("\"irq\":[") })
        for bad in ["[70000,0,0,0,1]", "[0,0,-1,0,1]", "[0,0,0,2,1]"] {
            var changed = lines
            changed[moment] = changed[moment].replacing(/"irq":\[[^\]]*\]/, with: "\"irq\":\(bad)")
            let error = Self.error(changed.joined(separator: "\n") + "\n")
            #expect(error?.line == moment + 1, "\(bad)")
            #expect(error?.message.contains("out of range") == true, "\(bad): \(String(describing: error))")
        }
    }

    /// A moment's count of the held locks it does not list is 0 to 2^48: 2^63-1 overflowed
    /// the text report's "N locks held by" (helper-61).
    @Test func aMomentsCountOfLocksNotListedOutOfRangeIsRefusedAtItsLine() throws {
        let lines = Self.good.split(separator: "\n").map(String.init)
        let moment = try #require(lines.firstIndex { $0.contains("\"moment\":") })
        #expect(Self.error(Self.good) == nil)
        for bad in ["-1", "9223372036854775807"] {
            var changed = lines
            changed[moment] = changed[moment].replacing("\"moment\":", with: "\"heldNotListed\":\(bad),\"moment\":")
            let error = Self.error(changed.joined(separator: "\n") + "\n")
            #expect(error?.line == moment + 1, "\(bad)")
            #expect(error?.message.contains("a moment's heldNotListed must be 0 to 2^48") == true, "\(String(describing: error))")
        }
    }

    /// A site keeps a 40-bit line and event number and a 32-bit column (`EventSite`): a
    /// summary naming a greater or negative one is refused at its line, not cut to another
    /// place; the greatest are kept.
    @Test(arguments: [
        (1, EventSite.maximumPlace + 1, false), (1, -1, false), (1, EventSite.maximumPlace, true),
        (2, Int(Int32.max) + 1, false), (2, Int(Int32.max), true),
        (3, EventSite.maximumPlace + 1, false), (3, -1, false), (3, EventSite.maximumPlace, true),
    ])
    func aSitesPlaceOutOfRangeIsRefusedAtItsLine(field: Int, value: Int, kept: Bool) throws {
        var lines = Self.good.split(separator: "\n").map(String.init)
        let fact = lines.firstIndex { $0.contains("\"fact\":\"dependency\"") }!
        let site = try #require(lines[fact].range(of: "\"site\":["))
        let numbers = lines[fact][site.upperBound...].prefix { $0 != "]" }.split(separator: ",")
        var changed = numbers.map(String.init)
        changed[field] = String(value)
        lines[fact] = lines[fact].replacingOccurrences(
            of: "\"site\":[" + numbers.joined(separator: ",") + "]", with: "\"site\":[" + changed.joined(separator: ",") + "]")
        let error = Self.error(lines.joined(separator: "\n") + "\n")
        if kept {
            #expect(error == nil)
        } else {
            #expect(error?.line == fact + 1)
            #expect(error?.message.contains("a site's line and event must be 0 to 2^39 - 1, its column 0 to 2^31 - 1") == true)
        }
    }

    /// The evidence a finding or a note cites is an event of one of the summary's traces, at
    /// a place a site may have: a summary edited to cite /etc/passwd:22, or line -22 (which
    /// SARIF wrote as line 1), was reported as it said (helper-138).
    @Test func evidenceIsAnEventOfTheSummarysTraces() throws {
        var trace = TraceBuilder()
        trace.release("A")  // bad-unlock: a finding of the trace's own replay, which a summary keeps
        trace.event("events-lost", [("count", "3")])  // a note
        let text = try SummaryMergeTests.summary([("a.xml", trace.xml)])
        #expect(Self.error(text) == nil)
        let lines = text.split(separator: "\n").map(String.init)
        let finding = try #require(lines.firstIndex { $0.hasPrefix("{\"finding\":") })
        let note = try #require(lines.firstIndex { $0.contains("\"note\":") })
        let place = "must be at a line and event of 0 to 2^39 - 1, a column of 0 to 2^31 - 1, a cpu of 0 to 8191"
        for (line, from, to, message) in [
            (finding, "\"file\":\"a.xml\"", "\"file\":\"/etc/passwd\"", "a finding cites /etc/passwd, which is not a trace of this summary"),
            (finding, "\"line\":\(trace.line(ofEvent: 0))", "\"line\":-22", "a finding's evidence \(place)"),
            (finding, "\"line\":\(trace.line(ofEvent: 0))", "\"line\":9223372036854775807", "a finding's evidence \(place)"),
            (finding, "\"cpu\":0", "\"cpu\":8192", "a finding's evidence \(place)"),
            (finding, "\"column\":1", "\"column\":-1", "a finding's evidence \(place)"),
            // Only a note's may name no cpu (helper-139: SARIF then printed ": a call ...").
            (finding, "\"cpu\":0,", "", "a finding's evidence names no cpu"),
            (note, "\"file\":\"a.xml\"", "\"file\":\"b.xml\"", "a note cites b.xml, which is not a trace of this summary"),
            (note, "\"event\":1", "\"event\":-1", "a note's evidence \(place)"),
        ] {
            var changed = lines
            #expect(changed[line].contains(from), "\(from)")
            changed[line] = changed[line].replacingOccurrences(of: from, with: to)
            let error = Self.error(changed.joined(separator: "\n") + "\n")
            #expect(error?.line == line + 1 && error?.message == message, "\(to): \(String(describing: error))")
        }
    }

    @Test func aSymbolUsedBeforeItIsWrittenIsRefused() {
        let lines = Self.good.split(separator: "\n").map(String.init)
        // Drop the first symbol line: everything after it refers to numbers not yet written.
        let symbol = lines.firstIndex { $0.hasPrefix("{\"name\":") && $0.contains("\"sym\":0") }!
        let error = Self.error((lines[..<symbol] + lines[(symbol + 1)...]).joined(separator: "\n") + "\n")
        #expect(error?.line == symbol + 1)
        #expect(error?.message.contains("used before it is written") == true)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// The fuzzer's seed summaries (scripts/fuzz.sh --target summary) are summaries this pgtrace
/// reads: a change of the format that left them behind would fuzz only the refusal.
@Suite struct FuzzSeedSummaryTests {
    @Test func theSeedsRead() throws {
        let directory = Repository.path("Tests/PGTraceTests/Fixtures/fuzz-summary")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sum") }
        #expect(names.count >= 3)
        for name in names {
            let analysis = Analysis()
            try analysis.analyze([.file(directory + "/" + name)])
            #expect(!analysis.analysedFiles.isEmpty, "\(name)")
        }
    }
}
