import Testing

@testable import PGTrace

/// Findings are put in order by comparing them where they lie (`Finding.precedes`), as their
/// text keys (`Finding.order`) compare: the same order, without twenty strings a finding.
@Suite struct FindingOrderTests {
    /// Findings that differ, or not, in each element of their keys: files that sort before
    /// and after a rule's name, lines past 12 digits and below zero (the text key's padding
    /// then no longer orders them as numbers), evidence lists of different lengths (a
    /// fingerprint then meets a line), messages.
    static func findings() -> [Finding] {
        var random = SplitMix(state: 12)
        let rules: [Rule] = [.circularDependency, .recursiveLocking, .badUnlock]
        let files = ["a.xml", "t.xml", "circular-dependency", "z.xml", "é.xml", "e\u{301}.xml"]
        let numbers = [0, 1, 9, 10, 99, 100, 999_999_999_999, 1_000_000_000_000, 5_000_000_000_000, -1, -2, -10, 42]
        var findings: [Finding] = []
        for _ in 0..<400 {
            let locations = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                Evidence(
                    file: files.randomElement(using: &random)!, line: numbers.randomElement(using: &random)!,
                    column: numbers.randomElement(using: &random)!, event: numbers.randomElement(using: &random)!,
                    cpu: 0, role: "acquires A")
            }
            findings.append(Finding(
                rule: rules.randomElement(using: &random)!, severity: .error,
                message: ["m", "n", ""].randomElement(using: &random)!, locks: ["A"], locations: locations,
                key: ["A B", "B C"].randomElement(using: &random)!))
        }
        // Each again with its first location's line moved by one, and twice identical.
        for finding in findings.prefix(50) {
            var moved = finding
            if !moved.locations.isEmpty { moved.locations[0].line += 1 }
            findings += [moved, finding]
        }
        return findings
    }

    @Test func findingsCompareAsTheirKeysDo() {
        let findings = Self.findings()
        let keys = findings.map(\.order)
        for i in findings.indices {
            for j in findings.indices {
                #expect(
                    Finding.precedes(
                        findings[i], findings[j], findings[i].baseFingerprintValue, findings[j].baseFingerprintValue)
                        == keys[i].lexicographicallyPrecedes(keys[j]),
                    "\(keys[i]) against \(keys[j])")
            }
        }
    }

    @Test func canonicalOrderIsTheKeysOrder() {
        let findings = Self.findings()
        let canonical = Finding.canonical(findings)
        #expect(canonical.map(\.order) == findings.map(\.order).sorted { $0.lexicographicallyPrecedes($1) })
        // Those that read the same are numbered in that order.
        var seen: [String: Int] = [:]
        for finding in canonical {
            seen[finding.baseFingerprint, default: 0] += 1
            #expect(finding.occurrence == seen[finding.baseFingerprint])
        }
    }

    /// Two sets that met one problem keep, merged either way, the finding whose evidence
    /// comes first, counted as both were; and one set merged into another keeps its own.
    @Test func aMergeKeepsTheFindingWhoseEvidenceComesFirst() {
        func finding(line: Int, count: Int, note: String) -> Finding {
            var finding = Finding(
                rule: .circularDependency, severity: .error, message: "A -> B -> A", locks: ["A", "B"],
                locations: [Evidence(file: "t.xml", line: line, column: 1, event: line, cpu: 0, role: "acquires A")],
                notes: [note], key: "A B")
            finding.count = count
            return finding
        }
        var early = FindingSet()
        early.report(finding(line: 7, count: 2, note: "early"))
        var late = FindingSet()
        late.report(finding(line: 9, count: 3, note: "late"))
        late.report(Finding(rule: .badUnlock, severity: .warning, message: "m", locks: [], locations: [], key: "A B"))
        for (into, from) in [(early, late), (late, early)] {
            var merged = into
            merged.merge(from)
            #expect(merged.findings.count == 2)
            let cycle = merged.findings.first { $0.rule == .circularDependency }
            #expect(cycle?.notes == ["early"] && cycle?.locations.first?.line == 7 && cycle?.count == 5)
        }
    }

    /// A fingerprint is made only where the evidence and rule leave two findings level.
    @Test func aFingerprintIsAskedForOnlyAtATie() {
        let early = Finding(
            rule: .badUnlock, severity: .error, message: "m", locks: [],
            locations: [Evidence(file: "t.xml", line: 1, column: 1, event: 0, cpu: 0, role: "r")], key: "k")
        var late = early
        late.locations[0].line = 2
        var asked = 0
        func print(_ finding: Finding) -> UInt64 {
            asked += 1
            return finding.baseFingerprintValue
        }
        // (Outside #expect, which would evaluate each argument to show it.)
        let before = Finding.precedes(early, late, print(early), print(late))
        #expect(before && asked == 0)
        let same = Finding.precedes(early, early, print(early), print(early))
        #expect(!same && asked == 2)
    }

    /// FNV-1a's published values, written as 16 lowercase hex digits, zero-padded.
    @Test func fingerprintsAreFNV1aInHex() {
        #expect(Finding.fnv1a64("") == "cbf29ce484222325")
        #expect(Finding.fnv1a64("a") == "af63dc4c8601ec8c")
        #expect(Finding.fnv1a64("foobar") == "85944171f73967e8")
        #expect(FNV1a64.hex(0xab) == "00000000000000ab")
        let finding = Finding(rule: .badUnlock, severity: .error, message: "m", locks: [], locations: [], key: "k")
        #expect(finding.baseFingerprint == FNV1a64.hex(finding.baseFingerprintValue))
        #expect(finding.baseFingerprint == Finding.fnv1a64("v2\nbad-unlock\nk\n"))
    }
}
