import CLibXML2

/// Reads one trace file with libxml2's SAX2 push parser, in 64 KiB chunks, and hands each
/// event to a consumer as soon as its chunk is decoded: memory does not grow with the trace.
/// The scan (libxml2) records each chunk on a `ScanTape`; `TapeDecoding` makes the header and
/// events of it, on the same thread or, when the caller asks it of a long file, on a second
/// one (`TapeHandoff`).
///
/// The parser never loads a DTD, never substitutes entities and never touches the network;
/// a DOCTYPE is refused outright. Every problem becomes a `TraceInputError` at file:line:column.
public final class TraceReader {
    /// The name used in messages (the path as the user gave it, or `<stdin>`).
    public let displayName: String
    public let fileIndex: Int
    public static let chunkSize = 64 * 1024
    /// The chunks a tape holds when the decoding has a thread of its own, past a trace's
    /// first `oneChunkTapes` tapes: a tape handed over per chunk was a wait and a wake of one
    /// thread or the other some 1,300 times per 1M kernel events (docs/performance.md, stop
    /// 57). Decoded here, a tape holds one chunk: a stream's events are not held back by a
    /// read that waits.
    static let chunksPerTape = 4
    /// A trace's first tapes hold one chunk each: the decoding starts at once, and a trace of
    /// up to 512 KiB is read as it was (tapes of four chunks, grown as they filled, took a
    /// third more page faults in a trace of 8k events).
    static let oneChunkTapes = 8

    private let symbols: SymbolTable

    public init(displayName: String, fileIndex: Int, symbols: SymbolTable) {
        self.displayName = displayName
        self.fileIndex = fileIndex
        self.symbols = symbols
    }

    /// Reads the XML trace at `path` (`-` for standard input), validating it against `schema`
    /// on the way when one is given.
    public func read(
        path: String,
        schema: TraceSchema? = nil,
        progress: ((_ bytesRead: Int, _ totalBytes: Int?) -> Void)? = nil,
        header: (TraceHeader) throws -> Void,
        event: (Event) throws -> Void
    ) throws {
        let input = try TraceInput(path: path, displayName: displayName)
        guard input.content == .xml else {
            throw TraceInputError(
                file: displayName, line: 1, column: 1,
                message: "a kernel text trace, not XML format v1; `pgtrace import` turns it into one")
        }
        try read(input: input, schema: schema, progress: progress, header: header, event: event)
    }

    /// Reads an opened XML trace to its end. `willWait` runs before each read of a stream
    /// (a pipe, a FIFO), which may block: what was decoded so far should be handed on then.
    ///
    /// With `decodesOnSecondThread`, a regular file of more than one chunk is decoded on a
    /// second thread while this one runs libxml2 (`TapeHandoff`): `header`, `event` and
    /// `progress` are then called there, one at a time and in order, all before this
    /// returns; they must not touch what another thread uses meanwhile. Otherwise, for a
    /// stream (so that nothing waits behind a blocked read), and when no thread can be made,
    /// each chunk is decoded here before the next is read.
    public func read(
        input: TraceInput,
        schema: TraceSchema? = nil,
        decodesOnSecondThread: Bool = false,
        progress: ((_ bytesRead: Int, _ totalBytes: Int?) -> Void)? = nil,
        willWait: (() throws -> Void)? = nil,
        header: (TraceHeader) throws -> Void,
        event: (Event) throws -> Void
    ) throws {
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        let size = input.size
        let decoding = makeDecoding(progress: progress.map { progress in { progress($0, size) } })
        let nextChunk = { () throws -> ArraySlice<UInt8>? in
            if size == nil { try willWait?() }
            let chunk = try input.read(into: &buffer)
            return chunk.isEmpty ? nil : chunk
        }
        if decodesOnSecondThread, let size, size > Self.chunkSize {
            let decodedOnSecondThread = try withoutActuallyEscaping(header) { header in
                try withoutActuallyEscaping(event) { event in
                    guard let handoff = TapeHandoff(decoding: decoding, header: header, event: event) else { return false }
                    defer { handoff.finish() }
                    try parse(
                        schema: schema, reportsProgress: progress != nil, chunksPerTape: Self.chunksPerTape, nextChunk: nextChunk,
                        handOver: handoff.send)
                    return true
                }
            }
            if decodedOnSecondThread {
                if let failure = decoding.failure { throw failure }
                return
            }
        }
        try decodeHere(
            decoding, schema: schema, reportsProgress: progress != nil, header: header, event: event, nextChunk: nextChunk)
    }

