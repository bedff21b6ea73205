import CLibXML2

/// The compiled XSD of trace format v1 (schemas/trace-v1.xsd), for validating traces with
/// libxml2's schema support while they stream through the reader.
public final class TraceSchema: @unchecked Sendable {
    let schema: xmlSchemaPtr

    /// The schema of format v1, compiled once, as the streaming validator uses it.
    ///
    /// libxml2 runs an element's content model as a regular expression whose execution
    /// keeps state for every child it was pushed and gives up after ten million pushes, so a
    /// single `<events>` of five million events fails validation and its memory grows with the
    /// trace. `SchemaValidation` therefore closes and reopens `<events>` for the validator
    /// every `SchemaValidation.eventsPerSegment` events, and the compiled schema lets
    /// `<trace>` hold several. The document itself may still hold one `<events>`: the
    /// decoder refuses a second, as schemas/trace-v1.xsd does.
    public static let v1: TraceSchema = {
        let single = #"<xs:element ref="events" minOccurs="0"/>"#
        precondition(traceSchemaV1Text.contains(single), "the embedded trace schema no longer declares <events> as expected")
        let segmented = traceSchemaV1Text.replacing(
            single, with: #"<xs:element ref="events" minOccurs="0" maxOccurs="unbounded"/>"#)
        guard let schema = TraceSchema(xsd: segmented) else {
            preconditionFailure("the embedded trace schema does not compile")
        }
        return schema
    }()

    init?(xsd: String) {
        let bytes = Array(xsd.utf8)
        let compiled: xmlSchemaPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                guard let parser = xmlSchemaNewMemParserCtxt(chars.baseAddress, Int32(chars.count)) else { return nil }
                defer { xmlSchemaFreeParserCtxt(parser) }
                xmlSchemaSetParserStructuredErrors(parser, { _, _ in }, nil)
                return xmlSchemaParse(parser)
            }
        }
        guard let compiled else { return nil }
        schema = compiled
    }

    deinit { xmlSchemaFree(schema) }
}

/// One streaming validation: libxml2's validator plugged into a SAX handler of its own, fed
/// the events of the document minus its `x-` extensions.
///
/// `xmlSchemaSAXPlug` keeps the addresses of the two slots it fills (the handler and its
/// user data) and `xmlSchemaSAXUnplug` writes the originals back through them, so both slots
/// are allocated here and live exactly as long as the plug: this type owns every pointer
/// handed to libxml2 for the validation, and nothing outside it touches them.
final class SchemaValidation {
    private let context: xmlSchemaValidCtxtPtr
    private let plug: xmlSchemaSAXPlugPtr
    /// The handler the plug wraps (empty: the validator is all that listens).
    private let baseHandler: UnsafeMutablePointer<xmlSAXHandler>
    /// The slots libxml2 writes at plug and unplug time.
    private let handlerSlot: UnsafeMutablePointer<xmlSAXHandlerPtr?>
    private let userDataSlot: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Depth inside an `x-` element, whose subtree the schema never sees.
    @exclusivity(unchecked) private var extensionDepth = 0
    /// Depth of the element being forwarded (1: the root).
    @exclusivity(unchecked) private var depth = 0
    /// libxml2's interned name of the open `<events>` and how many events the validator saw
    /// in its current segment.
    @exclusivity(unchecked) private var eventsName: UnsafePointer<xmlChar>?
    /// The namespace declarations of the open `<events>` (prefix, URI, prefix, URI, ...: the
    /// parser's interned strings, which live as long as the parser), declared again by each
    /// reopened one, so that a QName value (`xsi:type="xs:string"`) resolves alike past it.
    @exclusivity(unchecked) private var eventsNamespaces: [UnsafePointer<xmlChar>?] = []
    @exclusivity(unchecked) private var eventsInSegment = 0
    /// The attributes an element with `x-` attributes passes on without them.
    @exclusivity(unchecked) private var kept: [UnsafePointer<xmlChar>?] = []
    private static let eventsTag: [xmlChar] = Array("events".utf8) + [0]
    /// How many events the validator sees in one `<events>` before it is closed and reopened.
    /// Its state grows with each event of a segment (some 150 bytes): at 100,000, `validate`
    /// of a million events peaked at 44 MB, at 1,000 at 29 MB, in the same time. A reopened
    /// `<events>` declares the original's namespaces again.
    static let eventsPerSegment = 1_000

