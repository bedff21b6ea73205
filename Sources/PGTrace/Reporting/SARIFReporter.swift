/// Renders findings as SARIF 2.1.0 for code-scanning dashboards: rule metadata, results
/// located at trace file and line, each edge's evidence as related locations, and
/// partialFingerprints that survive unrelated edits to a trace.
public struct SARIFReporter {
    public static let version = pgtraceVersion

    public init() {}

    /// `accepted` findings are reported with baselineState "unchanged", the rest "new" when a
    /// baseline was given (`hasBaseline`).
    public func render(_ report: AnalysisReport, accepted: Set<String> = [], hasBaseline: Bool = false) -> String {
        var text = ""
        write(report, accepted: accepted, hasBaseline: hasBaseline) { text += $0 }
        return text
    }

    /// Writes the log a result at a time, the same bytes as `render`: the encoder's tree of
    /// the whole log took 420 MB for 16k findings (a 47 MB log).
    public func write(
        _ report: AnalysisReport, accepted: Set<String> = [], hasBaseline: Bool = false,
        to out: (String) throws -> Void
    ) rethrows {
        let rules = Rule.allCases
        let artifacts = Artifacts(report.files, uri: uri)
        // Keys in sorted order, as the encoder writes them.
        try out("{\n  \"$schema\" : \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"runs\" : [\n    {\n      \"artifacts\" : ")
        try out(PrettyJSONText.text(of: report.files.map { Artifact(location: ArtifactLocation(uri: uri($0), index: nil)) }, depth: 3))
        try out(",\n      \"columnKind\" : \"unicodeCodePoints\",\n      \"results\" : ")
        try PrettyJSONText.writeArray(
            report.findings.lazy.map { finding in
                result(finding, rules: rules, artifacts: artifacts, accepted: accepted, hasBaseline: hasBaseline)
            }, depth: 3, to: out)
        try out(",\n      \"tool\" : ")
        let driver = Driver(
            name: "pgtrace", version: Self.version, semanticVersion: Self.version,
            rules: rules.map { rule in
                ReportingDescriptor(
                    id: rule.rawValue, name: rule.rawValue,
                    shortDescription: Message(text: rule.title),
                    fullDescription: Message(text: rule.summary),
                    help: Message(text: rule.help),
                    defaultConfiguration: Configuration(level: "error"))
            })
        try out(PrettyJSONText.text(of: Tool(driver: driver), depth: 3))
        try out("\n    }\n  ],\n  \"version\" : \"2.1.0\"\n}\n")
    }

    private func result(
        _ finding: Finding, rules: [Rule], artifacts: Artifacts, accepted: Set<String>, hasBaseline: Bool
    ) -> Result {
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

    private func describe(_ evidence: Evidence) -> String {
        let runner = evidence.runner
        var text = runner.isEmpty ? evidence.role : "\(runner): \(evidence.role)"
        if let source = evidence.source { text += " in \(source)" }
        return text + " (event \(evidence.event))"
    }

    /// A relative URI reference for a trace path: its UTF-8 bytes as they are where a path
    /// may hold them (RFC 3986's unreserved characters and sub-delims, less ";", with "@"
    /// and "/": Foundation's `urlPathAllowed`), every other byte written %XX. A colon is
    /// encoded too, so that "C:x" is not read as a scheme.
    private func uri(_ path: String) -> String {
        var text = ""
        for byte in path.utf8 {
            if Self.pathAllowed.contains(byte) {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += (byte < 16 ? "%0" : "%") + String(byte, radix: 16, uppercase: true)
            }
        }
        return text
    }

    private static let pathAllowed: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=@/".utf8))

    private func physical(_ evidence: Evidence, artifacts: Artifacts) -> PhysicalLocation {
        PhysicalLocation(
            artifactLocation: artifacts.location(of: evidence.file),
            region: Region(startLine: max(evidence.line, 1), startColumn: max(evidence.column, 1)))
    }

    /// The report's traces as artifact locations, each percent-encoded once (encoding a path
    /// per cited event cost more than the rest of a result).
    private struct Artifacts {
        private var known: [String: (path: String, location: ArtifactLocation)] = [:]
        private let uri: (String) -> String

        init(_ files: [String], uri: @escaping (String) -> String) {
            self.uri = uri
            for (index, file) in files.enumerated() where known[file] == nil {
                known[file] = (file, ArtifactLocation(uri: uri(file), index: index))
            }
        }

        /// `path`'s URI, and the index of the first trace equal to it. Strings equal as Swift
        /// compares them (canonically: `e` and a combining accent equal `é`) may be two files:
        /// the URI is made from `path`'s own bytes.
        func location(of path: String) -> ArtifactLocation {
            guard let entry = known[path] else { return ArtifactLocation(uri: uri(path), index: nil) }
            if entry.path.utf8.elementsEqual(path.utf8) { return entry.location }
            return ArtifactLocation(uri: uri(path), index: entry.location.index)
        }
    }

    // MARK: The SARIF object model (the parts pgtrace writes)

    private struct Tool: JSONWritable {
        var driver: Driver

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("driver", driver)
            json.endObject()
        }
    }