    /// A decoding of this reader's file; `progress` is told the bytes read at each chunk.
    private func makeDecoding(progress: ((_ bytesRead: Int) -> Void)? = nil) -> TapeDecoding {
        TapeDecoding(
            decoder: TraceDecoder(fileIndex: fileIndex, fileName: displayName, symbols: symbols),
            fileName: displayName, progress: progress)
    }

    /// Scans the trace chunk by chunk, decoding each chunk's tape here before the next is
    /// read, and throws the decoding's first failure.
    private func decodeHere(
        _ decoding: TapeDecoding, schema: TraceSchema?, reportsColumns: Bool = true, reportsProgress: Bool = false,
        header: (TraceHeader) throws -> Void, event: (Event) throws -> Void, nextChunk: () throws -> ArraySlice<UInt8>?
    ) throws {
        try parse(schema: schema, reportsColumns: reportsColumns, reportsProgress: reportsProgress, nextChunk: nextChunk) { tape in
            decoding.decode(tape, header: header, event: event)
            tape.reset()
            return (tape, decoding.failure == nil)
        }
        if let failure = decoding.failure { throw failure }
    }

    /// Reads a trace produced on the fly, chunk by chunk (an import of a text trace).
    /// Columns in such a trace are the generated XML's, not the source's: events report
    /// column 1.
    public func read(
        chunks: () throws -> ArraySlice<UInt8>?,
        schema: TraceSchema? = nil,
        header: (TraceHeader) throws -> Void,
        event: (Event) throws -> Void
    ) throws {
        try decodeHere(makeDecoding(), schema: schema, reportsColumns: false, header: header, event: event, nextChunk: chunks)
    }

    /// Reads a trace held in memory (tests, and tools that build traces on the fly).
    public func read(
        bytes: [UInt8],
        schema: TraceSchema? = nil,
        header: (TraceHeader) throws -> Void,
        event: (Event) throws -> Void
    ) throws {
        var offset = 0
        try decodeHere(makeDecoding(), schema: schema, header: header, event: event) { () -> ArraySlice<UInt8>? in
            guard offset < bytes.count else { return nil }
            let end = min(offset + Self.chunkSize, bytes.count)
            defer { offset = end }
            return bytes[offset..<end]
        }
    }

    private func parse(
        schema: TraceSchema?,
        reportsColumns: Bool = true,
        reportsProgress: Bool = false,
        chunksPerTape: Int = 1,
        nextChunk: () throws -> ArraySlice<UInt8>?,
        handOver: (ScanTape) -> (next: ScanTape, goOn: Bool)
    ) throws {
        let scan = ParserState(reader: self, reportsProgress: reportsProgress)
        scan.reportsColumns = reportsColumns
        try scan.run(schema: schema, chunksPerTape: chunksPerTape, nextChunk: nextChunk, handOver: handOver)
    }
}

