/// Notes what a capture says about itself rather than about the kernel: events the kernel
/// dropped, and (in a partial trace) locks released that were taken before tracing began.
/// Notes, never findings: they tell the reader what the analysis could not see.
final class CaptureNotes: ReplayObserver {
    var observedEvents: ObservedEvents { [.contextEvents, .releases] }

    private let context: CheckerContext
    /// Locks already noted as held from before, per trace: one note per lock, not per release.
    private var notedFromBefore: Set<LockRef> = []

    init(context: CheckerContext) { self.context = context }

    func replayWillBegin(_ replay: ReplayEngine) { notedFromBefore = [] }

    func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        guard case .eventsLost(let cpu, let count) = event.kind else { return }
        let whose = cpu.map { "cpu \($0)" } ?? "the capture"
        let amount = count.map { "\($0) event\($0 == 1 ? "" : "s")" } ?? "events"
        context.note(
            "\(replay.fileName): \(whose) lost \(amount) (line \(site.position.line)): findings may be incomplete",
            evidence: context.evidence(site, "loses events"))
    }

    func replay(_ replay: ReplayEngine, releasedHeldFromBefore lock: LockRef, at site: EventSite) {
        let key = LockRef(name: lock.name, subclass: lock.subclass)
        guard notedFromBefore.insert(key).inserted else { return }
        let name = context.name(of: lock)
        context.note(
            "\(name) is released at \(replay.fileName):\(site.position.line) without being seen taken: held since before the capture began",
            evidence: context.evidence(site, "releases \(name)"))
    }
}