    private struct Driver: JSONWritable {
        var name: String
        var version: String
        var semanticVersion: String
        var rules: [ReportingDescriptor]

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("name", name)
            json.field("rules", rules)
            json.field("semanticVersion", semanticVersion)
            json.field("version", version)
            json.endObject()
        }
    }

    private struct ReportingDescriptor: JSONWritable {
        var id: String
        var name: String
        var shortDescription: Message
        var fullDescription: Message
        var help: Message
        var defaultConfiguration: Configuration

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("defaultConfiguration", defaultConfiguration)
            json.field("fullDescription", fullDescription)
            json.field("help", help)
            json.field("id", id)
            json.field("name", name)
            json.field("shortDescription", shortDescription)
            json.endObject()
        }
    }

    private struct Configuration: JSONWritable {
        var level: String

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("level", level)
            json.endObject()
        }
    }

    private struct Message: JSONWritable {
        var text: String

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("text", text)
            json.endObject()
        }
    }

    private struct Artifact: JSONWritable {
        var location: ArtifactLocation

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("location", location)
            json.endObject()
        }
    }

    private struct ArtifactLocation: JSONWritable {
        var uri: String
        var index: Int?

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("index", index)
            json.field("uri", uri)
            json.endObject()
        }
    }

    private struct Region: JSONWritable {
        var startLine: Int
        var startColumn: Int

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("startColumn", startColumn)
            json.field("startLine", startLine)
            json.endObject()
        }
    }

    private struct PhysicalLocation: JSONWritable {
        var artifactLocation: ArtifactLocation
        var region: Region

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("artifactLocation", artifactLocation)
            json.field("region", region)
            json.endObject()
        }
    }

    private struct Location: JSONWritable {
        var physicalLocation: PhysicalLocation
        var message: Message

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("message", message)
            json.field("physicalLocation", physicalLocation)
            json.endObject()
        }
    }

    private struct RelatedLocation: JSONWritable {
        var id: Int
        var physicalLocation: PhysicalLocation
        var message: Message

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("id", id)
            json.field("message", message)
            json.field("physicalLocation", physicalLocation)
            json.endObject()
        }
    }

    private struct Result: JSONWritable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Message
        var locations: [Location]
        var relatedLocations: [RelatedLocation]?
        var partialFingerprints: [String: String]
        var baselineState: String?

        func write(to json: inout PrettyJSONText) {
            json.beginObject()
            json.field("baselineState", baselineState)
            json.field("level", level)
            json.field("locations", locations)
            json.field("message", message)
            json.field("partialFingerprints", partialFingerprints)
            json.field("relatedLocations", relatedLocations)
            json.field("ruleId", ruleId)
            json.field("ruleIndex", ruleIndex)
            json.endObject()
        }
    }
}