/// The scan behind one parse, reached from libxml2's C callbacks: it records what libxml2
/// finds on a `ScanTape` and hands each filled tape over for decoding (`TapeDecoding`).
private final class ParserState {
    let reader: TraceReader
    /// Whether each chunk read is put on the tape (for a progress line).
    let reportsProgress: Bool
    /// The tape being filled. The callbacks reach it through `filling`, which does not retain
    /// it: three retains and releases an element were a tenth of the scan thread's time.
    @exclusivity(unchecked) var tape: ScanTape { didSet { filling = .passUnretained(tape) } }
    @exclusivity(unchecked) private var filling: Unmanaged<ScanTape>
    @exclusivity(unchecked) var context: xmlParserCtxtPtr?
    @exclusivity(unchecked) var validation: SchemaValidation?
    /// False for generated XML (imports), whose columns mean nothing to the user.
    @exclusivity(unchecked) var reportsColumns = true
    /// Element names by libxml2's interned pointer (attribute names are the decoding's).
    @exclusivity(unchecked) var elements = PointerCache<ElementName.Index>()
    /// Set once the scan has met what ends the document (its own failure, or a step the
    /// decoding must refuse): nothing more goes on the tape.
    @exclusivity(unchecked) var stopped = false
    @exclusivity(unchecked) var sawAnyBytes = false
    /// The depth of `x-` extension elements the scan is in, as the decoder counts it.
    @exclusivity(unchecked) var extensionDepth = 0
    /// The namespaces declared in scope, by open element (the count at each, cumulative).
    @exclusivity(unchecked) var namespacesInScope = 0
    /// The depth of each open element that declared namespaces, and how many: an element
    /// without declarations (all but a few) costs a depth count, no array step.
    @exclusivity(unchecked) var namespaceDeclarations: [(depth: Int, count: Int)] = []
    @exclusivity(unchecked) var elementDepth = 0
    /// The start tag libxml2 waits for the end of, counted so far (see `StartTagCount`).
    @exclusivity(unchecked) var pendingTag = StartTagCount(position: .max)
    /// The text the validator is being shown, and whether it is a CDATA section's: a schema
    /// error about it names the place of its first character that is not blank, as the
    /// decoder's does (found only then: most texts are never placed).
    @exclusivity(unchecked) var textBeingValidated: (bytes: UnsafeBufferPointer<UInt8>, isCDATA: Bool)?
    /// Where the markup after the last text began, when libxml2 stood on it as it handed the
    /// text over (`pgtrace_markup_after_text`), until the next start tag takes it: the blanks
    /// before nearly every tag give its place, which then need not be counted back
    /// (`tagStart(after:)`). `input` nil: none.
    @exclusivity(unchecked) var markupAfterText = pgtrace_place()

    init(reader: TraceReader, reportsProgress: Bool) {
        self.reader = reader
        self.reportsProgress = reportsProgress
        let tape = ScanTape()
        self.tape = tape
        filling = .passUnretained(tape)
    }

    /// `body` given the tape being filled, unretained: `tape` owns it until the next hand-over,
    /// and no callback hands over.
    @inline(__always)
    func withTape<R>(_ body: (ScanTape) -> R) -> R { filling._withUnsafeGuaranteedRef(body) }

    var line: Int { Int(pgtrace_ctxt_line(context)) }
    var column: Int { Int(pgtrace_ctxt_column(context)) }

    func fail(_ message: String, line: Int? = nil, column: Int? = nil) {
        fail(TraceInputError(
            file: reader.displayName, line: line ?? self.line, column: column ?? self.column,
            message: message))
    }

    func fail(_ error: Error) {
        guard !stopped else { return }
        tape.appendFailure(error)
        stop()
    }

    /// What libxml2 said on this thread with no parser to tie it to, since the parse began
    /// ("input conversion failed due to input error, bytes 0xFF 0xFE"); nil for nothing.
    static func genericError() -> String? {
        let text = String(cString: pgtrace_xml_generic_error()).split(separator: " ").joined(separator: " ")
        return text.isEmpty ? nil : text
    }

    /// Stops libxml2 after a step the decoding will refuse (or a failure of the scan's).
    func stop() {
        stopped = true
        if let context { xmlStopParser(context) }
    }

