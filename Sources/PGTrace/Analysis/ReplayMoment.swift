/// What a graph check's report needs of the replay at the moment a fact was learned: who ran
/// on the cpu, its irq state, the locks it held. Kept with the fact (`MomentStore`), so that a
/// report reads the same whether the graph is checked as the trace is read, rebuilt after
/// traces came out of order, or rebuilt from summaries on another machine.
public struct ReplayMoment: Sendable {
    /// lockdep's irq state of the context (print_usage_bug's `[HC1[1]:SC0[0]:HE0:SE1]`).
    public struct IrqState: Hashable, Sendable {
        public var hardirqCount: Int
        public var softirqs: Int
        public var softirqCount: Int
        public var hardirqsEnabled: Bool
        public var softirqsEnabled: Bool
    }

    /// A held lock as a report lists it.
    public struct Held: Hashable, Sendable {
        public var classID: ClassID
        public var site: EventSite
    }

    public var cpu: Int
    /// The task running on the cpu (the interrupted one inside an irq).
    public var task: TaskKey
    /// Nil where the trace had not yet told the irq state.
    public var irqState: IrqState?
    /// What the task and the irq frames on it held, oldest first, up to `--max-depth`.
    public var held: [Held]
    /// How many were held past the last `held` lists (which stops at `--max-depth`).
    public var heldNotListed: Int
    /// The trace may not show every lock held (a partial trace, lost events).
    public var mayMissHeldLocks: Bool

    public init(cpu: Int, task: TaskKey, irqState: IrqState?, held: [Held], heldNotListed: Int = 0, mayMissHeldLocks: Bool) {
        self.cpu = cpu
        self.task = task
        self.irqState = irqState
        self.held = held
        self.heldNotListed = heldNotListed
        self.mayMissHeldLocks = mayMissHeldLocks
    }

    /// The irq state of `cpu` now, where the trace has told it.
    static func irqState(_ replay: ReplayEngine, cpu: Int) -> IrqState? {
        // Read in place: a copy of the cpu's state would retain its arrays.
        guard replay.cpus[cpu].hardirqsKnown, replay.cpus[cpu].bhKnown else { return nil }
        let nesting = replay.irqNesting(cpu: cpu)
        return IrqState(
            // nmi_enter() adds HARDIRQ_OFFSET and enters lockdep's hardirq context too.
            hardirqCount: nesting.hardirqs + replay.cpus[cpu].nmiSaved.count,
            softirqs: nesting.softirqs, softirqCount: nesting.softirqs + 2 * nesting.bhDisables,
            hardirqsEnabled: replay.cpus[cpu].hardirqsEnabled, softirqsEnabled: nesting.softirqsEnabled)
    }
}

/// A moment kept in a `MomentStore`.
public struct MomentID: Hashable, Sendable {
    let index: Int32
}

/// The moments of an analysis's facts, packed: a moment is 24 bytes and its held locks sit
/// in two arrays shared by all, a class and a site of 24 bytes (`SiteTable`) each (a moment
/// as an object with an array of its own took some 200 bytes and two allocations, and there
/// is one for most dependencies of the graph).
///
/// A moment made for one dependency leaves out the lock the dependency was made from (its
/// holder, whose class and site the fact keeps): 28 bytes a dependency. Its held locks are
/// read with that holder (`moment(_:holder:)`).
///
/// A moment that keeps no held lock (a dependency made under one lock, which its fact keeps)
/// is the same as the last one like it that a context made, nearly always: such a moment is
/// kept once (`bare`), and the facts that would have made it again share it. Which facts
/// share one depends on the cache, and so on what was read before: a summary is not written
/// by it (`SummaryWriter`).
public final class MomentStore {
    struct Packed {
        /// All it says but where its held locks start.
        var context: ContextKey
        /// Where its held locks start; they end where the next moment's start.
        var heldStart: Int32
    }

    /// A moment's fields but where its held locks start: equal for moments that read the
    /// same once their held locks are set aside.
    struct ContextKey: Hashable {
        var cpu: Int32
        /// A symbol of a named task, or the cpu of an anonymous one.
        var task: Int32
        /// Known (bit 0), hardirqs and softirqs enabled (bits 1, 2), then 16 bits each of
        /// the hardirq count, the softirqs and the softirq count.
        var irq: UInt64
        var taskIsNamed: Bool
        var mayMissHeldLocks: Bool
        /// Where among its held locks the one left out goes (its dependency's holder), or -1.
        var leftOut: Int16

