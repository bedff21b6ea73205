/// The decoding half of reading an XML trace: runs `TraceDecoder` over the scan's tapes
/// (`ScanTape`) in document order and hands each header and event on. The first failure in
/// document order, the scan's, the decoder's or a consumer's, ends it: what follows it on
/// the tapes is passed over, as a parse stopped there would never have seen it.
///
/// One thread at a time uses it, the tapes in order: the reading thread, or the thread the
/// tapes are handed to (`TapeHandoff`), whose hand-over orders the two.
final class TapeDecoding: @unchecked Sendable {
    @exclusivity(unchecked) private var decoder: TraceDecoder
    private let fileName: String
    /// Told the bytes read at each chunk read (a progress line), after the events before it.
    private let progress: ((_ bytesRead: Int) -> Void)?
    @exclusivity(unchecked) private(set) var failure: Error?
    /// Past the scan's `finishing` step.
    @exclusivity(unchecked) private var finishing = false
    /// The dictionary of the tapes' attribute names, held while its pointers key
    /// `attributeNames` (a pointer of a freed dictionary could name something else).
    @exclusivity(unchecked) private var dictionary: InternedNames?
    /// Attribute names by libxml2's interned pointer: resolved here, off the scan's thread.
    @exclusivity(unchecked) private var attributeNames = PointerCache<AttributeName>()
    // `dictionary`'s pointers for the attribute names whose values are names looked up in
    // the symbol table at nearly every event, once each was met.
    /// The attribute name `lock`'s pointer.
    @exclusivity(unchecked) private var lockName: UnsafePointer<UInt8>?
    /// The attribute name `fn`'s pointer.
    @exclusivity(unchecked) private var fnName: UnsafePointer<UInt8>?
    /// The attribute name `instance`'s pointer.
    @exclusivity(unchecked) private var instanceName: UnsafePointer<UInt8>?
    /// Whether the tape being decoded has the `lock`, `fn` and `instance` values' places in
    /// the symbol table asked for ahead (`prefetch(ahead:in:)`): once one of the three names
    /// was met in `dictionary` before the tape began, and the table is past the caches' size.
    @exclusivity(unchecked) private var prefetchesNames = false
    /// The slots asked for ahead and not yet read again (`SymbolTable.prefetchSlot`'s
    /// tickets), by attribute position modulo `tickets.count` (a power of two); 0 for none. A
    /// ticket is read `lookahead / 2` positions after it is written, before the ring comes
    /// round to it.
    @exclusivity(unchecked) private var tickets = InlineArray<16, UInt64>(repeating: 0)
    /// A value asked for ahead that libxml2 copied, decoded as the decoder will decode it
    /// (each "&#38;" an '&' again): its raw bytes would hash to another slot.
    private let aheadValue = UnescapedValues()
    /// How far ahead of the attribute decoded a value's slot in the symbol table is asked for
    /// (some three events, the time of a miss to memory); at half the distance, the slot is
    /// read and the record of the name there asked for.
    private static let lookahead = 12

    init(decoder: TraceDecoder, fileName: String, progress: ((_ bytesRead: Int) -> Void)? = nil) {
        self.decoder = decoder
        self.fileName = fileName
        self.progress = progress
    }

    /// Decodes `tape`'s steps in order, up to the first failure, handing on what they make.
    func decode(_ tape: ScanTape, header onHeader: (TraceHeader) throws -> Void, event onEvent: (Event) throws -> Void) {
        guard failure == nil else { return }
        if tape.dictionary !== dictionary {
            dictionary = tape.dictionary
            attributeNames = PointerCache()
            lockName = nil
            fnName = nil
            instanceName = nil
        }
        prefetchesNames = (lockName != nil || fnName != nil || instanceName != nil) && decoder.symbols.isPastTheCaches
        // Every ticket is read before its tape ends; cleared all the same, so that none can
        // stand for another tape's value.
        if prefetchesNames { tickets = InlineArray(repeating: 0) }
        var nextAttribute = 0
        for position in 0..<tape.steps.count {
            let step = tape.steps[position]
            switch step {
            case .start(let line, let column, let attributeCount, let index, let closed):
                let first = nextAttribute
                nextAttribute += Int(attributeCount)
                start(
                    index, attributes: first..<nextAttribute, of: tape, line: Int(line), column: Int(column),
                    header: onHeader, event: onEvent)
                if closed, failure == nil { end(header: onHeader) }
            case .unknownElement(let name, let line, let column):
                fail(decoder.unknownElement(tape.names[Int(name)]).message, line: line, column: column)
            case .enterExtension(let line, let column):
                do throws(DecodeFailure) {
                    try decoder.enterExtension()
                } catch {
                    fail(error.message, line: line, column: column)
                }
            case .end:
                end(header: onHeader)
            case .unexpectedText(let line, let column):
                fail("unexpected text; trace elements hold no text, expected \(decoder.expectedNow)", line: line, column: column)
            case .failure(let index):
                if let cause = tape.failures[Int(index)] as? ScanTape.Cause {
                    failure = cause.error
                    return
                }
                failure = tape.failures[Int(index)]
            case .finishing:
                finishing = true
            case .progress(let bytesRead):
                progress?(bytesRead)
            case .endOfInput(let wellFormed, let line, let column):
                if !wellFormed {
                    fail("the XML is not well-formed", line: line, column: column)
                } else if !decoder.isComplete {
                    fail("the trace ends early; expected \(decoder.expectedNow)", line: line, column: column)
                }
            }
            if failure != nil {
                // Met while libxml2 finished the document: a trace cut short. The end-of-input
                // checks' own failures say what they found.
                if finishing, !step.isEndOfInput { sayCutShort() }
                return
            }
        }
    }