    /// Scans the document chunk by chunk; `handOver` takes each filled tape (the first
    /// `TraceReader.oneChunkTapes` of one chunk, the others of `chunksPerTape`, the last of
    /// what is left), gives back the next to fill, and says whether to go on (false once the
    /// decoding failed).
    func run(
        schema: TraceSchema?, chunksPerTape: Int, nextChunk: () throws -> ArraySlice<UInt8>?,
        handOver: (ScanTape) -> (next: ScanTape, goOn: Bool)
    ) throws {
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.startElementNs = saxStartElement
        handler.endElementNs = saxEndElement
        handler.characters = saxCharacters
        handler.cdataBlock = saxCDATA
        // XML_PARSE_NOBLANKS does not spare the `characters` call for the blanks between
        // elements in a parse that builds no tree (measured: one call an element), so
        // `handleText` passes them over first; any other text is the decoder's to refuse.
        handler.ignorableWhitespace = saxIgnorableWhitespace
        handler.internalSubset = saxInternalSubset
        handler.entityDecl = saxEntityDecl
        handler.getEntity = saxGetEntity
        handler.reference = saxReference
        handler.serror = saxStructuredError

        let me = Unmanaged.passUnretained(self).toOpaque()
        // What libxml2 cannot tie to the parser (a declared encoding that fails to convert the
        // bytes) went to standard error with no place, and the parse then failed for another
        // cause ("Blank needed here"), or none (the document ended early): it is kept, to be
        // the cause the parse's error gives (`genericError`). (Taken as the parse's error
        // through the thread's structured handler, it stopped the parser inside its switch of
        // encodings, which crashed libxml2.)
        pgtrace_xml_keep_generic_errors()
        if let schema {
            validation = SchemaValidation(schema: schema, onError: schemaError, errorContext: me)
            guard validation != nil else {
                throw TraceInputError(file: reader.displayName, message: "libxml2 could not set up schema validation")
            }
        }
        defer { validation = nil }
        guard let context = xmlCreatePushParserCtxt(&handler, me, nil, 0, reader.displayName) else {
            throw TraceInputError(file: reader.displayName, message: "libxml2 could not create a parser")
        }
        self.context = context
        defer {
            xmlFreeParserCtxt(context)
            self.context = nil
        }
        // No network, no DTD loading, no entity substitution, no HUGE limits.
        xmlCtxtUseOptions(context, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOBLANKS.rawValue))
        // The tapes' attribute names point into it, and are read after the parser is freed.
        guard let names = InternedNames(context) else {
            throw TraceInputError(file: reader.displayName, message: "libxml2 made a parser without a dictionary of names")
        }
        tape.dictionary = names

