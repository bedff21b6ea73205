/// Lockdep's lock_stat from a trace: per lock class (and per lock address, for perf lock's
/// contention_begin/end, which name no class), the waits (`contended` to `acquired`, or
/// contention_begin to _end) and holds (acquire, or `acquired` after a wait, to release) as
/// lock_stat records them, the bounces of the lock between cpus, and where waiters waited.
/// As in lock_stat, "contentions" counts completed waits and "acquisitions" completed holds
/// (a wait given up before `acquired` is no contention); times come from the events' `t`, and
/// an interval with an untimed end is counted but not timed. Lost events end every interval
/// open when they happened (what happened meanwhile is unknown).
public final class LockStatistics: ReplayObserver {
    public var observedEvents: ObservedEvents { [.lockEvents, .contextEvents] }

    /// How many intervals ended, and the min, max and total of those that were timed (ns).
    ///
    /// One interval fits Int64 nanoseconds (292 years; a timestamp past that is refused), but
    /// their sum need not: two holds of 200 years are 400. The total is kept in 128 bits, which
    /// no count of Int64 intervals can overflow (fewer than 2^63 intervals of less than 2^63 ns
    /// each), so the total printed is the exact sum, never wrapped nor clamped; the mean, at
    /// most the max, fits Int64 again.
    public struct Durations: Sendable, Equatable {
        public var count = 0
        public var timed = 0
        public var min: Int64 = .max
        public var max: Int64 = 0
        public var total: Int128 = 0

        public var mean: Int64? { timed == 0 ? nil : Int64(total / Int128(timed)) }

        mutating func add(_ duration: Int64?) {
            count += 1
            guard let duration else { return }
            timed += 1
            min = Swift.min(min, duration)
            max = Swift.max(max, duration)
            total += Int128(duration)
        }

        mutating func merge(_ other: Durations) {
            count += other.count
            guard other.timed > 0 else { return }
            timed += other.timed
            min = Swift.min(min, other.min)
            max = Swift.max(max, other.max)
            total += other.total
        }
    }

    /// What lock_stat keeps of one side (write or read) of a class.
    public struct Side: Sendable, Equatable {
        /// Contentions (acquisitions) on another cpu than the one that last took the lock:
        /// lock_stat's con-bounces (acq-bounces), the lock's cache line moving between cpus.
        public var contentionBounces = 0
        public var acquisitionBounces = 0
        public var wait = Durations()
        public var hold = Durations()

        mutating func merge(_ other: Side) {
            contentionBounces += other.contentionBounces
            acquisitionBounces += other.acquisitionBounces
            wait.merge(other.wait)
            hold.merge(other.hold)
        }
    }

    /// What lock_stat keeps of one class (or address): its write and read sides (lock_stat's
    /// `-W` and `-R` rows), and where waiters waited.
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// True for a lock known only by its address (perf lock), which has no class.
        public var isAddress: Bool
        public var write = Side()
        public var read = Side()
        /// Where waiters waited (the contended event's function, else its source location),
        /// with how often: lock_stat's contention points.
        public var contentionPoints: [String: Int] = [:]

        /// Both sides together.
        public var total: Side {
            var total = write
            total.merge(read)
            return total
        }
        /// lock_stat's "contentions": the waits that ended.
        public var contentions: Int { write.wait.count + read.wait.count }
        /// lock_stat's "acquisitions": the holds that ended.
        public var acquisitions: Int { write.hold.count + read.hold.count }

        subscript(read isRead: Bool) -> Side {
            get { isRead ? read : write }
            set { if isRead { read = newValue } else { write = newValue } }
        }

