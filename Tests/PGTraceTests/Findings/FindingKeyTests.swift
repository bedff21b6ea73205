import Testing

@testable import PGTrace

/// A key made of class names sorts them by their bytes and joins them by spaces, so that one
/// problem met from any of its edges has one key, and names alike but for their Unicode
/// normalization stay two names, as they are two classes.
@Suite struct FindingKeyTests {
    @Test func namesAreSortedByTheirBytes() {
        #expect(FindingKey.of(["cycB0", "cycA0"]) == "cycA0 cycB0")
        #expect(FindingKey.of(["b", "a", "ab", ""]) == " a ab b")
        // "é" composed is C3 A9; decomposed, "e" then CC 81: the decomposed one sorts first.
        #expect(Array(FindingKey.of(["caf\u{E9}", "cafe\u{301}"]).utf8) == Array("cafe\u{301} caf\u{E9}".utf8))
        #expect(FindingKey.of([]) == "")
        #expect(FindingKey.of(["only"]) == "only")
    }

    @Test func aNameGivenTwiceIsInTheKeyTwice() {
        #expect(FindingKey.of(["B", "A", "B"]) == "A B B")
    }

    /// Past the few names sorted by insertion, and names longer than a small String holds,
    /// against the bytes sorted by the standard library.
    @Test func manyNamesSortAsTheirBytesDo() {
        var random = SplitMix(state: 45)
        for count in [2, 7, 8, 9, 40] {
            // Names of a, b, z, é composed (C3 A9) and decomposed (65 CC 81), 1 to 24 of them:
            // as Strings the two é are equal and come after z; by bytes the decomposed one
            // comes between b and z (so a sort of Strings fails this test).
            let pieces = ["a", "b", "z", "\u{E9}", "e\u{301}"]
            var names: [String] = []
            for _ in 0..<count {
                let length = 1 + Int(random.next() % 24)
                names.append((0..<length).map { _ in pieces[Int(random.next() % 5)] }.joined())
            }
            let expected = names.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
                .map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            #expect(Array(FindingKey.of(names).utf8) == Array(expected.utf8))
        }
    }
}