        var decodingGoesOn = true
        func handOverTape() {
            let (next, goOn) = handOver(tape)
            tape = next
            tape.dictionary = names
            decodingGoesOn = goOn
        }
        var bytesRead = 0
        var (chunksOnTape, tapesHandedOver) = (0, 0)
        reading: while !stopped, decodingGoesOn {
            let next: ArraySlice<UInt8>?
            do {
                next = try nextChunk()
            } catch {
                fail(error)
                break reading
            }
            if reportsProgress {
                bytesRead += next?.count ?? 0
                tape.append(.progress(bytesRead: bytesRead))
            }
            guard var chunk = next else { break }
            if chunk.isEmpty { continue }
            sawAnyBytes = true
            // At most a chunk at a time: what libxml2 parses unchecked is at most that much
            // past `checkPendingStartTag`'s bound.
            while !stopped, decodingGoesOn, !chunk.isEmpty {
                let piece = chunk.prefix(TraceReader.chunkSize)
                chunk = chunk.dropFirst(piece.count)
                piece.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        _ = xmlParseChunk(context, chars.baseAddress, Int32(chars.count), 0)
                    }
                }
                checkPendingStartTag(context)
                chunksOnTape += 1
                if chunksOnTape >= (tapesHandedOver < TraceReader.oneChunkTapes ? 1 : chunksPerTape) {
                    handOverTape()
                    (chunksOnTape, tapesHandedOver) = (0, tapesHandedOver + 1)
                }
            }
        }
        if !stopped, decodingGoesOn {
            if !sawAnyBytes {
                fail("empty file; expected a <trace version=\"1\"> document", line: 1, column: 1)
            } else {
                tape.append(.finishing)
                _ = xmlParseChunk(context, nil, 0, 1)
                // Said with no parser to tie it to, it is the parse's failure all the same (an
                // encoding that stopped converting: the document then just ended).
                if !stopped, let generic = Self.genericError() {
                    fail(ScanTape.Cause(error: TraceInputError(file: reader.displayName, line: line, column: column, message: "malformed XML: \(generic)")))
                }
                if !stopped {
                    tape.append(.endOfInput(
                        wellFormed: context.pointee.wellFormed != 0, line: Int32(clamping: line), column: Int32(clamping: column)))
                }
            }
        }
        handOverTape()
    }

    /// Stops at a start tag of more than `StartTagCount.maximumAttributes` attributes before
    /// libxml2 parses it, in time quadratic in them: once libxml2 holds more than
    /// `StartTagCount.checkedPast` bytes unparsed and waits in a start tag, the tag is
    /// counted on from where its last count stopped. On a normal trace, a subtraction and a
    /// compare a chunk.
    @inline(__always)
    func checkPendingStartTag(_ context: xmlParserCtxtPtr) {
        guard let input = context.pointee.input, let cur = input.pointee.cur, let end = input.pointee.end,
            end - cur > StartTagCount.checkedPast, context.pointee.instate == XML_PARSER_START_TAG
        else { return }
        countPendingStartTag(input, from: cur, to: end)
    }

    @inline(never)
    private func countPendingStartTag(_ input: xmlParserInputPtr, from cur: UnsafePointer<xmlChar>, to end: UnsafePointer<xmlChar>) {
        // libxml2 stands at the tag's '<', its line and column the tag's.
        guard cur.pointee == UInt8(ascii: "<"), let base = input.pointee.base else { return }
        let position = UInt(input.pointee.consumed) + UInt(cur - base)
        if pendingTag.position != position { pendingTag = StartTagCount(position: position) }
        let tag = UnsafeBufferPointer(start: cur, count: end - cur)
        guard pendingTag.exceedsLimit(tag) else { return }
        fail(
            StartTagCount.message(element: StartTagCount.name(of: tag)),
            line: Int(input.pointee.line), column: reportsColumns ? Int(input.pointee.col) : 1)
    }

    /// Where the start tag being reported began: its line, its column, and its '<' in
    /// libxml2's buffer (nil where the buffer does not hold it), given the markup after the
    /// last text (`pgtrace_tag_start_after_text`). Debug builds check it against the place
    /// counted back from the tag's end, whose column is right only for a tag on one line.
    func tagStart(after: pgtrace_place) -> (line: Int32, column: Int32, start: UnsafePointer<xmlChar>?) {
        var place: (line: Int32, column: Int32, start: UnsafePointer<xmlChar>?) = (0, 0, nil)
        pgtrace_tag_start_after_text(context, after, &place.line, &place.column, &place.start)
        assert({
            var counted: (line: Int32, column: Int32, start: UnsafePointer<xmlChar>?) = (0, 0, nil)
            pgtrace_tag_start(context, &counted.line, &counted.column, &counted.start)
            let onOneLine = counted.line == pgtrace_ctxt_line(context)
            return (counted.line, counted.start) == (place.line, place.start) && (!onOneLine || counted.column == place.column)
        }())
        return place
    }

    /// An element that puts more than `StartTagCount.maximumNamespacesInScope` namespace
    /// declarations in scope.
    func refuseManyNamespaces(_ localname: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?) {
        let (line, column, _) = tagStart(after: markupAfterText)
        fail(
            "<\(qualifiedName(localname, prefix))> puts more than \(StartTagCount.maximumNamespacesInScope) namespace declarations in scope; trace format v1 has none (xsi and extensions need a few)",
            line: Int(line), column: reportsColumns ? Int(column) : 1)
    }

    /// The same limit at the callback, for a tag that came whole within a chunk or two (and
    /// was parsed, at a bounded cost): an element of too many attributes is refused however
    /// the file is cut into chunks.
    func refuseManyAttributes(_ localname: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?) {
        let (line, column, _) = tagStart(after: markupAfterText)
        fail(
            StartTagCount.message(element: qualifiedName(localname, prefix)),
            line: Int(line), column: reportsColumns ? Int(column) : 1)
    }

    /// Records a start tag from libxml2's pointers. Element and attribute names are interned
    /// by libxml2's dictionary: an element's is looked up here by pointer, an attribute's goes
    /// on the tape as its pointer, for the decoding to look up.
    func startElement(
        _ localname: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?, _ attributeCount: Int32,
        _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        // The markup after the last text is this tag's '<' if any tag's: taken whatever the tag.
        let after = markupAfterText
        markupAfterText = pgtrace_place()
        withTape { tape in
            if extensionDepth > 0 || (prefix == nil && isExtension(localname)) {
                extensionDepth += 1
                tape.append(.enterExtension(line: Int32(clamping: line), column: Int32(clamping: column)))
                if extensionDepth > TraceDecoder.maximumExtensionDepth { stop() }
                return
            }
            let (tagLine, column, tagStart) = self.tagStart(after: after)
            let tagColumn = reportsColumns ? column : 1
            guard prefix == nil, let localname, let element = elements.value(for: localname, fill: {
                ElementName.byName[text(localname)]?.index
            }) else {
                tape.appendUnknownElement(qualifiedName(localname, prefix), line: tagLine, column: tagColumn)
                stop()
                return
            }
            var recorded = 0
            if let attributes, attributeCount > 0 {
                // libxml2 hands a value over in place, in its input buffer, only when the value
                // holds no reference ('&') and nothing else to normalize; any other value is a
                // copy. A value in place lies in the tag's bytes, which are copied once (from
                // the first value to the last: `ScanTape.valuesSpan`); the names go as
                // libxml2's pointers, for the decoding to resolve.
                let input: xmlParserInputPtr? = context?.pointee.input
                let (bufferStart, bufferEnd) = (input?.pointee.base, input?.pointee.end)
                var tag: (start: UnsafePointer<xmlChar>, end: UnsafePointer<xmlChar>, offset: Int)?
                if let span = ScanTape.valuesSpan(
                    tag: tagStart, to: input?.pointee.cur, firstValue: attributes[3],
                    lastValueEnd: attributes[Int(attributeCount - 1) * 5 + 4]) {
                    tag = (span.start, span.end, tape.appendBytes(span.start, count: span.end - span.start))
                }
                for index in 0..<Int(attributeCount) {
                    let base = index * 5
                    guard let start = attributes[base + 3], let end = attributes[base + 4] else { continue }
                    let name = attributes[base]
                    let attributePrefix = attributes[base + 1]
                    if let name, attributePrefix == nil, let tag, start >= tag.start, end <= tag.end {
                        tape.appendAttribute(name, at: tag.offset + (start - tag.start), count: end - start)
                        recorded += 1
                        continue
                    }
                    // A prefixed name, or a value not in the tag's bytes: a value libxml2 copied
                    // (or, never seen, one in its buffer but outside the tag) is copied here.
                    // xsi:noNamespaceSchemaLocation and friends say where the schema is.
                    if let attributePrefix, text(attributePrefix) == "xsi" { continue }
                    let inPlace = bufferStart.map { start >= $0 } == true && bufferEnd.map { start < $0 } == true
                    tape.appendAttribute(
                        attributePrefix == nil ? name : nil, rawName: { qualifiedName(name, attributePrefix) },
                        copying: start, count: end - start, mayHoldReference: !inPlace)
                    recorded += 1
                }
            }
            tape.appendStart(element, line: tagLine, column: tagColumn, attributeCount: recorded)
        }
    }

    func endElement() {
        if extensionDepth > 0 { extensionDepth -= 1 }
        withTape { $0.appendEnd() }
    }

    func characters(_ bytes: UnsafeBufferPointer<UInt8>, isCDATA: Bool) {
        guard extensionDepth == 0, let start = start(ofText: bytes, isCDATA: isCDATA) else { return }
        tape.append(.unexpectedText(line: Int32(clamping: start.line), column: Int32(clamping: start.column)))
        stop()
    }

    /// The place of the first character of `bytes` that is not blank, nil if all are: found in
    /// the parser's buffer (`pgtrace_text_start`), or else counted back from where the parser
    /// stands, which is exact for the line and, on the text's last line, for the column.
    func start(ofText bytes: UnsafeBufferPointer<UInt8>, isCDATA: Bool) -> (line: Int, column: Int)? {
        guard let first = bytes.firstIndex(where: { !$0.isXMLBlank }) else { return nil }
        var (textLine, textColumn): (Int32, Int32) = (0, 0)
        if let base = bytes.baseAddress,
            pgtrace_text_start(context, base, bytes.count, first, isCDATA ? 1 : 0, &textLine, &textColumn) != 0 {
            return (Int(textLine), Int(textColumn))
        }
        let rest = bytes[first...]
        let newlines = rest.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let lineStart = bytes[..<first].lastIndex(of: 0x0A).map { $0 + 1 }
        return (line - newlines, newlines == 0 ? column - rest.count : lineStart.map { first - $0 + 1 } ?? column)
    }
}

