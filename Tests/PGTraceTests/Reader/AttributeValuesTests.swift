import Testing

@testable import PGTrace

/// Integers in attributes (cpus, irqs, time stamps) are read without a check per digit where
/// they are short enough that they cannot overflow; the longest still say when they do.
@Suite struct AttributeValuesTests {
    private func parse(_ text: String) -> Int? {
        Array(text.utf8).withUnsafeBufferPointer { AttributeValues.parseInteger($0) }
    }

    @Test func integersUpToIntMaxAreRead() {
        #expect(parse("0") == 0)
        #expect(parse("291040") == 291_040)
        #expect(parse("999999999999999999") == 999_999_999_999_999_999)
        #expect(parse("9223372036854775807") == Int.max)
        #expect(parse("-9223372036854775807") == -Int.max)
        #expect(parse("+17") == 17)
        #expect(parse(" 42\t") == 42)
        // Leading zeros past eighteen digits are still a small number.
        #expect(parse("000000000000000000000001") == 1)
    }

    /// The in-place path takes plain digits only, as many as cannot overflow, and reads them
    /// as the full parse does; everything else it leaves to the full parse.
    @Test func theInPlacePathAgreesWithTheFullParse() {
        let texts = ["0", "7", "007", "291040", "999999999999999999", "1000000000000000000", "9223372036854775807",
                     "", " 1", "1 ", "+1", "-1", "1a", "a1", "/", ":", "12:5"]
        for text in texts {
            let bytes = Array(text.utf8)
            let fast = bytes.withUnsafeBufferPointer { $0.baseAddress.flatMap { AttributeValues.parseDigits($0, count: bytes.count) } }
            let full = parse(text)
            let plain = !bytes.isEmpty && bytes.count <= 18 && bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            #expect(fast == (plain ? full : nil), "\(text)")
        }
    }

    @Test func overflowAndNonDigitsAreNil() {
        #expect(parse("9223372036854775808") == nil)
        #expect(parse("99999999999999999999") == nil)
        for text in ["", "-", "+", "12a", "4 2", "1/", ":1", "0x10", "１"] {
            #expect(parse(text) == nil, "\(text)")
        }
    }
}
