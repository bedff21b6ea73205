/// Replays one trace's events in order and owns the machine they describe: cpus, their
/// tasks and irq frames, held-lock stacks, hardirq and bh state. Checkers observe it.
///
/// Inconsistent input (an exit without an enter, a restore without a save) is a
/// `TraceInputError`; a lock misuse the kernel could really commit (a release of a lock not
/// held) is reported to observers as a finding instead.
public final class ReplayEngine {
    public let header: TraceHeader
    public let fileName: String
    public let classes: LockClassTable
    public let symbols: SymbolTable
    @exclusivity(unchecked) public private(set) var cpus: [CPUState] = []
    /// The held-lock stack of every task seen, by index; `stackIndex` finds a task's.
    @exclusivity(unchecked) private var stacks: [HeldLocks] = []
    /// Each task's hardirq, bh and preempt state while it is not running: a task takes its
    /// irq state with it, as the kernel saves it across a context switch.
    @exclusivity(unchecked) private var switchedOut: [SavedTaskState] = []
    /// In a partial trace, the locks each context was seen to take (by class name and
    /// instance, `seenKey`): a release of any other is of a lock held from before the
    /// capture. A task's by its stack slot, the irq frames' on a cpu by the cpu.
    @exclusivity(unchecked) private var seenInTask: [IntegerTable<Bool>?] = []
    @exclusivity(unchecked) private var seenInIrqs: [IntegerTable<Bool>?] = []
    /// `header.partial`: the machine's state before the first event is unknown.
    public let isPartial: Bool
    @exclusivity(unchecked) private var stackOwners: [TaskKey] = []
    /// The cpu each task (by stack index) runs on, or -1: a task seen on another cpu has
    /// migrated, and leaves the cpu it was on.
    @exclusivity(unchecked) private var runningOn: [Int] = []
    @exclusivity(unchecked) private var stackIndex = IntegerTable<Int>()
    /// Slots of tasks that left nothing to remember (no lock held, the state a new task
    /// has), freed past `keptTaskSlots` in use and at lost events: a trace of a hundred
    /// thousand short-lived tasks keeps at most that many.
    @exclusivity(unchecked) private var freeStacks: [Int] = []
    /// The slots in use (not in `freeStacks`), and each slot's place among them (-1: free):
    /// lost events reset these, not every slot ever made.
    @exclusivity(unchecked) private var liveSlots: [Int] = []
    @exclusivity(unchecked) private var livePlace: [Int] = []
    /// How many task slots are kept before those of tasks that left nothing to remember are
    /// freed: a task that comes back then finds its slot, where one made again and freed at
    /// every switch was 7% of the replay of 512 tasks. A kept slot replays as a new one
    /// would, so the bound changes memory (some 100 bytes a slot, and room for 8 locks at
    /// most), never a verdict.
    static let keptTaskSlots = 4096
    /// Empty held-lock lists of irq frames that exited, kept with their room for the next
    /// frame: an allocation and a free at every irq entry, and a reallocation at its first
    /// locks, were one acquisition in ten's cost on the kernel-shaped trace. (At most as many
    /// as frames were ever nested at once.)
    @exclusivity(unchecked) private var spareHeld: [HeldLocks] = []
    /// The room a new irq frame's held-lock list starts with: most handlers hold fewer.
    static let heldCapacity = 8
    /// How many held locks of every context on every cpu have each instance (by symbol):
    /// where none has, `holds(cpu:instance:)` knows without looking at a held lock (a Xen
    /// pin walk holds thousands, and asks of each page's ptl); where one has, and its class
    /// was never taken without an instance (`takenWithoutInstance`), that lock alone can
    /// match a release of the instance (`release`). Counted at each acquisition and release;
    /// recounted when lost events drop held locks.
    @exclusivity(unchecked) private var heldInstances = IntegerTable<Int>()
    /// The class names (by symbol) ever taken without an instance in this replay.
    @exclusivity(unchecked) private var takenWithoutInstance: [Bool] = []
    /// pgds, pgd_list, page-table pages, tables, walks and kmaps.
    @exclusivity(unchecked) public private(set) var memory = MemoryState()
    /// The lock that guards pgd_list unless an event names another (`pgd_lock`).
    let defaultListLock: Symbol
    /// The map class of each RCU flavor, interned before the replay (which never interns).
    private let rcuMaps: [RcuFlavor: Symbol]
    @exclusivity(unchecked) public private(set) var eventCount = 0
    private let observers: [ReplayObserver]

    /// lockdep's MAX_LOCK_DEPTH (`--max-depth`): a lock taken with this many held is held and
    /// listed, but not validated, as lockdep validates nothing once its held-lock array is
    /// full (it turns itself off). What a report of a deeper stack must remember stays
    /// bounded by it, however deep a trace goes.
    public let validatedDepth: Int

    public init(
        header: TraceHeader, fileName: String, classes: LockClassTable, symbols: SymbolTable,
        defaultListLock: Symbol, rcuMaps: [RcuFlavor: Symbol] = [:], validatedDepth: Int = .max, observers: [ReplayObserver]
    ) {
        self.validatedDepth = validatedDepth
        self.defaultListLock = defaultListLock
        self.rcuMaps = rcuMaps
        self.header = header
        self.fileName = fileName
        self.classes = classes
        self.symbols = symbols
        self.observers = observers
        isPartial = header.partial
        func interested(_ kind: ObservedEvents.Category) -> ObserverList {
            ObserverList(observers.filter { $0.observedEvents.contains(kind.option) })
        }
        acquiringObservers = interested(.acquiring)
        acquiredObservers = interested(.acquired)
        releaseObservers = interested(.releases)
        irqObservers = interested(.irqEnabling)
        eventObservers = ObserverLists(interested)
        for cpu in 0..<(header.cpus ?? 0) { addCPU(cpu) }
        for observer in observers { observer.replayWillBegin(self) }
    }

    // Observers by what they watch, so that an event reaches only those that care.
    private let acquiringObservers: ObserverList
    private let acquiredObservers: ObserverList
    private let releaseObservers: ObserverList
    private let irqObservers: ObserverList
    /// Those of each `ObservedEvents.Category`: called after every event of it, and the
    /// `.context` ones also when a task is switched out in an atomic section.
    private let eventObservers: ObserverLists

    private func addCPU(_ cpu: Int) {
        var state = CPUState(cpu: cpu, known: !isPartial)
        // First met after lost events: a handler may have begun in them.
        if forgotten { state.handlersFromBefore = .any }
        state.stack = stack(for: state.task)
        runningOn[state.stack] = cpu
        cpus.append(state)
        seenInIrqs.append(nil)
    }

