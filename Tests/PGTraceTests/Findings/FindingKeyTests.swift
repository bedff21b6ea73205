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

    @Test func repeatsAreDroppedByTheirBytesOnlyWhenAsked() {
        #expect(FindingKey.of(["B", "A", "B"]) == "A B B")
        #expect(FindingKey.of(["B", "A", "B"], droppingRepeats: true) == "A B")
        // As Strings the two are equal (a Set kept one); as bytes they are two names.
        let kept = FindingKey.of(["caf\u{E9}", "cafe\u{301}", "caf\u{E9}"], droppingRepeats: true)
        #expect(Array(kept.utf8) == Array("cafe\u{301} caf\u{E9}".utf8))
    }

    /// Past the few names sorted by insertion, and names longer than a small String holds,
    /// against the bytes sorted by the standard library.
    @Test func manyNamesSortAsTheirBytesDo() {
        var random = SplitMix(state: 45)
        for count in [2, 7, 8, 9, 40] {
            // Names of a, b, z and é (C3 A9), 1 to 24 of them.
            let pieces = ["a", "b", "z", "\u{E9}"]
            var names: [String] = []
            for _ in 0..<count {
                let length = 1 + Int(random.next() % 24)
                names.append((0..<length).map { _ in pieces[Int(random.next() % 4)] }.joined())
            }
            let expected = names.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
                .map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            #expect(Array(FindingKey.of(names).utf8) == Array(expected.utf8))
        }
    }
}
