/// Renders findings as JUnit XML for CI systems that show test results: a testsuite per
/// trace, a failing testcase per finding (with its text report), and a passing testcase for
/// a trace with none. Findings accepted by a baseline are skipped testcases.
public struct JUnitReporter {
    public init() {}

    public func render(_ report: AnalysisReport, accepted: Set<String> = [], failOn threshold: Severity? = .error) -> String {
        var text = ""
        write(report, accepted: accepted, failOn: threshold) { text += $0 }
        return text
    }

    /// Writes the document a testcase at a time, the same bytes as `render`: a suite's counts
    /// come first, so they are counted before its cases are written.
    public func write(
        _ report: AnalysisReport, accepted: Set<String> = [], failOn threshold: Severity? = .error,
        to out: (String) throws -> Void
    ) rethrows {
        var byFile: [String: [Finding]] = [:]
        for finding in report.findings {
            byFile[finding.locations.first?.file ?? report.files.first ?? "", default: []].append(finding)
        }
        func isSkipped(_ finding: Finding) -> Bool { accepted.contains(finding.fingerprint) }
        func isFailure(_ finding: Finding) -> Bool {
            guard let threshold, !isSkipped(finding) else { return false }
            return finding.severity >= threshold
        }
        let suites = report.files.map { file in
            let findings = byFile[file] ?? []
            return (file: file, findings: findings, failures: findings.count(where: isFailure), skipped: findings.count(where: isSkipped))
        }
        let totalTests = suites.reduce(0) { $0 + max($1.findings.count, 1) }
        let totalFailures = suites.reduce(0) { $0 + $1.failures }
        try out("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        try out("<testsuites name=\"pgtrace\" tests=\"\(totalTests)\" failures=\"\(totalFailures)\" errors=\"0\">\n")
        let text = TextReporter()
        for (file, findings, failures, skipped) in suites {
            let name = XMLText.escaped(file, attribute: true)
            try out(
                "  <testsuite name=\"\(name)\" tests=\"\(max(findings.count, 1))\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\">\n")
            for finding in findings {
                let title = XMLText.escaped("\(finding.rule.rawValue): \(finding.message)", attribute: true)
                let line = finding.locations.first.map { " line=\"\($0.line)\"" } ?? ""
                var testcase = "    <testcase classname=\"pgtrace.\(finding.rule.rawValue)\" name=\"\(title)\" file=\"\(name)\"\(line)>\n"
                if isSkipped(finding) {
                    testcase += "      <skipped message=\"accepted in the baseline\"/>\n"
                } else if isFailure(finding) {
                    testcase += "      <failure type=\"\(finding.rule.rawValue)\" message=\"\(XMLText.escaped(finding.message, attribute: true))\">"
                    testcase += XMLText.escaped(text.render(finding)) + "</failure>\n"
                } else {
                    testcase += "      <system-out>\(XMLText.escaped(text.render(finding)))</system-out>\n"
                }
                try out(testcase + "    </testcase>\n")
            }
            if findings.isEmpty {
                try out("    <testcase classname=\"pgtrace\" name=\"no findings\" file=\"\(name)\"/>\n")
            }
            try out("  </testsuite>\n")
        }
        try out("</testsuites>\n")
    }
}
