/// Notes what a capture says about itself rather than about the kernel: events the kernel
/// dropped, and (in a partial trace) locks released that were taken before tracing began.
/// Notes, never findings: they tell the reader what the analysis could not see.
final class CaptureNotes: ReplayObserver {
    var observedEvents: ObservedEvents { [.contextEvents, .releases] }

    private let context: CheckerContext
    /// Locks already noted as held from before, per trace: one note per lock, not per release.
    private var notedFromBefore: Set<LockRef> = []

    init(context: CheckerContext) { self.context = context }

    /// Kinds of page-table state noted as begun before the trace, per trace.
    private var notedUnseen: Set<String> = []

    func replayWillBegin(_ replay: ReplayEngine) {
        notedFromBefore = []
        notedUnseen = []
    }

    func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        guard case .eventsLost(let cpu, let count) = event.kind else { return }
        let whose = cpu.map { "cpu \($0)" } ?? "the capture"
        let amount = count.map { "\($0) event\($0 == 1 ? "" : "s")" } ?? "events"
        // A marker of no cpu (a console's "Lost N message(s)!") cites none.
        var evidence = context.evidence(site, "loses events")
        if cpu == nil { evidence.cpu = nil }
        context.note(
            "\(replay.fileName): \(whose) lost \(amount) (line \(site.position.line)): findings may be incomplete",
            evidence: evidence)
    }

    /// What a page-table event ended that the trace never showed begin, per trace one note
    /// per kind of thing (a capture of a Xen machine unpins every mm pinned before it began).
    func replay(_ replay: ReplayEngine, ended unseen: MemoryState.Unseen, at site: EventSite) {
        let symbols = context.symbols
        let place = "\(replay.fileName):\(site.position.line)"
        let (kind, what, since): (String, String, String)
        switch unseen {
        case .pinned(let page):
            (kind, what, since) = ("pin", "\(symbols[page]) is unpinned at \(place) without being seen pinned", "pinned since")
        case .listed(let pgd):
            (kind, what, since) = ("list", "\(symbols[pgd]) is taken off pgd_list at \(place) without being seen put on it", "on it since")
        case .visitedUnlisted(let pgd):
            (kind, what, since) = ("list-visit", "\(symbols[pgd]) is visited on pgd_list at \(place) without being seen put on it", "on it since")
        case .listWalkBegun(let cpu):
            (kind, what, since) = ("list-walk", "cpu \(cpu) walks pgd_list at \(place) in a walk it was not seen to begin", "begun")
        case .locklessWalkBegun(let cpu):
            (kind, what, since) = ("lockless-walk", "cpu \(cpu) ends a lockless walk at \(place) that it was not seen to begin", "begun")
        case .kmapped(let page, let series):
            (kind, what, since) = ("kmap", "kunmap of \(symbols[page]) (series \(symbols[series])) at \(place) without its kmap seen", "mapped since")
        }
        guard notedUnseen.insert(kind).inserted else { return }
        context.note(
            "\(what): \(since) before the capture began\(replay.hasLostEvents ? " or in events it lost" : "")",
            evidence: context.evidence(site, "ends what the trace did not show begin"))
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
