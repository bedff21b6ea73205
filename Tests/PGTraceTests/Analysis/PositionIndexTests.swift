import Testing

@testable import PGTrace

/// The fact log and the lock graph find each fact and edge by its key through 8-byte slots
/// that hold 32 bits of the key's hash, not the key: a slot whose bits agree must still be
/// told apart by the key.
@Suite struct PositionIndexTests {
    /// Keys of every kind, many alike but for one field, added in a random order and looked
    /// up with keys never added, against a Dictionary; the table grows from 1k slots past 64k.
    @Test func everyKeyIsFoundAtItsPositionAndNoOtherKeyIs() {
        var random = SplitMix(state: 12)
        var keys: [GraphFactKey] = []
        var seen: Set<GraphFactKey> = []
        while keys.count < 40_000 {
            let key = GraphFactKey(
                kind: GraphFactKey.Kind(rawValue: UInt8(1 + random.next(5)))!, a: ClassID(random.next(300)), b: ClassID(random.next(300)),
                detail: UInt16(1 << random.next(4)))
            if seen.insert(key).inserted { keys.append(key) }
        }
        var index = PositionIndex()
        var model: [GraphFactKey: Int] = [:]
        for (position, key) in keys.enumerated() {
            #expect(index.position(hash: key.indexHash) { keys[$0] == key } == nil)
            index.insert(hash: key.indexHash, position: position)
            model[key] = position
            if position % 997 == 0 {
                for probe in keys[...position] { #expect(index.position(hash: probe.indexHash) { keys[$0] == probe } == model[probe]) }
            }
        }
        #expect(index.count == keys.count)
        for key in keys { #expect(index.position(hash: key.indexHash) { keys[$0] == key } == model[key]) }
        for _ in 0..<10_000 {
            let absent = GraphFactKey(
                kind: GraphFactKey.Kind(rawValue: UInt8(1 + random.next(5)))!, a: ClassID(300 + random.next(300)), b: ClassID(random.next(300)), detail: 1)
            #expect(index.position(hash: absent.indexHash) { keys[$0] == absent } == nil)
        }
    }

    /// Room reserved for many more elements than the table holds is made in one step (the
    /// lock graph's index, rebuilt, takes room for every dependency to come): the elements
    /// in it are found where they were, and adding up to the room grows it no more.
    @Test func roomReservedInOneStepKeepsEveryElementAndIsNotGrownAgain() {
        var random = SplitMix(state: 71)
        let hashes = (0..<100_000).map { _ in PositionIndex.mix(random.next()) }
        var index = PositionIndex()
        for position in 0..<1_000 { index.insert(hash: hashes[position], position: position) }
        #expect(index.slotCount == 2_048)
        index.reserveCapacity(100_000)
        // 3/4 of 2^17 slots is 98,304: 100k elements take 2^18.
        #expect(index.slotCount == 1 << 18)
        for position in 0..<1_000 { #expect(index.position(hash: hashes[position]) { $0 == position } == position) }
        index.reserveCapacity(50_000)
        #expect(index.slotCount == 1 << 18)
        for position in 1_000..<100_000 { index.insert(hash: hashes[position], position: position) }
        #expect(index.slotCount == 1 << 18)
        #expect(index.count == 100_000)
        var misplaced = 0
        for (position, hash) in hashes.enumerated() where index.position(hash: hash, where: { $0 == position }) != position { misplaced += 1 }
        #expect(misplaced == 0)
    }

    /// A slot whose bits agree is not the element unless its key matches.
    @Test func agreeingHashBitsAreNotEnough() {
        let keys = [GraphFactKey(kind: .lockOrder, a: 1, b: 2, detail: 1), GraphFactKey(kind: .lockOrder, a: 2, b: 1, detail: 1)]
        var index = PositionIndex()
        index.insert(hash: keys[0].indexHash, position: 0)
        // Told that position 0 holds another key, the index does not find it.
        #expect(index.position(hash: keys[0].indexHash) { _ in false } == nil)
        #expect(index.position(hash: keys[0].indexHash) { keys[$0] == keys[0] } == 0)
        #expect(index.position(hash: keys[1].indexHash) { keys[$0] == keys[1] } == nil)
    }

    /// Elements whose hashes are all one: each slot's bits agree, the table grows twice, and
    /// only `matches` tells the elements apart.
    @Test func elementsOfOneHashAreFoundByTheirKeys() {
        var index = PositionIndex()
        for position in 0..<2_000 { index.insert(hash: 42, position: position) }
        #expect(index.count == 2_000)
        for position in [0, 1, 767, 768, 1_999] { #expect(index.position(hash: 42) { $0 == position } == position) }
        #expect(index.position(hash: 42) { $0 == 2_000 } == nil)
        #expect(index.position(hash: 43 | 1 << 40) { _ in true } == nil)  // other bits: no match asked
    }

    /// An element goes first to the slot its hash's top bits name, and the table grows from
    /// the slots alone: elements that run past the last slot to the first are found before
    /// and after the table doubles, and where they sit decides nothing of what is found.
    @Test func elementsPastTheLastSlotAreFoundAsTheTableGrows() {
        // Top bits all ones: every element's first slot is the table's last.
        let hashes = (0..<3_000).map { UInt64.max - UInt64($0) * 0x1_0000_0001 }
        var index = PositionIndex()
        for (position, hash) in hashes.enumerated() {
            index.insert(hash: hash, position: position)
            if [0, 1, 700, 767, 768, 1_535, 1_536, 2_999].contains(position) {
                for (earlier, probe) in hashes[...position].enumerated() { #expect(index.position(hash: probe) { $0 == earlier } == earlier) }
            }
        }
        #expect(index.count == 3_000)
        // The same first slot, other check bits: the whole run is passed without a match asked.
        #expect(index.position(hash: 0xFFF0_0000_0000_0000) { _ in true } == nil)
        #expect(index.position(hash: 0) { _ in true } == nil)
    }
}
