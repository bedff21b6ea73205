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
}
