/// Findings as summaries store them (`SummaryLine.finding`): every field (Finding and its
/// parts are Codable where they are declared), so that a finding read back reports byte for
/// byte as the one written.
extension Rule: Codable {}
extension Severity: Codable {}

extension Scenario: Codable {
    private enum CodingKeys: String, CodingKey { case columns, steps }

    private struct Step: Codable {
        var column: Int
        var action: String
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let steps = try container.decode([Step].self, forKey: .steps)
        self.init(columns: try container.decode([String].self, forKey: .columns), steps: steps.map { ($0.column, $0.action) })
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(columns, forKey: .columns)
        try container.encode(steps.map { Step(column: $0.column, action: $0.action) }, forKey: .steps)
    }
}
