import Testing

@testable import PGTrace

/// The replay's table of tasks adds and removes one at every switch of a task that leaves
/// nothing to remember: a removal must leave every other key findable, however the keys
/// collided and wrapped around the table's end.
@Suite struct IntegerTableTests {
    @Test(arguments: [1, 2, 3])
    func randomInsertsAndRemovalsAgreeWithADictionary(seed: UInt64) {
        var random = LockGraphSearchTests.Random(state: seed)
        var table = IntegerTable<Int>(capacity: 4)
        var model: [UInt64: Int] = [:]
        for step in 0..<20_000 {
            // Few distinct keys, many of them colliding: multiples of a power of two.
            let key = UInt64(random.next(300)) << (step % 3 == 0 ? 40 : 0)
            if random.next(2) == 0 {
                table[key] = step
                model[key] = step
            } else {
                table.removeValue(forKey: key)
                model[key] = nil
            }
            if step % 97 == 0 {
                for (key, value) in model { #expect(table[key] == value) }
                #expect(table.count == model.count)
            }
        }
        for key in (0..<300).flatMap({ [UInt64($0), UInt64($0) << 40] }) { #expect(table[key] == model[key]) }
        #expect(table.count == model.count)
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

    /// Few live keys in a small table: runs wrap around its end all the time.
    @Test(arguments: [4, 5, 6])
    func insertsAndRemovalsInASmallTableAgreeWithADictionary(seed: UInt64) {
        var random = LockGraphSearchTests.Random(state: seed)
        var table = IntegerTable<Int>(capacity: 4)
        var model: [UInt64: Int] = [:]
        for step in 0..<20_000 {
            let key = UInt64(random.next(7))
            if random.next(2) == 0 {
                table[key] = step
                model[key] = step
            } else {
                table.removeValue(forKey: key)
                model[key] = nil
            }
            for key in 0..<UInt64(7) { #expect(table[key] == model[key]) }
        }
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
