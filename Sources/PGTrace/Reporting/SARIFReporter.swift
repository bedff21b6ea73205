import Foundation

/// Renders findings as SARIF 2.1.0 for code-scanning dashboards: rule metadata, results
/// located at trace file and line, each edge's evidence as related locations, and
/// partialFingerprints that survive unrelated edits to a trace.
public struct SARIFReporter {
    public static let version = pgtraceVersion

    public init() {}

    /// `accepted` findings are reported with baselineState "unchanged", the rest "new" when a
    /// baseline was given (`hasBaseline`).
    public func render(_ report: AnalysisReport, accepted: Set<String> = [], hasBaseline: Bool = false) -> String {
        let rules = Rule.allCases
        let artifacts = report.files
        let results = report.findings.map { finding -> Result in
            let primary = finding.locations.first
            var related: [RelatedLocation] = []
            let evidence = finding.locations.dropFirst() + finding.chain.flatMap { [$0.holderEvidence, $0.evidence] }
            var seen: Set<String> = []
            for item in evidence where seen.insert("\(item.file):\(item.event):\(item.role)").inserted {
                related.append(
                    RelatedLocation(
                        id: related.count, physicalLocation: physical(item, artifacts: artifacts),
                        message: Message(text: describe(item))))
            }
            return Result(
                ruleId: finding.rule.rawValue,
                ruleIndex: rules.firstIndex(of: finding.rule)!,
                level: finding.severity == .error ? "error" : "warning",
                message: Message(text: finding.message),
                locations: primary.map {
                    [Location(physicalLocation: physical($0, artifacts: artifacts), message: Message(text: describe($0)))]
                } ?? [],
                relatedLocations: related.isEmpty ? nil : related,
                partialFingerprints: ["pgtraceFinding/v2": finding.fingerprint],
                baselineState: hasBaseline ? (accepted.contains(finding.fingerprint) ? "unchanged" : "new") : nil)
        }
        let log = Log(
            runs: [
                Run(
                    tool: Tool(
                        driver: Driver(
                            name: "pgtrace", version: Self.version, semanticVersion: Self.version,
                            rules: rules.map { rule in
                                ReportingDescriptor(
                                    id: rule.rawValue, name: rule.rawValue,
                                    shortDescription: Message(text: rule.title),
                                    fullDescription: Message(text: rule.summary),
                                    help: Message(text: rule.help),
                                    defaultConfiguration: Configuration(level: "error"))
                            })),
                    artifacts: artifacts.map { Artifact(location: ArtifactLocation(uri: uri($0), index: nil)) },
                    results: results, columnKind: "unicodeCodePoints")
            ])
        return prettyJSON(log)
    }

    private func describe(_ evidence: Evidence) -> String {
        var text = "cpu \(evidence.cpu)" + (evidence.task.map { " task \($0)" } ?? "") + ": \(evidence.role)"
        if let source = evidence.source { text += " in \(source)" }
        return text + " (event \(evidence.event))"
    }

    /// A relative URI reference for a trace path (percent-encoding what a URI cannot hold).
    private func uri(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }

    private func physical(_ evidence: Evidence, artifacts: [String]) -> PhysicalLocation {
        PhysicalLocation(
            artifactLocation: ArtifactLocation(uri: uri(evidence.file), index: artifacts.firstIndex(of: evidence.file)),
            region: Region(startLine: max(evidence.line, 1), startColumn: max(evidence.column, 1)))
    }

    // MARK: The SARIF object model (the parts pgtrace writes)

    private struct Log: Encodable {
        var schema = "https://json.schemastore.org/sarif-2.1.0.json"
        var version = "2.1.0"
        var runs: [Run]
        enum CodingKeys: String, CodingKey {
            case schema = "$schema"
            case version, runs
        }
    }

    private struct Run: Encodable {
        var tool: Tool
        var artifacts: [Artifact]
        var results: [Result]
        var columnKind: String
    }

    private struct Tool: Encodable { var driver: Driver }

    private struct Driver: Encodable {
        var name: String
        var version: String
        var semanticVersion: String
        var rules: [ReportingDescriptor]
    }

    private struct ReportingDescriptor: Encodable {
        var id: String
        var name: String
        var shortDescription: Message
        var fullDescription: Message
        var help: Message
        var defaultConfiguration: Configuration
    }

    private struct Configuration: Encodable { var level: String }

    private struct Message: Encodable { var text: String }

    private struct Artifact: Encodable { var location: ArtifactLocation }

    private struct ArtifactLocation: Encodable {
        var uri: String
        var index: Int?
    }

    private struct Region: Encodable {
        var startLine: Int
        var startColumn: Int
    }

    private struct PhysicalLocation: Encodable {
        var artifactLocation: ArtifactLocation
        var region: Region
    }

    private struct Location: Encodable {
        var physicalLocation: PhysicalLocation
        var message: Message
    }

    private struct RelatedLocation: Encodable {
        var id: Int
        var physicalLocation: PhysicalLocation
        var message: Message
    }

    private struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Message
        var locations: [Location]
        var relatedLocations: [RelatedLocation]?
        var partialFingerprints: [String: String]
        var baselineState: String?
    }
}