    private func stack(for task: TaskKey) -> Int {
        if let index = stackIndex[task.tableKey] { return index }
        if let slot = freeStacks.popLast() {
            // Freed empty (`forgetIfNew`): its room is kept for the next task.
            stacks[slot].removeAll(keepingCapacity: true)
            switchedOut[slot] = newTaskState
            runningOn[slot] = -1
            stackOwners[slot] = task
            seenInTask[slot] = nil
            stackIndex[task.tableKey] = slot
            livePlace[slot] = liveSlots.count
            liveSlots.append(slot)
            return slot
        }
        // Empty, without room: a slot that is never freed (every task of a partial trace, a
        // task switched out atomic) costs nothing until it takes a lock.
        stacks.append([])
        switchedOut.append(newTaskState)
        runningOn.append(-1)
        stackOwners.append(task)
        seenInTask.append(nil)
        stackIndex[task.tableKey] = stacks.count - 1
        livePlace.append(liveSlots.count)
        liveSlots.append(stacks.count - 1)
        return stacks.count - 1
    }

    /// The locks `task` holds (running or switched out), without making it a slot.
    func heldLocks(task: TaskKey) -> HeldLocks {
        stackIndex[task.tableKey].map { stacks[$0] } ?? []
    }

    /// How many tasks the replay keeps state for (running, holding locks, or saved unlike new).
    var taskSlotsInUse: Int { stackIndex.count }

    /// Every task's held locks (for reports at the end of a trace).
    public var taskLocks: [TaskKey: HeldLocks] {
        Dictionary(uniqueKeysWithValues: stacks.indices.filter { stackIndex[stackOwners[$0].tableKey] == $0 }.map { (stackOwners[$0], stacks[$0]) })
    }

    /// The number of cpus: as declared, or as many as the events have named so far.
    public var cpuCount: Int { cpus.count }

    // MARK: Reading the state

    /// The innermost irq frame's kind on `cpu`, and whether it is a threaded hardirq; nil in
    /// task context. Read in place: a copy of the frame retains and releases its held locks.
    public func innermostFrame(cpu: Int) -> (kind: ContextKind, threaded: Bool)? {
        let count = cpus[cpu].frames.count
        guard count > 0 else { return nil }
        return (cpus[cpu].frames[count - 1].kind, cpus[cpu].frames[count - 1].threaded)
    }

    /// Whether `cpu` is serving a hardirq and whether a softirq, in one pass over its frames
    /// read in place (`CPUState.inHardirq` and `inSoftirq` on `cpus[cpu]` copied the state).
    public func servingIrqs(cpu: Int) -> (hardirq: Bool, softirq: Bool) {
        var serving = (hardirq: false, softirq: false)
        for index in cpus[cpu].frames.indices {
            switch cpus[cpu].frames[index].kind {
            case .hardirq: serving.hardirq = true
            case .softirq: serving.softirq = true
            case .task: break
            }
        }
        return serving
    }

    /// The locks held by the innermost context running on `cpu`.
    public func heldLocks(cpu: Int) -> HeldLocks {
        if let frame = cpus[cpu].frames.last { return frame.held }
        return stacks[cpus[cpu].stack]
    }

    /// Every lock held on `cpu`: the running task's, then each irq frame's, outermost first
    /// (lockdep's curr->held_locks).
    public func allHeldLocks(cpu: Int) -> HeldLocks {
        guard !cpus[cpu].frames.isEmpty else { return stacks[cpus[cpu].stack] }
        var result = stacks[cpus[cpu].stack]
        for frame in cpus[cpu].frames { result += frame.held }
        return result
    }

    /// The oldest `limit` of `allHeldLocks(cpu:)`, and how many were taken after them: what a
    /// report lists (up to `validatedDepth`, the most entries lockdep's held-lock array
    /// holds). Gathered without copying the rest of a stack thousands deep.
    public func allHeldLocks(cpu: Int, upTo limit: Int) -> (locks: [HeldLock], more: Int) {
        // Nearly always the task's own stack, shared, not copied.
        var (result, more) = stacks[cpus[cpu].stack].listed(upTo: limit)
        for frame in cpus[cpu].frames {
            let listed = frame.held.prefix(limit - result.count)
            result += listed
            more += frame.held.count - listed.count
        }
        return (result, more)
    }

    /// How many locks `cpu`'s task and the irq frames on it hold.
    public func heldLockCount(cpu: Int) -> Int {
        cpus[cpu].frames.reduce(stacks[cpus[cpu].stack].count) { $0 + $1.held.count }
    }

    /// Whether lockdep would still validate a lock taken now on `cpu`: its held-lock array
    /// (the task's locks and the irq frames' on it, a nest lock's run of one class one entry)
    /// holds fewer than `validatedDepth`: read off each array's top lock (`lockdepDepth`).
    func isWithinValidatedDepth(cpu: Int) -> Bool {
        var depth = Int(stacks[cpus[cpu].stack].last?.lockdepDepth ?? 0)
        for frame in cpus[cpu].frames { depth += Int(frame.held.last?.lockdepDepth ?? 0) }
        return depth < validatedDepth
    }

    /// How many times lost events made the replay forget what was held: what a checker
    /// remembers of a stack is of an earlier one once this has changed.
    @exclusivity(unchecked) public private(set) var forgetCount = 0

    /// The lock stack a kmap or a lock of the current context belongs to: the running task's,
    /// or, inside an irq, the cpu's anonymous context for that irq level.
    func currentTaskKey(cpu: Int) -> TaskKey {
        cpus[cpu].frames.isEmpty ? cpus[cpu].task : .anonymous(cpu: -1 - cpu)
    }

    /// The held lock that makes taking `lock` recursive locking, as lockdep's check_deadlock
    /// decides: the first lock of its class held by this task or the irq frames on it, from
    /// the bottom, unless both are reads and the new one recursive; none where `lock` is
    /// nested (`isNested`). `cpu`: where the task runs now, if not where it took `lock` (a
    /// lock taken again at a release, after the task migrated).
    public func recursion(of lock: HeldLock, cpu: Int? = nil) -> HeldLock? {
        if case .recursive(let held) = deadlockCheck(lock, cpu: cpu ?? lock.site.cpu) { return held }
        return nil
    }

