/// Turns kernel tracepoint records (of a text capture or a trace.dat) into typed events, keeping per-cpu irq
/// state and irq context: from explicit events (irq_disable, irq_handler_entry,
/// softirq_entry, ipi_entry, …) and, where the format has one, from the latency flags column,
/// which samples the real hardware state at every event. Nothing is said that the capture
/// does not say: without flags and explicit events, irq state stays unknown (the trace is
/// partial). It interns nothing (records come with their names interned), so it may run on
/// another thread than the reader's: the analysis runs it on the replay's.
struct EventTranslator {
    enum Frame: Equatable { case softirq, hardirq, nmi }

    /// A class, so that a record mutates its cpu's state in place.
    final class CPU {
        /// Nil until the capture states it (on this cpu, for the task running).
        @exclusivity(unchecked) var irqsOff: Bool?
        @exclusivity(unchecked) var bhOff = false
        @exclusivity(unchecked) var frames: [Frame] = []
        /// The irq state each frame found at its entry, restored at its exit (as the replay does).
        @exclusivity(unchecked) var saved: [Bool?] = []
        /// Locks taken and not yet released in each frame (index 0: the task), so that an
        /// irq is never closed over a lock it still holds. The locks themselves, not a count:
        /// a release of a lock the frame never took (held from before the capture, or by an
        /// outer frame) must not make a frame that still holds one look empty.
        @exclusivity(unchecked) var held: [[LockRef]] = [[]]
        /// The task of the last line, and whether an `ipi_entry` opened the hardirq on top.
        @exclusivity(unchecked) var task: Symbol?
        @exclusivity(unchecked) var pid: Int?
        @exclusivity(unchecked) var ipiFrame = false
        /// Whether the bh state was stated (absolutely) for the task running.
        @exclusivity(unchecked) var bhStated: Bool?
        /// The preempt count last stated for the task running.
        @exclusivity(unchecked) var preemptCount: UInt8?
    }

    let fileIndex: Int
    private var cpus: [CPU] = []
    private var eventIndex = 0
    /// A preempt count sampled by the record in hand, for its first event.
    private var pendingPreempt: UInt8?
    /// The record in hand's preempt count sample, changed or not.
    private var sampledPreempt: UInt8?
    /// Whether the capture has shown a bh-off flag (kernels since 5.19 print one).
    private var printsBH = false
    private var lastTime: Int64 = .min
    private var line = 0
    private var cpu = 0
    private var task: Symbol?
    private var time: Int64?

    init(fileIndex: Int) {
        self.fileIndex = fileIndex
    }

    /// How many events were emitted.
    var eventCount: Int { eventIndex }

    /// Where and when a record happened, and what the flags sampled with it say.
    struct Place {
        var cpu: Int
        var pid: Int?
        /// The task of `pid` (`TaskNames`).
        var task: Symbol?
        var timestamp: Int64
        /// The flags column's irqs-off character (`d`, `D`, `b`, `.`, `X`) and its context
        /// character (`h`, `s`, `H`, `z`, `.`), or nil where the recording has no flags.
        var flags: (irqs: UInt8, context: UInt8)?
        /// The line of a text capture, the record's number in a trace.dat.
        var line: Int
        /// The preempt count sampled with the record (the flags column's depth: its low four
        /// bits, as the kernel prints them), or nil where the recording has none.
        var preemptCount: UInt8? = nil
    }

