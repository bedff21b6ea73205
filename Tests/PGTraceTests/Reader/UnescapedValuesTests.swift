import Testing

@testable import PGTrace

/// libxml2 hands an attribute's '&' back as "&#38;": each such sequence is one '&' again,
/// whatever is around it, and every value of an element stays readable until the next.
@Suite struct UnescapedValuesTests {
    private func append(_ raw: String, to values: UnescapedValues) -> (UnsafePointer<UInt8>, Int) {
        var raw = raw
        return raw.withUTF8 { values.append($0.baseAddress!, count: $0.count) }
    }

    private func text(_ value: (UnsafePointer<UInt8>, Int)) -> String {
        String(decoding: UnsafeBufferPointer(start: value.0, count: value.1), as: UTF8.self)
    }

    @Test(arguments: [
        ("&#38;rq->__lock", "&rq->__lock"),
        ("&#38;(&#38;mm->page_table_lock)->rlock", "&(&mm->page_table_lock)->rlock"),
        ("a&#38;", "a&"),
        ("&#38;&#38;&#38;", "&&&"),
        ("&#38;#38;", "&#38;"),
        // An accent after the ';': a String's search for "&#38;" by characters missed it.
        ("&#38;\u{301}x", "&\u{301}x"),
        ("&#38;\u{200D}", "&\u{200D}"),
        // A prepended concatenation mark before the '&': the String's search missed that too.
        ("\u{600}&#38;x", "\u{600}&x"),
        ("é&#38;ü", "é&ü"),
        // No reference, or one cut short (libxml2 gives neither): the '&' stays as it is.
        ("&", "&"),
        ("&#38", "&#38"),
        ("&#38x;", "&#38x;"),
        ("x&#39;y", "x&#39;y"),
    ])
    func eachReferenceIsOneAmpersand(_ raw: String, _ expected: String) {
        let values = UnescapedValues()
        withExtendedLifetime(values) {
            #expect(text(append(raw, to: values)) == expected)
        }
    }

    /// Values past the buffer's room go to a bigger one; those before stay where they were
    /// until the element ends.
    @Test func valuesOutgrowingTheBufferStayReadable() {
        let values = UnescapedValues(capacity: 16)
        withExtendedLifetime(values) {
            let raws = (0..<40).map { "&#38;lock\($0)->" + String(repeating: "x", count: $0) }
            let kept = raws.map { append($0, to: values) }
            #expect(kept.map(text) == raws.map { "&" + $0.dropFirst(5) })
            values.removeAll()
            #expect(values.bytesHeld == 0)
            #expect(text(append("&#38;a", to: values)) == "&a")
            // A value of 100 KB, then the buffer it grew is let go at the element's end.
            let long = String(repeating: "&#38;", count: 20_000)
            #expect(text(append(long, to: values)) == String(repeating: "&", count: 20_000))
            values.removeAll()
            #expect(text(append("&#38;b", to: values)) == "&b")
        }
    }

    /// The decoder's values that held an '&' are let go when the next element begins: held
    /// for the whole file, they would grow with it.
    @Test func anElementsDecodedValuesGoWithIt() {
        var values = AttributeValues()
        for index in 0..<3 {
            values.reset(for: .acquire, allowed: AttributeName.lock.bit | AttributeName.cpu.bit)
            let raw = Array("&#38;rq\(index)->__lock".utf8)
            raw.withUnsafeBufferPointer { bytes in
                // Throws only for an attribute the element does not take.
                try? values.set(.lock, rawName: { "lock" }, start: bytes.baseAddress!, count: bytes.count)
            }
            #expect(values[.lock] == "&rq\(index)->__lock")
            #expect(values.unescapedBytes == "&rq\(index)->__lock".utf8.count)
        }
        values.reset(for: .release, allowed: AttributeName.lock.bit)
        #expect(values.unescapedBytes == 0)
    }
}