    /// Whether `lock` is allowed beside a held lock of its class by its nest lock, so that it
    /// is no recursion and adds no dependency. As lockdep: it folds into the lock right under
    /// it, of its class (a nest lock's run: __lock_acquire returns before any check, whether
    /// the nest lock is held or not); or check_deadlock met the nest lock held at or below
    /// the first held lock of its class (returning 2). `cpu` as for `recursion(of:cpu:)`.
    public func isNested(_ lock: HeldLock, cpu: Int? = nil) -> Bool {
        if case .nested = deadlockCheck(lock, cpu: cpu ?? lock.site.cpu) { return true }
        return false
    }

    /// `isNested(lock, cpu:) || recursion(of: lock, cpu:) != nil`, in one look.
    func isNestedOrRecursive(_ lock: HeldLock, cpu: Int) -> Bool {
        if case .none = deadlockCheck(lock, cpu: cpu) { return false }
        return true
    }

    /// The newest lock `cpu`'s task holds (lockdep's curr->held_locks[depth - 1]): the top
    /// of the innermost context that holds any. With `outside`, of the contexts under the
    /// current one only.
    func newestHeld(cpu: Int, outside: Bool) -> HeldLock? {
        var frame = cpus[cpu].frames.count - (outside ? 1 : 0)
        while frame > 0 {
            frame -= 1
            if let top = cpus[cpu].frames[frame].held.last { return top }
        }
        if outside && cpus[cpu].frames.isEmpty { return nil }
        return stacks[cpus[cpu].stack].last
    }

    private enum DeadlockCheck {
        case none, nested, recursive(HeldLock)
    }

    private func deadlockCheck(_ lock: HeldLock, cpu: Int) -> DeadlockCheck {
        let nest = lock.nest
        if nest != nil, lock.isFolded { return .nested }
        // From the bottom, as check_deadlock: the nest lock counts where it is met first.
        var nestHeld = false
        let found = firstHeld(cpu: cpu) { held in
            if let nest, held.ref.name == nest { nestHeld = true }
            return held.classID == lock.classID && !(lock.mode == .recursiveRead && held.mode != .write)
        }
        guard let found else { return .none }
        return nestHeld ? .nested : .recursive(found)
    }

    /// Whether the current context of `cpu` (or the irq frames under it) holds a lock of the
    /// class named `name`, or the instance `instance`.
    public func holds(cpu: Int, className name: Symbol? = nil, instance: Symbol? = nil) -> Bool {
        if let instance, heldInstances[Self.instanceKey(instance)] == nil { return false }
        let matches = { (lock: HeldLock) in
            (name == nil || lock.ref.name == name) && (instance == nil || lock.ref.instance == instance)
        }
        // The most recent first: what is asked after is most often what was just taken.
        for frame in cpus[cpu].frames.indices.reversed() where cpus[cpu].frames[frame].held.contains(where: matches) {
            return true
        }
        return stacks[cpus[cpu].stack].reversed().contains(where: matches)
    }

    private static func instanceKey(_ instance: Symbol) -> UInt64 { UInt64(UInt32(bitPattern: instance.rawValue)) }

    private func countHeld(_ instance: Symbol?, by change: Int) {
        guard let instance else { return }
        let key = Self.instanceKey(instance)
        let count = (heldInstances[key] ?? 0) + change
        if count > 0 { heldInstances[key] = count } else { heldInstances.removeValue(forKey: key) }
    }

    /// The first of `allHeldLocks(cpu:)` that `predicate` accepts, found where the locks lie
    /// (what every acquisition asks, so without gathering them into a new array).
    ///
    /// Read a lock at a time by index: `first(where:)` on a list in place retained the list
    /// for the call (the predicate might change it), two atomic operations a look, three looks
    /// an acquisition.
    func firstHeld(cpu: Int, where predicate: (HeldLock) -> Bool) -> HeldLock? {
        let stack = cpus[cpu].stack
        var index = 0
        while index < stacks[stack].count {
            let lock = stacks[stack][index]
            if predicate(lock) { return lock }
            index += 1
        }
        for frame in cpus[cpu].frames.indices {
            index = 0
            while index < cpus[cpu].frames[frame].held.count {
                let lock = cpus[cpu].frames[frame].held[index]
                if predicate(lock) { return lock }
                index += 1
            }
        }
        return nil
    }

    /// `cpu`'s irq nesting (`CPUState.hardirqNesting`, `softirqNesting`, `bhDisables`,
    /// `softirqsEnabled`), its frames counted where they lie: read through `cpus[cpu]`, the
    /// computed properties (closures over the frames) copied the cpu's state and retained its
    /// arrays, three copies a dependency's moment.
    func irqNesting(cpu: Int) -> (hardirqs: Int, softirqs: Int, bhDisables: Int, softirqsEnabled: Bool) {
        var (hardirqs, softirqs) = (0, 0)
        for frame in cpus[cpu].frames.indices {
            switch cpus[cpu].frames[frame].kind {
            case .hardirq: hardirqs += 1
            case .softirq: softirqs += 1
            case .task: break
            }
        }
        let depth = cpus[cpu].bhDisableDepth
        return (hardirqs, softirqs, CPUState.bhDisables(depth: depth, softirqs: softirqs), CPUState.softirqsEnabled(depth: depth))
    }

    /// How many locks the innermost context running on `cpu` holds (`heldLocks(cpu:).count`).
    func heldCount(cpu: Int) -> Int {
        let frames = cpus[cpu].frames.count
        return frames == 0 ? stacks[cpus[cpu].stack].count : cpus[cpu].frames[frames - 1].held.count
    }

    /// `heldLocks(cpu:)[index]`, read in place, without a copy of the list (and its retain).
    func heldLock(cpu: Int, at index: Int) -> HeldLock {
        let frames = cpus[cpu].frames.count
        return frames == 0 ? stacks[cpus[cpu].stack][index] : cpus[cpu].frames[frames - 1].held[index]
    }

    // MARK: Applying events

