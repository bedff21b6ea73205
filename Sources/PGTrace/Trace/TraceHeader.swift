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
        /// Its type, pool size and wait types.
        public var declared: LockClassTable.Declared
        public var position: TracePosition

        public var type: LockType { declared.type }
        public var slots: Int? { declared.slots }
    }

    /// Whether `<meta>` sets PROVE_RAW_LOCK_NESTING (`<config name="PROVE_RAW_LOCK_NESTING"
    /// value="y"/>`): then a spinlock_t is `config`, not `spin`, for wait contexts.
    public var proveRawLockNesting: Bool {
        configs.contains { ["PROVE_RAW_LOCK_NESTING", "CONFIG_PROVE_RAW_LOCK_NESTING"].contains($0.name) && $0.value == "y" }
    }

    /// The `<classes>` declarations, applied to the analysis' classes by the replay.
    public var classes: [ClassDeclaration] = []

    public init() {}
}