// MARK: - libxml2 callbacks

private func state(_ ctx: UnsafeMutableRawPointer?) -> ParserState {
    Unmanaged<ParserState>.fromOpaque(ctx!).takeUnretainedValue()
}

private func text(_ pointer: UnsafePointer<xmlChar>?) -> String {
    guard let pointer else { return "" }
    return String(cString: pointer)
}

private let saxStartElement: startElementNsSAX2Func = {
    ctx, localname, prefix, uri, namespaceCount, namespaces, attributeCount, defaultedCount, attributes in
    // The parser state outlives the parse: use it without retaining it per callback.
    Unmanaged<ParserState>.fromOpaque(ctx!)._withUnsafeGuaranteedRef { parser in
        guard !parser.stopped else { return }
        if Int(attributeCount) + Int(namespaceCount) > StartTagCount.maximumAttributes {
            parser.refuseManyAttributes(localname, prefix)
            return
        }
        // libxml2 looks each prefix up among all the namespaces in scope, one by one: nested
        // elements declaring hundreds each made every later tag cost that many compares.
        parser.elementDepth += 1
        if namespaceCount > 0 {
            parser.namespaceDeclarations.append((parser.elementDepth, Int(namespaceCount)))
            parser.namespacesInScope += Int(namespaceCount)
        }
        if parser.namespacesInScope > StartTagCount.maximumNamespacesInScope {
            parser.refuseManyNamespaces(localname, prefix)
            return
        }
        if let validation = parser.validation {
            validation.startElement(localname, prefix, uri, namespaceCount, namespaces, attributeCount, attributes)
            guard !parser.stopped else { return }
        }
        if uri != nil, parser.extensionDepth == 0, !isExtension(localname) {
            parser.fail("<\(text(localname))> is in an XML namespace; trace format v1 has none")
            return
        }
        parser.startElement(localname, prefix, attributeCount, attributes)
    }
}