    init?(schema: TraceSchema, onError: @escaping xmlStructuredErrorFunc, errorContext: UnsafeMutableRawPointer) {
        guard let context = xmlSchemaNewValidCtxt(schema.schema) else { return nil }
        xmlSchemaSetValidStructuredErrors(context, onError, errorContext)
        baseHandler = .allocate(capacity: 1)
        baseHandler.initialize(to: xmlSAXHandler())
        baseHandler.pointee.initialized = UInt32(XML_SAX2_MAGIC)
        handlerSlot = .allocate(capacity: 1)
        handlerSlot.initialize(to: baseHandler)
        userDataSlot = .allocate(capacity: 1)
        userDataSlot.initialize(to: nil)
        guard let plug = xmlSchemaSAXPlug(context, handlerSlot, userDataSlot), handlerSlot.pointee != nil else {
            xmlSchemaFreeValidCtxt(context)
            handlerSlot.deallocate()
            userDataSlot.deallocate()
            baseHandler.deallocate()
            return nil
        }
        self.context = context
        self.plug = plug
    }

    deinit {
        // Unplug writes the original handler and user data back into the slots.
        xmlSchemaSAXUnplug(plug)
        xmlSchemaFreeValidCtxt(context)
        handlerSlot.deallocate()
        userDataSlot.deallocate()
        baseHandler.deallocate()
    }

    private var handler: xmlSAXHandlerPtr { handlerSlot.pointee! }

    /// A start tag, unless it is (or is inside) an `x-` extension; `x-` attributes are dropped.
    func startElement(
        _ localname: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?, _ uri: UnsafePointer<xmlChar>?,
        _ namespaceCount: Int32, _ namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?,
        _ attributeCount: Int32, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        if extensionDepth > 0 || Self.isExtension(localname) {
            extensionDepth += 1
            return
        }
        if depth == 2, let eventsName {
            eventsInSegment += 1
            // Reopened only before an event the schema takes anywhere in `<events>`: an
            // element it refuses is then met in the middle of a segment wherever it stands,
            // and refused in the same words (libxml2 lists what it expected only at the
            // first child). An event's name in another namespace is not an event.
            if eventsInSegment > Self.eventsPerSegment, uri == nil, Self.isEvent(localname) {
                eventsInSegment = 1
                handler.pointee.endElementNs?(userDataSlot.pointee, eventsName, nil, nil)
                eventsNamespaces.withUnsafeMutableBufferPointer { declared in
                    handler.pointee.startElementNs?(
                        userDataSlot.pointee, eventsName, nil, nil, Int32(declared.count / 2), declared.baseAddress, 0, 0, nil)
                }
            }
        }
        depth += 1
        if depth == 2, uri == nil, let localname, xmlStrEqual(localname, Self.eventsTag) != 0 {
            eventsName = localname
            eventsNamespaces = Array(UnsafeBufferPointer(start: namespaces, count: namespaces == nil ? 0 : 2 * Int(namespaceCount)))
            eventsInSegment = 0
        }
        // Most elements have no `x-` attribute: libxml2's own array then goes on as it is.
        guard let attributes, (0..<Int(attributeCount)).contains(where: { Self.isExtension(attributes[$0 * 5]) }) else {
            handler.pointee.startElementNs?(
                userDataSlot.pointee, localname, prefix, uri, namespaceCount, namespaces, attributeCount, 0, attributes)
            return
        }
        // Five pointers an attribute, in one array kept for the next element (an array made
        // per element, and one per attribute, were a fifth of lint's time).
        kept.removeAll(keepingCapacity: true)
        for index in 0..<Int(attributeCount) where !Self.isExtension(attributes[index * 5]) {
            for field in 0..<5 { kept.append(attributes[index * 5 + field]) }
        }
        kept.withUnsafeMutableBufferPointer { buffer in
            handler.pointee.startElementNs?(
                userDataSlot.pointee, localname, prefix, uri, namespaceCount, namespaces,
                Int32(buffer.count / 5), 0, buffer.baseAddress)
        }
    }

    /// An end tag, unless it closes (or is inside) an `x-` extension.
    func endElement(_ localname: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?, _ uri: UnsafePointer<xmlChar>?) {
        if extensionDepth > 0 {
            extensionDepth -= 1
        } else {
            if depth == 2 { eventsName = nil }
            depth -= 1
            handler.pointee.endElementNs?(userDataSlot.pointee, localname, prefix, uri)
        }
    }

    /// Text outside extensions.
    func characters(_ bytes: UnsafePointer<xmlChar>, _ count: Int32) {
        guard extensionDepth == 0 else { return }
        handler.pointee.characters?(userDataSlot.pointee, bytes, count)
    }

    /// Whether a name is an event's (a child of `<events>` in any order).
    static func isEvent(_ name: UnsafePointer<xmlChar>?) -> Bool {
        guard let name else { return false }
        return ElementName(rawValue: String(cString: name))?.isEvent ?? false
    }

    /// Whether a name starts with `x-`, the prefix of format extensions.
    static func isExtension(_ name: UnsafePointer<xmlChar>?) -> Bool {
        guard let name else { return false }
        return name[0] == UInt8(ascii: "x") && name[1] == UInt8(ascii: "-")
    }
}
