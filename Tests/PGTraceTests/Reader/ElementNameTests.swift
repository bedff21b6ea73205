@testable import PGTrace
import Testing

/// The attribute names of trace format v1, written out in `AttributeName` beside its cases:
/// each is its case's name (wait-outer's, hyphenated, as the format spells it), in order.
@Suite struct ElementNameTests {
    @Test func eachAttributesNameIsItsCasesName() {
        for attribute in AttributeName.allCases {
            let expected = attribute == .waitOuter ? "wait-outer" : "\(attribute)"
            #expect(attribute.name == expected, "case \(attribute.rawValue)")
            #expect(AttributeName.byName[expected] == attribute)
        }
        #expect(AttributeName.byName.count == AttributeName.allCases.count)
    }

    @Test func aNameTheFormatUsesIsFoundByIt() {
        #expect(AttributeName.byName["lock"] == .lock)
        #expect(AttributeName.byName["try"] == .try)
        #expect(AttributeName.byName["wait-outer"] == .waitOuter)
        #expect(AttributeName.byName["waitOuter"] == nil)
    }
}
