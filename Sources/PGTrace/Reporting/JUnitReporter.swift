/// Renders findings as JUnit XML for CI systems that show test results: a testsuite per
/// trace, a failing testcase per finding (with its text report), and a passing testcase for
/// a trace with none. Findings accepted by a baseline are skipped testcases.
public struct JUnitReporter {
    public init() {}

    public func render(_ report: AnalysisReport, accepted: Set<String> = [], failOn threshold: Severity? = .error) -> String {
        var byFile: [String: [Finding]] = [:]
        for finding in report.findings {
            byFile[finding.locations.first?.file ?? report.files.first ?? "", default: []].append(finding)
        }
        let text = TextReporter()
        var suites = ""
        var totalTests = 0
        var totalFailures = 0
        for file in report.files {
            let findings = byFile[file] ?? []
            var cases = ""
            var failures = 0
            var skipped = 0
            for finding in findings {
                let name = XMLText.escaped("\(finding.rule.rawValue): \(finding.message)")
                let line = finding.locations.first.map { " line=\"\($0.line)\"" } ?? ""
                cases += "    <testcase classname=\"pgtrace.\(finding.rule.rawValue)\" name=\"\(name)\" file=\"\(XMLText.escaped(file))\"\(line)>\n"
                if accepted.contains(finding.fingerprint) {
                    skipped += 1
                    cases += "      <skipped message=\"accepted in the baseline\"/>\n"
                } else if let threshold, finding.severity >= threshold {
                    failures += 1
                    cases += "      <failure type=\"\(finding.rule.rawValue)\" message=\"\(XMLText.escaped(finding.message))\">"
                    cases += XMLText.escaped(text.render(finding)) + "</failure>\n"
                } else {
                    cases += "      <system-out>\(XMLText.escaped(text.render(finding)))</system-out>\n"
                }
                cases += "    </testcase>\n"
            }
            var tests = findings.count
            if findings.isEmpty {
                tests = 1
                cases += "    <testcase classname=\"pgtrace\" name=\"no findings\" file=\"\(XMLText.escaped(file))\"/>\n"
            }
            totalTests += tests
            totalFailures += failures
            suites += "  <testsuite name=\"\(XMLText.escaped(file))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\">\n"
            suites += cases + "  </testsuite>\n"
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"pgtrace\" tests=\"\(totalTests)\" failures=\"\(totalFailures)\" errors=\"0\">\n"
            + suites + "</testsuites>\n"
    }
}
