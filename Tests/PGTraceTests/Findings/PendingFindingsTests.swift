import Testing

@testable import PGTrace

/// Graph findings reported before their text is made keep their rule, severity, key, count
/// and place, and are found by rule and key, the key compared as bytes, as a finding set finds
/// its problems; one added again is dropped, the first standing.
@Suite struct PendingFindingsTests {
    private static func maker(_ text: String) -> ClosureFindingMaker {
        ClosureFindingMaker(key: text) { Finding(rule: .ipiDeadlock, severity: .error, message: text, locks: [], locations: [], key: text) }
    }

    /// Each is found by its rule and key, and by nothing else: keys alike but for a byte,
    /// "café" composed and decomposed, the empty key, another rule; past the index's growths.
    @Test func eachIsFoundByItsRuleAndKeyBytes() {
        var pending = PendingFindings()
        let keys = (0..<2_000).map { "cls\($0) cls\($0 + 1)" } + ["caf\u{E9}", "cafe\u{301}", ""]
        for (place, key) in keys.enumerated() {
            let absent = pending.position(of: .circularDependency, key: key)
            #expect(absent == nil)
            pending.add(.circularDependency, severity: .error, hash: FindingSet.hash(.circularDependency, key), madeBefore: place, maker: Self.maker(key), number: 0)
        }
        #expect(pending.entries.count == keys.count)
        for (position, key) in keys.enumerated() {
            let found = pending.position(of: .circularDependency, key: key)
            let ofAnotherRule = pending.position(of: .ipiDeadlock, key: key)
            #expect(found == position && ofAnotherRule == nil)
            #expect(pending.key(at: position) == key)
            #expect(Array(pending.key(at: position).utf8) == Array(key.utf8))
            #expect(pending.entry(at: position, hasKey: key))
            #expect(pending.entries[position].madeBefore == Int32(position))
        }
        let (shorter, longer) = (pending.position(of: .circularDependency, key: "cls1 cls"), pending.position(of: .circularDependency, key: "cls1 cls22"))
        #expect(shorter == nil && longer == nil)
        #expect(!pending.entry(at: 0, hasKey: "cls0 cls2"))
        let (composed, decomposed) = (pending.position(of: .circularDependency, key: "caf\u{E9}"), pending.position(of: .circularDependency, key: "cafe\u{301}"))
        #expect(composed == 2_000 && decomposed == 2_001)
    }

    /// Counted again where it is here, up to Int.max; not where it is not; gone when emptied.
    @Test func aFindingIsCountedAgainOnlyWhereItIsHere() {
        var pending = PendingFindings()
        pending.add(.ipiDeadlock, severity: .warning, hash: FindingSet.hash(.ipiDeadlock, "A B"), madeBefore: 3, maker: Self.maker("A B"), number: 0)
        let counted = pending.countAgain(.ipiDeadlock, key: "A B", by: 2)
        let otherRule = pending.countAgain(.circularDependency, key: "A B", by: 1)
        let otherKey = pending.countAgain(.ipiDeadlock, key: "A", by: 1)
        #expect(counted && !otherRule && !otherKey)
        #expect(pending.entries[0].count == 3)
        #expect(pending.entries[0].severity == .warning)
        let countedPastTheEnd = pending.countAgain(.ipiDeadlock, key: "A B", by: Int.max)
        #expect(countedPastTheEnd)
        #expect(pending.entries[0].count == Int.max)
        pending.removeAll()
        #expect(pending.isEmpty)
        let gone = pending.position(of: .ipiDeadlock, key: "A B")
        #expect(gone == nil)
    }