        /// A hash for the slots of `bare`, its high bits the best mixed (one multiply-mix,
        /// where Hasher's SipHash takes some hundred instructions).
        var slotHash: UInt64 {
            let flags = UInt64(UInt16(bitPattern: leftOut)) << 2 | (taskIsNamed ? 1 : 0) | (mayMissHeldLocks ? 2 : 0)
            let first = UInt64(UInt32(bitPattern: cpu)) << 32 | UInt64(UInt32(bitPattern: task))
            return PositionIndex.mix((first &* 0x9E37_79B9_7F4A_7C15 ^ irq) &* 0x9E37_79B9_7F4A_7C15 ^ flags)
        }
    }

    // In chunks: they grow with the graph, and arrays that double stepped the peak RSS of a
    // kernel-shaped trace up by some 4 MB between 1M and 4M events.
    @exclusivity(unchecked) private var moments = ChunkedArray<Packed>()
    @exclusivity(unchecked) private var heldClasses = ChunkedArray<ClassID>()
    @exclusivity(unchecked) private var heldSites = SiteTable()
    /// Of the moments whose held locks went past `--max-depth` (which keep the oldest that
    /// many), how many more were held, by moment: a moment of a stack thousands deep for
    /// each of thousands of facts took gigabytes.
    @exclusivity(unchecked) private var heldNotListed: [Int32: Int] = [:]
    /// Moments that keep no held lock, the last kept in each of 4,096 slots by their hash
    /// (-1: none), a slot for each of a kernel's few thousand contexts (task, cpu, irq state).
    /// The graph of a million dependencies made under one lock each took 24 MB of moments,
    /// a moment each, where a context made the same one again and again.
    @exclusivity(unchecked) private var bare = [Int32](repeating: -1, count: 1 << 12)

    public init() {}

    /// The classes of the held locks moment `id` keeps (not the one it left out).
    func keptHeldClasses(_ id: MomentID) -> [ClassID] { heldRange(of: id).map { heldClasses[$0] } }

    /// Where moment `id`'s held locks are: they end where the next moment's start.
    private func heldRange(of id: MomentID) -> Range<Int> {
        let index = Int(id.index)
        let end = index + 1 < moments.count ? Int(moments[index + 1].heldStart) : heldClasses.count
        return Int(moments[index].heldStart)..<end
    }

    /// The replay's moment on `cpu` now. `leavingOut`: the holder of the one dependency the
    /// moment is for, kept by its fact, not again here.
    func record(_ replay: ReplayEngine, cpu: Int, leavingOut holder: HeldLock? = nil) -> MomentID {
        let start = heldClasses.count
        let (held, more) = replay.allHeldLocks(cpu: cpu, upTo: replay.validatedDepth)
        let leftOut = holder.flatMap { holder in
            held.lastIndex { $0.classID == holder.classID && $0.site == holder.site }.flatMap(Self.leftOutPlace)
        }
        let skipped = leftOut.map(Int.init) ?? -1
        for (index, lock) in held.enumerated() where index != skipped {
            heldClasses.append(lock.classID)
            heldSites.append(lock.site)
        }
        let packed = Self.pack(
            cpu: cpu, task: replay.cpus[cpu].task, irqState: ReplayMoment.irqState(replay, cpu: cpu), heldStart: start,
            mayMissHeldLocks: replay.mayMissHeldLocks, leftOut: leftOut ?? -1)
        guard heldClasses.count == start, more == 0 else { return append(packed, heldNotListed: more) }
        // No held lock kept: the same as a moment kept before, if the slot has one.
        let context = packed.context
        let slot = Int(truncatingIfNeeded: context.slotHash >> 52)
        let kept = bare[slot]
        if kept >= 0, moments[Int(kept)].context == context { return MomentID(index: kept) }
        let id = append(packed, heldNotListed: 0)
        bare[slot] = id.index
        return id
    }

    /// Where a left-out holder at `index` of the held locks goes, if a moment can say
    /// (16 bits): a deeper one is kept with the others.
    static func leftOutPlace(_ index: Int) -> Int16? { Int16(exactly: index) }

