import Foundation

/// Runs a `TapeDecoding` on a thread of its own while the caller's thread scans: filled tapes
/// go over in order, emptied ones come back, and a few circulate, so memory is a few tapes
/// whatever the trace's length. On two cores, libxml2's pass and the decoding (names
/// interned, integers parsed, events built) then overlap instead of adding up.
///
/// When the decoding fails (or its consumer does), `send` says so and the scan stops at its
/// next chunk; the decoding passes over the tapes still sent.
final class TapeHandoff: @unchecked Sendable {
    private static let tapeCount = 16

    private let condition = NSCondition()
    private var filled: [ScanTape] = []
    private var emptied: [ScanTape] = []
    private var made = 1
    private var isFinished = false
    private var decodingFailed = false
    private var decodingEnded = false
    /// The decoding and the caller's closures, let go of by the decoding thread before
    /// `finish` returns: they must not outlive the caller's scope.
    private var consumer: (decoding: TapeDecoding, header: (TraceHeader) throws -> Void, event: (Event) throws -> Void)?

    /// Starts `decoding` on a new thread; it decodes each tape `send` hands over, handing
    /// what they make to `header` and `event` there.
    init(decoding: TapeDecoding, header: @escaping (TraceHeader) throws -> Void, event: @escaping (Event) throws -> Void) {
        consumer = (decoding, header, event)
        let thread = Thread { [self] in
            while let tape = receive() {
                let (decoding, header, event) = consumer!
                decoding.decode(tape, header: header, event: event)
                tape.reset()
                giveBack(tape, failed: decoding.failure != nil)
            }
            condition.lock()
            consumer = nil
            decodingEnded = true
            condition.broadcast()
            condition.unlock()
        }
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Hands `tape` (one was made by the caller) to the decoding thread and returns an empty
    /// one to fill next, waiting for one when all are in use; false once the decoding failed.
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

    /// Says no tape follows and waits until the decoding thread has decoded the last.
    func finish() {
        condition.lock()
        isFinished = true
        condition.broadcast()
        while !decodingEnded { condition.wait() }
        condition.unlock()
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