    public func apply(_ event: Event) throws {
        eventCount += 1
        let cpu = event.cpu
        while cpus.count <= cpu { addCPU(cpus.count) }
        if case .eventsLost(let lostCPU, _) = event.kind {
            forgetAfterLostEvents(cpu: lostCPU)
            lastLoss = event.position
            memory.forgetSeenState()
            eventObservers.forEach(of: .context) { $0.replay(self, didApply: event, at: EventSite(event)) }
            return
        }
        let site = EventSite(event)
        defer {
            // A capture's sample of the preempt count, as of this event (after a switch).
            if let count = event.preemptCount {
                cpus[cpu].preemptDepth = Int(count)
                cpus[cpu].preemptKnown = true
                cpus[cpu].preemptSampled = true
            }
        }
        if let task = event.task, cpus[cpu].frames.isEmpty, cpus[cpu].task != .named(task) {
            switchTask(cpu: cpu, to: .named(task), at: site)
        }

        switch event.kind {
        case .acquire where cpus[cpu].inNMI, .release where cpus[cpu].inNMI,
            .rcuReadLock where cpus[cpu].inNMI, .rcuReadUnlock where cpus[cpu].inNMI,
            .irqEnable where cpus[cpu].inNMI, .irqDisable where cpus[cpu].inNMI:
            // lockdep is off in NMI: the lock is not held, ordered or checked (NmiChecker
            // sees the acquisition as an event), and irq state changes mark nothing.
            break
        case .irqDisable:
            disableHardirqs(cpu: cpu, at: site)
        case .irqEnable:
            enableHardirqs(cpu: cpu, at: site)
        case .hardirqEnter, .softirqEnter:
            var kind = ContextKind.softirq
            var threaded = false
            if case .hardirqEnter(_, let isThreaded) = event.kind {
                kind = .hardirq
                threaded = isThreaded
            }
            cpus[cpu].handlersFromBefore.ruleOut(below: kind)
            var frame = IrqFrame(
                kind: kind, savedHardirqsEnabled: cpus[cpu].hardirqsEnabled,
                savedBHDisableDepth: cpus[cpu].bhDisableDepth, savedHardirqsKnown: cpus[cpu].hardirqsKnown,
                savedBHKnown: cpus[cpu].bhKnown, entered: site, threaded: threaded)
            frame.held = spareHeld.popLast() ?? HeldLocks(capacity: Self.heldCapacity)
            cpus[cpu].frames.append(frame)
            if kind == .hardirq {
                disableHardirqs(cpu: cpu, at: site)
            } else {
                cpus[cpu].bhDisableDepth += 1
            }
        case .hardirqExit, .softirqExit:
            let kind: ContextKind = event.kind == .hardirqExit ? .hardirq : .softirq
            try exitFrame(kind, cpu: cpu, at: site)
        case .nmiEnter:
            cpus[cpu].nmiSaved.append((cpus[cpu].hardirqsEnabled, cpus[cpu].hardirqsKnown))
            disableHardirqs(cpu: cpu, at: site)
        case .nmiExit:
            guard let saved = cpus[cpu].nmiSaved.popLast() else {
                // Its enter was before the capture, or lost: the state after it is unknown.
                if isPartial || forgotten {
                    cpus[cpu].hardirqsKnown = false
                    break
                }
                throw inputError(site, "<nmi-exit/> on cpu \(cpu) outside any NMI; expected a matching <nmi-enter/> first")
            }
            cpus[cpu].hardirqsEnabled = saved.enabled
            cpus[cpu].hardirqsKnown = saved.known
        case .rcuReadLock(let flavor):
            // rcu_read_lock_*(): a check=0 recursive read of the flavor's map.
            guard let map = rcuMaps[flavor] else { break }
            acquire(
                LockRef(name: map), mode: .recursiveRead, isTry: false, irq: nil, bh: flavor == .bh, nest: nil, cpu: cpu,
                site: site, validates: false)
            if flavor == .sched { cpus[cpu].preemptDepth += 1 }
        case .rcuReadUnlock(let flavor):
            guard let map = rcuMaps[flavor] else { break }
            if flavor == .sched, cpus[cpu].preemptDepth > 0 { cpus[cpu].preemptDepth -= 1 }
            try release(LockRef(name: map), irq: nil, bh: flavor == .bh, cpu: cpu, site: site)
        case .bhDisable:
            cpus[cpu].bhDisableDepth += 1
        case .bhEnable:
            try enableBH(cpu: cpu, at: site, what: "<bh-enable/>")
        case .bhState(let disabled):
            stateBH(disabled: disabled, cpu: cpu, at: site)
        case .preemptDisable:
            cpus[cpu].preemptDepth += 1
        case .preemptEnable:
            if cpus[cpu].preemptDepth > 0 {
                cpus[cpu].preemptDepth -= 1
            } else if !isPartial, cpus[cpu].preemptKnown {
                throw inputError(site, "<preempt-enable/> on cpu \(cpu) with preemption already enabled")
            }
        case .acquired, .contended, .contentionBegin, .contentionEnd, .eventsLost:
            break  // statistics: no state of the machine changes
        case .acquire(let ref, let mode, let isTry, let irq, let bh, let nest):
            acquire(ref, mode: mode, isTry: isTry, irq: irq, bh: bh, nest: nest, cpu: cpu, site: site)
        case .release(let ref, let irq, let bh):
            try release(ref, irq: irq, bh: bh, cpu: cpu, site: site)
        default:
            do {
                let symbols = self.symbols
                if let unseen = try memory.apply(
                    event.kind, site: site, task: currentTaskKey(cpu: cpu), sequence: eventCount,
                    name: { symbols[$0] }, beganUnseen: isPartial || forgotten,
                    lostAt: lastLoss)
                {
                    for observer in observers { observer.replay(self, ended: unseen, at: site) }
                }
            } catch {
                throw inputError(site, error.message)
            }
        }
        eventObservers.forEach(of: ObservedEvents.Category(event.kind)) { $0.replay(self, didApply: event, at: site) }
    }

    /// What the lost events may have changed is no longer known: the locks held on the cpu
    /// (its irq frames' and its running task's; every cpu's when `cpu` is nil) may have been
    /// released, its irq and bh state changed; and any task may have run there meanwhile (a
    /// capture does not show when a task leaves a cpu, only when another's event comes), so
    /// what every task holds is forgotten too. What follows is read as the start of a partial
    /// trace: a release of a forgotten lock is a note, never a bad unlock or a recursion.
    private func forgetAfterLostEvents(cpu lostCPU: Int?) {
        forgetCount += 1
        for stack in liveSlots {
            stacks[stack] = []
            if runningOn[stack] < 0 { switchedOut[stack] = SavedTaskState(known: false) }
            seenInTask[stack] = nil
        }
        for cpu in cpus.indices where lostCPU == nil || lostCPU == cpu {
            for index in cpus[cpu].frames.indices { cpus[cpu].frames[index].held = [] }
            cpus[cpu].hardirqsKnown = false
            cpus[cpu].bhKnown = false
            cpus[cpu].nmiSaved = []
            // A handler may have begun in what was lost, and still run: where no frame is open
            // (above one, its exit comes inside that frame, an error as before).
            cpus[cpu].handlersFromBefore = cpus[cpu].frames.isEmpty ? .any : []
            cpus[cpu].preemptKnown = false
            // Counted again from here: what the trace sees disabled is a least count.
            cpus[cpu].preemptDepth = 0
            cpus[cpu].bhDisableDepth = cpus[cpu].frames.contains { $0.kind == .softirq } ? cpus[cpu].bhDisableDepth : 0
            seenInIrqs[cpu] = nil
        }
        // What is still held: the irq frames of the other cpus.
        heldInstances = IntegerTable()
        for cpu in cpus.indices {
            for frame in cpus[cpu].frames { for lock in frame.held { countHeld(lock.ref.instance, by: 1) } }
        }
        forgotten = true
        // Every task not running is now as a new one would be (unknown state, nothing held):
        // its slot is freed, so that the next loss resets only the tasks seen since, however
        // many slots were kept before.
        for slot in liveSlots.reversed() where isNewLike(slot) { free(slot) }
    }