    /// Keeps `moment` (one read from a summary).
    func add(_ moment: ReplayMoment) -> MomentID {
        let start = heldClasses.count
        for lock in moment.held {
            heldClasses.append(lock.classID)
            heldSites.append(lock.site)
        }
        let packed = Self.pack(
            cpu: moment.cpu, task: moment.task, irqState: moment.irqState, heldStart: start,
            mayMissHeldLocks: moment.mayMissHeldLocks, leftOut: -1)
        return append(packed, heldNotListed: moment.heldNotListed)
    }

    private static func pack(
        cpu: Int, task: TaskKey, irqState: ReplayMoment.IrqState?, heldStart: Int, mayMissHeldLocks: Bool, leftOut: Int16
    ) -> Packed {
        var context = ContextKey(
            cpu: Int32(clamping: cpu), task: 0, irq: 0, taskIsNamed: false, mayMissHeldLocks: mayMissHeldLocks,
            leftOut: leftOut)
        switch task {
        case .named(let symbol):
            context.task = symbol.rawValue
            context.taskIsNamed = true
        case .anonymous(let cpu):
            context.task = Int32(clamping: cpu)
        }
        if let state = irqState {
            func field(_ value: Int) -> UInt64 { UInt64(min(max(value, 0), 0xFFFF)) }
            context.irq = 1 | (state.hardirqsEnabled ? 2 : 0) | (state.softirqsEnabled ? 4 : 0)
                | field(state.hardirqCount) << 8 | field(state.softirqs) << 24 | field(state.softirqCount) << 40
        }
        return Packed(context: context, heldStart: Int32(heldStart))
    }

    private func append(_ packed: Packed, heldNotListed: Int) -> MomentID {
        moments.append(packed)
        let id = MomentID(index: Int32(moments.count - 1))
        if heldNotListed > 0 { self.heldNotListed[id.index] = heldNotListed }
        return id
    }

    /// The moment `id` of a fact; `holder`, for a dependency's, the lock it was made from
    /// (`DependencyFact.holder`), which the moment may have left out; nil for any other's.
    public func moment(_ id: MomentID, holder: ReplayMoment.Held?) -> ReplayMoment {
        var moment = unpacked(id, withHeld: true)
        let leftOut = Int(moments[Int(id.index)].context.leftOut)
        if leftOut >= 0 {
            guard let holder else { preconditionFailure("moment \(id.index) left out its dependency's holder, and it was not given") }
            moment.held.insert(holder, at: leftOut)
        }
        return moment
    }

    /// Whether moment `id` left out its dependency's holder, to be read with it.
    public func leavesOutHolder(_ id: MomentID) -> Bool { moments[Int(id.index)].context.leftOut >= 0 }

    /// Whether moment `id` keeps no held lock (and counts none past `--max-depth`): the kind
    /// `record` gives again to the facts of its context, while its slot keeps it. Which
    /// facts share one so depends on what was recorded before, in other traces too.
    func keepsNoHeldLock(_ id: MomentID) -> Bool { heldRange(of: id).isEmpty && heldNotListed[id.index] == nil }

    /// What moment `id` says but for its held locks, as the store compares moments.
    func contextKey(of id: MomentID) -> ContextKey { moments[Int(id.index)].context }

    /// Who ran, and its irq state, at moment `id`: no held locks.
    public func context(_ id: MomentID) -> ReplayMoment { unpacked(id, withHeld: false) }

    private func unpacked(_ id: MomentID, withHeld: Bool) -> ReplayMoment {
        let context = moments[Int(id.index)].context
        var irqState: ReplayMoment.IrqState?
        if context.irq & 1 != 0 {
            func field(_ shift: UInt64) -> Int { Int((context.irq >> shift) & 0xFFFF) }
            irqState = ReplayMoment.IrqState(
                hardirqCount: field(8), softirqs: field(24), softirqCount: field(40),
                hardirqsEnabled: context.irq & 2 != 0, softirqsEnabled: context.irq & 4 != 0)
        }
        let held = withHeld ? heldRange(of: id).map { ReplayMoment.Held(classID: heldClasses[$0], site: heldSites[$0]) } : []
        return ReplayMoment(
            cpu: Int(context.cpu), task: context.taskIsNamed ? .named(Symbol(rawValue: context.task)) : .anonymous(cpu: Int(context.task)),
            irqState: irqState, held: held, heldNotListed: heldNotListed[id.index] ?? 0, mayMissHeldLocks: context.mayMissHeldLocks)
    }
}
