import CLibXML2

/// The compiled XSD of trace format v1 (schemas/trace-v1.xsd), for validating traces with
/// libxml2's schema support while they stream through the reader.
public final class TraceSchema: @unchecked Sendable {
    let schema: xmlSchemaPtr

    /// The schema of format v1, compiled once.
    public static let v1: TraceSchema = {
        guard let schema = TraceSchema(xsd: traceSchemaV1Text) else {
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
final class SchemaValidation {
    private let context: xmlSchemaValidCtxtPtr
    private let plug: xmlSchemaSAXPlugPtr
    private let handlerStorage: UnsafeMutablePointer<xmlSAXHandler>
    let handler: UnsafeMutablePointer<xmlSAXHandler>
    let userData: UnsafeMutableRawPointer?
    /// Depth inside an `x-` element, whose subtree the schema never sees.
    var extensionDepth = 0

    init?(schema: TraceSchema, onError: @escaping xmlStructuredErrorFunc, errorContext: UnsafeMutableRawPointer) {
        guard let context = xmlSchemaNewValidCtxt(schema.schema) else { return nil }
        xmlSchemaSetValidStructuredErrors(context, onError, errorContext)
        handlerStorage = .allocate(capacity: 1)
        handlerStorage.initialize(to: xmlSAXHandler())
        handlerStorage.pointee.initialized = UInt32(XML_SAX2_MAGIC)
        var handler: xmlSAXHandlerPtr? = handlerStorage
        var userData: UnsafeMutableRawPointer? = nil
        guard let plug = xmlSchemaSAXPlug(context, &handler, &userData), let handler else {
            xmlSchemaFreeValidCtxt(context)
            handlerStorage.deallocate()
            return nil
        }
        self.context = context
        self.plug = plug
        self.handler = handler
        self.userData = userData
    }

    deinit {
        xmlSchemaSAXUnplug(plug)
        xmlSchemaFreeValidCtxt(context)
        handlerStorage.deallocate()
    }
}