    /// libxml2 calls an unclosed document "extra content", and a start tag cut off at the
    /// end may come out without the attributes it lost: say what is missing instead.
    private func sayCutShort() {
        guard var error = failure as? TraceInputError, !decoder.isComplete, decoder.hasStarted else { return }
        error.message = "the trace ends early; expected \(decoder.expectedNow) or the end tags of \(decoder.openElements)"
        failure = error
    }

    /// A known element: its attributes, then what it makes, handed on.
    @inline(__always)
    private func start(
        _ index: ElementName.Index, attributes: Range<Int>, of tape: ScanTape, line: Int, column: Int,
        header onHeader: (TraceHeader) throws -> Void, event onEvent: (Event) throws -> Void
    ) {
        let (element, allowed) = ElementName.at(index)
        do throws(DecodeFailure) {
            decoder.begin(element, allowed: allowed)
            if prefetchesNames { prefetch(ahead: attributes, in: tape) }
            for position in attributes {
                let attribute = tape.attributes[position]
                let name = attribute.name.flatMap { name in attributeNames.value(for: name, fill: { learnName(name) }) }
                try decoder.attribute(
                    name, rawName: { tape.rawName(of: attribute) }, start: tape.value(of: attribute),
                    count: Int(attribute.count), mayHoldReference: attribute.mayHoldReference)
            }
            switch try decoder.finish(line: line, column: column) {
            case .none: break
            case .header(let header): deliver { try onHeader(header) }
            case .event(let event): deliver { try onEvent(event) }
            }
        } catch {
            failure = TraceInputError(file: fileName, line: line, column: column, message: error.message)
        }
    }

    /// An attribute name met for the first time in `dictionary`, noting the pointers of
    /// `lock`, `fn` and `instance`.
    private func learnName(_ pointer: UnsafePointer<UInt8>) -> AttributeName? {
        let name = AttributeName.byName[String(cString: pointer)]
        switch name {
        case .lock: lockName = pointer
        case .fn: fnName = pointer
        case .instance: instanceName = pointer
        default: break
        }
        return name
    }

    /// For each of an element's attributes, the lookahead's two steps: the symbol table's slot
    /// of the `lock`, `fn` or `instance` value `lookahead` attributes on is asked for, and the
    /// slot asked for `lookahead / 2` attributes before is read and the record of the name
    /// there asked for (`SymbolTable.prefetchSlot`, `prefetchRecord`). A lookup of a name met
    /// before reads both, and once the table outgrows the caches each may be a miss: on the
    /// kernel-shaped trace they were two fifths of the decoding thread's time. Out of line,
    /// once an element, so that the start tag's decoding is compiled as it was without it.
    @inline(never)
    private func prefetch(ahead attributes: Range<Int>, in tape: ScanTape) {
        let symbols = decoder.symbols
        let count = tape.attributes.count
        // By address; 0 for a name not met yet, which no attribute's name is.
        let (lock, fn, instance) = (UInt(bitPattern: lockName), UInt(bitPattern: fnName), UInt(bitPattern: instanceName))
        for position in attributes {
            let far = position + Self.lookahead
            if far < count {
                let ahead = tape.attributes[far]
                let name = UInt(bitPattern: ahead.name)
                if name != 0, name == lock || name == fn || name == instance {
                    var (value, length) = (tape.value(of: ahead), ahead.count)
                    if UnescapedValues.holdAmpersand(value, count: length, mayHoldReference: ahead.mayHoldReference) {
                        aheadValue.removeAll()
                        (value, length) = aheadValue.append(value, count: length)
                    }
                    tickets[far & (tickets.count - 1)] = symbols.prefetchSlot(bytes: UnsafeBufferPointer(start: value, count: length))
                }
            }
            let near = (position + Self.lookahead / 2) & (tickets.count - 1)
            let ticket = tickets[near]
            if ticket != 0 {
                tickets[near] = 0
                symbols.prefetchRecord(ticket)
            }
        }
    }

    /// An end tag: the trace's header is complete at its `</classes>`, or at `<trace>`'s end.
    @inline(__always)
    private func end(header onHeader: (TraceHeader) throws -> Void) {
        if case .header(let header) = decoder.endElement() { deliver { try onHeader(header) } }
    }

    private func fail(_ message: String, line: Int32, column: Int32) {
        failure = TraceInputError(file: fileName, line: Int(line), column: Int(column), message: message)
    }

    /// Runs a consumer; its error (not a decoding failure) is the reading's.
    @inline(__always)
    private func deliver(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            failure = error
        }
    }
}
