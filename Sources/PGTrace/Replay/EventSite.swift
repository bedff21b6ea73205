/// Who did something and where the trace says so: the event's position, cpu, task and the
/// kernel source location it carries. Findings cite sites as their evidence.
public struct EventSite: Hashable, Sendable {
    public var position: TracePosition
    public var cpu: Int
    public var task: Symbol?
    public var at: Symbol?
    public var function: Symbol?

    public init(_ event: Event) {
        position = event.position
        cpu = event.cpu
        task = event.task
        at = event.at
        function = event.function
    }
}
