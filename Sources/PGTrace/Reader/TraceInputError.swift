/// Input that cannot be read as a trace: malformed XML, an unknown element, a broken event.
/// It names the place (file:line:column) and what was expected there; the CLI exits with 2.
public struct TraceInputError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let line, line > 0, let column { place += ":\(column)" }
        return "\(place): error: \(message)"
    }
}
