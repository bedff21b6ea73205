import Testing

@testable import PGTrace

/// The fact log finds a class's usage bits and uses by the class's id; every other fact, and
/// a key it cannot place in a class's mask, by the position index.
@Suite struct ClassFactIndexTests {
    /// A usage bit's key and a use's have a bit of their own; no other key has one.
    @Test func onlyAClassesUsageBitsAndUsesHaveABit() {
        let bits = (0..<LockUsage.bitCount).map { ClassFactIndex.bit(of: GraphFact.usageKey(7, LockUsage.Bit(index: $0))) }
        #expect(bits == Array(0..<LockUsage.bitCount))
        #expect(ClassFactIndex.bit(of: GraphFact.usedKey(7, read: false)) == LockUsage.bitCount)
        #expect(ClassFactIndex.bit(of: GraphFact.usedKey(7, read: true)) == LockUsage.bitCount + 1)
        #expect(ClassFactIndex.bit(of: GraphFact.dependencyKey(1, 2, .lockOrder, [])) == nil)
        #expect(ClassFactIndex.bit(of: GraphFactKey(kind: .usage, a: 7, b: 0, detail: 0)) == nil)
        #expect(ClassFactIndex.bit(of: GraphFactKey(kind: .usage, a: 7, b: 0, detail: 3)) == nil)
        #expect(ClassFactIndex.bit(of: GraphFactKey(kind: .usage, a: 7, b: 0, detail: 1 << 8)) == nil)
        #expect(ClassFactIndex.bit(of: GraphFactKey(kind: .used, a: 7, b: 0, detail: 2)) == nil)
        #expect(ClassFactIndex.bit(of: GraphFactKey(kind: .used, a: -1, b: 0, detail: 0)) == nil)
    }

    /// Facts of many classes, their ids out of order and their bits each class's own, added in a
    /// random order: each is found at its position, and no bit a class lacks is.
    @Test func eachFactIsFoundByItsClassAndBit() {
        var random = SplitMix(state: 55)
        var keys: [GraphFactKey] = []
        var seen: Set<GraphFactKey> = []
        while keys.count < 5_000 {
            let id = ClassID(random.next() % 2_000)
            let bit = Int(random.next() % UInt64(LockUsage.bitCount + 2))
            let key = bit < LockUsage.bitCount
                ? GraphFact.usageKey(id, LockUsage.Bit(index: bit)) : GraphFact.usedKey(id, read: bit == LockUsage.bitCount + 1)
            if seen.insert(key).inserted { keys.append(key) }
        }
        var index = ClassFactIndex()
        for (position, key) in keys.enumerated() {
            let bit = ClassFactIndex.bit(of: key)!
            #expect(index.position(of: key.a, bit: bit) { keys[$0] == key } == nil)
            index.insert(key.a, bit: bit, position: position)
        }
        for (position, key) in keys.enumerated() {
            #expect(index.position(of: key.a, bit: ClassFactIndex.bit(of: key)!) { keys[$0] == key } == position)
        }
        for id in ClassID(0)..<2_100 {
            for bit in 0..<(LockUsage.bitCount + 2) {
                let key = bit < LockUsage.bitCount
                    ? GraphFact.usageKey(id, LockUsage.Bit(index: bit)) : GraphFact.usedKey(id, read: bit == LockUsage.bitCount + 1)
                let found = index.position(of: id, bit: bit) { keys[$0] == key }
                #expect(found == keys.firstIndex(of: key))
            }
        }
    }
}
