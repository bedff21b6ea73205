import Glibc

/// Runs a `TapeDecoding` on a thread of its own while the caller's thread scans: filled tapes
/// go over in order, emptied ones come back, and at most `tapeCount` circulate, so memory is
/// a few MB of tapes whatever the trace's length. On two cores, libxml2's pass and the
/// decoding (names interned, integers parsed, events built) then overlap instead of adding up.
///
/// When the decoding fails (or its consumer does), `send` says so and the scan stops there;
/// tapes the scan filled meanwhile (at most `tapeCount`) are passed over.
final class TapeHandoff {
    /// Tapes in circulation, the scan's own included: enough to ride out the uneven pace of
    /// three threads on two cores. Past a trace's first tapes, a tape holds
    /// `TraceReader.chunksPerTape` chunks' tags, some 470 KB with their bytes at 152 bytes a
    /// kernel event (236 bytes, some 730 KB a tape, when the count below was measured; stop
    /// 61 made the tape smaller), and a tape is made only when none is free. Measured, on
    /// the kernel trace on this project's 2-core VM, whose scheduler was seen leaving one
    /// core idle while the decoding and the replay took turns on the other
    /// (docs/performance.md, stop 58): at 16M events, 10 tapes against 6 were faster in 11
    /// of 13 pairs of runs, by 3% at the median pair and up to 17%, for 3-4 MB more; at 1M
    /// events, 3 tapes were slower and 16 no better.
    private static let tapeCount = 10

    private let condition = ConditionLock()
    private var filled: [ScanTape] = []
    private var emptied: [ScanTape] = []
    /// Tapes made so far, counting the one the scan fills first (`ParserState.tape`).
    private var made = 1
    private var isFinished = false
    private var decodingFailed = false
    private var thread = pthread_t()
    private let decoding: TapeDecoding
    private let header: (TraceHeader) throws -> Void
    private let event: (Event) throws -> Void

    /// Starts a thread that decodes each tape `send` hands over with `decoding`, handing
    /// what they make to `header` and `event` there; nil when no thread can be made (a
    /// process limit), and the caller decodes on its own.
    ///
    /// The closures need not escape: `finish` returns only after the thread has ended, and
    /// the caller drops this object before its scope ends.
    init?(decoding: TapeDecoding, header: @escaping (TraceHeader) throws -> Void, event: @escaping (Event) throws -> Void) {
        self.decoding = decoding
        self.header = header
        self.event = event
        guard !Self.refusesThreads else { return nil }
        // The decoder and the caller's closures (an analysis's sink) run there: the reading
        // thread's stack, not glibc's default.
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 16 << 20)
        let retained = Unmanaged.passRetained(self)
        let started = pthread_create(&thread, &attributes, { context in
            let handoff = Unmanaged<TapeHandoff>.fromOpaque(context!).takeRetainedValue()
            handoff.decodeUntilFinished()
            return nil
        }, retained.toOpaque())
        guard started == 0 else {
            retained.release()
            return nil
        }
    }

    private static let refusal = ConditionLock()
    nonisolated(unsafe) private static var refusing = false

    /// For tests: make every `init` fail as a process limit would, to exercise the fallback.
    static var refusesThreads: Bool {
        get { refusal.withLock { refusing } }
        set { refusal.withLock { refusing = newValue } }
    }

    private func decodeUntilFinished() {
        while let tape = receive() {
            decoding.decode(tape, header: header, event: event)
            tape.reset()
            giveBack(tape, failed: decoding.failure != nil)
        }
    }

    /// Hands `tape` to the decoding thread and returns an empty one to fill next, waiting
    /// for one when all are in use; false once the decoding failed.
    func send(_ tape: ScanTape) -> (next: ScanTape, goOn: Bool) {
        condition.lock()
        defer { condition.unlock() }
        if tape.isEmpty { return (tape, !decodingFailed) }
        filled.append(tape)
        condition.broadcast()
        if emptied.isEmpty, made < Self.tapeCount {
            made += 1
            return (ScanTape(), !decodingFailed)
        }
        while emptied.isEmpty { condition.wait() }
        return (emptied.removeLast(), !decodingFailed)
    }

    /// Says no tape follows and waits until the decoding thread has decoded the last and ended.
    func finish() {
        condition.lock()
        isFinished = true
        condition.broadcast()
        condition.unlock()
        pthread_join(thread, nil)
    }

    private func receive() -> ScanTape? {
        condition.lock()
        defer { condition.unlock() }
        while filled.isEmpty, !isFinished { condition.wait() }
        return filled.isEmpty ? nil : filled.removeFirst()
    }

    private func giveBack(_ tape: ScanTape, failed: Bool) {
        condition.lock()
        emptied.append(tape)
        if failed { decodingFailed = true }
        condition.broadcast()
        condition.unlock()
    }
}