    /// Translates one record at `place` (nil: an event pgtrace does not read, or one whose
    /// fields it could not read; its flags still say where the cpu is).
    mutating func translate(
        _ record: KernelRecord?, name: KernelRecord.Name?, at place: Place, into sink: some EventSink
    ) throws {
        line = place.line
        cpu = place.cpu
        if place.timestamp >= lastTime {
            time = place.timestamp
            lastTime = place.timestamp
        } else {
            time = nil  // per-cpu buffers merged out of order: the order of records stands
        }
        while cpus.count <= cpu { cpus.append(CPU()) }
        let state = cpus[cpu]
        if state.pid != place.pid || state.pid == nil {
            task = place.task
            if state.task != task || state.pid == nil {
                // The replay restores each task's own state: state this one's again.
                state.task = task
                state.irqsOff = nil
                state.bhStated = nil
                state.preemptCount = nil
            }
            state.pid = place.pid
        } else {
            task = state.task
        }
        // The sample rides on the record's first event, where it changed; a record with no
        // event states nothing, and the next one compares again.
        sampledPreempt = place.preemptCount
        if let count = place.preemptCount, count != state.preemptCount { pendingPreempt = count }
        defer { pendingPreempt = nil }
        if let flags = place.flags {
            // Leave irq frames, then set the irq state, then enter frames: the order in which
            // the kernel gets there. Inside __schedule irqs are off; that says nothing of the
            // task switched out, and the task switched in states its own.
            try syncContext(flags.context, state, sink, entering: false)
            if name?.setsIrqState != true, name != .schedSwitch { try syncIrqs(flags.irqs, state, sink) }
            if name?.changesContext != true { try syncContext(flags.context, state, sink, entering: true) }
        }
        guard let record else { return }
        switch record {
        case .lockAcquire(let ref, let isTry, let isRead):
            // lockdep prints "read " for read=1 and read=2 alike: recursive, the reading that
            // invents no deadlock (an rwsem reader's cycles are missed, none is made up).
            try sink.event(event(.acquire(ref, mode: isRead ? .recursiveRead : .write, isTry: isTry, irq: nil, bh: false, nest: nil)))
            state.held[state.held.count - 1].append(ref)
        case .lockRelease(let ref):
            try sink.event(event(.release(ref, irq: nil, bh: false)))
            // Matched as the replay matches a release.
            if let index = state.held[state.held.count - 1].lastIndex(where: { $0.isReleased(by: ref) }) {
                state.held[state.held.count - 1].remove(at: index)
            }
        case .lockContended(let ref): try sink.event(event(.contended(ref)))
        case .lockAcquired(let ref): try sink.event(event(.acquired(ref)))
        case .contentionBegin(let instance): try sink.event(event(.contentionBegin(instance: instance)))
        case .contentionEnd(let instance): try sink.event(event(.contentionEnd(instance: instance)))
        case .irqDisable(let caller):
            if state.irqsOff != true, state.frames.last != .hardirq, state.frames.last != .nmi {
                try sink.event(event(.irqDisable, atSymbol: caller))
                state.irqsOff = true
            }
        case .irqEnable(let caller):
            if state.irqsOff != false, state.frames.last != .hardirq, state.frames.last != .nmi {
                try sink.event(event(.irqEnable, atSymbol: caller))
                state.irqsOff = false
            }
        case .preemptDisable(let caller): try sink.event(event(.preemptDisable, atSymbol: caller))
        case .preemptEnable(let caller): try sink.event(event(.preemptEnable, atSymbol: caller))
        case .irqHandlerEntry(let irq):
            if state.frames.last != .hardirq {
                try sink.event(event(.hardirqEnter(irq: irq)))
                enter(.hardirq, state)
            }
        case .irqHandlerExit:
            try closeFrame(.hardirq, state, sink)
        case .ipiEntry:
            // An IPI's handler runs in hardirq context, inside the arch's irq entry.
            if state.frames.last != .hardirq {
                try sink.event(event(.hardirqEnter(irq: nil)))
                enter(.hardirq, state)
                state.ipiFrame = true
            }
        case .ipiExit:
            if state.ipiFrame { try closeFrame(.hardirq, state, sink) }
        case .softirqEntry(let vector):
            if state.frames.last != .softirq {
                try sink.event(event(.softirqEnter(vector: vector)))
                enter(.softirq, state)
            }
        case .softirqExit:
            try closeFrame(.softirq, state, sink)
        case .softirqRaise, .csdFunction, .schedSwitch:
            // Marks a softirq pending; runs a cross-call inside the IPI already entered; switches
            // tasks (every record's task comes from its own pid): no state to change.
            break
        case .ipiSend(let targets, let wait, let reason, let callsite):
            try sink.event(event(.ipiSend(targets: .list(targets), wait: wait, reason: reason), atSymbol: callsite))
        case .tlbFlushRemote:
            // The native flush waits for every target; local flushes are no record.
            try sink.event(event(.tlbFlush(targets: .others, mode: .ipi, wait: true)))
        case .xenFlushOthers:
            try sink.event(event(.tlbFlush(targets: .others, mode: .hypercall, wait: false)))
        case .xenFlushOne:
            try sink.event(event(.tlbFlush(targets: .local, mode: .hypercall, wait: false)))
        case .xenFlushAll:
            try sink.event(event(.tlbFlush(targets: .all, mode: .hypercall, wait: false)))
        case .xenPgdPin(let page):
            // __xen_pgd_pin() traces before its work: the walk (xen_pin_page) maps the tree
            // read-only, the pgd last, and xen_do_pin() then pins it. The record stands for both.
            try sink.event(event(.setReadOnly(page: page, level: .pgd, ptl: nil)))
            try sink.event(event(.pin(page: page, level: .pgd)))
        case .xenPgdUnpin(let page):
            // __xen_pgd_unpin(): the MMUEXT_UNPIN_TABLE first, then the walk (xen_unpin_page)
            // maps the tree writable again.
            try sink.event(event(.unpin(page: page, level: .pgd)))
            try sink.event(event(.setReadWrite(page: page, level: .pgd, ptl: nil)))
        case .xenPtpage(let alloc, let page, let level):
            if alloc {
                try sink.event(event(.setReadOnly(page: page, level: level, ptl: nil)))
                try sink.event(event(.pin(page: page, level: level)))
            } else {
                try sink.event(event(.unpin(page: page, level: level)))
                try sink.event(event(.setReadWrite(page: page, level: level, ptl: nil)))
            }
        }
    }

