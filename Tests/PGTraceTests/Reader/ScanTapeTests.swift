@testable import PGTrace
import Testing

/// The scan writes a tape that the decoding reads on the other core: each byte it writes is a
/// line that core must give up first, so a step and an attribute take 16 bytes, and an
/// element without content (nearly every event) takes one step, its end folded into its start.
@Suite struct ScanTapeTests {
    /// What docs/performance.md's figures of a tape's bytes an event rest on.
    @Test func aStepAndAnAttributeAreSixteenBytes() {
        #expect(MemoryLayout<ScanTape.Step>.stride == 16)
        #expect(MemoryLayout<ScanTape.Attribute>.stride == 16)
    }

    private func kinds(_ tape: ScanTape) -> [String] {
        (0..<tape.steps.count).map { position in
            switch tape.steps[position] {
            case .start(_, _, _, _, let closed): return closed ? "start+end" : "start"
            case .end: return "end"
            case .progress: return "progress"
            default: return "other"
            }
        }
    }

    /// `<trace><events><acquire/><release></release></events>`, a chunk's progress, then
    /// `</trace>`: the two events' ends fold into their starts; `</events>` cannot (the last
    /// step is a start already closed), nor `</trace>` (a step stands between).
    @Test func anEndFoldsIntoTheStartItFollowsAndIntoNothingElse() {
        let tape = ScanTape()
        tape.appendEnd()
        #expect(kinds(tape) == ["end"], "an end on an empty tape (its start on the last one) is its own step")
        tape.reset()
        let trace = ElementName.trace.index, events = ElementName.events.index
        tape.appendStart(trace, line: 1, column: 1, attributeCount: 0)
        tape.appendStart(events, line: 2, column: 1, attributeCount: 0)
        tape.appendStart(ElementName.acquire.index, line: 3, column: 3, attributeCount: 0)
        tape.appendEnd()
        tape.appendStart(ElementName.release.index, line: 4, column: 3, attributeCount: 0)
        tape.appendEnd()
        tape.appendEnd()
        tape.append(.progress(bytesRead: 100))
        tape.appendEnd()
        #expect(kinds(tape) == ["start", "start", "start+end", "start+end", "end", "progress", "end"],
                "`</events>` after `<release/>` closes `<events>`, not the release again")
        guard case .start(let line, let column, let count, let element, true) = tape.steps[3] else {
            Issue.record("\(tape.steps[3])")
            return
        }
        #expect((line, column, count, element) == (4, 3, 0, ElementName.release.index), "a folded start keeps what it held")
    }

    /// An attribute's count and whether it may hold a reference share four bytes; a prefixed
    /// name's raw spelling and its length go in the bytes before the value.
    @Test func anAttributeKeepsItsCountFlagAndRawName() throws {
        let tape = ScanTape()
        let value = Array("ffff88800dac01c0".utf8)
        value.withUnsafeBufferPointer { bytes in
            tape.appendAttribute(nil, rawName: { "foo:colour" }, copying: bytes.baseAddress!, count: bytes.count, mayHoldReference: true)
            tape.appendAttribute(nil, rawName: { "é:x" }, copying: bytes.baseAddress!, count: 0, mayHoldReference: false)
        }
        let first = tape.attributes[0], second = tape.attributes[1]
        #expect(first.count == value.count && first.mayHoldReference)
        #expect(second.count == 0 && !second.mayHoldReference)
        #expect(tape.rawName(of: first) == "foo:colour" && tape.rawName(of: second) == "é:x")
        #expect(Array(UnsafeBufferPointer(start: tape.value(of: first), count: first.count)) == value)
        let large = ScanTape.Attribute(name: nil, offset: 0, count: Int(Int32.max), mayHoldReference: true)
        #expect(large.count == Int(Int32.max) && large.mayHoldReference)
    }

    /// A tag's bytes go on the tape from its first value to its last when both lie in it;
    /// a value copied by libxml2 (elsewhere) at either end keeps the whole tag.
    @Test func aTagIsCopiedFromItsFirstValueToItsLast() {
        // The tag between two values libxml2 copied, one before it and one after it in memory.
        let buffer = Array(#"&A<acquire cpu="2" lock="A" t="40"&B"#.utf8)
        buffer.withUnsafeBufferPointer { bytes in
            let (before, start) = (bytes.baseAddress!, bytes.baseAddress! + 2)
            let end = start + 32
            let after = end
            let (first, last) = (start + 14, end - 1)  // `2` ... `40`
            let span = ScanTape.valuesSpan(tag: start, to: end, firstValue: first, lastValueEnd: last)
            #expect(span.map { [$0.start - start, $0.end - start] } == [14, 31])
            for (firstValue, lastValueEnd) in [(before, last), (after, last), (first, before + 2), (first, after + 2), (last, first)] {
                let whole = ScanTape.valuesSpan(tag: start, to: end, firstValue: firstValue, lastValueEnd: lastValueEnd)
                #expect(whole.map { [$0.start - start, $0.end - start] } == [0, 32],
                        "first at \(firstValue - start), last at \(lastValueEnd - start)")
            }
            #expect(ScanTape.valuesSpan(tag: start, to: end, firstValue: nil, lastValueEnd: last).map { $0.end - $0.start } == 32)
            #expect(ScanTape.valuesSpan(tag: nil, to: end, firstValue: first, lastValueEnd: last) == nil)
            #expect(ScanTape.valuesSpan(tag: end, to: end, firstValue: first, lastValueEnd: last) == nil)
        }
    }

    /// A start that fails is not ended: `<classes .../>` with an attribute it may not have
    /// delivers no header, its end folded (the first two) or not (a child between), and the
    /// error is the start's.
    @Test(arguments: [
        "<classes colour=\"red\"/>", "<classes colour=\"red\"></classes>",
        "<classes colour=\"red\"><class name=\"A\"/></classes>",
    ])
    func aStartThatFailsIsNotEnded(_ classes: String) throws {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\">\(classes)<events/></trace>\n"
        let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable())
        var headers = 0
        let error = #expect(throws: TraceInputError.self) {
            try reader.read(bytes: Array(xml.utf8), schema: nil, header: { _ in headers += 1 }, event: { _ in })
        }
        #expect(headers == 0)
        #expect(error.map { "\($0)" }?.hasPrefix("t.xml:2:20: error: unknown attribute 'colour' on <classes>; it takes no attributes") == true,
                "\(String(describing: error))")
    }

    /// `</classes>` completes the header whether the element is empty or not, written short
    /// or long: the folded end is decoded as the end step was.
    @Test(arguments: ["<classes/>", "<classes></classes>", "<classes>\n  </classes>", "<classes><class name=\"A\"/></classes>"])
    func theHeaderIsCompleteAtTheEndOfClassesHoweverWritten(_ classes: String) throws {
        let xml = "<?xml version=\"1.0\"?>\n<trace version=\"1\" cpus=\"2\">\(classes)<events><acquire cpu=\"0\" lock=\"A\"></acquire><release cpu=\"0\" lock=\"A\"/></events></trace>\n"
        let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable())
        var headers = 0
        var kinds: [String] = []
        try reader.read(bytes: Array(xml.utf8), schema: nil, header: { _ in headers += 1 }, event: { event in
            #expect(headers == 1, "the header before the first event")
            kinds.append("\(event.kind)".prefix(while: { $0 != "(" }).description)
        })
        #expect(headers == 1)
        #expect(kinds == ["acquire", "release"])
    }
}
