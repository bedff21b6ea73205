import Testing

@testable import PGTrace

/// Graph findings reported before their text is made keep their rule, severity, key, count
/// and place, and are found by rule and key, the key compared as bytes, as a finding set finds
/// its problems.
@Suite struct PendingFindingsTests {
    private static func maker(_ text: String) -> (CheckerContext) -> Finding {
        { _ in Finding(rule: .ipiDeadlock, severity: .error, message: text, locks: [], locations: [], key: text) }
    }

    /// Each is found by its rule and key, and by nothing else: keys alike but for a byte,
    /// "café" composed and decomposed, the empty key, another rule; past the index's growths.
    @Test func eachIsFoundByItsRuleAndKeyBytes() {
        var pending = PendingFindings()
        let keys = (0..<2_000).map { "cls\($0) cls\($0 + 1)" } + ["caf\u{E9}", "cafe\u{301}", ""]
        for (place, key) in keys.enumerated() {
            #expect(pending.position(of: .circularDependency, key: key) == nil)
            pending.add(.circularDependency, severity: .error, key: key, place: place, make: Self.maker(key))
        }
        #expect(pending.entries.count == keys.count)
        for (position, key) in keys.enumerated() {
            #expect(pending.position(of: .circularDependency, key: key) == position)
            #expect(pending.position(of: .ipiDeadlock, key: key) == nil)
            #expect(pending.key(at: position) == key)
            #expect(Array(pending.key(at: position).utf8) == Array(key.utf8))
            #expect(pending.entry(at: position, hasKey: key))
            #expect(pending.entries[position].place == Int32(position))
        }
        #expect(pending.position(of: .circularDependency, key: "cls1 cls") == nil)
        #expect(pending.position(of: .circularDependency, key: "cls1 cls22") == nil)
        #expect(!pending.entry(at: 0, hasKey: "cls0 cls2"))
        #expect(pending.position(of: .circularDependency, key: "caf\u{E9}") == 2_000)
        #expect(pending.position(of: .circularDependency, key: "cafe\u{301}") == 2_001)
    }

    /// Counted again where it is here, up to Int.max; not where it is not; gone when emptied.
    @Test func aFindingIsCountedAgainOnlyWhereItIsHere() {
        var pending = PendingFindings()
        pending.add(.ipiDeadlock, severity: .warning, key: "A B", place: 3, make: Self.maker("A B"))
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
        #expect(pending.position(of: .ipiDeadlock, key: "A B") == nil)
    }
}