    /// A lost-events marker (`CPU:3 [LOST 120 EVENTS]`, a console's `Lost N message(s)!`).
    mutating func lost(cpu: Int?, count: Int?, line: Int, into sink: some EventSink) throws {
        // What the lost events did is unknown (as the replay forgets it): locks taken in a
        // frame may have been released, the irq state changed. The flags say what follows.
        for (index, state) in cpus.enumerated() where cpu == nil || cpu == index {
            state.held = state.held.map { _ in [] }
            // The replay ends an NMI at lost events (nothing of it was recorded); so does this.
            while state.frames.last == .nmi { exit(state) }
            state.irqsOff = nil
            state.bhStated = nil
            state.preemptCount = nil
        }
        self.line = line
        self.cpu = cpu ?? 0
        task = nil
        time = nil
        try sink.event(event(.eventsLost(cpu: cpu, count: count)))
    }

    private mutating func event(_ kind: EventKind, atSymbol at: Symbol? = nil) -> Event {
        if let stated = pendingPreempt { cpus[cpu].preemptCount = stated }
        defer {
            eventIndex += 1
            pendingPreempt = nil
        }
        return Event(
            kind: kind, cpu: cpu, task: task, time: time, at: at, preemptCount: pendingPreempt,
            position: TracePosition(file: fileIndex, line: line, column: 1, event: eventIndex))
    }

    /// Follows the flags' irq context: 'h' hardirq, 's' softirq, 'H' hardirq in a softirq,
    /// 'z'/'Z' NMI, '.' task. An NMI is entered on top of whatever runs ('Z' is an NMI with
    /// the hardirq count nmi_enter() adds, so it says nothing of a hardirq beneath), and left
    /// before any other flag is followed.
    private mutating func syncContext(_ flag: UInt8, _ state: CPU, _ sink: some EventSink, entering: Bool) throws {
        if flag == UInt8(ascii: "z") || flag == UInt8(ascii: "Z") {
            guard entering, state.frames.last != .nmi else { return }
            try sink.event(event(.nmiEnter))
            enter(.nmi, state)
            return
        }
        if state.frames.last == .nmi {
            // Out of the NMI, whatever it took: the replay records nothing taken in NMI.
            guard !entering else { return }
            try sink.event(event(.nmiExit))
            exit(state)
        }
        // The frames the flag says are running, outermost first (at most a softirq and a
        // hardirq in it), without an array per record.
        let wanted: (count: Int, first: Frame, second: Frame)
        switch flag {
        case UInt8(ascii: "."): wanted = (0, .softirq, .hardirq)
        case UInt8(ascii: "s"): wanted = (1, .softirq, .hardirq)
        case UInt8(ascii: "h"):
            wanted = state.frames.first == .softirq ? (2, .softirq, .hardirq) : (1, .hardirq, .hardirq)
        case UInt8(ascii: "H"): wanted = (2, .softirq, .hardirq)
        default: return
        }
        // Fast path: already where the flag says.
        if state.frames.count == wanted.count,
            wanted.count == 0 || (state.frames[0] == wanted.first && (wanted.count == 1 || state.frames[1] == wanted.second))
        {
            return
        }
        func frame(_ index: Int) -> Frame { index == 0 ? wanted.first : wanted.second }
        var common = 0
        while common < min(wanted.count, state.frames.count), frame(common) == state.frames[common] { common += 1 }
        if !entering {
            // Leave what is no longer running. A frame that still holds a lock lost its
            // release: the capture lost events there, and they are forgotten as lost events
            // are, never carried into the context the flags say runs now.
            if state.held[(common + 1)...].contains(where: { !$0.isEmpty }) { try loseUnreleased(state, sink) }
            while state.frames.count > common {
                try sink.event(event(Self.exitKind(state.frames.last!)))
                exit(state)
            }
            return
        }
        guard state.frames.count == common else { return }
        for index in common..<wanted.count {
            let next = frame(index)
            try sink.event(event(next == .hardirq ? .hardirqEnter(irq: nil) : .softirqEnter(vector: nil)))
            enter(next, state)
        }
    }

