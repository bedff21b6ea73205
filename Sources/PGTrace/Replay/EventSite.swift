/// Who did something and where the trace says so: the event's position, cpu, task and the
/// kernel source location it carries. Findings cite sites as their evidence.
///
/// Every dependency of the lock graph keeps two sites and every held lock one, so a site is
/// packed into 40 bytes (64 as plain fields): 32-bit file index, column, cpu and symbols.
public struct EventSite: Hashable, Sendable {
    private var file: Int32
    private var columnValue: Int32
    private var line: Int
    private var event: Int
    private var cpuValue: Int32
    private var taskValue: Int32
    private var atValue: Int32
    private var functionValue: Int32

    public init(_ event: Event) {
        file = Int32(clamping: event.position.file)
        columnValue = Int32(clamping: event.position.column)
        line = event.position.line
        self.event = event.position.event
        cpuValue = Int32(clamping: event.cpu)
        taskValue = Self.pack(event.task)
        atValue = Self.pack(event.at)
        functionValue = Self.pack(event.function)
    }

    public init(position: TracePosition, cpu: Int, task: Symbol?, at: Symbol?, function: Symbol?) {
        file = Int32(clamping: position.file)
        columnValue = Int32(clamping: position.column)
        line = position.line
        event = position.event
        cpuValue = Int32(clamping: cpu)
        taskValue = Self.pack(task)
        atValue = Self.pack(at)
        functionValue = Self.pack(function)
    }

    public var position: TracePosition {
        get { TracePosition(file: Int(file), line: line, column: Int(columnValue), event: event) }
        set {
            file = Int32(clamping: newValue.file)
            line = newValue.line
            columnValue = Int32(clamping: newValue.column)
            event = newValue.event
        }
    }

    public var cpu: Int {
        get { Int(cpuValue) }
        set { cpuValue = Int32(clamping: newValue) }
    }

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

    /// Symbols are indexes from 0; -1 stands for none.
    private static func pack(_ symbol: Symbol?) -> Int32 { symbol?.rawValue ?? -1 }
    private static func unpack(_ value: Int32) -> Symbol? { value < 0 ? nil : Symbol(rawValue: value) }
}
