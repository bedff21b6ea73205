import PGTrace
import Testing

/// A baseline as CI keeps it: what it accepts, and where a broken one is broken.
@Suite struct BaselineTests {
    private func error(_ json: String) -> String? {
        do {
            _ = try Baseline(json: Array(json.utf8), file: "b.json")
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Every error names the place of the value it is about, as a trace's errors do.
    @Test func aBaselineErrorNamesLineAndColumn() {
        #expect(error("{\n  \"version\": 3,\n  \"findings\": []\n}") == "b.json:2:14: error: unsupported baseline version 3; this pgtrace writes version 2")
        #expect(error("{\"findings\": [\n  {\"fingerprint\": \"0123456789abcdef\", \"rule\": \"recursive-locking\", \"message\": \"m\"},\n  {\"fingerprint\": \"0123456789abcdef\", \"rule\": 7, \"message\": \"m\"}\n], \"version\": 2}")?
            .hasPrefix("b.json:3:47: error: not a pgtrace baseline: at .findings[1].rule:") == true)
        #expect(error("{\"version\": 2, \"findings\": [\n  {\"rule\": \"recursive-locking\", \"message\": \"m\"}]}")?
            .hasPrefix("b.json:2:3: error: not a pgtrace baseline: at .findings[0]:") == true)
        #expect(error("{\"version\": \"two\", \"findings\": []}")?.hasPrefix("b.json:1:13: error: not a pgtrace baseline: at .version:") == true)
    }

    /// A version that is JSON but no Int: the decoder calls the document malformed, with no
    /// place; the baseline's error names the version's.
    @Test func aVersionPastIntIsPlaced() {
        for version in ["2.5", "1e999", "99999999999999999999999"] {
            #expect(error("{\"findings\": [],\n  \"version\": \(version)}") == "b.json:2:14: error: not a pgtrace baseline: at .version: \(version) is not a version number")
        }
    }

    /// An entry accepts the finding of its fingerprint for the rule it names: one edited to
    /// name no rule accepts nothing (it accepted the finding, by fingerprint alone).
    @Test func anEntryAcceptsTheFindingOfItsRuleOnly() throws {
        let analysis = Analysis()
        try analysis.analyze(
            bytes: Array("""
                <?xml version="1.0"?>
                <trace version="1" cpus="1"><events>
                <acquire cpu="0" task="a" lock="L" instance="x"/>
                <acquire cpu="0" task="a" lock="L" instance="x"/>
                </events></trace>
                """.utf8), displayName: "t.xml")
        let finding = try #require(analysis.findings.first)
        #expect(finding.rule == .recursiveLocking)
        for (rule, accepted) in [("recursive-locking", true), ("nope", false), ("circular-dependency", false)] {
            let baseline = try Baseline(
                json: Array("{\"version\": 2, \"findings\": [{\"fingerprint\": \"\(finding.fingerprint)\", \"rule\": \"\(rule)\", \"message\": \"m\"}]}".utf8),
                file: "b.json")
            let comparison = baseline.compare(analysis.findings)
            #expect(comparison.accepted.map(\.fingerprint) == (accepted ? [finding.fingerprint] : []), "\(rule)")
            #expect(comparison.new.count == (accepted ? 0 : 1), "\(rule)")
            #expect(comparison.stale.map(\.rule) == (accepted ? [] : [rule]), "\(rule)")
        }
    }
}
