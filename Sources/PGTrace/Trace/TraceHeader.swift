/// What a trace says about itself before its events: `<trace>` attributes and `<meta>`.
public struct TraceHeader: Sendable {
    public var version: String = "1"
    /// Which trace of the analysis this is (`Analysis.files`).
    public var fileIndex = 0
    public var source: String?
    /// Declared number of cpus; events on a cpu >= this are input errors.
    public var cpus: Int?
    /// `partial="true"`: the trace begins after execution began (every capture does), so a
    /// release of a lock never seen acquired is one held from before, and irq, bh and
    /// preempt state are unknown until an event states them.
    public var partial = false
    /// `<meta><config name value/>` pairs, in document order.
    public var configs: [(name: String, value: String)] = []
    /// `<meta>` notes a producer left (for instance lost events reported by an importer).
    public var notes: [String] = []

    /// A `<class>` declaration: the type (and pool size) of a lock class.
    public struct ClassDeclaration: Sendable {
        public var name: Symbol
        public var type: LockType
        public var slots: Int?
        public var position: TracePosition
    }

    /// The `<classes>` declarations, applied to the analysis' classes by the replay.
    public var classes: [ClassDeclaration] = []

    public init() {}
}
