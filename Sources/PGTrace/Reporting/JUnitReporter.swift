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
        // Each suite's findings by their place in the report, made as they are written.
        let findings = report.findings
        var byFile: [String: [Int]] = [:]
        for index in findings.indices {
            byFile[findings.firstFile(at: index) ?? report.files.first ?? "", default: []].append(index)
        }
        func isSkipped(_ index: Int) -> Bool { accepted.contains(findings.fingerprint(at: index)) }
        func isFailure(_ index: Int) -> Bool {
            guard let threshold, !isSkipped(index) else { return false }
            return findings.severity(at: index) >= threshold
        }
        let suites = report.files.map { file in
            let positions = byFile[file] ?? []
            return (file: file, positions: positions, failures: positions.count(where: isFailure), skipped: positions.count(where: isSkipped))
        }
        let totalTests = suites.reduce(0) { $0 + max($1.positions.count, 1) }
        let totalFailures = suites.reduce(0) { $0 + $1.failures }
        try out("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        try out("<testsuites name=\"pgtrace\" tests=\"\(totalTests)\" failures=\"\(totalFailures)\" errors=\"0\">\n")
        let text = TextReporter()
        for (file, positions, failures, skipped) in suites {
            let name = XMLText.escaped(file, attribute: true)
            try out(
                "  <testsuite name=\"\(name)\" tests=\"\(max(positions.count, 1))\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\">\n")
            for index in positions {
                let finding = findings[index]
                let title = XMLText.escaped("\(finding.rule.rawValue): \(finding.message)", attribute: true)
                let line = finding.locations.first.map { " line=\"\($0.line)\"" } ?? ""
                var testcase = "    <testcase classname=\"pgtrace.\(finding.rule.rawValue)\" name=\"\(title)\" file=\"\(name)\"\(line)>\n"
                if isSkipped(index) {
                    testcase += "      <skipped message=\"accepted in the baseline\"/>\n"
                } else if isFailure(index) {
                    testcase += "      <failure type=\"\(finding.rule.rawValue)\" message=\"\(XMLText.escaped(finding.message, attribute: true))\">"
                    testcase += XMLText.escaped(text.render(finding)) + "</failure>\n"
                } else {
                    testcase += "      <system-out>\(XMLText.escaped(text.render(finding)))</system-out>\n"
                }
                try out(testcase + "    </testcase>\n")
            }
            if positions.isEmpty {
                try out("    <testcase classname=\"pgtrace\" name=\"no findings\" file=\"\(name)\"/>\n")
            }
            try out("  </testsuite>\n")
        }
        try out("</testsuites>\n")
    }
}
