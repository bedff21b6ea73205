/// What libxml2's scan of a stretch of an XML trace found, in document order, for
/// `TapeDecoding` to turn into headers and events: start tags (their bytes copied, their
/// attributes' names as libxml2's pointers), end tags, text where none may stand, and the
/// scan's own failures at their places.
///
/// A tape is what lets the two halves of reading run on two threads (`TraceReader`): the
/// scan (libxml2) fills one tape while the decoder (names interned, integers parsed, events
/// built) works through the last, and a failure found by either is reported in document
/// order. A tape is refilled, not reallocated: `reset` keeps its storage.
final class ScanTape {
    /// One thing the scan met. Plain values only, so that steps are stored and freed in a
    /// `TapeBuffer`, without reference counting.
    enum Step {
        /// A known element's start tag at line:column, its `attributeCount` attributes next
        /// in `attributes`; `closed` when its end tag came next (`<acquire .../>`), which then
        /// takes no step of its own. (The element's index last: a step is 16 bytes, not 24.)
        case start(line: Int32, column: Int32, attributeCount: Int32, element: ElementName.Index, closed: Bool)
        /// An element whose name the format does not know (`names[name]`).
        case unknownElement(name: Int32, line: Int32, column: Int32)
        /// An `x-` extension element, or any element inside one (`line:column` is where the
        /// scan stood, for a nesting too deep).
        case enterExtension(line: Int32, column: Int32)
        case end
        /// Text that is not blank outside an extension, first character at line:column.
        case unexpectedText(line: Int32, column: Int32)
        /// A failure of the scan (`failures[index]`), which ends the document.
        case failure(index: Int32)
        /// The input has ended and libxml2 finishes the document: a failure in the steps
        /// that follow (but `endOfInput`'s own) shows a trace cut short.
        case finishing
        /// The bytes of the file read so far (for a progress line).
        case progress(bytesRead: Int)
        /// The end of the input: whether libxml2 found the document well-formed, and where it stood.
        case endOfInput(wellFormed: Bool, line: Int32, column: Int32)

        var isEndOfInput: Bool {
            if case .endOfInput = self { return true }
            return false
        }
    }

    /// An attribute of a start tag, in 16 bytes: its name and its value, `count` bytes at
    /// `offset` in the tape's bytes. The name is libxml2's interned local name, good while
    /// `dictionary` is held (the decoding resolves it, cached by pointer); a prefixed (or
    /// missing) name is nil here, and its raw name (for the error message) is stored in the
    /// bytes just before the value, followed by its byte count in four bytes.
    struct Attribute {
        var name: UnsafePointer<UInt8>?
        var offset: Int32
        /// The count, and in the top bit `mayHoldReference`.
        private var countAndFlag: UInt32

        init(name: UnsafePointer<UInt8>?, offset: Int, count: Int, mayHoldReference: Bool) {
            self.name = name
            self.offset = Int32(offset)
            countAndFlag = UInt32(Int32(count)) | (mayHoldReference ? 1 << 31 : 0)
        }

        var count: Int { Int(countAndFlag & ~(1 << 31)) }
        /// False where libxml2 handed the value over in place, which proves it holds no '&'.
        var mayHoldReference: Bool { countAndFlag >> 31 != 0 }
    }

    /// Steps, attributes and the bytes of start tags and values, appended in place
    /// (`TapeBuffer`): the scan writes some six of them an event, 16 bytes each, and copies
    /// a tag's bytes once, which is all it adds to libxml2's own pass. Every line of it is
    /// one the decoding's core must give up before the scan writes it again, which costs
    /// most when the host puts the two cpus far apart (docs/performance.md, stop 61).
    @exclusivity(unchecked) private(set) var steps = TapeBuffer<Step>(capacity: 2048)
    @exclusivity(unchecked) private(set) var attributes = TapeBuffer<Attribute>(capacity: 4096)
    @exclusivity(unchecked) private var bytes = TapeBuffer<UInt8>(capacity: 1 << 16)
    /// Raw names of unknown elements, as the scan met them.
    @exclusivity(unchecked) private(set) var names: [String] = []
    @exclusivity(unchecked) private(set) var failures: [Error] = []
    /// The dictionary the attributes' names point into: the parse's, set by the scan.
    @exclusivity(unchecked) var dictionary: InternedNames?

    init() {}

    var isEmpty: Bool { steps.count == 0 }

    func reset() {
        steps.removeAll()
        attributes.removeAll()
        bytes.removeAll()
        if !names.isEmpty { names.removeAll() }
        if !failures.isEmpty { failures.removeAll() }
    }

    @inline(__always)
    func append(_ step: Step) { steps.append(step) }

    @inline(__always)
    func appendStart(_ element: ElementName.Index, line: Int32, column: Int32, attributeCount: Int) {
        steps.append(.start(
            line: line, column: column, attributeCount: Int32(attributeCount), element: element, closed: false))
    }

    /// An end tag: the start step it follows closed, if it is the last step (an element
    /// without content, as nearly all of a trace's are), else a step of its own.
    @inline(__always)
    func appendEnd() {
        if case .start(let line, let column, let attributeCount, let element, false) = steps.last {
            steps.replaceLast(with: .start(
                line: line, column: column, attributeCount: attributeCount, element: element, closed: true))
        } else {
            steps.append(.end)
        }
    }

