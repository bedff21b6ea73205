import Foundation
import Testing

@testable import PGTrace

/// Where a baseline stops being JSON: the place a malformed one's error names, found by the
/// grammar itself (FoundationEssentials' decoder says only that the JSON is malformed).
@Suite(.timeLimit(.minutes(1))) struct JSONSyntaxTests {
    private func error(_ bytes: [UInt8]) -> String? {
        JSONSyntax.firstError(in: bytes).map { "\($0.line):\($0.column): \($0.problem)" }
    }

    private func error(_ text: String) -> String? { error(Array(text.utf8)) }

    @Test func theFirstByteThatCannotGoOnIsNamed() {
        #expect(error("{\"version\": 1,\n \"findings\": [ \n oops ]}") == "3:2: expected a value")
        #expect(error("{\"version\": 2,\n \"findings\": [") == "2:15: it ends before its last value is complete")
        #expect(error("") == "1:1: it ends before its last value is complete")
        #expect(error("{\"version\" 2}") == "1:12: expected ':' after a key")
        #expect(error("{\"version\": 2,,}") == "1:15: expected a key (a string in double quotes)")
        #expect(error("[1, , 2]") == "1:5: expected a value")
        #expect(error("[1 2]") == "1:4: expected ',' or ']'")
        #expect(error("{\"a\": 1 \"b\": 2}") == "1:9: expected ',' or '}'")
        #expect(error("{} {}") == "1:4: more follows the document's value")
        #expect(error("{\"a\": 012}") == "1:8: a number does not start with 0")
        #expect(error("{\"a\": -}") == "1:8: expected a digit")
        #expect(error("{\"a\": 1.}") == "1:9: expected a digit after '.'")
        #expect(error("{\"a\": 1e+}") == "1:10: expected a digit of the exponent")
        #expect(error("{\"a\": \"x\\q\"}") == "1:9: not an escape of JSON")
        #expect(error("{\"a\": \"\\u12g4\"}") == "1:8: expected four hex digits after \\u")
        #expect(error("{\"a\": \"tab\there\"}") == "1:11: a control character in a string (write it as an escape)")
        #expect(error("{\"a\": \"open") == "1:12: it ends inside a string")
        #expect(error("{\"a\": tru}") == "1:7: expected a value")
    }

    /// A key given twice in one object: the decoder takes its first value, jq and Python's
    /// json the last (helper-138: a baseline of two "findings" gated CI one way or the other
    /// with the order of its keys). Keys of two objects, or alike in values, are no repeat.
    @Test func aKeyGivenTwiceInOneObjectIsNamedWhereItIsGivenAgain() throws {
        #expect(error("{\"version\": 2,\n \"findings\": [], \"findings\": []}") == "2:18: the key \"findings\" is given twice in one object")
        #expect(error("{\"a\": {\"b\": 1, \"b\": 2}}") == "1:16: the key \"b\" is given twice in one object")
        #expect(error("[{\"a\": 1}, {\"a\": 1}, {\"b\": {\"a\": \"a\"}, \"a\": [\"a\", \"a\"]}]") == nil)
        let repeated = try #require(JSONSyntax.firstRepeatedKey(in: Array("{\"x\": 1, \"y\": {\"z\": 1, \"z\": 2}}".utf8)))
        #expect(repeated.line == 1 && repeated.column == 24 && repeated.key == "z")
        // Keys compare as decoded, as every reader compares them (helper-139: "\u0076ersion"
        // passed for a second "version", which Python's json then read).
        #expect(error("{\"version\": 2, \"\\u0076ersion\": 1}") == "1:16: the key \"version\" is given twice in one object")
        #expect(error("{\"a\\/b\": 1, \"a/b\": 2}") == "1:13: the key \"a/b\" is given twice in one object")
        #expect(error("{\"\u{1F600}\": 1, \"\\ud83d\\ude00\": 2}") == "1:13: the key \"\u{1F600}\" is given twice in one object")
        #expect(error("{\"\\n\": 1, \"\\u000a\": 2, \"n\": 3}") == "1:11: the key \"\n\" is given twice in one object")
        #expect(error("{\"\\u0061\": 1, \"b\": 2, \"\\t\": 3, \"t\": 4}") == nil)
        // Only a repeat the document reaches as JSON.
        #expect(JSONSyntax.firstRepeatedKey(in: Array("{\"a\": oops, \"a\": 1}".utf8)) == nil)
        // What the decoder makes of one: its first value, where a baseline is now refused.
        struct Version: Decodable { let version: Int }
        #expect(try JSONDecoder().decode(Version.self, from: Data("{\"version\": 1, \"version\": 2}".utf8)).version == 1)
        #expect(throws: TraceInputError(file: "b.json", line: 1, column: 16, message: "not a pgtrace baseline: the key \"version\" is given twice in one object")) {
            _ = try Baseline(json: Array("{\"version\": 2, \"version\": 2, \"findings\": []}".utf8), file: "b.json")
        }
    }

    /// What the decoder refuses in the strings it reads: bytes that are not UTF-8 and
    /// surrogate escapes without their pair.
    @Test func stringsAreUTF8AndTheirSurrogatesPaired() {
        #expect(error(Array("{\"a\": \"caf".utf8) + [0xC3, 0x28] + Array("\"}".utf8)) == "1:11: not UTF-8")
        #expect(error(Array("{\"a\": \"".utf8) + [0xED, 0xA0, 0x80] + Array("\"}".utf8)) == "1:8: not UTF-8")  // a surrogate, encoded
        #expect(error(Array("{\"a\": \"".utf8) + [0xC0, 0xAF] + Array("\"}".utf8)) == "1:8: not UTF-8")  // overlong
        #expect(error(Array("{\"a\": \"".utf8) + [0xF0, 0x9F, 0x98] + Array("\"}".utf8)) == "1:8: not UTF-8")  // cut short
        #expect(error(Array("{\"a\": \"caf\u{e9} \u{1F600}\"}".utf8)) == nil)
        #expect(error("{\"a\": \"\\ud800\"}") == "1:8: a high surrogate escape without its low one")
        #expect(error("{\"a\": \"\\udc00\\ud800\"}") == "1:8: a low surrogate escape without its high one")
        #expect(error("{\"a\": \"\\ud83d\\ude00\"}") == nil)
    }

    /// The decoder's allowances and limits, as the decoder has them: a byte order mark, a
    /// comma before a closing bracket, 512 objects and arrays open at once.
    @Test func theDecodersAllowancesAndLimits() throws {
        #expect(error([0xEF, 0xBB, 0xBF] + Array("{\"a\": [1, 2,], \"b\": {\"c\": 3,},}".utf8)) == nil)
        #expect(error([0xEF, 0xBB, 0xBF] + Array("{\n \"a\": x}".utf8)) == "2:7: expected a value")
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(error(deepest) == nil)
        #expect(error("[" + deepest + "]") == "1:513: objects and arrays nested more than 512 deep")
        for text in [deepest, "[" + deepest + "]"] {
            let decoded = (try? JSONDecoder().decode(Nest.self, from: Data(text.utf8))) != nil
            #expect(decoded == (error(text) == nil))
        }
    }

    /// Arrays in arrays, as deep as they go.
    private struct Nest: Decodable {
        let inner: [Nest]
        init(from decoder: Decoder) throws { inner = try decoder.singleValueContainer().decode([Nest].self) }
    }

    /// UTF-16 and UTF-32, which the decoder reads too, are told apart from UTF-8 (and not
    /// placed): a byte order mark of theirs, or a zero byte among the first four.
    @Test func utf16AndUTF32AreToldApart() {
        let text = "{\"version\": 2,\n \"findings\": x}"
        let utf16 = Array(text.utf16)
        let bigEndian16: [UInt8] = [0xFE, 0xFF] + utf16.flatMap { unit -> [UInt8] in [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        let littleEndian16: [UInt8] = utf16.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let bigEndian32: [UInt8] = text.unicodeScalars.flatMap { scalar -> [UInt8] in
            [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: scalar.value >> UInt32($0)) }
        }
        for bytes in [bigEndian16, littleEndian16, bigEndian32, [0xFF, 0xFE, 0x00, 0x00] + bigEndian32.dropFirst(4)] {
            #expect(!JSONSyntax.isUTF8(bytes))
        }
        #expect(JSONSyntax.isUTF8(Array(text.utf8)) && JSONSyntax.isUTF8([0xEF, 0xBB, 0xBF] + Array(text.utf8)) && JSONSyntax.isUTF8([]))
        #expect((try? Baseline(json: bigEndian16, file: "b.json")) == nil)
    }

    @Test func jsonIsNotAnError() {
        for text in ["{}", "[]", " {\"version\": 2, \"findings\": [{\"a\": [true, false, null, -0.5e-3, 10E2, \"\\u00e9\\n\"]}]}\n", "0", "\"x\""] {
            #expect(error(text) == nil, "\(text)")
        }
    }

    /// A hostile document nests deeper than any stack: the check keeps its own, and stops at
    /// the decoder's limit.
    @Test func deepNestingIsCheckedWithoutRecursion() {
        #expect(error(String(repeating: "[", count: 100_000)) == "1:513: objects and arrays nested more than 512 deep")
        #expect(error(String(repeating: "[", count: 300)) == "1:301: it ends before its last value is complete")
    }

    /// Against the decoder, on documents made by breaking a baseline at random (ASCII and
    /// not): every one it finds malformed has a place; every one the grammar takes, the
    /// decoder parses or refuses for a value it reads (a number past Int where the version is).
    @Test func namesAPlaceWheneverTheDecoderFindsJSONMalformed() throws {
        let valid = Array("{\"version\": 2, \"findings\": [\n  {\"fingerprint\": \"0123456789abcdef\", \"rule\": \"recursive-locking\", \"message\": \"a \\\"quoted\\\" \\u00e9 \\ud83d\\ude00 caf\u{e9}\"},\n  {\"n\": [1, -2.5, 3e4, true, false, null]}\n]}\n".utf8)
        let alphabet = Array("{}[]:,\"\\ \n-.0123456789eEtrufalsnud".utf8) + [0x00, 0x01, 0x7F, 0x80, 0xBF, 0xC3, 0xE9, 0xED, 0xF0, 0xFF]
        var random = SplitMix(state: 15)
        var malformed = 0
        for _ in 0..<4_000 {
            var text = valid
            for _ in 0...Int.random(in: 0...2, using: &random) {
                let at = Int.random(in: 0..<text.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: text.remove(at: at)
                case 1: text.insert(alphabet.randomElement(using: &random)!, at: at)
                default: text[at] = alphabet.randomElement(using: &random)!
                }
            }
            let place = JSONSyntax.firstError(in: text)
            if case DecodingError.dataCorrupted(let context)? = decodingError(text), context.codingPath.isEmpty, place == nil,
                JSONSyntax.isUTF8(text)
            {
                // Only a version past Int is left: JSON, but not a number the decoder reads.
                let version = try #require(JSONPlace.offset(of: [Version.version], in: text), "\(String(decoding: text, as: UTF8.self))")
                #expect(Int(String(decoding: text[version...].prefix { "-+.eE0123456789".utf8.contains($0) }, as: UTF8.self)) == nil)
            }
            if case DecodingError.dataCorrupted? = decodingError(text) { malformed += 1 }
        }
        #expect(malformed > 1_000)
    }

    private enum Version: String, CodingKey { case version }

    private func decodingError(_ text: [UInt8]) -> Error? {
        do {
            _ = try JSONDecoder().decode(Baseline.self, from: Data(text))
            return nil
        } catch {
            return error
        }
    }
}
