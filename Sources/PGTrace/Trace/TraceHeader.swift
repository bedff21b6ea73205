/// What a trace says about itself before its events: `<trace>` attributes and `<meta>`.
public struct TraceHeader: Sendable {
    public var version: String = "1"
    public var source: String?
    /// Declared number of cpus; events on a cpu >= this are input errors.
    public var cpus: Int?
    /// `<meta><config name value/>` pairs, in document order.
    public var configs: [(name: String, value: String)] = []
    /// `<meta>` notes a producer left (for instance lost events reported by an importer).
    public var notes: [String] = []

    public init() {}
}