private func qualifiedName(_ localname: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?) -> String {
    prefix.map { text($0) + ":" + text(localname) } ?? text(localname)
}

private let saxEndElement: endElementNsSAX2Func = { ctx, localname, prefix, uri in
    Unmanaged<ParserState>.fromOpaque(ctx!)._withUnsafeGuaranteedRef { parser in
        guard !parser.stopped else { return }
        if parser.namespaceDeclarations.last?.depth == parser.elementDepth {
            parser.namespacesInScope -= parser.namespaceDeclarations.removeLast().count
        }
        parser.elementDepth -= 1
        if let validation = parser.validation {
            validation.endElement(localname, prefix, uri)
            guard !parser.stopped else { return }
        }
        parser.endElement()
    }
}

private let saxCharacters: charactersSAXFunc = { ctx, bytes, count in handleText(ctx, bytes, count, isCDATA: false) }
private let saxCDATA: cdataBlockSAXFunc = { ctx, bytes, count in handleText(ctx, bytes, count, isCDATA: true) }

/// Text and CDATA alike: shown to the validator, then to the decoder, which refuses any but blanks.
private func handleText(_ ctx: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<xmlChar>?, _ count: Int32, isCDATA: Bool) {
    Unmanaged<ParserState>.fromOpaque(ctx!)._withUnsafeGuaranteedRef { parser in
        guard !parser.stopped, let bytes, count > 0 else { return }
        let text = UnsafeBufferPointer(start: bytes, count: Int(count))
        parser.markupAfterText = pgtrace_markup_after_text(parser.context, bytes, Int(count))
        if let validation = parser.validation {
            parser.textBeingValidated = (text, isCDATA)
            validation.characters(bytes, count)
            parser.textBeingValidated = nil
            guard !parser.stopped else { return }
        } else if text.allSatisfy(\.isXMLBlank) {
            // The blanks between elements (libxml2 passes them here in a SAX parse, one run
            // an element): nothing for the decoder, passed over in one tight loop.
            return
        }
        parser.characters(text, isCDATA: isCDATA)
    }
}

