/// Lockdep's lock_stat from a trace: per lock class (and per lock address, for perf lock's
/// contention_begin/end, which name no class), how often it was taken and contended, how long
/// waiters waited (`contended` to `acquired`, or contention_begin to _end) and holders held it
/// (acquire to release), and where the waits happened. Times come from the events' `t`; an
/// interval with an untimed end counts in the totals of events but not of times.
public final class LockStatistics: ReplayObserver {
    public var observedEvents: ObservedEvents { .lockEvents }

    /// Min, max, total and count of some durations, in nanoseconds.
    public struct Durations: Sendable, Equatable {
        public var count = 0
        public var min: Int64 = .max
        public var max: Int64 = 0
        public var total: Int64 = 0

        public var mean: Int64? { count == 0 ? nil : total / Int64(count) }

        mutating func merge(_ other: Durations) {
            guard other.count > 0 else { return }
            count += other.count
            min = Swift.min(min, other.min)
            max = Swift.max(max, other.max)
            total &+= other.total
        }

        mutating func add(_ duration: Int64) {
            count += 1
            min = Swift.min(min, duration)
            max = Swift.max(max, duration)
            total &+= duration
        }
    }

    /// What lock_stat keeps of one class (or address).
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// True for a lock known only by its address (perf lock), which has no class.
        public var isAddress: Bool
        public var acquisitions = 0
        public var contentions = 0
        /// Acquisitions (contentions) on another cpu than the last one of the same lock:
        /// lock_stat's acq-bounces (con-bounces), the cache line moving between cpus.
        public var acquisitionBounces = 0
        public var contentionBounces = 0
        public var wait = Durations()
        public var hold = Durations()
        /// Where waiters waited (the contended event's function, else its source location),
        /// with how often: lock_stat's contention points.
        public var contentionPoints: [String: Int] = [:]

        /// Adds what another analysis counted of the same lock.
        public mutating func merge(_ other: Entry) {
            acquisitions += other.acquisitions
            contentions += other.contentions
            acquisitionBounces += other.acquisitionBounces
            contentionBounces += other.contentionBounces
            wait.merge(other.wait)
            hold.merge(other.hold)
            contentionPoints.merge(other.contentionPoints, uniquingKeysWith: +)
        }
    }

    private let context: CheckerContext
    @exclusivity(unchecked) private var entries: [String: Entry] = [:]
    /// Locks taken and not yet released, per context (task, or cpu where no task is named),
    /// with the time they were taken.
    @exclusivity(unchecked) private var open: [Int: [(ref: LockRef, time: Int64?)]] = [:]
    /// The time each context began waiting for a lock (`contended`), by context and lock name.
    @exclusivity(unchecked) private var waiting: [Int: [(ref: LockRef, time: Int64?)]] = [:]
    /// Address contentions begun, by cpu and address.
    @exclusivity(unchecked) private var addressWaits: [Int: [Symbol: Int64?]] = [:]
    /// The cpu each lock (instance) was last taken and contended on, for bounces.
    @exclusivity(unchecked) private var lastAcquiredOn: [LockRef: Int] = [:]
    @exclusivity(unchecked) private var lastContendedOn: [LockRef: Int] = [:]

    public init(context: CheckerContext) { self.context = context }

    public func replayWillBegin(_ replay: ReplayEngine) {
        // A new trace: nothing it holds or waits for is what the last one did.
        open = [:]
        waiting = [:]
        addressWaits = [:]
        lastAcquiredOn = [:]
        lastContendedOn = [:]
    }

    /// The entries, most contended first (then most taken, then by name): lock_stat's order.
    public var sortedEntries: [Entry] { Self.sorted(Array(entries.values)) }

    public static func sorted(_ entries: [Entry]) -> [Entry] {
        entries.sorted {
            ($0.contentions, $0.acquisitions, $1.name) > ($1.contentions, $1.acquisitions, $0.name)
        }
    }

    private func contextKey(_ event: Event) -> Int {
        event.task.map { Int($0.rawValue) } ?? (-1 - event.cpu)
    }

    private static func matches(_ held: LockRef, _ ref: LockRef) -> Bool {
        held.name == ref.name && (ref.instance == nil || held.instance == nil || held.instance == ref.instance)
            && (ref.subclass == 0 || held.subclass == ref.subclass)
    }

    private func entryName(_ ref: LockRef) -> String { context.name(of: ref) }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        let key = contextKey(event)
        switch event.kind {
        case .acquire(let ref, _, _, _, _, _):
            let name = entryName(ref)
            entries[name, default: Entry(name: name, isAddress: false)].acquisitions += 1
            let identity = LockRef(name: ref.name, subclass: ref.subclass, instance: ref.instance)
            if let last = lastAcquiredOn[identity], last != event.cpu { entries[name]!.acquisitionBounces += 1 }
            lastAcquiredOn[identity] = event.cpu
            open[key, default: []].append((ref, event.time))
        case .release(let ref, _, _):
            guard let index = open[key]?.lastIndex(where: { Self.matches($0.ref, ref) }) else { return }
            let taken = open[key]!.remove(at: index)
            if open[key]!.isEmpty { open[key] = nil }
            if let start = taken.time, let end = event.time, end >= start {
                entries[entryName(taken.ref), default: Entry(name: entryName(taken.ref), isAddress: false)].hold.add(end - start)
            }
        case .contended(let ref):
            let name = entryName(ref)
            entries[name, default: Entry(name: name, isAddress: false)].contentions += 1
            let identity = LockRef(name: ref.name, subclass: ref.subclass, instance: ref.instance)
            if let last = lastContendedOn[identity], last != event.cpu { entries[name]!.contentionBounces += 1 }
            lastContendedOn[identity] = event.cpu
            if let point = (event.function ?? event.at).map({ context.symbols[$0] }) {
                entries[name]!.contentionPoints[point, default: 0] += 1
            }
            waiting[key, default: []].append((ref, event.time))
        case .acquired(let ref):
            // The hold begins when the wait ends (lockdep's __lock_acquired resets holdtime_stamp).
            if let index = open[key]?.lastIndex(where: { Self.matches($0.ref, ref) }), let time = event.time {
                open[key]![index].time = time
            }
            guard let index = waiting[key]?.lastIndex(where: { Self.matches($0.ref, ref) }) else { return }
            let began = waiting[key]!.remove(at: index)
            if waiting[key]!.isEmpty { waiting[key] = nil }
            if let start = began.time, let end = event.time, end >= start {
                entries[entryName(began.ref), default: Entry(name: entryName(began.ref), isAddress: false)].wait.add(end - start)
            }
        case .contentionBegin(let instance):
            let name = context.symbols[instance]
            entries[name, default: Entry(name: name, isAddress: true)].contentions += 1
            if let point = (event.function ?? event.at).map({ context.symbols[$0] }) {
                entries[name]!.contentionPoints[point, default: 0] += 1
            }
            addressWaits[event.cpu, default: [:]][instance] = .some(event.time)
        case .contentionEnd(let instance):
            guard let began = addressWaits[event.cpu]?.removeValue(forKey: instance) else { return }
            let name = context.symbols[instance]
            if let start = began, let end = event.time, end >= start {
                entries[name, default: Entry(name: name, isAddress: true)].wait.add(end - start)
            }
        default:
            break
        }
    }
}
