import Foundation
import Testing

/// The contract's "Determinism": the same inputs give the same bytes on every run. Each run is
/// a process of its own, with its own hash seed, so a checker that reports while iterating a
/// Set or a Dictionary shows here (two runs inside one test process share their seed).
@Suite struct DeterminismTests {
    static let runs = 5

    /// A trace with many findings of many kinds at once, each kind from several objects that
    /// a checker holds in a collection together: tables freed under lockless walks on three
    /// cpus, pgds populated off the list while a walker runs, AB-BA pairs, orders against a
    /// policy, sleeping under spinlocks.
    static func manyFindings(count: Int = 12) -> (trace: String, policy: String) {
        var events: [String] = []
        func event(_ text: String) { events.append("    " + text) }
        for cpu in 1...3 {
            event("<irq-disable cpu=\"\(cpu)\" task=\"gup\(cpu)\" fn=\"get_user_pages_fast\"/>")
            event("<lockless-walk-begin cpu=\"\(cpu)\" task=\"gup\(cpu)\" fn=\"get_user_pages_fast\"/>")
        }
        for index in 0..<count {
            event("<table-unlink cpu=\"0\" task=\"munmap\" table=\"pte:\(index)\" fn=\"free_pte_range_\(index)\"/>")
            event("<tlb-flush cpu=\"0\" task=\"munmap\" targets=\"others\" mode=\"hypercall\" fn=\"xen_flush_tlb_others\"/>")
            event("<table-free cpu=\"0\" task=\"munmap\" table=\"pte:\(index)\" fn=\"tlb_flush_mmu_\(index)\"/>")
        }
        // Walkers of pgd_list on four cpus at once see every pgd change below.
        for cpu in 8...11 {
            event("<list-walk-begin cpu=\"\(cpu)\" task=\"walker\(cpu)\" walker=\"vmalloc_sync_all\" fn=\"vmalloc_sync_all\"/>")
        }
        for index in 0..<count {
            event("<pgd-alloc cpu=\"0\" task=\"fork\(index)\" pgd=\"pgd:\(index)\" fn=\"pgd_alloc\"/>")
            event("<pgd-populate cpu=\"0\" task=\"fork\(index)\" pgd=\"pgd:\(index)\" index=\"0\" fn=\"pgd_prepopulate_pmd_\(index)\"/>")
        }
        for cpu in 8...11 {
            event("<list-walk-end cpu=\"\(cpu)\" task=\"walker\(cpu)\" fn=\"vmalloc_sync_all\"/>")
        }
        event("<acquire cpu=\"4\" task=\"xenwatch\" lock=\"pgd_lock\" irq=\"save\" fn=\"xen_mm_pin_all\"/>")
        event("<list-walk-begin cpu=\"4\" task=\"xenwatch\" walker=\"xen_mm_pin_all\" fn=\"xen_mm_pin_all\"/>")
        event("<list-walk-end cpu=\"4\" task=\"xenwatch\" fn=\"xen_mm_pin_all\"/>")
        event("<release cpu=\"4\" task=\"xenwatch\" lock=\"pgd_lock\" irq=\"restore\" fn=\"xen_mm_pin_all\"/>")
        for cpu in 1...3 {
            event("<lockless-walk-end cpu=\"\(cpu)\" task=\"gup\(cpu)\" fn=\"get_user_pages_fast\"/>")
            event("<irq-enable cpu=\"\(cpu)\" task=\"gup\(cpu)\" fn=\"get_user_pages_fast\"/>")
        }
        var policy = ""
        for index in 0..<count {
            for (first, second, fn) in [("A\(index)", "B\(index)", "forward_\(index)"), ("B\(index)", "A\(index)", "backward_\(index)")] {
                event("<acquire cpu=\"6\" task=\"t\(index)\" lock=\"\(first)\" fn=\"\(fn)\"/>")
                event("<acquire cpu=\"6\" task=\"t\(index)\" lock=\"\(second)\" fn=\"\(fn)\"/>")
                event("<release cpu=\"6\" task=\"t\(index)\" lock=\"\(second)\" fn=\"\(fn)\"/>")
                event("<release cpu=\"6\" task=\"t\(index)\" lock=\"\(first)\" fn=\"\(fn)\"/>")
            }
            event("<acquire cpu=\"7\" task=\"p\(index)\" lock=\"Q\(index)\" fn=\"against_policy_\(index)\"/>")
            event("<acquire cpu=\"7\" task=\"p\(index)\" lock=\"P\(index)\" fn=\"against_policy_\(index)\"/>")
            event("<might-sleep cpu=\"7\" task=\"p\(index)\" fn=\"sleeps_\(index)\"/>")
            event("<release cpu=\"7\" task=\"p\(index)\" lock=\"P\(index)\" fn=\"against_policy_\(index)\"/>")
            event("<release cpu=\"7\" task=\"p\(index)\" lock=\"Q\(index)\" fn=\"against_policy_\(index)\"/>")
            policy += "P\(index) < Q\(index)\n"
        }
        let trace = """
            <?xml version="1.0" encoding="UTF-8"?>
            <trace version="1" source="many simultaneous findings" cpus="12">
              <events>
            \(events.joined(separator: "\n"))
              </events>
            </trace>

            """
        return (trace, policy)
    }