    /// Whether lost events made the replay forget state: releases of locks it no longer
    /// knows are then notes, as in a partial trace.
    @exclusivity(unchecked) private var forgotten = false
    /// Where events were last lost in this trace.
    @exclusivity(unchecked) private var lastLoss: TracePosition?

    /// Whether a context may hold locks the replay never saw taken: the trace began while
    /// locks were held (partial), or events were lost. A held-lock list then says so.
    public var mayMissHeldLocks: Bool { isPartial || forgotten }

    /// Whether this trace lost events so far.
    public var hasLostEvents: Bool { forgotten }

    /// The state of a task the replay has no slot for: known from an idle machine; unknown in
    /// a partial trace, and after lost events, for any task (one forgotten before the loss,
    /// as much as one never seen, may have run in it).
    private var newTaskState: SavedTaskState { SavedTaskState(known: !isPartial && !forgotten) }

    /// Ends the replay; observers see the final state (for example, locks still held).
    public func finish() {
        for observer in observers { observer.replayDidEnd(self) }
    }

    /// Another task runs on `cpu`. The one switched out keeps its irq state for when it runs
    /// again; if it was atomic (a spinning lock held, hardirqs or bh off), observers hear of
    /// it: that is scheduling while atomic.
    private func switchTask(cpu: Int, to task: TaskKey, at site: EventSite) {
        let old = cpus[cpu].stack
        let hardirqsEnabled = cpus[cpu].hardirqsEnabled, bhDisabled = cpus[cpu].bhDisableDepth > 0
        // A capture's task switches are the kernel's: inside __schedule, where hardirqs are
        // always off; that is no sign of sleeping in atomic context. Nor is a lock whose type
        // the capture never said (a sleeping lock may be held across a switch).
        let switchingWithIrqsOff = !hardirqsEnabled && cpus[cpu].hardirqsKnown && !isPartial
        // Likewise a capture's preempt count, sampled inside __schedule, is never zero there;
        // a trace from an idle machine counts only the preempt_disable()s it states.
        let preemptDepth = !isPartial && cpus[cpu].preemptKnown ? cpus[cpu].preemptDepth : 0
        if switchingWithIrqsOff || bhDisabled || preemptDepth > 0
            || stacks[old].contains(where: { !$0.isTry && isSurelySpinning($0.classID) })
        {
            eventObservers.forEach(of: .context) { observer in
                observer.replay(
                    self, switchedOut: stackOwners[old], atomic: stacks[old], hardirqsEnabled: !switchingWithIrqsOff,
                    bhDisabled: bhDisabled, preemptDepth: preemptDepth, at: site)
            }
        }
        save(cpu: cpu)
        forgetIfNew(old)
        let new = stack(for: task)
        // Seen here while it runs elsewhere: it migrated (the trace did not show the switch
        // on the cpu it left), and takes its state with it.
        let elsewhere = runningOn[new]
        if elsewhere >= 0, elsewhere != cpu, elsewhere < cpus.count, cpus[elsewhere].stack == new {
            save(cpu: elsewhere)
            let anonymous = TaskKey.anonymous(cpu: elsewhere)
            load(cpu: elsewhere, task: anonymous, slot: stack(for: anonymous))
        }
        load(cpu: cpu, task: task, slot: new)
    }

    /// Keeps the running task's state for when it runs again.
    private func save(cpu: Int) {
        // Field by field: a copy of the whole CPUState would retain its frames.
        let slot = cpus[cpu].stack
        switchedOut[slot] = SavedTaskState(
            hardirqsEnabled: cpus[cpu].hardirqsEnabled, hardirqsKnown: cpus[cpu].hardirqsKnown,
            bhDisableDepth: cpus[cpu].bhDisableDepth, bhKnown: cpus[cpu].bhKnown, preemptDepth: cpus[cpu].preemptDepth,
            preemptKnown: cpus[cpu].preemptKnown, disabledAt: cpus[cpu].hardirqsEnabled ? nil : cpus[cpu].hardirqsDisabledAt)
        runningOn[slot] = -1
    }

    /// Frees the slot of a task switched out that a new task would replay the same (no lock
    /// held, nothing saved that a new one lacks, nothing else kept under its name), once more
    /// than `keptTaskSlots` are in use.
    private func forgetIfNew(_ slot: Int) {
        guard stackIndex.count > Self.keptTaskSlots else {
            // Kept: with the room of a new irq frame's list at most, so that thousands of
            // kept tasks that once held many locks (a Xen pin walk's thousands) hold none of it.
            if stacks[slot].isEmpty, stacks[slot].capacity > Self.heldCapacity { stacks[slot] = [] }
            return
        }
        if isNewLike(slot) { free(slot) }
    }

    /// Whether a new task would replay the same as the one of `slot`, switched out.
    private func isNewLike(_ slot: Int) -> Bool {
        let owner = stackOwners[slot]
        guard case .named = owner, stacks[slot].isEmpty, runningOn[slot] < 0, switchedOut[slot] == newTaskState,
            seenInTask[slot] == nil, memory.kmaps[owner]?.isEmpty ?? true
        else { return false }
        return true
    }

    private func free(_ slot: Int) {
        stackIndex.removeValue(forKey: stackOwners[slot].tableKey)
        freeStacks.append(slot)
        let place = livePlace[slot]
        let last = liveSlots.removeLast()
        if last != slot {
            liveSlots[place] = last
            livePlace[last] = place
        }
        livePlace[slot] = -1
    }

