@testable import PGTrace
import Testing

/// The reader turns every element of format v1 into a typed event at its exact place, and
/// turns every broken input into one error naming file:line:column.
@Suite struct TraceReaderTests {
    private func events(_ xml: String, symbols: SymbolTable = SymbolTable()) throws -> [Event] {
        let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: symbols)
        var events: [Event] = []
        try reader.read(bytes: Array(xml.utf8), header: { _ in }, event: { events.append($0) })
        return events
    }

    private func trace(_ body: String, root: String = "<trace version=\"1\" cpus=\"4\">") -> String {
        "<?xml version=\"1.0\"?>\n\(root)\n<events>\n\(body)\n</events>\n</trace>\n"
    }

    @Test func everyEventKindIsDecoded() throws {
        let body = """
            <irq-disable cpu="0"/>
            <irq-enable cpu="0"/>
            <hardirq-enter cpu="1" irq="11"/>
            <hardirq-exit cpu="1"/>
            <softirq-enter cpu="1" vec="TIMER"/>
            <softirq-exit cpu="1"/>
            <bh-disable cpu="2"/>
            <bh-enable cpu="2"/>
            <might-sleep cpu="2"/>
            <acquire cpu="0" lock="pgd_lock" instance="0xffff" subclass="1" mode="read" try="true" irq="save" bh="true" task="kswapd0" t="5" at="mm/rmap.c:1" fn="page_referenced_one"/>
            <release cpu="0" lock="pgd_lock" irq="restore" bh="true"/>
            <contended cpu="0" lock="pgd_lock"/>
            <ipi-send cpu="0" targets="1,3" wait="true" reason="tlb-flush"/>
            <ipi-handle cpu="1" from="0"/>
            <pgd-alloc cpu="0" pgd="P"/>
            <pgd-populate cpu="0" pgd="P" index="3"/>
            <pgd-clear cpu="0" pgd="P" index="3"/>
            <pgd-list-add cpu="0" pgd="P"/>
            <pgd-list-del cpu="0" pgd="P" lock="other_lock"/>
            <pgd-free cpu="0" pgd="P"/>
            <list-walk-begin cpu="0" walker="xen_mm_pin_all"/>
            <list-walk-visit cpu="0" pgd="P"/>
            <list-walk-end cpu="0"/>
            <set-ro cpu="0" page="X" level="pte" ptl="ptl:X"/>
            <pin cpu="0" page="X" level="pte"/>
            <pt-write cpu="0" page="X"/>
            <unpin cpu="0" page="X" level="pte"/>
            <set-rw cpu="0" page="X" level="pte" ptl="ptl:X"/>
            <tlb-flush cpu="0" targets="others" mode="hypercall" wait="false"/>
            <lockless-walk-begin cpu="1"/>
            <walk-access cpu="1" table="T"/>
            <lockless-walk-end cpu="1"/>
            <table-unlink cpu="0" table="T"/>
            <rcu-grace-period cpu="0"/>
            <table-free cpu="0" table="T"/>
            <kmap cpu="0" page="Q" series="PAGETABLE" atomic="true"/>
            <kunmap cpu="0" page="Q" series="PAGETABLE"/>
            <page-free cpu="0" page="Q"/>
            <x-vendor cpu="0" anything="goes"/>
            """
        let decoded = try events(trace(body))
        #expect(decoded.count == 38)
        #expect(decoded.map(\.position.event) == Array(0..<38))
        #expect(decoded[0].position.line == 4)
        #expect(decoded[37].position.line == 41)
        guard case .acquire(let lock, let mode, let isTry, let irq, let bh, _) = decoded[9].kind else {
            Issue.record("event 9 is not an acquire: \(decoded[9].kind)")
            return
        }
        #expect(lock.subclass == 1 && lock.instance != nil)
        #expect(mode == .read && isTry && irq == .save && bh)
        #expect(decoded[9].time == 5 && decoded[9].task != nil && decoded[9].at != nil && decoded[9].function != nil)
        #expect(decoded[12].kind == .ipiSend(targets: .list(CPUList([1, 3])), wait: true, reason: decoded[12].kindReason))
        #expect(decoded[28].kind == .tlbFlush(targets: .others, mode: .hypercall, wait: false))
    }

    @Test func positionsStayExactPastLine65535() throws {
        let filler = String(repeating: "<irq-disable cpu=\"0\"/>\n", count: 70_000)
        let decoded = try events(trace(filler + "<irq-enable cpu=\"0\"/>"))
        #expect(decoded.last?.position.line == 70_004)
        #expect(decoded.last?.position.event == 70_000)
    }

    /// A choice is its whole name, not a name of the same length: the four page-table levels
    /// are all three letters, and "wrote" is not "write".
    @Test func choicesOfTheSameLengthAreToldApart() throws {
        let levels = try events(trace(["pte", "pmd", "pud", "pgd"].map { "<pin cpu=\"0\" page=\"X\" level=\"\($0)\"/>" }.joined(separator: "\n")))
        let decoded = levels.map { event -> PageTableLevel? in
            guard case .pin(_, let level) = event.kind else { return nil }
            return level
        }
        #expect(decoded == [.pte, .pmd, .pud, .pgd])
        #expect(throws: TraceInputError.self) { try events(trace("<acquire cpu=\"0\" lock=\"A\" mode=\"wrote\"/>")) }
    }

    /// Each event keeps its own task where cpus interleave, tasks switch on a cpu, and cpus 64
    /// apart (one slot of the decoder's per-cpu guess) run different tasks, including tasks
    /// whose names differ only past their first eight bytes or only in length.
    @Test func tasksAreDecodedPerEventWhereCpusInterleave() throws {
        let runs: [(cpu: Int, task: String)] = [
            (0, "kworker/0:1"), (64, "kworker/0:2"), (1, "bash"), (0, "kworker/0:1"), (64, "kworker/0:2"),
            (0, "kworker/0:1"), (0, "kworker/0:12"), (128, "kworker/0:1"), (1, "bash"), (1, "bas"), (64, "kworker/0:2"),
        ]
        let body = runs.map { "<irq-disable cpu=\"\($0.cpu)\" task=\"\($0.task)\"/>" }.joined(separator: "\n")
        let symbols = SymbolTable()
        let decoded = try events(trace(body, root: "<trace version=\"1\">"), symbols: symbols)
        #expect(decoded.map(\.cpu) == runs.map(\.cpu))
        #expect(decoded.map { $0.task.map { symbols[$0] } } == runs.map(\.task))
    }

    /// A release's lock and instance are the ones it names, wherever the reader first looks for
    /// them (the locks it saw taken on that cpu): cpus interleaving, and cpus 64 apart; nesting
    /// deeper than that list; a lock released on another cpu, or out of order; an instance
    /// other than the one taken, or none where one was taken and the reverse; names alike in
    /// their first 16 bytes, or but for their length; a lock taken twice, and its instances
    /// released in either order.
    @Test func releasesAreDecodedAsWrittenWhereTheirLocksWereTaken() throws {
        let deep = (0..<10).map { "lock\($0)" }
        let long = "&mm->page_table_lock/"
        var steps: [(acquire: Bool, cpu: Int, lock: String, instance: String?)] = []
        steps += deep.enumerated().map { (true, 0, $1, $0.isMultiple(of: 2) ? "i\($0)" : nil) }
        steps += [(true, 64, "lock3", "j3"), (true, 1, long + "a", "ffff888000000000"), (true, 1, long + "b", "ffff888000000001")]
        steps += deep.reversed().enumerated().map { (false, 0, $1, $0 == 4 ? "i5" : ($0 == 5 ? "other" : nil)) }
        steps += [
            (false, 1, long + "a", "ffff888000000000"), (false, 64, "lock3", nil), (false, 1, long + "b", "ffff888000000001"),
            (true, 2, "A", "x"), (true, 2, "A", "y"), (false, 2, "A", "y"), (true, 2, "B", "x"), (false, 2, "B", "y"),
            (true, 3, "C", "x"), (true, 3, "C", "y"), (false, 3, "C", "x"), (false, 3, "C", "y"), (false, 3, "C", nil), (false, 3, "A", "x"), (false, 2, "AA", nil),
            (true, 2, "lock1", nil), (false, 2, "lock1", "fresh"), (true, 2, long, nil), (false, 2, long + "a", nil),
        ]
        let body = steps.map { step in
            let lock = step.lock.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: ">", with: "&gt;")
            let instance = step.instance.map { " instance=\"\($0)\"" } ?? ""
            return "<\(step.acquire ? "acquire" : "release") cpu=\"\(step.cpu)\" lock=\"\(lock)\"\(instance)/>"
        }.joined(separator: "\n")
        let symbols = SymbolTable()
        let decoded = try events(trace(body, root: "<trace version=\"1\">"), symbols: symbols)
        let seen = decoded.map { event -> String in
            switch event.kind {
            case .acquire(let lock, _, _, _, _, _): return "+\(event.cpu) \(symbols[lock.name]) \(lock.instance.map { symbols[$0] } ?? "-")"
            case .release(let lock, _, _): return "-\(event.cpu) \(symbols[lock.name]) \(lock.instance.map { symbols[$0] } ?? "-")"
            default: return "?"
            }
        }
        #expect(seen == steps.map { "\($0.acquire ? "+" : "-")\($0.cpu) \($0.lock) \($0.instance ?? "-")" })
    }

    /// Past 4,096 names the decoding starts asking for each `lock`, `fn` and `instance`
    /// value's slot in the symbol table some events ahead, then for the record of the name in
    /// it (`SymbolTable.isPastTheCaches`): hints that change nothing decoded.
    /// Names short and long, escaped or not, new and met before, the three attributes at
    /// varying places among their tag's, across many tapes.
    @Test func namesPastTheCachesSizeAreDecodedAsWritten() throws {
        func lock(_ index: Int) -> String {
            switch index % 4 {
            case 0: "l\(index)"
            case 1: "&amp;mm->lock_of_a_long_name/\(index)"
            case 2: "lock\(index)"
            default: "rq-\(index)-spinlock_t"
            }
        }
        // 40,000 locks, each met first and then again 40,000 events on.
        let locks = (0..<80_000).map { lock($0 % 40_000) }
        let functions = locks.indices.map { $0.isMultiple(of: 5) ? "&lt;f\($0 % 9_000)&gt;" : "f\($0 % 9_000)" }
        let instances = locks.indices.map { "i\($0 % 13_000)" }
        let body = locks.indices.map { index in
            switch index % 3 {
            case 0: "<acquire cpu=\"\(index % 4)\" lock=\"\(locks[index])\"/>"
            case 1: "<acquire lock=\"\(locks[index])\" cpu=\"\(index % 4)\" instance=\"\(instances[index])\" fn=\"\(functions[index])\"/>"
            default: "<acquire fn=\"\(functions[index])\" instance=\"\(instances[index])\" cpu=\"\(index % 4)\" lock=\"\(locks[index])\"/>"
            }
        }.joined(separator: "\n")
        let symbols = SymbolTable()
        let decoded = try events(trace(body), symbols: symbols)
        #expect(symbols.count > 4_096)
        let seen = decoded.map { event -> String in
            guard case .acquire(let lock, _, _, _, _, _) = event.kind else { return "?" }
            let function = event.function.map { symbols[$0] } ?? "-"
            return "\(symbols[lock.name]) \(lock.instance.map { symbols[$0] } ?? "-") \(function)"
        }
        let unescaped = { (name: String) in
            name.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">")
        }
        let written = locks.indices.map { index in
            index % 3 == 0 ? "\(unescaped(locks[index])) - -" : "\(unescaped(locks[index])) \(instances[index]) \(unescaped(functions[index]))"
        }
        #expect(seen == written)
    }

    /// The hints are asked for each of the three attributes, an '&' decoded first: of a name
    /// met again, both its slot and its record (`SymbolTable.hintsGiven`). Hints change no
    /// value, so only their count can show one lost.
    @Test(arguments: ["lock", "fn", "instance"])
    func hintsAreAskedForEachNamedValue(_ attribute: String) throws {
        // 6,000 names, met once and then twice more: past 4,096 names, the table asks ahead.
        // The `lock` takes them too (an acquisition needs one): for `fn` and `instance`,
        // two values an event are asked for.
        let perEvent = attribute == "lock" ? 1 : 2
        let body = (0..<18_000).map { index in
            let value = "&amp;name\(index % 6_000)-&gt;lock"
            let other = attribute == "lock" ? "" : " \(attribute)=\"\(value)\""
            return "<acquire cpu=\"\(index % 4)\" lock=\"\(value)\"\(other)/>"
        }.joined(separator: "\n")
        let symbols = SymbolTable()
        let decoded = try events(trace(body), symbols: symbols)
        let names = decoded.compactMap { event -> String? in
            guard case .acquire(let lock, _, _, _, _, _) = event.kind else { return nil }
            return switch attribute {
            case "lock": symbols[lock.name]
            case "fn": event.function.map { symbols[$0] }
            default: lock.instance.map { symbols[$0] }
            }
        }
        #expect(names == (0..<18_000).map { "&name\($0 % 6_000)->lock" })
        // Some 13,000 events come on tapes begun past 4,096 names; of those values, the ones
        // met before have their record found at the slot asked for, unless another name is
        // there.
        let hints = symbols.hintsGiven
        #expect(hints.slots > perEvent * 10_000, "\(hints)")
        #expect(hints.records > perEvent * 8_000, "\(hints)")
    }

    /// An event is placed at its tag's '<', in characters as libxml2 counts columns: a tag on
    /// one line, after blanks or another tag; one whose attributes hold non-ASCII values (short
    /// and past eight bytes, and in its last bytes alone); one that spans lines, with and
    /// without non-ASCII before its '<'.
    @Test func anEventIsPlacedAtItsTagsStart() throws {
        let body = [
            "    <irq-disable cpu=\"0\"/><irq-enable cpu=\"0\"/>",
            "<acquire cpu=\"0\" lock=\"é\"/>  <release cpu=\"0\" lock=\"é\"/>",
            "<acquire cpu=\"0\" lock=\"éééééééééé\"/><release cpu=\"0\" lock=\"éééééééééé\"/>",
            "  <irq-disable",
            "     cpu=\"0\"/>",
            "<!-- ü --> <irq-enable",
            "cpu=\"0\"/>",
            // Its 'é' past the tag's last whole eight bytes.
            "  <irq-disable cpu=\"0\" task=\"aé\"/><irq-enable cpu=\"0\"/>",
        ].joined(separator: "\n")
        let decoded = try events(trace(body))
        let places = decoded.map { [$0.position.line, $0.position.column] }
        #expect(places == [[4, 5], [4, 27], [5, 1], [5, 30], [6, 1], [6, 37], [7, 3], [9, 12], [11, 3], [11, 35]], "\(places)")
    }

    /// The blanks before a tag tell where it starts, but only when the tag comes right after
    /// them: a comment, a processing instruction, an extension's end tag or start tag, or
    /// another event between the blanks and the tag leave it placed by its own bytes. Tags
    /// right after blanks that end at a chunk's end, and tags across it, are placed alike, and
    /// so is a tag across lines at the end of a line longer than three chunks (whose start
    /// libxml2's buffer no longer holds, so that counting back could not place it). The
    /// places are counted here from the document (lines, and columns in characters).
    @Test func anEventAfterBlanksOrOtherMarkupIsPlacedAtItsTagsStart() throws {
        let lines = [
            "  <irq-disable cpu=\"0\"/>",
            "  <!--c--><irq-enable cpu=\"0\"/>",
            "\t<?pi x?><irq-disable cpu=\"0\"/>",
            " <x-e>\t<x-f/></x-e><irq-enable cpu=\"0\"/>",
            "<x-e>  </x-e>  <irq-disable cpu=\"0\"/><irq-enable cpu=\"0\"/>",
            "<x-e>  </x-e><irq-disable cpu=\"0\"/>  <x-e/><irq-enable cpu=\"0\"/>",
            "<!-- ü -->   <irq-disable cpu=\"0\" task=\"é\"/>",
            "   <irq-enable", "  cpu=\"0\"/>",
        ]
        // Then events whose blanks end, or whose tags cross, the first chunk's end.
        let head = trace(lines.joined(separator: "\n") + "\n").components(separatedBy: "\n</events>")[0]
        let pair = "<irq-disable cpu=\"0\"/>\n<irq-enable cpu=\"0\"/>\n"
        var body = lines.joined(separator: "\n") + "\n"
        let room = TraceReader.chunkSize - head.utf8.count - 4
        body += String(repeating: pair, count: room / pair.utf8.count)
        body += String(repeating: " ", count: room % pair.utf8.count)
        for shift in 0..<12 { body += String(repeating: " ", count: shift) + pair }
        body += String(repeating: "<irq-disable cpu=\"0\"/> <irq-enable cpu=\"0\"/> ", count: 4_500)
        body += "<irq-disable\n cpu=\"0\"/> <irq-enable\n\tcpu=\"0\"/>\n"
        let xml = trace(body)

        var expected: [[Int]] = []
        var (line, column) = (1, 1)
        let characters = Array(xml)
        for (index, character) in characters.enumerated() {
            if character == "<", characters[index...].starts(with: Array("<irq-")) {
                expected.append([line, column])
            }
            (line, column) = character == "\n" ? (line + 1, 1) : (line, column + 1)
        }
        let decoded = try events(xml)
        let places = decoded.map { [$0.position.line, $0.position.column] }
        #expect(places.count == expected.count && places.count > 2_000)
        // The first event placed elsewhere, if any (the whole lists would fill the log).
        let misplaced = zip(places, expected).enumerated().first { $0.element.0 != $0.element.1 }
            .map { "event \($0.offset): placed at \($0.element.0), its '<' is at \($0.element.1)" }
        #expect(misplaced == nil)
    }

    /// A tag across lines on a document's first line, after a UTF-8 BOM or after an encoding's
    /// switch (libxml2's buffer then holds no start of that line to count from): the decoder's
    /// error and the schema's name the column of its '<'.
    @Test(arguments: [
        "\u{FEFF}<trace version=\"1\" cpus=\"2\"><events> <bogus\n cpu=\"0\"/></events></trace>\n",
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><trace version=\"1\" cpus=\"2\"><events> <bogus\n cpu=\"0\"/></events></trace>\n",
    ])
    func aTagAcrossLinesOnTheFirstLineIsPlacedAtItsStart(_ xml: String) throws {
        let before = xml[..<xml.range(of: "<bogus")!.lowerBound]
        let column = before.unicodeScalars.filter { $0 != "\u{FEFF}" }.count + 1
        for schema in [nil, TraceSchema.v1] {
            let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable())
            let error = #expect(throws: TraceInputError.self) {
                try reader.read(bytes: Array(xml.utf8), schema: schema, header: { _ in }, event: { _ in })
            }
            #expect(error?.line == 1 && error?.column == column, "\(String(describing: error))")
        }
    }

    /// A tag of fewer than eight bytes (`<meta>`; one with non-ASCII can only be an unknown
    /// element's) is checked for non-ASCII byte by byte: its place counts characters, in the decoder's error and in the
    /// schema's alike.
    @Test(arguments: [("  <é/>", 3), ("<!--x--><çé/>", 9)])
    func aShortTagIsPlacedInCharacters(_ body: String, _ column: Int) throws {
        let xml = trace(body)
        for schema in [nil, TraceSchema.v1] {
            let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable())
            let error = #expect(throws: TraceInputError.self) {
                try reader.read(bytes: Array(xml.utf8), schema: schema, header: { _ in }, event: { _ in })
            }
            #expect(error?.line == 4 && error?.column == column, "\(String(describing: error))")
        }
    }

    @Test(arguments: [
        // (what is wrong, the document, line, message fragment)
        ("truncated", "<?xml version=\"1.0\"?>\n<trace version=\"1\">\n<events>\n<acquire cpu=\"0\" lock=\"A\"/>\n", 4, "the trace ends early"),
        ("garbage", "\u{1}\u{2}binary", 1, "malformed XML"),
        ("wrong root", "<?xml version=\"1.0\"?>\n<log version=\"1\"/>\n", 2, "unknown element <log>"),
        ("version", "<?xml version=\"1.0\"?>\n<trace version=\"2\"><events/></trace>\n", 2, "unsupported trace format version '2'"),
        // Plain digits below an attribute's least value: not "too large".
        ("no cpus", "<?xml version=\"1.0\"?>\n<trace version=\"1\" cpus=\"0\"><events/></trace>\n", 2, "attribute 'cpus' of <trace> must be an integer >= 1, not '0'"),
        ("no slots", "<?xml version=\"1.0\"?>\n<trace version=\"1\"><classes>\n<class name=\"pool\" type=\"kmap-pool\" slots=\"0\"/></classes><events/></trace>\n", 3, "attribute 'slots' of <class> must be an integer >= 1, not '0'"),
        ("no version", "<?xml version=\"1.0\"?>\n<trace><events/></trace>\n", 2, "<trace> needs attribute 'version'"),
        ("doctype", "<?xml version=\"1.0\"?>\n<!DOCTYPE trace [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<trace version=\"1\"><events>&x;</events></trace>\n", 2, "DOCTYPE is not allowed"),
        ("text", "<?xml version=\"1.0\"?>\n<trace version=\"1\"><events>\nhello\n</events></trace>\n", 3, "unexpected text"),
    ])
    func brokenDocumentsAreInputErrors(_ what: String, _ xml: String, _ line: Int, _ fragment: String) throws {
        let error = try #require(inputError(xml), "\(what) was accepted")
        #expect(error.file == "bad.xml")
        #expect(error.line == line, "\(what): \(error)")
        #expect(error.column != nil)
        #expect(error.message.contains(fragment), "\(what): \(error)")
        #expect(error.description.hasPrefix("bad.xml:\(line):"))
    }

    @Test(arguments: [
        ("<acquire lock=\"A\"/>", "<acquire> needs attribute 'cpu'"),
        ("<acquire cpu=\"-1\" lock=\"A\"/>", "attribute 'cpu' of <acquire> must be an integer >= 0, not '-1'"),
        ("<acquire cpu=\"one\" lock=\"A\"/>", "must be an integer >= 0, not 'one'"),
        // An integer >= 0 all the same, only past what pgtrace counts in.
        ("<acquire cpu=\"99999999999999999999\" lock=\"A\"/>", "attribute 'cpu' of <acquire> is too large: '99999999999999999999' (at most 9223372036854775807)"),
        ("<acquire cpu=\"9\" lock=\"A\"/>", "cpu 9 is out of range"),
        ("<acquire cpu=\"0\"/>", "<acquire> needs attribute 'lock'"),
        ("<acquire cpu=\"0\" lock=\"A\" mode=\"exclusive\"/>", "must be one of 'write', 'read', 'recursive-read', not 'exclusive'"),
        ("<acquire cpu=\"0\" lock=\"A\" irq=\"off\"/>", "attribute 'irq' of <acquire> must be one of 'save', 'disable'"),
        ("<acquire cpu=\"0\" lock=\"A\" try=\"maybe\"/>", "must be true or false, not 'maybe'"),
        ("<acquire cpu=\"0\" lock=\"A\" colour=\"red\"/>", "unknown attribute 'colour' on <acquire>"),
        ("<spin-lock cpu=\"0\"/>", "unknown element <spin-lock>"),
        ("<ipi-send cpu=\"0\" targets=\"1,,2\"/>", "must be all, others, local or a list of cpus"),
        ("<ipi-send cpu=\"0\" targets=\"7\"/>", "target cpu 7 is out of range"),
        // The sending cpu as well (it was taken at any size: helper-138).
        ("<ipi-handle cpu=\"0\" from=\"7\"/>", "sending cpu 7 is out of range: the trace declares cpus=\"4\""),
        ("<ipi-handle cpu=\"0\" from=\"9223372036854775807\"/>", "sending cpu 9223372036854775807 is out of range"),
        ("<tlb-flush cpu=\"0\" targets=\"all\" mode=\"magic\"/>", "must be one of 'ipi', 'hypercall'"),
        ("<acquire cpu=\"0\" lock=\"A\" t=\"10\"/><release cpu=\"0\" lock=\"A\" t=\"9\"/>", "t=9 goes back in time"),
        ("<acquire cpu=\"0\" lock=\"A\"><release cpu=\"0\" lock=\"A\"/></acquire>", "inside an event; events are empty elements"),
        ("<hardirq-exit cpu=\"0\"/>", "<hardirq-exit/> on cpu 0 outside any hardirq"),
        ("<bh-enable cpu=\"0\"/>", "<bh-enable/> with bh already enabled"),
        ("<acquire cpu=\"0\" lock=\"A\"/><release cpu=\"0\" lock=\"A\" irq=\"restore\"/>", "which was not taken with irq=\"save\""),
        // A release whose lock the reader saw taken is checked as any other.
        ("<acquire cpu=\"0\" lock=\"A\" instance=\"i\"/><release cpu=\"0\" lock=\"A\" instance=\"\"/>", "attribute 'instance' of <release> is empty"),
        ("<acquire cpu=\"0\" lock=\"A\"/><release cpu=\"0\" lock=\"\"/>", "attribute 'lock' of <release> is empty"),
        ("<acquire cpu=\"0\" lock=\"A\"/><release cpu=\"0\"/>", "<release> needs attribute 'lock'"),
        ("<acquire cpu=\"0\" lock=\"A\"/><release cpu=\"0\" lock=\"A\" subclass=\"8\"/>", "attribute 'subclass' of <release> must be 0 to 7"),
        // Two bad attributes: the subclass is decoded before the instance, as for any lock.
        ("<acquire cpu=\"0\" lock=\"A\" instance=\"i\"/><release cpu=\"0\" lock=\"A\" subclass=\"x\" instance=\"\"/>", "attribute 'subclass' of <release> must be 0 to 7"),
        ("<hardirq-enter cpu=\"0\"/><acquire cpu=\"0\" lock=\"A\"/><hardirq-exit cpu=\"0\"/>", "with A still held"),
    ])
    func brokenEventsAreInputErrorsAtTheirLine(_ body: String, _ fragment: String) throws {
        let error = try #require(inputError(trace(body)), "accepted: \(body)")
        #expect(error.line == 4, "\(error)")
        #expect(error.message.contains(fragment), "\(error)")
    }

    /// Lockdep's MAX_LOCKDEP_SUBCLASSES is 8: a subclass past 7 is refused where it is
    /// written, on every element that takes one, as lockdep refuses it (look_up_lock_class's
    /// "BUG: looking up invalid subclass"). Read, it made a summary that no reader took back.
    @Test(arguments: [
        ("<acquire cpu=\"0\" lock=\"A\" subclass=\"8\"/>", "acquire", "8"),
        ("<acquire cpu=\"0\" lock=\"A\" subclass=\"4294967296\"/>", "acquire", "4294967296"),
        ("<acquire cpu=\"0\" lock=\"A\" subclass=\"99999999999999999999\"/>", "acquire", "99999999999999999999"),
        ("<acquire cpu=\"0\" lock=\"A\" subclass=\"-1\"/>", "acquire", "-1"),
        ("<release cpu=\"0\" lock=\"A\" subclass=\"8\"/>", "release", "8"),
        ("<contended cpu=\"0\" lock=\"A\" subclass=\"8\"/>", "contended", "8"),
        ("<acquired cpu=\"0\" lock=\"A\" subclass=\"8\"/>", "acquired", "8"),
    ])
    func aSubclassPastLockdepsSevenIsAnInputErrorAtItsElement(_ body: String, _ element: String, _ value: String) throws {
        let error = try #require(inputError(trace(body)), "accepted: \(body)")
        #expect(error.description == "bad.xml:4:1: error: attribute 'subclass' of <\(element)> must be 0 to 7 (lockdep's MAX_LOCKDEP_SUBCLASSES is 8), not '\(value)'")
    }

    @Test func subclassSevenIsLockdepsLast() throws {
        let decoded = try events(trace("<acquire cpu=\"0\" lock=\"A\" subclass=\"7\"/><release cpu=\"0\" lock=\"A\" subclass=\" 7 \"/>"))
        #expect(decoded.count == 2)
        guard case .acquire(let lock, _, _, _, _, _) = decoded.first?.kind else { Issue.record("\(decoded)"); return }
        #expect(lock.subclass == 7)
    }

    @Test func extensionsAreIgnored() throws {
        let xml = trace(
            "<x-marker cpu=\"0\"><x-inner/>text</x-marker><acquire cpu=\"0\" lock=\"A\" x-note=\"hi\"/>")
        #expect(try events(xml).count == 1)
    }

    @Test func aHugeAttributeValueIsFine() throws {
        let name = String(repeating: "a", count: 2_000_000)
        let decoded = try events(trace("<acquire cpu=\"0\" lock=\"\(name)\"/>"))
        #expect(decoded.count == 1)
    }

    @Test func emptyInputIsAnError() {
        let error = inputError("")
        #expect(error?.message.contains("empty file") == true)
    }

    @Test func aMissingFileIsAnErrorNamingThePath() {
        let analysis = Analysis()
        #expect(throws: TraceInputError.self) { try analysis.analyze(path: "/nonexistent/trace.xml") }
        do {
            try Analysis().analyze(path: "/tmp")
            Issue.record("a directory was read as a trace")
        } catch let error as TraceInputError {
            #expect(error.description == "/tmp: error: is a directory, not a trace file")
        } catch {
            Issue.record("\(error)")
        }
    }
}

