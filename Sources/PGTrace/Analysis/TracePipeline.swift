import Glibc

/// Reads a trace on a second thread while the replay runs on the calling one: libxml2 and the
/// decoder fill batches of events (a kernel capture's reader, batches of its records, which
/// the replay's side makes events of: `RecordSink`), the replay engine and its checkers
/// drain them in order.
/// On two cores this halves the wall time of a large trace; the order of events, and so
/// every finding, is the same as reading and replaying on one thread.
///
/// The queue is bounded (6 batches), so memory stays flat however long the trace. An
/// input error on the reading side is rethrown on the replay side after the events before
/// it; an error in the replay stops the reader.
final class TracePipeline: @unchecked Sendable {
    enum Message {
        case begin(file: Int)
        case header(TraceHeader)
        case events([Event])
        case records([CapturedRecord])
        /// Lines of a summary, with their line numbers.
        case summaryLines([(line: SummaryLine, number: Int)])
        case endFile
        case end
        case failure(Error)
    }

    private struct Cancelled: Error {}

    /// Events (or records) each of the reader's first `firstBatches` batches holds. The replay
    /// starts on the first batch, and the last one is replayed after the reader has ended: at
    /// 4,096 a trace of 8k events waited for half its events before its replay began, and
    /// replayed the other half alone (some 3 ms of a 28 ms run; docs/performance.md, stop 50).
    static let firstBatchSize = 1024
    /// The batches of `firstBatchSize` a reader sends before those of `batchSize`: a trace of
    /// up to 8k events is batched as it was.
    static let firstBatches = 8
    /// Events (or records) each later batch holds: batches of 1,024 throughout were a wait
    /// and a wake of the replay or the reader some 1,000 times per 1M kernel events
    /// (docs/performance.md, stop 57).
    static let batchSize = 4096
    /// Batches the queue holds: 6 of up to 4,096 events, half again the events 16 of 1,024 were.
    private static let capacity = 6

    private let condition = ConditionLock()
    /// Messages in order; a received one is cleared at once (it holds a batch, which the
    /// replay recycles: the queue must not keep a second reference to it), and the array is
    /// compacted as it goes, so it holds at most `capacity` messages and a few spent slots.
    private var queue: [Message?] = []
    /// Drained batches handed back for reuse: the same few buffers go round, so memory does
    /// not drift with malloc's per-thread arenas.
    private var spares: [[Event]] = []
    private var recordSpares: [[CapturedRecord]] = []
    private var head = 0
    private var cancelled = false
    /// Set when the reader's thread has sent its last message and is done.
    private var readerDone = false
    private var work: ((Sink) throws -> Void)?
    /// For tests: called on the reading thread when it has sent a batch of events or
    /// records and let go of the queue's lock, when the reader should hold no reference to
    /// the batch. Set before `start`.
    var didSendBatch: (() -> Void)?
    /// For tests: called in `recycle` when the batch is among the spares and the lock is
    /// let go, when the reader may take it and the caller should hold no reference to it.
    var didRecycleBatch: (() -> Void)?

    /// Runs the work once, and lets go of it (and all it captured) when it returns, before
    /// the replay side hears the end.
    private func runWork(_ sink: Sink) throws {
        condition.lock()
        let read = work!
        work = nil
        condition.unlock()
        try read(sink)
    }

