@testable import PGTrace
import Testing

/// The count of a start tag's attributes while its bytes arrive: an '=' outside a quoted value
/// is an attribute, whatever the values hold and wherever the chunks cut the tag.
@Suite struct StartTagCountTests {
    /// Counts `tag` as it would arrive in pieces ending at `cuts` (then whole): the count
    /// and whether it went past the limit.
    private func count(_ tag: String, cuts: [Int]) -> (attributes: Int, exceeded: Bool) {
        let bytes = Array(tag.utf8)
        var counter = StartTagCount(position: 0)
        return bytes.withUnsafeBufferPointer { all in
            for end in cuts + [bytes.count] where end <= bytes.count {
                if counter.exceedsLimit(UnsafeBufferPointer(rebasing: all[..<end])) { return (counter.attributes, true) }
            }
            return (counter.attributes, false)
        }
    }

    @Test func anEqualsSignOutsideAValueIsAnAttribute() {
        let tag = #"<acquire cpu="0" lock = 'a=b>c' x-v="it's = > <" x-w='say "=" >'/>"#
        #expect(count(tag, cuts: []) == (4, false))
        // Cut anywhere, one byte at a time included: the same count.
        for cut in 1..<tag.utf8.count {
            #expect(count(tag, cuts: [cut]) == (4, false), "cut at \(cut)")
        }
        #expect(count(tag, cuts: Array(1..<tag.utf8.count)) == (4, false))
    }

    @Test func theTagsEndStopsTheCount() {
        // What follows the tag's '>' is not the tag's.
        #expect(count(#"<release cpu="1"/><acquire a="1" b="2">"#, cuts: [5]) == (1, false))
    }

    @Test func moreThanTheLimitIsSeenAsSoonAsItArrives() {
        let limit = StartTagCount.maximumAttributes
        let at = (0..<limit).map { #" x-a\#($0)="v=>""# }.joined()
        #expect(count("<x-e" + at + "/>", cuts: [100, 5000]) == (limit, false))
        let past = "<x-e" + at + #" x-b="1"/>"#
        let result = count(past, cuts: [100, 5000])
        #expect(result == (limit + 1, true))
    }

    @Test func theNameShownIsTheElementsAndNoLongerThanAMessageNeeds() {
        func name(_ tag: String) -> String {
            Array(tag.utf8).withUnsafeBufferPointer { StartTagCount.name(of: $0) }
        }
        #expect(name(#"<acquire cpu="0""#) == "acquire")
        #expect(name("<p:x-élan\n a=\"1\"") == "p:x-élan")
        #expect(name("<ev/>") == "ev")
        let long = String(repeating: "n", count: 100_000)
        #expect(StartTagCount.message(element: name("<" + long + " a=\"1\"")) == "<" + String(repeating: "n", count: 64) + "...> has more than 1000 attributes")
    }
}
