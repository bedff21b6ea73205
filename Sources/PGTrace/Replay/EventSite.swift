/// Who did something and where the trace says so: the event's position, cpu, task and the
/// kernel source location it carries. Findings cite sites as their evidence.
///
/// Every dependency of the lock graph keeps two sites and every held lock one, so a site is
/// packed into 32 bytes (64 as plain fields): a line and an event number of 40 bits each,
/// beside a 24-bit file index and cpu; a 32-bit column and symbols.
///
/// Its fields are read as kept by `SiteTable`, which packs them smaller.
public struct EventSite: Hashable, Sendable {
    /// The line (high 40 bits, signed) and the file index (low 24 bits).
    private(set) var lineAndFile: Int64
    /// The event's number in its trace (high 40 bits, signed) and the cpu (low 24 bits).
    private(set) var eventAndCPU: Int64
    private(set) var columnValue: Int32
    /// Each symbol's number, -1 for none.
    private(set) var taskValue: Int32
    private(set) var atValue: Int32
    private(set) var functionValue: Int32

    /// The greatest line or event number a site keeps (2^39 - 1): a 50 TB trace's. A greater
    /// one is kept as this (a summary saying more is refused where it is read).
    public static let maximumPlace = (1 << 39) - 1
    /// The most files of one analysis (2^24), and the greatest cpu a site keeps (2^24 - 1;
    /// readers refuse cpus from 8192). A site keeps a negative file index or cpu as 0.
    public static let maximumFiles = 1 << 24

    public init(_ event: Event) {
        self.init(position: event.position, cpu: event.cpu, task: event.task, at: event.at, function: event.function)
    }

    public init(position: TracePosition, cpu: Int, task: Symbol?, at: Symbol?, function: Symbol?) {
        lineAndFile = Self.pack(position.line, position.file)
        eventAndCPU = Self.pack(position.event, cpu)
        columnValue = Int32(clamping: position.column)
        taskValue = Self.pack(task)
        atValue = Self.pack(at)
        functionValue = Self.pack(function)
    }

    /// A site from its fields as kept (`SiteTable`'s).
    init(lineAndFile: Int64, eventAndCPU: Int64, columnValue: Int32, taskValue: Int32, atValue: Int32, functionValue: Int32) {
        self.lineAndFile = lineAndFile
        self.eventAndCPU = eventAndCPU
        self.columnValue = columnValue
        self.taskValue = taskValue
        self.atValue = atValue
        self.functionValue = functionValue
    }

    public var position: TracePosition {
        get {
            TracePosition(
                file: Self.low(lineAndFile), line: Self.high(lineAndFile), column: Int(columnValue),
                event: Self.high(eventAndCPU))
        }
        set {
            lineAndFile = Self.pack(newValue.line, newValue.file)
            eventAndCPU = Self.pack(newValue.event, Self.low(eventAndCPU))
            columnValue = Int32(clamping: newValue.column)
        }
    }

    public var cpu: Int {
        get { Self.low(eventAndCPU) }
        set { eventAndCPU = Self.pack(Self.high(eventAndCPU), newValue) }
    }

    /// A signed 40-bit number over a 24-bit one, each kept in its range.
    private static func pack(_ high: Int, _ low: Int) -> Int64 {
        let high = Int64(min(max(high, -maximumPlace - 1), maximumPlace))
        let low = Int64(min(max(low, 0), maximumFiles - 1))
        return high << 24 | low
    }

    private static func high(_ word: Int64) -> Int { Int(word >> 24) }
    private static func low(_ word: Int64) -> Int { Int(word & 0xFF_FFFF) }

    public var task: Symbol? {
        get { Self.unpack(taskValue) }
        set { taskValue = Self.pack(newValue) }
    }

    public var at: Symbol? {
        get { Self.unpack(atValue) }
        set { atValue = Self.pack(newValue) }
    }

    public var function: Symbol? {
        get { Self.unpack(functionValue) }
        set { functionValue = Self.pack(newValue) }
    }

    /// A hash of the site's place (line, file, event, cpu), for a small cache of sites
    /// (`PackedFacts`): one multiply-mix, where Hasher's SipHash takes some hundred
    /// instructions. Its high bits are the best mixed.
    var placeHash: UInt64 {
        PositionIndex.mix(UInt64(bitPattern: lineAndFile) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: eventAndCPU))
    }

    /// Symbols are indexes from 0; -1 stands for none.
    private static func pack(_ symbol: Symbol?) -> Int32 { symbol?.rawValue ?? -1 }
    private static func unpack(_ value: Int32) -> Symbol? { value < 0 ? nil : Symbol(rawValue: value) }
}
