import Testing

@testable import PGTrace

/// A finding set keeps one finding per problem (rule and key) and counts the rest; it finds a
/// problem through 32 bits of a hash, and tells apart the problems whose bits agree by their
/// own rule and key, compared as bytes.
@Suite struct FindingSetTests {
    private static func finding(_ rule: Rule, _ key: String, count: Int = 1) -> Finding {
        var finding = Finding(rule: rule, severity: .error, message: key, locks: [], locations: [], key: key)
        finding.count = count
        return finding
    }

    /// Keys alike but for one byte, of several rules, reported, counted again and merged in a
    /// random order, against a model keyed by rule and key bytes; past several growths.
    @Test func everyProblemIsCountedWhereAModelCountsIt() {
        var random = SplitMix(state: 44)
        let rules: [Rule] = [.circularDependency, .ipiDeadlock, .badUnlock]
        let keys = (0..<3_000).map { "cls\($0 % 1_000) cls\($0 / 1_000)" } + ["", " ", "é", "e\u{301}"]
        var set = FindingSet()
        var model: [String: Int] = [:]
        var order: [String] = []
        func id(_ rule: Rule, _ key: String) -> String { rule.rawValue + "|" + key.utf8.map { String($0) }.joined(separator: ",") }
        for _ in 0..<12_000 {
            let rule = rules[random.next(rules.count)]
            let key = keys[random.next(keys.count)]
            let known = model[id(rule, key)] != nil
            #expect(set.hasReported(rule, key: key) == known)
            switch random.next(3) {
            case 0:
                let isNew = set.report(Self.finding(rule, key))
                #expect(isNew == !known)
                if !known { order.append(id(rule, key)) }
                model[id(rule, key), default: 0] += 1
            case 1:
                let counted = set.countAgain(rule, key: key, by: 2)
                #expect(counted == known)
                if known { model[id(rule, key)]! += 2 }
            default:
                set.merge(Self.finding(rule, key, count: 3))
                if !known { order.append(id(rule, key)) }
                model[id(rule, key), default: 0] += 3
            }
        }
        #expect(set.findings.map { id($0.rule, $0.key) } == order)
        #expect(set.findings.allSatisfy { model[id($0.rule, $0.key)] == $0.count })
        set.removeAll()
        #expect(set.findings.isEmpty && !set.hasReported(rules[0], key: keys[0]))
        let isNewAgain = set.report(Self.finding(rules[0], keys[0]))
        #expect(isNewAgain)
    }

    /// Two classes named "café", composed and decomposed, are two classes to the symbol
    /// table; each closes a cycle with C, and both cycles are reported (as Strings, the two
    /// keys were equal, and the second cycle went unreported).
    @Test func cyclesThroughNamesAlikeButForTheirNormalizationAreTwo() throws {
        var trace = TraceBuilder(cpus: 1)
        for name in ["caf\u{E9}", "cafe\u{301}"] {
            trace.nest("C", name)
            trace.nest(name, "C")
        }
        let cycles = try analyze(trace).findings.filter { $0.rule == .circularDependency }
        #expect(cycles.count == 2)
        #expect(Set(cycles.map { Array($0.key.utf8) }).count == 2)
        #expect(cycles.allSatisfy { $0.count == 1 })
    }

    /// One cycle through two classes named "café", composed and decomposed, closed by one
    /// edge and met again through the other (a read then a write of the same pair): its key
    /// sorts the names by their bytes, so both meetings are the one problem.
    @Test func aCycleThroughNamesAlikeButForTheirNormalizationIsOneProblem() throws {
        let (composed, decomposed) = ("caf\u{E9}", "cafe\u{301}")
        var trace = TraceBuilder(cpus: 1)
        trace.declare(composed, .rwlock)
        trace.declare(decomposed, .rwlock)
        trace.acquire(composed, mode: .read)
        trace.acquire(decomposed)
        trace.release(decomposed)
        trace.release(composed)
        trace.nest(decomposed, composed)
        trace.nest(composed, decomposed)
        let cycles = try analyze(trace).findings.filter { $0.rule == .circularDependency }
        #expect(cycles.count == 1)
    }
}
