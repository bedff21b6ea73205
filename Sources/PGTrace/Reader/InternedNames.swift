import CLibXML2

/// libxml2's dictionary of one parse's names, held past the parser. libxml2 interns every
/// element and attribute name there, one pointer a name for the whole parse; the scan puts
/// attribute names on its tapes as those pointers (`ScanTape.Attribute`), and the decoding
/// thread, which may still be working through the last tapes when the parse has ended and
/// freed its parser, reads them through this reference. A name, once interned, never moves.
final class InternedNames: @unchecked Sendable {
    private let dictionary: xmlDictPtr

    /// A reference to `context`'s dictionary; nil if it has none.
    init?(_ context: xmlParserCtxtPtr) {
        guard let dictionary = context.pointee.dict, xmlDictReference(dictionary) == 0 else { return nil }
        self.dictionary = dictionary
    }

    deinit { xmlDictFree(dictionary) }
}
