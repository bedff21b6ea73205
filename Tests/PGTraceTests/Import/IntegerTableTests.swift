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

    @Test func removingWhatIsNotThereChangesNothing() {
        var table = IntegerTable<String>()
        table[7] = "seven"
        table.removeValue(forKey: 8)
        #expect(table[7] == "seven" && table.count == 1)
        table.removeValue(forKey: 7)
        #expect(table[7] == nil && table.count == 0)
    }
}