    /// Follows the flags' first column: 'd' irqs off, 'D' irqs and bh off, 'b' bh off, '.'
    /// neither, 'X' unknown (left as it was).
    private mutating func syncIrqs(_ flag: UInt8, _ state: CPU, _ sink: some EventSink) throws {
        guard flag == UInt8(ascii: "d") || flag == UInt8(ascii: "D") || flag == UInt8(ascii: "b") || flag == UInt8(ascii: "."),
            state.frames.last != .hardirq, state.frames.last != .nmi
        else { return }
        let irqsOff = flag == UInt8(ascii: "d") || flag == UInt8(ascii: "D")
        if irqsOff != state.irqsOff {
            try sink.event(event(irqsOff ? .irqDisable : .irqEnable))
            state.irqsOff = irqsOff
        }
        // In a softirq, bh is off by being in it.
        guard state.frames.isEmpty else { return }
        let bhOff = flag == UInt8(ascii: "b") || flag == UInt8(ascii: "D")
        // Kernels since 5.19 print bh-off: once the capture shows one, its '.' says bh is on.
        if bhOff { printsBH = true }
        if printsBH {
            if bhOff != state.bhOff || state.bhStated != true {
                try sink.event(event(.bhState(disabled: bhOff)))
                state.bhOff = bhOff
                state.bhStated = true
            }
        } else if bhOff != state.bhOff {
            try sink.event(event(bhOff ? .bhDisable : .bhEnable))
            state.bhOff = bhOff
        }
    }

    /// An exit record (irq_handler_exit, softirq_exit, ipi_exit) closes its frame, unless the
    /// frame still holds a lock: one hardirq frame runs nested handlers (a driver's handler
    /// calling generic_handle_irq), and an inner handler's exit does not end the outer's.
    /// Where the capture has flags, they end the frame when it is over (`syncContext`).
    private mutating func closeFrame(_ frame: Frame, _ state: CPU, _ sink: some EventSink) throws {
        guard state.frames.last == frame, state.held.last?.isEmpty != false else { return }
        try sink.event(event(Self.exitKind(frame)))
        exit(state)
    }

    /// The flags say an irq frame is over while it still holds a lock taken in it: the capture
    /// lost the release, and with it whatever else happened meanwhile. That is lost events on
    /// this cpu at this record (`lost`), not a frame left open for every later event of the
    /// cpu, whatever task, to run in holding the lock.
    private mutating func loseUnreleased(_ state: CPU, _ sink: some EventSink) throws {
        state.held = state.held.map { _ in [] }
        state.irqsOff = nil
        state.bhStated = nil
        state.preemptCount = nil
        // The record's preempt sample rides on its next event: the lost events forget it. A
        // loss is no task's (as `lost` writes it, and as import writes it).
        pendingPreempt = nil
        let recordTask = task
        task = nil
        try sink.event(event(.eventsLost(cpu: cpu, count: nil)))
        task = recordTask
        pendingPreempt = sampledPreempt
    }

    private static func exitKind(_ frame: Frame) -> EventKind {
        switch frame {
        case .softirq: return .softirqExit
        case .hardirq: return .hardirqExit
        case .nmi: return .nmiExit
        }
    }

    private func enter(_ frame: Frame, _ state: CPU) {
        state.saved.append(state.irqsOff)
        state.frames.append(frame)
        state.held.append([])
        if frame != .softirq { state.irqsOff = true }
    }

    private func exit(_ state: CPU) {
        if state.frames.removeLast() == .hardirq { state.ipiFrame = false }
        state.held.removeLast()
        state.irqsOff = state.saved.removeLast()
    }
}
