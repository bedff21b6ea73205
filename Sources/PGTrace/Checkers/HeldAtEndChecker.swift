/// Notes the locks still held when a trace ends. Not a finding (a trace may stop anywhere),
/// but worth a line: a lock never released is often a missing release event.
public final class HeldAtEndChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [] }

    private let context: CheckerContext

    public init(context: CheckerContext) { self.context = context }

    public func replayDidEnd(_ replay: ReplayEngine) {
        var stacks: [(String, HeldLocks)] = []
        for (task, held) in replay.taskLocks where !held.isEmpty {
            switch task {
            case .named(let name): stacks.append(("task \(context.symbols[name])", held))
            case .anonymous(let cpu): stacks.append(("cpu \(cpu)", held))
            }
        }
        for (cpu, state) in replay.cpus.enumerated() {
            for frame in state.frames where !frame.held.isEmpty {
                stacks.append(("cpu \(cpu) \(frame.kind.name)", frame.held))
            }
        }
        for (owner, held) in stacks.sorted(by: { $0.1[0].site.position < $1.1[0].site.position }) {
            for lock in held {
                let name = context.name(of: lock.classID)
                context.note(
                    "\(owner) still holds \(name) at the end of the trace",
                    evidence: context.evidence(lock.site, "acquires \(name)"))
            }
        }
    }
}