    /// Runs `task`, of slot `new` (`stack(for:)`, which the caller has found), on `cpu` with
    /// the state it had.
    private func load(cpu: Int, task: TaskKey, slot new: Int) {
        cpus[cpu].task = task
        cpus[cpu].stack = new
        runningOn[new] = cpu
        let saved = switchedOut[new]
        cpus[cpu].hardirqsEnabled = saved.hardirqsEnabled
        cpus[cpu].hardirqsKnown = saved.hardirqsKnown
        cpus[cpu].bhDisableDepth = saved.bhDisableDepth
        cpus[cpu].bhKnown = saved.bhKnown
        cpus[cpu].preemptDepth = saved.preemptDepth
        cpus[cpu].preemptKnown = saved.preemptKnown
        cpus[cpu].hardirqsDisabledAt = saved.disabledAt
    }

    /// Whether a held lock of this class spins: declared so, or (from an idle machine)
    /// taken as the spinlock an undeclared class is. A capture never says a class's type.
    private func isSurelySpinning(_ id: ClassID) -> Bool {
        let traits = classes.traits(of: id)
        return traits.type.isSpinning && (!isPartial || traits.isDeclared)
    }

    private func disableHardirqs(cpu: Int, at site: EventSite) {
        if cpus[cpu].hardirqsEnabled || !cpus[cpu].hardirqsKnown { cpus[cpu].hardirqsDisabledAt = site }
        cpus[cpu].hardirqsEnabled = false
        cpus[cpu].hardirqsKnown = true
    }

    private func enableHardirqs(cpu: Int, at site: EventSite) {
        // From an unknown state, enabling states it: the locks held become HARDIRQ-ON.
        guard !cpus[cpu].hardirqsEnabled || !cpus[cpu].hardirqsKnown else { return }
        cpus[cpu].hardirqsEnabled = true
        cpus[cpu].hardirqsKnown = true
        cpus[cpu].hardirqsDisabledAt = nil
        irqObservers.forEach { $0.replay(self, didEnableIrqs: false, at: site) }
    }

    private func enableBH(cpu: Int, at site: EventSite, what: String) throws {
        // In a capture, an enable of a disable from before the trace: bh stays unknown.
        if cpus[cpu].bhDisableDepth == 0, !cpus[cpu].bhKnown { return }
        guard cpus[cpu].bhDisableDepth > 0 else {
            throw inputError(site, "\(what) with bh already enabled on cpu \(cpu)")
        }
        // A softirq keeps bh disabled for as long as it runs.
        if let softirq = cpus[cpu].frames.last(where: { $0.kind == .softirq }),
            cpus[cpu].bhDisableDepth <= softirq.savedBHDisableDepth + 1
        {
            throw inputError(site, "\(what) inside a softirq on cpu \(cpu) with no local_bh_disable of its own to undo")
        }
        cpus[cpu].bhDisableDepth -= 1
        if cpus[cpu].bhDisableDepth == 0, cpus[cpu].bhKnown {
            irqObservers.forEach { $0.replay(self, didEnableIrqs: true, at: site) }
        }
    }

    /// The capture says whether bh is disabled here (outside any softirq): the count from
    /// before the trace is known from now on. Enabled, the locks held become SOFTIRQ-ON, as
    /// at lockdep's softirqs_on.
    private func stateBH(disabled: Bool, cpu: Int, at site: EventSite) {
        guard cpus[cpu].frames.isEmpty else { return }
        let wasEnabled = cpus[cpu].bhKnown && cpus[cpu].bhDisableDepth == 0
        cpus[cpu].bhKnown = true
        if disabled {
            cpus[cpu].bhDisableDepth = max(cpus[cpu].bhDisableDepth, 1)
        } else {
            cpus[cpu].bhDisableDepth = 0
            if !wasEnabled {
                irqObservers.forEach { $0.replay(self, didEnableIrqs: true, at: site) }
            }
        }
    }

    private func exitFrame(_ kind: ContextKind, cpu: Int, at site: EventSite) throws {
        let name = kind.name
        guard let frame = cpus[cpu].frames.last, frame.kind == kind else {
            // A partial trace may begin while a handler runs ("tracing is switched on while
            // locks are held and handlers run"), as its enter may be in events lost: it ends
            // here, once (and a hardirq that interrupted it with it), and the state it returns
            // to is not known.
            if cpus[cpu].frames.isEmpty, cpus[cpu].handlersFromBefore.contains(kind) {
                cpus[cpu].handlersFromBefore.ruleOut(below: kind)
                cpus[cpu].hardirqsKnown = false
                if kind == .softirq { cpus[cpu].bhKnown = false }
                return
            }
            let inside = cpus[cpu].frames.last.map { "a \($0.kind.name)" }
            throw inputError(
                site,
                "<\(name)-exit/> on cpu \(cpu) " + (inside.map { "inside \($0)" } ?? "outside any \(name)")
                    + "; expected a matching <\(name)-enter/> first")
        }
        if let still = frame.held.last {
            throw inputError(
                site,
                "<\(name)-exit/> on cpu \(cpu) with \(symbols[still.ref.name]) still held (taken at line \(still.site.position.line)); an irq handler must release what it takes"
            )
        }
        // Empty (checked above): kept with its room for the next frame.
        spareHeld.append(cpus[cpu].frames.removeLast().held)
        let wasEnabled = cpus[cpu].hardirqsEnabled
        cpus[cpu].hardirqsEnabled = frame.savedHardirqsEnabled
        cpus[cpu].hardirqsKnown = frame.savedHardirqsKnown
        if frame.savedHardirqsEnabled { cpus[cpu].hardirqsDisabledAt = nil }
        let bhWasDisabled = cpus[cpu].bhDisableDepth > 0
        cpus[cpu].bhDisableDepth = frame.savedBHDisableDepth
        cpus[cpu].bhKnown = frame.savedBHKnown
        if !wasEnabled && frame.savedHardirqsEnabled && frame.savedHardirqsKnown {
            irqObservers.forEach { $0.replay(self, didEnableIrqs: false, at: site) }
        }
        if bhWasDisabled && frame.savedBHDisableDepth == 0 && frame.savedBHKnown {
            irqObservers.forEach { $0.replay(self, didEnableIrqs: true, at: site) }
        }
    }