    @Test func everyFormatIsTheSameBytesInEveryProcess() throws {
        let directory = try CommandRunner.temporaryDirectory("determinism")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (trace, policy) = Self.manyFindings()
        try trace.write(toFile: directory + "/many.xml", atomically: true, encoding: .utf8)
        try policy.write(toFile: directory + "/policy.txt", atomically: true, encoding: .utf8)
        let shipped = try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))
            .filter { $0.hasSuffix(".xml") }.sorted().map { Repository.path("traces/\($0)") }
        let many = directory + "/many.xml"
        let commands: [[String]] = [
            ["analyze", many],
            ["analyze", "--format", "json", many],
            ["lint", "--policy", directory + "/policy.txt", many],
            ["lint", "--format", "sarif", "--policy", directory + "/policy.txt", many],
            ["lint", "--format", "junit", many],
            ["graph", many],
            ["graph", "--format", "graphml", many],
            ["graph", "--format", "json", many],
            ["analyze", "--format", "json"] + shipped,
            ["lint", "--format", "sarif"] + shipped,
        ]
        for arguments in commands {
            var outputs: [Data] = []
            for _ in 0..<Self.runs {
                let run = try CommandRunner.run(arguments)
                #expect(run.status == 0 || run.status == 1, "\(arguments): \(run.stderr)")
                outputs.append(run.stdoutBytes)
            }
            #expect(!outputs[0].isEmpty)
            #expect(Set(outputs).count == 1, "\(arguments.prefix(3)): \(Set(outputs).count) different outputs in \(Self.runs) runs")
        }
    }

    /// Traces that share no lock class find the same whatever their order: the output must not
    /// tell the order either (findings, notes, files, graph: sorted by name and place). Traces
    /// that share a class still cite the first trace that used it (lockdep's first usage),
    /// which is the given order's.
    @Test func theOrderOfTracesDoesNotShowWhenTheFindingsAreTheSame() throws {
        let traces = [
            "traces/seed001-xen-pv-hypercall-flush-gup-fast.xml", "traces/seed003-kmap-free-page.xml",
            "traces/seed004-unpin-without-ptl.xml", "traces/seed000-pgd-ctor-lists-before-prepopulate.xml",
            "traces/seed003-mremap-double-pagetable-kmap.xml",
        ].map { Repository.path($0) }
        for format in [["analyze"], ["analyze", "--format", "json"], ["lint", "--format", "sarif"], ["lint", "--format", "junit"], ["graph", "--format", "graphml"]] {
            let forward = try CommandRunner.run(format + traces)
            let backward = try CommandRunner.run(format + traces.reversed())
            #expect(forward.status == backward.status)
            #expect(!forward.stdoutBytes.isEmpty)
            #expect(forward.stdoutBytes == backward.stdoutBytes, "\(format) differs with the order of the traces")
        }
    }

    /// A reviewer's case: traces whose classes disagree are analysed apart, and the report puts
    /// the findings of all its analyses in one order.
    @Test func findingsOfTracesAnalysedApartDoNotTellTheirOrder() throws {
        let traces = ["traces/pgd-lock-rwlock-write-in-irq.xml", "traces/pgd-free-in-irq.xml"].map { Repository.path($0) }
        func findings(_ traces: [String]) throws -> [[String: Any]] {
            let run = try CommandRunner.run(["analyze", "--format", "json"] + traces)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect((json["notes"] as? [Any])?.count == 1, "the two traces went apart")
            return try #require(json["findings"] as? [[String: Any]])
        }
        let forward = try findings(traces)
        let backward = try findings(traces.reversed())
        #expect(forward.count == 3)
        #expect(forward.map { $0["fingerprint"] as? String } == backward.map { $0["fingerprint"] as? String })
        #expect(forward.map { $0["message"] as? String } == backward.map { $0["message"] as? String })
    }

    /// A reviewer's case: a.xml and c.xml declare pgd_lock a spinlock, b.xml an rwlock. b.xml
    /// goes apart in either order, and its note cited the declaration read before it (a.xml's
    /// or c.xml's): it cites the least of analysis 1's, as a class declared twice does.
    @Test func theNoteOfATraceAnalysedApartCitesTheLeastDeclaration() throws {
        let directory = try CommandRunner.temporaryDirectory("determinism-apart")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, type, other) in [("a", "spinlock", "X"), ("b", "rwlock", "Y"), ("c", "spinlock", "Z")] {
            let xml = """
                <?xml version="1.0" encoding="UTF-8"?>
                <trace version="1" cpus="2">
                  <classes><class name="pgd_lock" type="\(type)"/></classes>
                  <events>
                    <acquire cpu="0" lock="pgd_lock"/>
                    <acquire cpu="0" lock="\(other)"/>
                    <release cpu="0" lock="\(other)"/>
                    <release cpu="0" lock="pgd_lock"/>
                  </events>
                </trace>

                """
            try xml.write(toFile: "\(directory)/\(name).xml", atomically: true, encoding: .utf8)
        }
        let note = "b.xml is analysed apart from the traces of analysis 1 (analysis 2 of 2): class 'pgd_lock' is declared rwlock there and spinlock in a.xml:3; traces analysed together share their classes"
        for format in ["text", "json"] {
            let forward = try CommandRunner.run(["analyze", "--format", format, "a.xml", "b.xml", "c.xml"], directory: directory)
            let backward = try CommandRunner.run(["analyze", "--format", format, "c.xml", "b.xml", "a.xml"], directory: directory)
            #expect(forward.status == 0, "\(forward.stderr)")
            #expect(forward.stdout.contains(format == "text" ? "note: \(note)\n" : "\"message\" : \"\(note)\""), "\(forward.stdout)")
            #expect(forward.stdoutBytes == backward.stdoutBytes, "\(format) differs with the order of the traces")
        }
    }

    /// helper-136's case: a.xml declares A a spinlock, b.xml a mutex, and c.xml, declaring
    /// nothing, sleeps holding A. c.xml joined whichever declaration came first: given a, b,
    /// c it slept in atomic context (exit 1), given b, a, c it did not (exit 0). Traces are
    /// now grouped in the order of their names, whatever order they are given in.
    @Test func whichTracesGoTogetherDoesNotDependOnTheirOrder() throws {
        let directory = try CommandRunner.temporaryDirectory("determinism-grouping")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, classes, events) in [
            ("a", "<class name=\"A\" type=\"spinlock\"/>", "<acquire cpu=\"0\" lock=\"A\"/><release cpu=\"0\" lock=\"A\"/>"),
            ("b", "<class name=\"A\" type=\"mutex\"/>", "<acquire cpu=\"0\" lock=\"A\"/><release cpu=\"0\" lock=\"A\"/>"),
            ("c", "", "<acquire cpu=\"1\" lock=\"A\"/><might-sleep cpu=\"1\"/><release cpu=\"1\" lock=\"A\"/>"),
        ] {
            try "<?xml version=\"1.0\"?>\n<trace version=\"1\" cpus=\"2\">\n<classes>\(classes)</classes>\n<events>\(events)</events>\n</trace>\n"
                .write(toFile: "\(directory)/\(name).xml", atomically: true, encoding: .utf8)
        }
        let orders = [["a", "b", "c"], ["a", "c", "b"], ["b", "a", "c"], ["b", "c", "a"], ["c", "a", "b"], ["c", "b", "a"]]
        for command in [["analyze", "--format", "json"], ["analyze"], ["lint", "--format", "sarif"]] {
            let runs = try orders.map { try CommandRunner.run(command + $0.map { "\($0).xml" }, directory: directory) }
            #expect(runs[0].status == 1, "\(command): \(runs[0].stdout)")
            #expect(runs[0].stdout.contains("sleep-in-atomic"), "\(command)")
            for (order, run) in zip(orders, runs).dropFirst() {
                #expect(run.status == runs[0].status && run.stdoutBytes == runs[0].stdoutBytes, "\(command) given \(order)")
            }
        }
        // A trace read from standard input cannot be put aside: it comes first, and the files
        // after it in the order of their names, wherever it was given (helper-139: with one,
        // the files were taken in the order given, and b, a, - was an error where a, b, - was not).
        let piped = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/a.xml"))
        let withStandardInput = try [["b.xml", "c.xml", "-"], ["c.xml", "b.xml", "-"], ["-", "b.xml", "c.xml"]].map {
            try CommandRunner.run(["analyze", "--format", "json"] + $0, stdin: piped, directory: directory)
        }
        #expect(withStandardInput[0].status == 1, "\(withStandardInput[0].stderr)")
        for run in withStandardInput.dropFirst() {
            #expect(run.status == withStandardInput[0].status && run.stdoutBytes == withStandardInput[0].stdoutBytes, "\(run.stderr)")
        }
    }

    /// The shipped traces go apart in three analyses (pgd_lock an rwlock; PROVE_RAW_LOCK_NESTING
    /// set): forward and reversed, the same grouping, and the analyses after the first were
    /// numbered in the order their first trace came ("analysis 2 of 3" and "3 of 3" swapped).
    @Test func analysesApartAreNumberedAlikeInEitherOrder() throws {
        let traces = try FileManager.default.contentsOfDirectory(atPath: Repository.path("traces"))
            .filter { $0.hasSuffix(".xml") }.sorted().map { "traces/" + $0 }
        for format in [["analyze"], ["analyze", "--format", "json"], ["lint", "--format", "text"]] {
            let forward = try CommandRunner.run(format + traces)
            let backward = try CommandRunner.run(format + traces.reversed())
            #expect(forward.status == 1)
            #expect(forward.stdout.contains("traces/pgd-lock-rwlock-write-in-irq.xml is analysed apart from the traces of analysis 1 (analysis 2 of 3): class 'pgd_lock' is declared rwlock there and spinlock in traces/pgd-free-in-irq.xml:12"), "\(format)")
            #expect(forward.stdout.contains("traces/raw-spinlock-then-spinlock.xml is analysed apart from the traces of analysis 1 (analysis 3 of 3)"), "\(format)")
            #expect(forward.stdoutBytes == backward.stdoutBytes, "\(format) differs with the order of the traces")
        }
    }

    @Test func theManyFindingsTraceHasManyFindingsOfEachKind() throws {
        let directory = try CommandRunner.temporaryDirectory("determinism-kinds")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (trace, policy) = Self.manyFindings(count: 4)
        try trace.write(toFile: directory + "/many.xml", atomically: true, encoding: .utf8)
        try policy.write(toFile: directory + "/policy.txt", atomically: true, encoding: .utf8)
        let run = try CommandRunner.run(["lint", "--format", "sarif", "--policy", directory + "/policy.txt", directory + "/many.xml"])
        #expect(run.status == 1)
        let sarif = try #require(try JSONSerialization.jsonObject(with: run.stdoutBytes) as? [String: Any])
        let results = try #require(((sarif["runs"] as? [[String: Any]])?.first?["results"]) as? [[String: Any]])
        var counts: [String: Int] = [:]
        for result in results { counts[result["ruleId"] as? String ?? "", default: 0] += 1 }
        // One per table freed (under three walks each), per pgd, cycle, policy order, sleep.
        #expect(counts == [
            "table-free-race": 4, "pgd-list-gap": 4, "circular-dependency": 4, "lock-order-policy": 4,
            "sleep-in-atomic": 4,
        ])
    }
}
