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
        ("é&#38;ü", "é&ü"),
        // No reference, or one cut short (libxml2 gives neither): the '&' stays as it is.
        ("&", "&"),
        ("&#38", "&#38"),
        ("x&#39;y", "x&#39;y"),
    ])
    func eachReferenceIsOneAmpersand(_ raw: String, _ expected: String) {
        let values = UnescapedValues()
        #expect(text(append(raw, to: values)) == expected)
    }

    /// Values past the buffer's room go to a bigger one; those before stay where they were
    /// until the element ends.
    @Test func valuesOutgrowingTheBufferStayReadable() {
        let values = UnescapedValues(capacity: 16)
        let raws = (0..<40).map { "&#38;lock\($0)->" + String(repeating: "x", count: $0) }
        let kept = raws.map { append($0, to: values) }
        #expect(kept.map(text) == raws.map { "&" + $0.dropFirst(5) })
        values.removeAll()
        #expect(text(append("&#38;a", to: values)) == "&a")
    }
}
