import Testing

@testable import PGTrace

/// The reader's list of the locks a cpu took: the latest first, the oldest falling off past
/// its depth, a released one taken out with the rest moved up.
@Suite struct HeldNamesTests {
    @Test func theLatestIsFoundFirstAndTheOldestFallsOff() {
        let symbols = SymbolTable()
        let entries = HeldNames.allocate(cpus: 1)
        defer { entries.deallocate() }
        let held = HeldNames(entries)
        func position(_ name: String) -> Int? {
            var name = name
            return name.withUTF8 { held.position(of: $0, key: NameKey($0), in: symbols) }
        }
        let names = (0...HeldNames.depth).map { "lock\($0)" }
        #expect(position("lock0") == nil)
        for name in names { held.push(symbols.intern(name), instance: nil) }
        // lock0 was pushed out by the depth's worth after it.
        #expect(position("lock0") == nil)
        #expect(position("lock\(HeldNames.depth)") == 0 && position("lock1") == HeldNames.depth - 1)
        // A lock taken again: found at the front, with its instance; lock1 falls off.
        held.push(symbols.intern("lock5"), instance: symbols.intern("again"))
        #expect(position("lock5") == 0 && held.instance(at: 0).map { symbols[$0] } == "again")
        #expect(position("lock1") == nil && position("lock2") == HeldNames.depth - 1)
        held.remove(at: 0)
        #expect(position("lock5") == HeldNames.depth - 5 && held.instance(at: HeldNames.depth - 5) == nil)
        held.remove(at: 2)
        #expect(position("lock\(HeldNames.depth - 2)") == nil)
        #expect(position("lock2") == HeldNames.depth - 3 && position("lock5") == HeldNames.depth - 6)
        for _ in 0..<(HeldNames.depth - 2) { held.remove(at: 0) }
        #expect(names.allSatisfy { position($0) == nil })
        #expect(position("lock") == nil)
    }
}
