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
}
