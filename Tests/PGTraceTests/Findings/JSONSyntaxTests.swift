import Foundation
import Testing

@testable import PGTrace

/// Where a baseline stops being JSON: the place a malformed one's error names, found by the
/// grammar itself (FoundationEssentials' decoder says only that the JSON is malformed).
@Suite struct JSONPlaceTests {
    private func error(_ text: String) -> String? {
        JSONPlace.syntaxError(in: Array(text.utf8)).map { "\($0.line):\($0.column): \($0.problem)" }
    }

    @Test func theFirstByteThatCannotGoOnIsNamed() {
        #expect(error("{\"version\": 1,\n \"findings\": [ \n oops ]}") == "3:2: expected a value")
        #expect(error("{\"version\": 2,\n \"findings\": [") == "2:15: it ends before its last value is complete")
        #expect(error("") == "1:1: it ends before its last value is complete")
        #expect(error("{\"version\" 2}") == "1:12: expected ':' after a key")
        #expect(error("{\"version\": 2,}") == "1:15: expected a key (a string in double quotes)")
        #expect(error("[1, 2,]") == "1:7: expected a value")
        #expect(error("[1 2]") == "1:4: expected ',' or ']'")
        #expect(error("{\"a\": 1 \"b\": 2}") == "1:9: expected ',' or '}'")
        #expect(error("{} {}") == "1:4: more follows the document's value")
        #expect(error("{\"a\": 012}") == "1:8: a number does not start with 0")
        #expect(error("{\"a\": -}") == "1:8: expected a digit")
        #expect(error("{\"a\": 1.}") == "1:9: expected a digit after '.'")
        #expect(error("{\"a\": 1e+}") == "1:10: expected a digit of the exponent")
        #expect(error("{\"a\": \"x\\q\"}") == "1:10: not an escape of JSON")
        #expect(error("{\"a\": \"\\u12g4\"}") == "1:12: expected a hex digit of a \\u escape")
        #expect(error("{\"a\": \"tab\there\"}") == "1:11: a control character in a string (write it as an escape)")
        #expect(error("{\"a\": \"open") == "1:12: it ends inside a string")
        #expect(error("{\"a\": tru}") == "1:7: expected a value")
    }

    @Test func jsonIsNotAnError() {
        for text in ["{}", "[]", " {\"version\": 2, \"findings\": [{\"a\": [true, false, null, -0.5e-3, 10E2, \"\\u00e9\\n\"]}]}\n", "0", "\"x\""] {
            #expect(error(text) == nil, "\(text)")
        }
    }

    /// A hostile document nests deeper than any stack: the check keeps its own.
    @Test func deepNestingIsCheckedWithoutRecursion() {
        #expect(error(String(repeating: "[", count: 100_000)) == "1:100001: it ends before its last value is complete")
        #expect(error(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)) == nil)
    }

    /// Against the decoder, on documents made by breaking a baseline at random: every one it
    /// finds malformed has a place; every one the grammar takes, it parses. (The decoder is
    /// the more lenient: it takes a comma before a closing bracket.)
    @Test func namesAPlaceWheneverTheDecoderFindsJSONMalformed() throws {
        let valid = Array("{\"version\": 2, \"findings\": [\n  {\"fingerprint\": \"0123456789abcdef\", \"rule\": \"recursive-locking\", \"message\": \"a \\\"quoted\\\" \\u00e9\"},\n  {\"n\": [1, -2.5, 3e4, true, false, null]}\n]}\n".utf8)
        let alphabet = Array("{}[]:,\"\\ \n-.0123456789eEtrufalsn".utf8)
        var random = SplitMix(state: 15)
        var malformed = 0
        for _ in 0..<3_000 {
            var text = valid
            for _ in 0...Int.random(in: 0...2, using: &random) {
                let at = Int.random(in: 0..<text.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: text.remove(at: at)
                case 1: text.insert(alphabet.randomElement(using: &random)!, at: at)
                default: text[at] = alphabet.randomElement(using: &random)!
                }
            }
            let place = JSONPlace.syntaxError(in: text)
            if case DecodingError.dataCorrupted(let context)? = decodingError(text), context.codingPath.isEmpty {
                malformed += 1
                #expect(place != nil, "\(String(decoding: text, as: UTF8.self))")
            } else if place == nil {
                #expect(throws: Never.self, "\(String(decoding: text, as: UTF8.self))") {
                    try JSONSerialization.jsonObject(with: Data(text), options: .fragmentsAllowed)
                }
            }
        }
        #expect(malformed > 1_000)
    }

    private func decodingError(_ text: [UInt8]) -> Error? {
        do {
            _ = try JSONDecoder().decode(Baseline.self, from: Data(text))
            return nil
        } catch {
            return error
        }
    }
}