    private func acquire(
        _ ref: LockRef, mode: LockMode, isTry: Bool, irq: IrqAcquireAction?, bh: Bool, nest: Symbol?,
        cpu: Int, site: EventSite, validates: Bool? = nil
    ) {
        let classID = classes.id(for: ref.classKey)
        let savedEnabled = cpus[cpu].hardirqsEnabled
        let savedKnown = cpus[cpu].hardirqsKnown
        if irq != nil { disableHardirqs(cpu: cpu, at: site) }
        if bh { cpus[cpu].bhDisableDepth += 1 }
        var effectiveMode = mode
        // A queued rwlock's read_lock() is recursive only in interrupt context, bh-disabled
        // included (lockdep's read_lock_is_recursive(); read_lock_bh disables bh first).
        let traits = classes.traits(of: classID)
        if mode == .read, traits.type == .rwlock {
            effectiveMode = cpus[cpu].inInterrupt ? .recursiveRead : .read
        }
        // The lock it goes on top of, in its context's held-lock array.
        let top = cpus[cpu].frames.isEmpty ? stacks[cpus[cpu].stack].last : cpus[cpu].frames[cpus[cpu].frames.count - 1].held.last
        let isFolded = nest != nil && newestHeld(cpu: cpu, outside: false)?.classID == classID
        // A constant: a variable the observers' closures capture is read into a new copy of
        // the whole held lock for each observer called (8.5% of the replay thread's
        // instructions on the kernel trace).
        let lock = HeldLock(
            classID: classID, ref: ref, mode: effectiveMode, isTry: isTry, irq: irq, bh: bh, nest: nest,
            savedHardirqsEnabled: savedEnabled, savedHardirqsKnown: savedKnown, site: site,
            validates: (validates ?? !traits.novalidate) && isWithinValidatedDepth(cpu: cpu),
            lockdepDepth: HeldLock.lockdepDepth(after: top, classID: classID, nest: nest),
            chainKey: HeldLock.chainKey(after: top?.chainKey ?? 0, classID: classID, mode: effectiveMode, isFolded: isFolded),
            isFolded: isFolded)
        if let top { eventObservers.forEach(of: .prefetching) { $0.replay(self, prefetchFor: lock, over: top) } }
        if isPartial || forgotten { markSeen(ref, cpu: cpu) }
        acquiringObservers.forEach { $0.replay(self, willAcquire: lock) }
        modifyHeld(cpu: cpu) { $0.append(lock) }
        if ref.instance == nil {
            let name = Int(ref.name.rawValue)
            if name >= takenWithoutInstance.count { takenWithoutInstance.grow(toInclude: name, filling: false) }
            takenWithoutInstance[name] = true
        }
        countHeld(ref.instance, by: 1)
        acquiredObservers.forEach { $0.replay(self, didAcquire: lock) }
    }

    private func release(
        _ ref: LockRef, irq: IrqReleaseAction?, bh: Bool, cpu: Int, site: EventSite
    ) throws {
        // Found in place: a copy of the held locks kept across the removal below would make
        // the removal copy the whole stack.
        let match: Int?
        if let instance = ref.instance, heldInstances[Self.instanceKey(instance)] == 1,
            !(takenWithoutInstance.indices.contains(Int(ref.name.rawValue)) && takenWithoutInstance[Int(ref.name.rawValue)])
        {
            // One held lock at most can be this one (the only lock of the instance, and none
            // of the class is held without one): looked for from both ends, as
            // mm_drop_all_locks() releases its thousands of locks from the bottom.
            match = onlyHeldIndex(cpu: cpu) { $0.ref.isReleased(by: ref) }
        } else {
            match = lastHeldIndex(cpu: cpu) { $0.ref.isReleased(by: ref) }
        }
        guard let index = match else {
            let fromBefore = (isPartial || forgotten) && !wasSeen(ref, cpu: cpu)
            releaseObservers.forEach { observer in
                if fromBefore {
                    observer.replay(self, releasedHeldFromBefore: ref, at: site)
                } else {
                    observer.replay(self, unbalancedRelease: ref, at: site)
                }
            }
            // Still apply the irq and bh half of the call, as the kernel would: a restore of
            // flags saved before the trace restores a state the trace never saw.
            if irq == .restore, fromBefore {
                cpus[cpu].hardirqsKnown = false
            } else if irq != nil {
                enableHardirqs(cpu: cpu, at: site)
            }
            if bh, cpus[cpu].bhDisableDepth > 0 { try enableBH(cpu: cpu, at: site, what: "<release bh=\"true\"/>") }
            return
        }
        let lock = cpus[cpu].frames.isEmpty ? stacks[cpus[cpu].stack][index] : cpus[cpu].frames[cpus[cpu].frames.count - 1].held[index]
        if irq == .restore, lock.irq != .save {
            throw inputError(
                site,
                "<release irq=\"restore\"/> of \(symbols[ref.name]), which was not taken with irq=\"save\" (line \(lock.site.position.line)); expected irq=\"enable\" or no irq")
        }
        removeHeld(at: index, cpu: cpu, site: site)
        countHeld(lock.ref.instance, by: -1)
        releaseObservers.forEach { $0.replay(self, didRelease: lock, at: site) }
        switch irq {
        case .restore:
            if !lock.savedHardirqsKnown {
                cpus[cpu].hardirqsKnown = false
            } else if lock.savedHardirqsEnabled {
                enableHardirqs(cpu: cpu, at: site)
            }
        case .enable:
            enableHardirqs(cpu: cpu, at: site)
        case nil:
            break
        }
        if bh { try enableBH(cpu: cpu, at: site, what: "<release bh=\"true\"/>") }
    }

