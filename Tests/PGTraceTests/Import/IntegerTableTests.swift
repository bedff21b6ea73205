import Testing

@testable import PGTrace

/// The replay's table of tasks adds and removes one at every switch of a task that leaves
/// nothing to remember: a removal must leave every other key findable, however the keys
/// collided and wrapped around the table's end.
@Suite struct IntegerTableTests {
    /// Random inserts and removals against a Dictionary: 300 keys (some shifted 40 bits, so
    /// that many collide) in a table that grows, or 7 keys whose homes in a table of 16 slots
    /// (where it stays) are its last two, so that their runs wrap around its end.
    @Test(arguments: [(1, 300), (2, 300), (3, 300), (4, 7), (5, 7), (6, 7)])
    func randomInsertsAndRemovalsAgreeWithADictionary(seed: UInt64, keys: Int) {
        var random = SplitMix(state: seed)
        var table = IntegerTable<Int>(capacity: 4)
        var model: [UInt64: Int] = [:]
        let wrapping = Array((0...UInt64(10_000)).filter { ($0 &* 0x9E37_79B9_7F4A_7C15) >> 60 >= 14 }.prefix(keys))
        let everyKey = keys > 7 ? (0..<UInt64(keys)).flatMap { [$0, $0 << 40] } : wrapping
        for step in 0..<20_000 {
            let key = keys > 7 ? UInt64(random.next(keys)) << (step % 3 == 0 ? 40 : 0) : wrapping[random.next(keys)]
            if random.next(2) == 0 {
                table[key] = step
                model[key] = step
            } else {
                table.removeValue(forKey: key)
                model[key] = nil
            }
            if keys <= 7 || step % 97 == 0 {
                for key in everyKey { #expect(table[key] == model[key]) }
                #expect(table.count == model.count)
            }
        }
    }

    /// A reviewer's case: a run of keys that wraps past the table's last slot. Removing its
    /// first must move the one that wrapped back into the hole, not leave it unreachable.
    @Test func aRemovalMendsARunThatWrapsAroundTheEnd() {
        // A new table has 8 slots, a key's home the top 3 bits of its Fibonacci hash.
        func home(_ key: UInt64) -> UInt64 { (key &* 0x9E37_79B9_7F4A_7C15) >> 61 }
        let six = (0...UInt64(1000)).first { home($0) == 6 }!
        let sevens = (0...UInt64(1000)).filter { home($0) == 7 }.prefix(2)
        var table = IntegerTable<Int>(capacity: 4)
        table[six] = 6
        table[sevens.first!] = 7
        table[sevens.last!] = 70  // wraps to slot 0
        table.removeValue(forKey: sevens.first!)
        #expect(table[sevens.last!] == 70)
        #expect(table[six] == 6)
        #expect(table[sevens.first!] == nil)
        table.removeValue(forKey: six)
        #expect(table[sevens.last!] == 70 && table.count == 1)
    }

    @Test func removingWhatIsNotThereChangesNothing() {
        var table = IntegerTable<String>()
        table[7] = "seven"
        table.removeValue(forKey: 8)
        #expect(table[7] == "seven" && table.count == 1)
        table.removeValue(forKey: 7)
        #expect(table[7] == nil && table.count == 0)
    }
}
