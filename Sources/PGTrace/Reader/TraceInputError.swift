/// Input that cannot be read as a trace: malformed XML, an unknown element, a broken event.
/// It names the place (file:line:column, or in a binary file the byte offset) and what was
/// expected there; the CLI exits with 2.
public struct TraceInputError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// Where in a binary file (a trace.dat) the problem is, counted from 0, as `xxd` and
    /// `trace-cmd dump` count: what a binary file has instead of lines and columns.
    public var byteOffset: Int?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public init(file: String, byteOffset: Int, message: String) {
        self.file = file
        self.byteOffset = byteOffset
        self.message = message
    }

    public var description: String {
        var place = file
        if let byteOffset { return "\(place): byte \(byteOffset): error: \(message)" }
        if let line { place += ":\(line)" }
        if let line, line > 0, let column { place += ":\(column)" }
        return "\(place): error: \(message)"
    }
}
