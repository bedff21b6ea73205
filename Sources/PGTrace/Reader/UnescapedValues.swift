import Glibc

/// Attribute values that held an '&', decoded, back to back in buffers that do not move until
/// `removeAll`: an element's values for the decoder, a value asked for ahead for the
/// lookahead (`TapeDecoding`). Without entity substitution (no XML_PARSE_NOENT), libxml2
/// hands back every '&' of an attribute value as "&#38;" (its other references it replaces),
/// and no other text makes that sequence: each is made '&' again, a byte at a time.
///
/// Why: most of lockdep's class names hold an '&' (`&rq->__lock`, `&mm->mmap_lock`), and each
/// such value was made a String, split and joined, and kept in a dictionary: with an '&'
/// before every lock name, the kernel-shaped trace of 1M events took 3.35 s instead of 0.61.
/// The String's search also went by characters, and missed a "&#38;" that was not one on its
/// own: one with a combining mark, a joiner or a modifier after its ';', or a prepended
/// concatenation mark (U+0600-0605 and the like) before its '&'.
final class UnescapedValues {
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    /// Buffers the element's values outgrew: the values already there are read until its end.
    private var outgrown: [UnsafeMutablePointer<UInt8>] = []

    private let initialCapacity: Int

    init(capacity: Int = 256) {
        initialCapacity = capacity
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        for old in outgrown { old.deallocate() }
    }

    /// A buffer past this many bytes, grown for a long value, is not kept after it.
    private static let keptCapacity = 1 << 16

    /// The bytes the values take (for tests: 0 once emptied).
    var bytesHeld: Int { count }

    /// Whether `length` bytes at `start` are to be decoded here: a value libxml2 copied
    /// (`mayHoldReference`; one handed over in place holds no reference) that holds an '&'.
    @inline(__always)
    static func holdAmpersand(_ start: UnsafePointer<UInt8>, count length: Int, mayHoldReference: Bool) -> Bool {
        mayHoldReference && length > 0 && memchr(start, 0x26, length) != nil
    }

    /// Forgets every value: an element begins. Nothing to do unless a value was kept (each
    /// kept value is a byte or more, outgrown buffers and a grown one only beside one).
    @inline(__always)
    func removeAll() {
        if count > 0 { empty() }
    }

    private func empty() {
        count = 0
        if capacity > Self.keptCapacity {
            buffer.deallocate()
            capacity = initialCapacity
            buffer = .allocate(capacity: capacity)
        }
        guard !outgrown.isEmpty else { return }
        for old in outgrown { old.deallocate() }
        outgrown.removeAll()
    }

    /// The `length` bytes at `start`, each "&#38;" among them made '&', kept until
    /// `removeAll`.
    func append(_ start: UnsafePointer<UInt8>, count length: Int) -> (UnsafePointer<UInt8>, Int) {
        if count + length > capacity {
            outgrown.append(buffer)
            capacity = max(2 * capacity, length)
            buffer = .allocate(capacity: capacity)
            count = 0
        }
        let out = buffer + count
        var (read, written) = (0, 0)
        while read < length {
            // The bytes up to the next '&' as they are, then the '&'.
            let next = start + read
            let plain = memchr(next, 0x26, length - read).map { UnsafeRawPointer(next).distance(to: $0) } ?? length - read
            (out + written).initialize(from: next, count: plain)
            read += plain
            written += plain
            guard read < length else { break }
            (out + written).initialize(to: 0x26)
            written += 1
            read += Self.isReference(start + read, length - read) ? 5 : 1
        }
        count += written
        return (UnsafePointer(out), written)
    }

    /// Whether the '&' at `at` begins "&#38;" within the `available` bytes there.
    @inline(__always)
    private static func isReference(_ at: UnsafePointer<UInt8>, _ available: Int) -> Bool {
        available >= 5 && at[1] == 0x23 && at[2] == 0x33 && at[3] == 0x38 && at[4] == 0x3B
    }
}