        /// Adds what another analysis counted of the same lock.
        public mutating func merge(_ other: Entry) {
            write.merge(other.write)
            read.merge(other.read)
            contentionPoints.merge(other.contentionPoints, uniquingKeysWith: +)
        }
    }

    /// An interval begun: which lock, when (nil: untimed).
    private struct Open {
        var ref: LockRef
        var time: Int64?
        /// A read acquisition (lock_stat counts it on the `-R` side); for a wait met before
        /// its acquire event, unknown (nil) until that acquire says.
        var read: Bool? = false
        /// A wait that moved the lock between cpus (counted on its side once known).
        var bounced = false
    }

    private let context: CheckerContext
    @exclusivity(unchecked) private var entries: [String: Entry] = [:]
    /// Holds and waits begun and not ended, per context (the task, or the cpu where the trace
    /// names no task: a lock may be released, a wait end, on another cpu).
    @exclusivity(unchecked) private var holds: [Int: [Open]] = [:]
    @exclusivity(unchecked) private var waits: [Int: [Open]] = [:]
    @exclusivity(unchecked) private var addressWaits: [Int: [Symbol: Int64?]] = [:]
    /// The cpu that last took each lock (instance, or address): lockdep's lock->cpu; and, for
    /// a contention just after its own acquire event, the cpu before it (lockdep sets
    /// lock->cpu at lock_acquired, after the wait).
    private struct Taken {
        var cpu: Int
        var context: Int
        var before: Int?
    }
    @exclusivity(unchecked) private var lastCPU: [LockRef: Taken] = [:]
    @exclusivity(unchecked) private var lastAddressCPU: [Symbol: Int] = [:]

    public init(context: CheckerContext) { self.context = context }

    public func replayWillBegin(_ replay: ReplayEngine) {
        // A new trace: nothing it holds or waits for is what the last one did.
        forgetOpenIntervals()
        lastCPU = [:]
        lastAddressCPU = [:]
    }

    private func forgetOpenIntervals() {
        holds = [:]
        waits = [:]
        addressWaits = [:]
    }

    /// The entries, most contended first (then most taken, then by name): lock_stat's order.
    public var sortedEntries: [Entry] { Self.sorted(Array(entries.values)) }

    public static func sorted(_ entries: [Entry]) -> [Entry] {
        entries.sorted {
            ($0.contentions, $0.acquisitions, $1.name) > ($1.contentions, $1.acquisitions, $0.name)
        }
    }

    /// The entries of several analyses' statistics (traces analysed apart), merged by name.
    public static func merged(_ statistics: [LockStatistics]) -> [Entry] {
        var merged: [String: Entry] = [:]
        for entry in statistics.flatMap({ $0.entries.values }) {
            if merged[entry.name] == nil { merged[entry.name] = entry } else { merged[entry.name]!.merge(entry) }
        }
        return sorted(Array(merged.values))
    }

    private func contextKey(_ event: Event) -> Int {
        event.task.map { Int($0.rawValue) } ?? (-1 - event.cpu)
    }

    /// A release or `acquired` of `ref` ends the interval of the same lock, as the replay
    /// matches a release.
    private static func take(_ ref: LockRef, from list: inout [Open]?) -> Open? {
        guard let index = list?.lastIndex(where: { $0.ref.isReleased(by: ref) }) else { return nil }
        let open = list!.remove(at: index)
        if list!.isEmpty { list = nil }
        return open
    }

    /// The same lock: name, and instance and subclass where both say.
    private static func same(_ a: LockRef, _ b: LockRef) -> Bool { a.isReleased(by: b) || b.isReleased(by: a) }

    private static func duration(_ start: Int64?, _ end: Int64?) -> Int64? {
        guard let start, let end, end >= start else { return nil }
        return end - start
    }

    private func entry(_ ref: LockRef) -> String {
        let name = context.name(of: ref)
        if entries[name] == nil { entries[name] = Entry(name: name, isAddress: false) }
        return name
    }

    private func identity(_ ref: LockRef) -> LockRef { LockRef(name: ref.name, subclass: ref.subclass, instance: ref.instance) }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        let key = contextKey(event)
        switch event.kind {
        case .acquire(let ref, let mode, _, _, _, _):
            let name = entry(ref)
            let read = mode != .write
            let last = lastCPU[identity(ref)]
            if let last, last.cpu != event.cpu { entries[name]![read: read].acquisitionBounces += 1 }
            lastCPU[identity(ref)] = Taken(cpu: event.cpu, context: key, before: last?.cpu)
            holds[key, default: []].append(Open(ref: ref, time: event.time, read: read))
            // A contended event before its acquire (the trace format allows either order)
            // learns its side here.
            if let index = waits[key]?.lastIndex(where: { $0.read == nil && Self.same($0.ref, ref) }) {
                waits[key]![index].read = read
                if waits[key]![index].bounced { entries[name]![read: read].contentionBounces += 1 }
            }
        case .release(let ref, _, _):
            // A wait not ended by `acquired` was given up (an interrupted mutex_lock_interruptible,
            // a ww_mutex backing off): it is no contention, as lockdep's dies with its held lock.
            _ = Self.take(ref, from: &waits[key])
            guard let held = Self.take(ref, from: &holds[key]) else { return }
            entries[entry(held.ref)]![read: held.read ?? false].hold.add(Self.duration(held.time, event.time))
        case .contended(let ref):
            let name = entry(ref)
            // The side of the acquisition it belongs to: the acquire just before it, or, met
            // before its acquire, the next one.
            let read = holds[key]?.last(where: { Self.same($0.ref, ref) })?.read
            var bounced = false
            if let last = lastCPU[identity(ref)], let cpu = last.context == key ? last.before : last.cpu, cpu != event.cpu {
                bounced = true
                if let read { entries[name]![read: read].contentionBounces += 1 }
            }
            if let point = (event.function ?? event.at).map({ context.symbols[$0] }) {
                entries[name]!.contentionPoints[point, default: 0] += 1
            }
            waits[key, default: []].append(Open(ref: ref, time: event.time, read: read, bounced: bounced))
        case .acquired(let ref):
            lastCPU[identity(ref)] = Taken(cpu: event.cpu, context: key, before: nil)
            guard let began = Self.take(ref, from: &waits[key]) else { return }
            entries[entry(began.ref)]![read: began.read ?? false].wait.add(Self.duration(began.time, event.time))
            // The hold begins when the wait ends (lockdep's __lock_acquired resets holdtime_stamp).
            if let index = holds[key]?.lastIndex(where: { $0.ref.name == ref.name }) { holds[key]![index].time = event.time }
        case .contentionBegin(let instance):
            let name = context.symbols[instance]
            if entries[name] == nil { entries[name] = Entry(name: name, isAddress: true) }
            if let last = lastAddressCPU[instance], last != event.cpu { entries[name]!.write.contentionBounces += 1 }
            if let point = (event.function ?? event.at).map({ context.symbols[$0] }) {
                entries[name]!.contentionPoints[point, default: 0] += 1
            }
            addressWaits[key, default: [:]][instance] = .some(event.time)
        case .contentionEnd(let instance):
            lastAddressCPU[instance] = event.cpu
            guard let began = addressWaits[key]?.removeValue(forKey: instance) else { return }
            let name = context.symbols[instance]
            if entries[name] == nil { entries[name] = Entry(name: name, isAddress: true) }
            entries[name]!.write.wait.add(Self.duration(began, event.time))
        case .eventsLost:
            // Any interval open across the loss may have ended in it: none is measured.
            forgetOpenIntervals()
        default:
            break
        }
    }
}