    /// A finding added again before it is made: the first stands, found and counted; the
    /// others are dropped, uncounted, once indexed, whether added before or after a lookup.
    @Test func aFindingAddedAgainIsDroppedAndTheFirstStands() {
        var pending = PendingFindings()
        pending.add(.circularDependency, severity: .error, hash: FindingSet.hash(.circularDependency, "A B"), madeBefore: 0, maker: Self.maker("A B"), number: 0)
        pending.add(.circularDependency, severity: .error, hash: FindingSet.hash(.circularDependency, "C D"), madeBefore: 0, maker: Self.maker("C D"), number: 0)
        pending.add(.circularDependency, severity: .error, hash: FindingSet.hash(.circularDependency, "A B"), madeBefore: 1, maker: Self.maker("A B"), number: 0)
        let first = pending.position(of: .circularDependency, key: "A B")
        #expect(first == 0)
        pending.add(.circularDependency, severity: .error, hash: FindingSet.hash(.circularDependency, "A B"), madeBefore: 2, maker: Self.maker("A B"), number: 0)
        pending.add(.ipiDeadlock, severity: .error, hash: FindingSet.hash(.ipiDeadlock, "A B"), madeBefore: 2, maker: Self.maker("A B"), number: 0)
        let counted = pending.countAgain(.circularDependency, key: "A B", by: 2)
        #expect(counted)
        #expect(pending.entries.map(\.count) == [3, 1, 0, 0, 1])
    }

    /// Many findings of one maker, each by its number: those of one key after the first are
    /// dropped when indexed, and a key is made only to compare two of one hash, or to index
    /// one added without its hash (nothing made it could meet), then once.
    @Test func oneMakersFindingsAreToldApartByTheKeysItMakes() {
        final class Numbered: PendingFindingMaker {
            var keysMade = 0
            func key(of number: Int) -> String {
                keysMade += 1
                return number < 6 ? "cls\(number % 3)" : "new\(number)"
            }
            func finding(_ number: Int) -> Finding {
                Finding(rule: .circularDependency, severity: .error, message: "", locks: [], locations: [], key: key(of: number))
            }
            func discard() {}
            func handOut() {}
            func locationCount(of number: Int) -> Int { finding(number).locations.count }
            func place(_ index: Int, of number: Int) -> (file: String, line: Int, column: Int, event: Int) { finding(number).locations[index].orderPlace }
            func baseFingerprint(of number: Int) -> UInt64 { finding(number).baseFingerprintValue }
        }
        let maker = Numbered()
        var pending = PendingFindings()
        for number in 0..<6 {
            pending.add(.circularDependency, severity: .error, hash: FindingSet.hash(.circularDependency, "cls\(number % 3)"), madeBefore: 0, maker: maker, number: number)
        }
        pending.indexAll()
        #expect(pending.entries.map(\.count) == [1, 1, 1, 0, 0, 0])
        // Each of the three met again: its key and the first's, made to compare them.
        #expect(maker.keysMade == 6)
        #expect((0..<6).map { pending.key(at: $0) } == ["cls0", "cls1", "cls2", "cls0", "cls1", "cls2"])
        #expect(pending.finding(at: 4).key == "cls1")
        maker.keysMade = 0
        for number in 6..<1_006 {
            pending.add(.circularDependency, severity: .error, hash: FindingSet.hash(.circularDependency, "new\(number)"), madeBefore: 0, maker: maker, number: number)
        }
        pending.indexAll()
        #expect(maker.keysMade == 0)
        // Added without their hashes (nothing made they could meet): each key made once, to index it.
        for number in 1_006..<2_006 {
            pending.add(.circularDependency, severity: .error, hash: nil, madeBefore: 0, maker: maker, number: number)
        }
        pending.add(.circularDependency, severity: .error, hash: nil, madeBefore: 0, maker: maker, number: 2)
        #expect(maker.keysMade == 0)
        let found = pending.position(of: .circularDependency, key: "new1500")
        #expect(found == 1_500)
        // 1,001 keys made for their hashes, cls2's to compare the last with it (the same cycle
        // met again), new1500's to compare with the key looked up.
        #expect(maker.keysMade == 1_001 + 1 + 1)
        #expect(pending.entries.last?.count == 0)
        #expect(pending.entries.map(\.count).reduce(0, +) == 2_003)
    }
}