    /// The bytes of a start tag (from its '<' to where libxml2 stands) to copy for its values:
    /// from the first value's start to the last value's end when both lie in the tag, else
    /// the whole tag (a value libxml2 copied, its references resolved, lies elsewhere); nil
    /// without a tag. The element's name, the first attribute's name and the tag's end are
    /// never read: 62 bytes of a kernel event's 77 are copied (docs/performance.md, stop 61).
    static func valuesSpan(
        tag start: UnsafePointer<UInt8>?, to end: UnsafePointer<UInt8>?, firstValue: UnsafePointer<UInt8>?,
        lastValueEnd: UnsafePointer<UInt8>?
    ) -> (start: UnsafePointer<UInt8>, end: UnsafePointer<UInt8>)? {
        guard let start, let end, start < end else { return nil }
        if let first = firstValue, let last = lastValueEnd, first >= start, first <= last, last <= end {
            return (first, last)
        }
        return (start, end)
    }

    /// Bytes a start tag's values are found in (`appendAttribute(_:at:count:)`): the offset
    /// they start at.
    @inline(__always)
    func appendBytes(_ source: UnsafePointer<UInt8>, count: Int) -> Int {
        let offset = bytes.count
        bytes.append(contentsOf: source, count: count)
        return offset
    }

    /// An attribute of the start tag appended next, its value already among the tape's bytes
    /// (libxml2 handed it over in place, within the tag's bytes).
    @inline(__always)
    func appendAttribute(_ name: UnsafePointer<UInt8>, at offset: Int, count: Int) {
        attributes.append(Attribute(name: name, offset: offset, count: count, mayHoldReference: false))
    }

    /// An attribute of the start tag appended next, its value copied here; a name given as
    /// `rawName` (a prefixed one, which the format never knows) is stored before the value.
    func appendAttribute(
        _ name: UnsafePointer<UInt8>?, rawName: () -> String, copying value: UnsafePointer<UInt8>, count: Int,
        mayHoldReference: Bool
    ) {
        if name == nil {
            var raw = rawName()
            raw.withUTF8 { bytes.append(contentsOf: $0.baseAddress!, count: $0.count) }
            withUnsafeBytes(of: UInt32(raw.utf8.count).littleEndian) {
                bytes.append(contentsOf: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 4)
            }
        }
        let offset = bytes.count
        bytes.append(contentsOf: value, count: count)
        attributes.append(Attribute(name: name, offset: offset, count: count, mayHoldReference: mayHoldReference))
    }

    func appendUnknownElement(_ name: String, line: Int32, column: Int32) {
        names.append(name)
        steps.append(.unknownElement(name: Int32(names.count - 1), line: line, column: column))
    }

    func appendFailure(_ error: Error) {
        failures.append(error)
        steps.append(.failure(index: Int32(failures.count - 1)))
    }

    /// A failure of the scan that says its own cause, to be reported as it is: never taken for
    /// a trace cut short where libxml2 met it finishing the document (an encoding that
    /// stopped converting, which libxml2 says only then).
    struct Cause: Error {
        var error: TraceInputError
    }

    /// The value of `attribute`, valid until the tape is reset.
    @inline(__always)
    func value(of attribute: Attribute) -> UnsafePointer<UInt8> { bytes.pointer(at: Int(attribute.offset)) }

    /// The name of `attribute` as written: libxml2's interned name, or the raw one stored.
    func rawName(of attribute: Attribute) -> String {
        if let name = attribute.name { return String(cString: name) }
        let countAt = Int(attribute.offset) - 4
        let count = Int(UInt32(littleEndian: UnsafeRawPointer(bytes.pointer(at: countAt)).loadUnaligned(as: UInt32.self)))
        let start = bytes.pointer(at: countAt - count)
        return String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }
}

/// Plain values appended in place to one allocation that doubles as it fills, for a tape:
/// no reference counting and no uniqueness check an append, as an array has. A pointer into
/// it is good until the next append or `removeAll`.
struct TapeBuffer<Element: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private let initialCapacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        initialCapacity = self.capacity
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "tape index out of range")
        return base[index]
    }

    /// The last element, nil while there is none.
    var last: Element? {
        @inline(__always) get { count > 0 ? base[count - 1] : nil }
    }

    @inline(__always)
    mutating func replaceLast(with element: Element) {
        precondition(count > 0, "no last tape element to replace")
        base[count - 1] = element
    }

    @inline(__always)
    func pointer(at offset: Int) -> UnsafePointer<Element> {
        precondition(offset >= 0 && offset <= count, "tape offset out of range")
        return UnsafePointer(base + offset)
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow(to: count + 1) }
        (base + count).initialize(to: element)
        count += 1
    }

    @inline(__always)
    mutating func append(contentsOf source: UnsafePointer<Element>, count added: Int) {
        if count + added > capacity { grow(to: count + added) }
        (base + count).initialize(from: source, count: added)
        count += added
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        let bigger = max(capacity * 2, needed)
        let moved = UnsafeMutablePointer<Element>.allocate(capacity: bigger)
        moved.initialize(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = bigger
    }

    /// Empties the buffer; one grown past 8 times its first size (a huge attribute value)
    /// goes back to that size, one less (a dense chunk) keeps what it grew to.
    mutating func removeAll() {
        count = 0
        if capacity > initialCapacity * 8 {
            base.deallocate()
            capacity = initialCapacity
            base = .allocate(capacity: capacity)
        }
    }
}