    /// Runs `read` on a new thread; it gets a sink for headers and events. Throws when no
    /// thread can be made (a process limit): Foundation's `Thread` then fails silently, and
    /// the replay would wait for a reader that never runs.
    func start(read: @escaping (_ sink: Sink) throws -> Void) throws {
        // The reader's objects (parser state) are touched by that thread only; the symbol
        // table by it or by the decoding thread it waits for (`TapeHandoff`), and its names
        // read by the replay after the queue has ordered them (SymbolTable).
        work = read
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 16 << 20)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let retained = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { context in
            Unmanaged<TracePipeline>.fromOpaque(context!).takeRetainedValue().readUntilDone()
            return nil
        }, retained.toOpaque())
        guard started == 0 else {
            retained.release()
            work = nil
            throw TraceInputError(
                file: "pgtrace",
                message: "could not start the thread that reads the traces (pthread_create: error \(started)); is a limit on processes (ulimit -u) or memory too low?")
        }
    }

    private func readUntilDone() {
        let sink = Sink(pipeline: self)
        do {
            try runWork(sink)
            try sink.flush()
            try send(.end)
        } catch is Cancelled {
        } catch {
            try? sink.flush()
            try? send(.failure(error))
        }
        condition.lock()
        readerDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next message, waiting for the reader if need be.
    func receive() -> Message {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count { condition.wait() }
        let message = queue[head]!
        queue[head] = nil
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 {
            queue.removeFirst(head)
            head = 0
        }
        condition.signal()
        return message
    }

    /// Gives a drained batch back to the reader, which may take it as soon as the lock is let
    /// go: nothing here refers to it then, so the reader fills it in place. True if the batch
    /// was emptied in place, as it is when nothing else refers to it (else emptying it made a
    /// new one).
    @discardableResult
    func recycle(_ batch: inout [Event]) -> Bool { giveBack(&batch, to: \.spares) }

    /// Gives a drained batch of records back to the reader (as `recycle(_:)` of events).
    @discardableResult
    func recycle(_ batch: inout [CapturedRecord]) -> Bool { giveBack(&batch, to: \.recordSpares) }

    /// A spare batch for the reader to fill, or a new one.
    func spare() -> [Event] { take(from: \.spares) }

    /// A spare batch of records for the reader to fill, or a new one.
    func recordSpare() -> [CapturedRecord] { take(from: \.recordSpares) }

    /// `recycle(_:)` of a batch of either kind, into its kind's spares (which are touched under
    /// the lock only: the reader takes from them, and a test's hook may too).
    private func giveBack<Element>(_ batch: inout [Element], to spares: ReferenceWritableKeyPath<TracePipeline, [[Element]]>) -> Bool {
        var drained: [Element] = []
        swap(&drained, &batch)
        let before = drained.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        drained.removeAll(keepingCapacity: true)
        let inPlace = drained.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } == before
        condition.lock()
        if self[keyPath: spares].count < Self.capacity + 2 { self[keyPath: spares].append(consume drained) }
        condition.unlock()
        didRecycleBatch?()
        return inPlace
    }

    /// A batch of either kind from its kind's spares, or a new one with room for a batch.
    private func take<Element>(from spares: ReferenceWritableKeyPath<TracePipeline, [[Element]]>) -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        if let batch = self[keyPath: spares].popLast() { return batch }
        var batch: [Element] = []
        batch.reserveCapacity(Self.batchSize)
        return batch
    }

    /// Stops the reader (after a replay error) and waits a moment for its thread to end. A
    /// reader blocked in read(2) on a stream (a pipe that stays open) is not waited for: the
    /// error must not wait for the writer. That thread holds strong references to all it
    /// touches, and stops at its next send.
    func cancel() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
        let deadline = ConditionLock.now() + 500_000_000
        while !readerDone, condition.wait(until: deadline) {}
    }

    /// Waits for the reader's thread after its last message.
    func join() {
        condition.lock()
        defer { condition.unlock() }
        while !readerDone { condition.wait() }
    }

    /// Queues `message`, which the queue takes over: a batch in it, which the caller gave up
    /// (`consume`), is referenced from the queue alone once the lock is let go, so the replay
    /// that drains it empties it in place.
    /// (A reference the reading thread kept until it ran again made the replay's
    /// `removeAll(keepingCapacity:)` allocate a new batch now and then, and the old one was
    /// freed on the other thread: docs/performance.md, stop 70.)
    fileprivate func send(_ message: consuming Message) throws {
        let isBatch = message.isBatch
        condition.lock()
        while queue.count - head >= Self.capacity, !cancelled { condition.wait() }
        if cancelled {
            condition.unlock()
            throw Cancelled()
        }
        queue.append(consume message)
        condition.signal()
        condition.unlock()
        if isBatch { didSendBatch?() }
    }

    /// The reading side's end: batches events (or a capture's records) and hands them over.
    final class Sink {
        private let pipeline: TracePipeline
        @exclusivity(unchecked) private var batch: [Event] = []
        @exclusivity(unchecked) private var records: [CapturedRecord] = []
        /// The events (an XML trace's) or records (a capture's) handed over for the file
        /// being read: what a progress line counts.
        @exclusivity(unchecked) private(set) var eventCount = 0
        /// Batches handed over, and the size of the one being filled.
        @exclusivity(unchecked) private var batchesSent = 0
        @exclusivity(unchecked) private var batchLimit = TracePipeline.firstBatchSize

        fileprivate init(pipeline: TracePipeline) {
            self.pipeline = pipeline
            batch.reserveCapacity(TracePipeline.batchSize)
            records.reserveCapacity(TracePipeline.batchSize)
        }

        @exclusivity(unchecked) private var fileIndex = 0

        func begin(file: Int) throws {
            fileIndex = file
            eventCount = 0
            // Each file's first batches are small again: a small trace after a large one is
            // batched as it is alone.
            (batchesSent, batchLimit) = (0, TracePipeline.firstBatchSize)
            try pipeline.send(.begin(file: file))
        }

        func header(_ header: TraceHeader) throws {
            try flush()
            var header = header
            header.fileIndex = fileIndex
            try pipeline.send(.header(header))
        }

        func endFile() throws {
            try flush()
            try pipeline.send(.endFile)
        }

        func event(_ event: Event) throws {
            batch.append(event)
            eventCount += 1
            if batch.count == batchLimit { try flush() }
        }

        func record(_ record: KernelRecord?, name: KernelRecord.Name?, at place: EventTranslator.Place) throws {
            records.append(.record(record, name: name, place: place))
            eventCount += 1
            if records.count == batchLimit { try flush() }
        }

        func lost(cpu: Int?, count: Int?, line: Int) throws {
            records.append(.lost(cpu: cpu, count: count, line: line))
            if records.count == batchLimit { try flush() }
        }

        @exclusivity(unchecked) private var summaryLines: [(line: SummaryLine, number: Int)] = []

        func summaryLine(_ line: SummaryLine, number: Int) throws {
            summaryLines.append((line, number))
            eventCount += 1
            if summaryLines.count == 1024 { try flush() }
        }

        private func sent() {
            batchesSent += 1
            if batchesSent == TracePipeline.firstBatches { batchLimit = TracePipeline.batchSize }
        }

        /// Hands over what is batched (a file's reader sends events, records or summary lines,
        /// never two of them).
        func flush() throws {
            if !summaryLines.isEmpty {
                let full = summaryLines
                summaryLines = []
                try pipeline.send(.summaryLines(full))
            }
            if !records.isEmpty {
                let full = records
                records = pipeline.recordSpare()
                sent()
                try pipeline.send(.records(consume full))
            }
            guard !batch.isEmpty else { return }
            let full = batch
            batch = pipeline.spare()
            sent()
            try pipeline.send(.events(consume full))
        }
    }
}

extension TracePipeline.Message {
    /// A batch of events or records, which the replay empties and hands back.
    fileprivate var isBatch: Bool {
        switch self {
        case .events, .records: true
        default: false
        }
    }
}