    /// Removes the lock at `index` of `cpu`'s current context, as lockdep's __lock_release
    /// does. Above one released out of order, lockdep takes the locks again
    /// (reacquire_held_locks, each a full `__lock_acquire`): their chain keys change, a nest
    /// lock's member folds anew into the lock now below it, and a chain new since is
    /// validated, which may add dependencies the first acquisition did not (a held lock
    /// below a recursive read one is a holder again). A release that lockdep matches to a
    /// nest lock's run of two or more (the lock is one of it, or such a run of its class lies
    /// above it: find_held_lock searches from the top, and a run's entry matches any lock of
    /// its class) only counts the run's entry down: nothing is taken again, and the entry
    /// keeps its first member's mode, trylock, nest lock and check.
    private func removeHeld(at index: Int, cpu: Int, site: EventSite) {
        // The newest lock, as nearly every release: none above it to fold, key or take again.
        if index == heldCount(cpu: cpu) - 1 {
            modifyHeld(cpu: cpu) { $0.removeNewest() }
            return
        }
        var firstRetaken: Int?
        var lastRetaken = -1
        // What an array's first lock taken again would fold into: the newest lock of the
        // contexts under this one (lockdep's array is the task's, irqs and all).
        let outside = newestHeld(cpu: cpu, outside: true)
        modifyHeld(cpu: cpu) { stack in
            let released = stack[index]
            let countsARunDown = stack.indices[index...].contains { position in
                stack[position].classID == released.classID && stack.isInRun(position)
            }
            // The run's first member released: the entry, now its next member, keeps its state.
            if index + 1 < stack.count, stack[index + 1].isFolded, !released.isFolded {
                stack[index + 1].mode = released.mode
                stack[index + 1].isTry = released.isTry
                stack[index + 1].nest = released.nest
                stack[index + 1].validates = released.validates
            }
            stack.remove(at: index)
            var key = index > 0 ? stack[index - 1].chainKey : 0
            for above in index..<stack.count {
                let below = above > 0 ? stack[above - 1] : nil
                let was = stack[above]
                stack[above].isFolded = was.nest != nil && (below ?? outside)?.classID == was.classID
                key = HeldLock.chainKey(after: key, classID: was.classID, mode: was.mode, isFolded: stack[above].isFolded)
                stack[above].chainKey = key
                stack[above].lockdepDepth = HeldLock.lockdepDepth(after: below, classID: was.classID, nest: was.nest)
                if countsARunDown {
                    // Each lock's key, depth and fold follow from the lock below it alone: once
                    // one comes out as it was, so do all above it (a run's member released
                    // from the bottom, as mm_drop_all_locks does, stops at the next member).
                    if stack[above].chainKey == was.chainKey, stack[above].lockdepDepth == was.lockdepDepth,
                        stack[above].isFolded == was.isFolded
                    {
                        break
                    }
                } else if stack[above].isCheckedAgain {
                    if firstRetaken == nil { firstRetaken = above }
                    lastRetaken = above
                }
            }
        }
        guard let first = firstRetaken else { return }
        // Taken again one at a time up to the last to check, each over the locks below it;
        // the rest at once.
        var above: [HeldLock] = []
        modifyHeld(cpu: cpu) { stack in
            above = Array(stack[first...])
            stack.removeSubrange(first...)
        }
        for lock in above[...(lastRetaken - first)] {
            if lock.isCheckedAgain {
                acquiringObservers.forEach { $0.replay(self, willReacquire: lock, at: site) }
            }
            modifyHeld(cpu: cpu) { $0.append(lock) }
        }
        modifyHeld(cpu: cpu) { $0.append(contentsOf: above[(lastRetaken - first + 1)...]) }
    }

    /// A lock's class name and instance in one key (the subclass aside, as a release names it).
    private static func seenKey(_ ref: LockRef) -> UInt64 {
        UInt64(UInt32(bitPattern: ref.name.rawValue)) << 32 | UInt64(UInt32(bitPattern: ref.instance?.rawValue ?? -1))
    }

    /// Notes that the current context of `cpu` took `ref` (see `seenInTask`).
    private func markSeen(_ ref: LockRef, cpu: Int) {
        let key = Self.seenKey(ref)
        if cpus[cpu].frames.isEmpty {
            let slot = cpus[cpu].stack
            if seenInTask[slot] == nil { seenInTask[slot] = IntegerTable(capacity: 4) }
            seenInTask[slot]![key] = true
        } else {
            if seenInIrqs[cpu] == nil { seenInIrqs[cpu] = IntegerTable(capacity: 4) }
            seenInIrqs[cpu]![key] = true
        }
    }

    /// Whether the current context of `cpu` was seen to take `ref`.
    private func wasSeen(_ ref: LockRef, cpu: Int) -> Bool {
        let seen = cpus[cpu].frames.isEmpty ? seenInTask[cpus[cpu].stack] : seenInIrqs[cpu]
        return seen?[Self.seenKey(ref)] != nil
    }

    /// The last of `heldLocks(cpu:)` that `predicate` accepts, found in place.
    private func lastHeldIndex(cpu: Int, where predicate: (HeldLock) -> Bool) -> Int? {
        if cpus[cpu].frames.isEmpty { return stacks[cpus[cpu].stack].lastIndex(where: predicate) }
        return cpus[cpu].frames[cpus[cpu].frames.count - 1].held.lastIndex(where: predicate)
    }

    /// The one lock of `heldLocks(cpu:)` that `predicate` accepts, where no other can be:
    /// looked for from both ends at once.
    private func onlyHeldIndex(cpu: Int, where predicate: (HeldLock) -> Bool) -> Int? {
        func search(_ held: HeldLocks) -> Int? {
            var (low, high) = (held.startIndex, held.endIndex - 1)
            while low <= high {
                if predicate(held[high]) { return high }
                if predicate(held[low]) { return low }
                (low, high) = (low + 1, high - 1)
            }
            return nil
        }
        if cpus[cpu].frames.isEmpty { return search(stacks[cpus[cpu].stack]) }
        return search(cpus[cpu].frames[cpus[cpu].frames.count - 1].held)
    }

    private func modifyHeld(cpu: Int, _ body: (inout HeldLocks) -> Void) {
        if cpus[cpu].frames.isEmpty {
            body(&stacks[cpus[cpu].stack])
        } else {
            body(&cpus[cpu].frames[cpus[cpu].frames.count - 1].held)
        }
    }

    func inputError(_ site: EventSite, _ message: String) -> TraceInputError {
        TraceInputError(file: fileName, line: site.position.line, column: site.position.column, message: message)
    }
}

/// What a task takes with it when it is switched out, and finds again when it runs.
struct SavedTaskState: Equatable {
    var hardirqsEnabled = true
    var hardirqsKnown = true
    var bhDisableDepth = 0
    var bhKnown = true
    var preemptDepth = 0
    var preemptKnown = true
    var disabledAt: EventSite?

    init(known: Bool) {
        hardirqsKnown = known
        bhKnown = known
        preemptKnown = known
    }

    init(
        hardirqsEnabled: Bool, hardirqsKnown: Bool, bhDisableDepth: Int, bhKnown: Bool, preemptDepth: Int,
        preemptKnown: Bool, disabledAt: EventSite?
    ) {
        self.hardirqsEnabled = hardirqsEnabled
        self.hardirqsKnown = hardirqsKnown
        self.bhDisableDepth = bhDisableDepth
        self.bhKnown = bhKnown
        self.preemptDepth = preemptDepth
        self.preemptKnown = preemptKnown
        self.disabledAt = disabledAt
    }
}
