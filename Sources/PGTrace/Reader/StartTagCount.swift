import Glibc

/// The attributes of a start tag whose end has not arrived yet, counted as its bytes arrive.
///
/// libxml2 2.9.14 compares each attribute of a start tag with every one before it
/// (`xmlParseStartTag2`'s check for duplicates) before any callback runs, and its push parser
/// parses a start tag only once the tag's '>' is in: one element of 300,000 attributes
/// (3.5 MB) took 23 s, ten times as many a hundred times as long. While such a tag streams in,
/// libxml2 stands at its '<' (`XML_PARSER_START_TAG`) with the tag, as far as it has come,
/// in its buffer; the reader counts it there (`ParserState.checkPendingStartTag`) once more
/// than `checkedPast` bytes are waiting, and stops at the tag before libxml2 parses it once
/// it holds more than `maximumAttributes`. A tag whose '>' comes within one chunk of that is
/// parsed by libxml2 (at most some 12,000 attributes: 0.05 s) and refused at its callback.
struct StartTagCount {
    /// The most attributes (namespace declarations included) an element may carry. Every
    /// element of the format takes at most 14 (`<acquire>`); the rest is room for `x-`
    /// attributes. At this bound libxml2's pairwise check costs some 0.2 ms a tag: a trace
    /// of nothing but such tags reads at about a quarter of a normal trace's speed (64 MB:
    /// 2.6 s against 0.7 s), at 4,000 it was an eighth (5.8 s).
    static let maximumAttributes = 1_000
    /// The most namespace declarations in scope at once (an element's and its ancestors'):
    /// libxml2 resolves each prefix by a scan of them all, so nested elements of hundreds of
    /// declarations each made every tag below cost that much (a reviewer's 6.9 MB trace, 73 s).
    /// The format has no namespaces; xsi and extensions need a few.
    static let maximumNamespacesInScope = 64
    /// How many bytes libxml2 must be holding unparsed, after a chunk, before the tag they
    /// begin is counted. No start tag of a normal trace comes near it, so normal traces are
    /// never scanned; a tag libxml2 parses unchecked is at most this plus one chunk long.
    static let checkedPast = 4 * 1024

    /// Where the tag begins in the document (bytes libxml2 consumed before its buffer, plus
    /// the tag's offset in it): the same tag, seen again after the next chunk, is counted on.
    let position: UInt
    /// How much of the tag, from its '<', has been counted.
    private(set) var scanned = 1
    private(set) var attributes = 0
    /// The quote of the value being read (`"` or `'`), or 0 between values.
    private var quote: UInt8 = 0
    /// Whether an unquoted '>' was met: the tag is whole and counted.
    private var ended = false

    init(position: UInt) {
        self.position = position
    }

    /// Counts on through `tag` (the tag from its '<' as far as it has arrived: the same
    /// bytes, longer, each call). An attribute is an '=' outside a quoted value, as XML's
    /// `Attribute ::= Name Eq AttValue` has it; a value holds '=' and '>' freely. True once
    /// the tag holds more than `maximumAttributes`.
    mutating func exceedsLimit(_ tag: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !ended, let base = tag.baseAddress else { return false }
        var index = scanned
        let count = tag.count
        while index < count {
            if quote != 0 {
                // Inside a value: on to its closing quote at once.
                guard let close = memchr(base + index, Int32(quote), count - index) else {
                    index = count
                    break
                }
                index = UnsafeRawPointer(close).assumingMemoryBound(to: UInt8.self) - base + 1
                quote = 0
                continue
            }
            switch base[index] {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                quote = base[index]
            case UInt8(ascii: "="):
                attributes += 1
                if attributes > Self.maximumAttributes {
                    scanned = index + 1
                    return true
                }
            case UInt8(ascii: ">"):
                ended = true
                scanned = index + 1
                return false
            default:
                break
            }
            index += 1
        }
        scanned = index
        return false
    }

    /// The element's name as it stands after the '<' of `tag` (enough of it for a message).
    static func name(of tag: UnsafeBufferPointer<UInt8>) -> String {
        guard tag.count > 1 else { return "" }
        // A character is at most 4 bytes: the bytes of one more than a message shows.
        let limit = min(tag.count, 1 + (shownNameLength + 1) * 4)
        var end = 1
        loop: while end < limit {
            switch tag[end] {
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "/"), UInt8(ascii: ">"), UInt8(ascii: "="),
                UInt8(ascii: "\""), UInt8(ascii: "'"):
                break loop
            default:
                end += 1
            }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: tag[1..<end]), as: UTF8.self)
    }

    /// The message for an element of too many attributes.
    static func message(element name: String) -> String {
        "<\(shown(name))> has more than \(maximumAttributes) attributes"
    }

    /// How many characters of a name a message shows (libxml2 takes names of 50,000).
    static let shownNameLength = 64

    private static func shown(_ name: String) -> String {
        name.count > shownNameLength ? name.prefix(shownNameLength) + "..." : name
    }
}