private let saxIgnorableWhitespace: ignorableWhitespaceSAXFunc = { _, _, _ in }

private let saxInternalSubset: internalSubsetSAXFunc = { ctx, _, _, _ in
    state(ctx).fail("a DOCTYPE is not allowed in a trace (no DTDs, no entities)")
}

private let saxEntityDecl: entityDeclSAXFunc = { ctx, _, _, _, _, _ in
    state(ctx).fail("entity declarations are not allowed in a trace")
}

private let saxGetEntity: getEntitySAXFunc = { ctx, name in
    // Only the predefined entities (&lt; &amp; …) exist; libxml2 resolves those itself.
    if let name { return xmlGetPredefinedEntity(name) }
    return nil
}

private let saxReference: referenceSAXFunc = { ctx, name in
    state(ctx).fail("undefined entity '&\(text(name));'")
}

/// The text of a libxml2 error worth stopping for (not a warning), without its newline.
private func errorText(_ error: xmlError) -> String? {
    guard error.level.rawValue >= XML_ERR_ERROR.rawValue else { return nil }
    var message = error.message.map { String(cString: $0) } ?? "invalid"
    while message.last == "\n" || message.last == " " { message.removeLast() }
    return message
}

private let saxStructuredError: xmlStructuredErrorFunc = { ctx, errorPointer in
    guard let ctx, let error = errorPointer?.pointee, let message = errorText(error) else { return }
    let parser = state(ctx)
    let (line, column) = (error.line > 0 ? Int(error.line) : parser.line, error.int2 > 0 ? Int(error.int2) : parser.column)
    // An encoding's failed conversion, said first with no place, is the cause.
    if let generic = ParserState.genericError() {
        parser.fail(ScanTape.Cause(error: TraceInputError(file: parser.reader.displayName, line: line, column: column, message: "malformed XML: \(generic)")))
        return
    }
    parser.fail("malformed XML: \(message)", line: line, column: column)
}

private func isExtension(_ name: UnsafePointer<xmlChar>?) -> Bool { SchemaValidation.isExtension(name) }

private let schemaError: xmlStructuredErrorFunc = { ctx, errorPointer in
    guard let ctx, let error = errorPointer?.pointee, let message = errorText(error) else { return }
    let parser = state(ctx)
    if let text = parser.textBeingValidated, let start = parser.start(ofText: text.bytes, isCDATA: text.isCDATA) {
        parser.fail("does not match schemas/trace-v1.xsd: \(message)", line: start.line, column: start.column)
        return
    }
    // A start tag's error comes before the tag takes the place the text before it gave; an
    // end tag's place, or a blank text's, is counted back from where the parser stands (the
    // place a text gave is of the markup after it, not the text's).
    let after = parser.textBeingValidated == nil ? parser.markupAfterText : pgtrace_place()
    let (line, column, _) = parser.tagStart(after: after)
    parser.fail("does not match schemas/trace-v1.xsd: \(message)", line: Int(line), column: Int(column))
}
