/// Where an event stands: the trace file, its line and column, and its index among the
/// trace's events. Every finding cites positions so a reader can open the trace at the proof.
public struct TracePosition: Hashable, Comparable, Sendable {
    /// Index into `Analysis.files`.
    public var file: Int
    public var line: Int
    public var column: Int
    /// 0-based index of the event among the `<events>` children of its trace.
    public var event: Int

    public init(file: Int, line: Int, column: Int, event: Int) {
        self.file = file
        self.line = line
        self.column = column
        self.event = event
    }

    public static func < (lhs: TracePosition, rhs: TracePosition) -> Bool {
        (lhs.file, lhs.event, lhs.line, lhs.column) < (rhs.file, rhs.event, rhs.line, rhs.column)
    }
}
