import Testing

@testable import PGTrace

/// Names are compared in words where they are short: two names that differ in any one byte,
/// of any length, are two symbols, and a name interned again is the same one.
@Suite struct SymbolTableTests {
    @Test func namesDifferingInAnyOneByteAreDistinct() {
        let table = SymbolTable()
        var symbols: [String: Symbol] = [:]
        for length in 0...40 {
            let base = (0..<length).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) }
            var names = [String(base)]
            for position in 0..<length {
                var changed = base
                changed[position] = "#"
                names.append(String(changed))
            }
            for name in names { symbols[name] = table.intern(name) }
        }
        #expect(Set(symbols.values).count == symbols.count)
        for (name, symbol) in symbols {
            #expect(table.intern(name) == symbol, "\(name)")
            #expect(table[symbol] == name)
            // From a buffer whose bytes around the name differ: no compare reads past it.
            let padded = Array(("%%" + name + "%%").utf8)
            padded.withUnsafeBufferPointer { buffer in
                let bytes = UnsafeBufferPointer(rebasing: buffer[2..<(2 + name.utf8.count)])
                #expect(table.intern(bytes: bytes) == symbol, "\(name)")
            }
        }
    }

    /// A name's key (`NameKey`) is all of a name of up to 16 bytes: of two names of one
    /// length, differing in any one byte, the keys differ there and agree past it; where a name
    /// is longer, they differ only if the byte is among its first 16.
    @Test func aKeyHoldsEveryByteOfAShortName() {
        func key(_ bytes: [UInt8]) -> NameKey { bytes.withUnsafeBufferPointer { NameKey($0) } }
        for length in 0...40 {
            let base = (0..<length).map { UInt8(97 + $0 % 26) }
            #expect(key(base) == key(base), "\(length)")
            if length > 0 { #expect(key(base) != key(Array(base.dropLast())), "\(length)") }
            for position in 0..<length {
                for value: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
                    var changed = base
                    changed[position] = value
                    #expect((key(changed) == key(base)) == (position >= NameKey.inline), "\(length) \(position) \(value)")
                }
            }
        }
    }

    /// The hash loads words that may overlap (the last one, and names of 4 to 7 bytes): every
    /// byte of a name of any length still changes it, so names alike but for one byte do not
    /// all probe the same slots.
    @Test func theHashSeesEveryByte() {
        for length in 1...40 {
            let base = (0..<length).map { UInt8(97 + $0 % 26) }
            var hashes: Set<UInt64> = [base.withUnsafeBufferPointer { SymbolTable.hash($0) }]
            for position in 0..<length {
                var changed = base
                changed[position] = UInt8(ascii: "#")
                hashes.insert(changed.withUnsafeBufferPointer { SymbolTable.hash($0) })
            }
            #expect(hashes.count == length + 1, "\(length)")
        }
    }

    /// The reader tries the last symbol of an attribute first (`hint`): a name of the same
    /// length that differs in any one byte is not taken for it.
    @Test func aHintOfTheSameLengthIsNotTakenForAnotherName() {
        let table = SymbolTable()
        for length in 1...40 {
            let base = String((0..<length).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
            let baseSymbol = table.intern(base)
            for position in 0..<length {
                var changed = Array(base.utf8)
                changed[position] = UInt8(ascii: "#")
                let expected = table.intern(String(decoding: changed, as: UTF8.self))
                var hint: Symbol? = baseSymbol
                let found = changed.withUnsafeBufferPointer { table.intern(bytes: $0, hint: &hint) }
                #expect(found == expected && found != baseSymbol, "\(length) \(position)")
                #expect(hint == expected)
            }
        }
    }

    /// The XML reader tries an attribute's last two symbols first (`recent`, the latest
    /// first): a lock taken over another and released before it (`A B B A`) is found there,
    /// and moved to the front; a name not there, of the same length or not, is interned as
    /// the table has it, and pushes the older of the two out.
    @Test func anAttributesLastTwoSymbolsAreTriedFirst() {
        let table = SymbolTable()
        let names = ["cycA0", "cycB0", "cycB0", "cycA0", "cycB0", "cycA0", "cycA0", "cycB0", "cycA1", "cycB0", "cycA0", "x"]
        let recent = UnsafeMutablePointer<Symbol?>.allocate(capacity: 2)
        defer { recent.deallocate() }
        recent.initialize(repeating: nil, count: 2)
        var kept: [[String?]] = []
        for name in names {
            var bytes = Array(name.utf8)
            let found = bytes.withUnsafeMutableBufferPointer { table.intern(bytes: UnsafeBufferPointer($0), recent: recent) }
            #expect(found == table.intern(name), "\(name)")
            kept.append([recent[0], recent[1]].map { $0.map { table[$0] } })
        }
        #expect(kept == [
            ["cycA0", nil], ["cycB0", "cycA0"], ["cycB0", "cycA0"], ["cycA0", "cycB0"], ["cycB0", "cycA0"], ["cycA0", "cycB0"],
            ["cycA0", "cycB0"], ["cycB0", "cycA0"], ["cycA1", "cycB0"], ["cycB0", "cycA1"], ["cycA0", "cycB0"], ["x", "cycA0"],
        ])
        #expect(table.count == 4)
    }

    /// Names of 16 MB, alike but for their last byte or their length, are each their own,
    /// and the names around them, and those added after the table grew, keep theirs.
    @Test func namesTooLongForASlotsLengthAreStillTheirOwn() {
        let table = SymbolTable()
        let before = table.intern("before")
        let length = (1 << 24) - 1
        var long = [UInt8](repeating: UInt8(ascii: "x"), count: length + 1)
        let longest = long.withUnsafeBufferPointer { table.intern(bytes: $0) }
        long[length] = UInt8(ascii: "y")
        let other = long.withUnsafeBufferPointer { table.intern(bytes: $0) }
        let shorter = long.withUnsafeBufferPointer { table.intern(bytes: UnsafeBufferPointer(rebasing: $0[..<length])) }
        let after = table.intern("after")
        #expect(Set([before, longest, other, shorter, after]).count == 5)
        long[length] = UInt8(ascii: "x")
        #expect(long.withUnsafeBufferPointer { table.intern(bytes: $0) } == longest)
        #expect(long.withUnsafeBufferPointer { table.intern(bytes: UnsafeBufferPointer(rebasing: $0[..<length])) } == shorter)
        #expect(table.intern("before") == before && table.intern("after") == after)
        #expect(table[shorter].utf8.count == length && table[longest].utf8.count == length + 1)
        // Past the first growth of the table, every name is found where it went.
        let many = (0..<5_000).map { table.intern("name\($0)") }
        #expect((0..<5_000).allSatisfy { table.intern("name\($0)") == many[$0] })
        #expect(long.withUnsafeBufferPointer { table.intern(bytes: $0) } == longest)
    }

    /// A slot keeps its name's hash's top 32 bits, and a probe passes over slots whose bits
    /// differ: two names whose bits agree (found among 200k names, as the birthday bound
    /// says) are still told apart by their bytes, before the table grows and after, and every
    /// name is found where it went through ten growths.
    @Test func namesWhoseSlotChecksAgreeAreStillTwo() throws {
        var byCheck: [UInt32: String] = [:]
        var pair: (String, String)?
        for number in 0..<200_000 where pair == nil {
            let name = "lock\(number)"
            var bytes = name
            let check = bytes.withUTF8 { UInt32(truncatingIfNeeded: SymbolTable.hash($0) >> 32) }
            if let other = byCheck[check] { pair = (other, name) } else { byCheck[check] = name }
        }
        let (first, second) = try #require(pair)
        let table = SymbolTable()
        let (a, b) = (table.intern(first), table.intern(second))
        #expect(a != b && table[a] == first && table[b] == second)
        #expect(table.lookup(first) == a && table.lookup(second) == b)
        let many = (0..<300_000).map { table.intern("class\($0)") }
        #expect(Set(many).count == many.count)
        #expect((0..<300_000).allSatisfy { table.lookup("class\($0)") == many[$0] })
        #expect(table.intern(first) == a && table.intern(second) == b)
        #expect(table.lookup("class300000") == nil && table.count == 300_002)
    }

    /// The decoding's hints read only within the table, whatever the ticket: tickets made
    /// before the table grew (from 1,024 slots to 64k), made-up ones, and ones of names in it
    /// and not. A ticket is never 0, the decoding's "none".
    @Test func prefetchTicketsReadOnlyWithinTheTable() {
        let table = SymbolTable()
        var tickets: [UInt64] = []
        for index in 0..<20_000 {
            var name = "lock\(index)"
            tickets.append(name.withUTF8 { table.prefetchSlot(bytes: $0) })
            _ = table.intern(name)
            if index.isMultiple(of: 3) { table.prefetchRecord(tickets[index / 2]) }
        }
        #expect(!tickets.contains(0))
        for ticket in tickets + [0, 1, 0xFFFF_FFFF, 1 << 32, UInt64.max, 0x1234_5678_9ABC_DEF0] {
            table.prefetchRecord(ticket)
        }
        #expect(table.count == 20_000 && table.lookup("lock19999") != nil)
    }
}