extension Event {
    /// The reason symbol of an ipi-send, for comparing whole kinds.
    fileprivate var kindReason: Symbol? {
        if case .ipiSend(_, _, let reason) = kind { return reason }
        return nil
    }
}

/// Attribute values come back exactly as written, whatever libxml2 does with `&` when it
/// substitutes no entities.
@Suite struct AttributeTextTests {
    @Test(arguments: [
        ("&amp;(&amp;mm-&gt;page_table_lock)-&gt;rlock", "&(&mm->page_table_lock)->rlock"),
        ("&#38;x&#x26;y", "&x&y"),
        ("a&lt;b&quot;c&apos;d", "a<b\"c'd"),
        ("&amp;#38;", "&#38;"),
    ])
    func entitiesInAttributesAreDecoded(_ written: String, _ expected: String) throws {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\"><events><acquire cpu=\"0\" lock=\"\(written)\"/></events></trace>\n"
        let symbols = SymbolTable()
        let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: symbols)
        var names: [String] = []
        try reader.read(bytes: Array(xml.utf8), header: { _ in }, event: { event in
            if case .acquire(let lock, _, _, _, _, _) = event.kind { names.append(symbols[lock.name]) }
        })
        #expect(names == [expected])
    }

    /// libxml2 hands a value over in place (within the tag's bytes, which the scan copies
    /// once, from the first value to the last) or as a copy of its own, its references
    /// resolved: a copy first, in the middle or last, and empty values at either end, come
    /// back as written.
    @Test(arguments: [
        ("cpu=\"0\" task=\"kswapd0\" lock=\"&amp;mm-&gt;mmap_lock\" fn=\"do_exit\"", ["kswapd0", "&mm->mmap_lock", "do_exit"]),
        ("lock=\"&amp;mm-&gt;mmap_lock\" cpu=\"0\" task=\"kswapd0\" fn=\"do_exit\"", ["kswapd0", "&mm->mmap_lock", "do_exit"]),
        ("cpu=\"0\" task=\"kswapd0\" fn=\"do_exit\" lock=\"&amp;mm-&gt;mmap_lock\"", ["kswapd0", "&mm->mmap_lock", "do_exit"]),
        ("fn=\"\" cpu=\"0\" lock=\"A\" task=\"\"", ["", "A", ""]),
        ("task=\"t&amp;\" lock=\"&lt;A\" cpu=\"0\" fn=\"f&quot;\"", ["t&", "<A", "f\""]),
    ])
    func valuesCopiedForTheirReferencesSitBesideValuesInPlace(_ attributes: String, _ expected: [String]) throws {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\"><events><acquire \(attributes)/></events></trace>\n"
        let symbols = SymbolTable()
        let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: symbols)
        var seen: [String] = []
        try reader.read(bytes: Array(xml.utf8), header: { _ in }, event: { event in
            if case .acquire(let lock, _, _, _, _, _) = event.kind {
                seen = [event.task.map { symbols[$0] } ?? "-", symbols[lock.name], event.function.map { symbols[$0] } ?? "-"]
            }
        })
        #expect(seen == expected)
    }

    @Test func aPrefixedAttributeIsUnknownByItsWholeName() throws {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\" xmlns:foo=\"urn:x\"><events><acquire cpu=\"0\" lock=\"A\" foo:colour=\"red\"/></events></trace>\n"
        let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable())
        let error = #expect(throws: TraceInputError.self) {
            try reader.read(bytes: Array(xml.utf8), header: { _ in }, event: { _ in })
        }
        #expect(error.map { "\($0)" }?.hasPrefix("t.xml:2:46: error: unknown attribute 'foo:colour' on <acquire>") == true)
    }
}
