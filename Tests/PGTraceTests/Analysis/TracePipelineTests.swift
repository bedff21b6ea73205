import Foundation
import Testing

@testable import PGTrace

/// The reading thread and the replay's side: messages in order, the end waited for, a
/// cancelled reader stopped.
@Suite(.timeLimit(.minutes(1))) struct TracePipelineTests {
    /// The reader's messages arrive in order, and `join` returns once its thread is done.
    @Test func joinWaitsForTheReadersEnd() throws {
        let pipeline = TracePipeline()
        try pipeline.start { sink in
            for file in 0..<10 {
                usleep(5_000)
                try sink.begin(file: file)
            }
        }
        var files: [Int] = []
        receiving: while true {
            switch pipeline.receive() {
            case .begin(let file): files.append(file)
            case .end: break receiving
            default: Issue.record("a message the reader did not send")
            }
        }
        pipeline.join()
        #expect(files == Array(0..<10))

        // Its end is sent after the work returns: join waits for that, unreceived.
        let slow = TracePipeline()
        let finished = ConditionLock()
        nonisolated(unsafe) var worked = false
        try slow.start { _ in
            usleep(200_000)
            finished.withLock { worked = true }
        }
        slow.join()
        #expect(finished.withLock { worked })
    }

    /// A sent batch is the queue's alone, so the replay empties it in place: the same few
    /// buffers go round. (While the reading thread kept a copy of a sent batch until it next
    /// ran, the replay made a new batch now and then and the old one was freed on the other
    /// thread; peak RSS crept with the trace's length: docs/performance.md, stop 70.) Here
    /// the reader waits, where it sent each batch, until the replay has recycled it: batches
    /// of events (an XML trace's) and of records (a capture's).
    @Test func aSentBatchIsEmptiedInPlaceWhileItsReaderWaits() throws {
        let batches = TracePipeline.firstBatches + 4
        let count = TracePipeline.firstBatches * TracePipeline.firstBatchSize + 4 * TracePipeline.batchSize
        let ofEvents = try Self.recycledInPlace { sink in
            for index in 0..<count { try sink.event(Self.event(index)) }
        }
        #expect(ofEvents.received == count)
        #expect(ofEvents.inPlace == Array(repeating: true, count: batches))

        let ofRecords = try Self.recycledInPlace { sink in
            for line in 1...count { try sink.lost(cpu: 0, count: 1, line: line) }
        }
        #expect(ofRecords.received == count)
        #expect(ofRecords.inPlace == Array(repeating: true, count: batches))
    }

    /// A recycled batch is the spares' alone once the lock is let go, so the reader, which
    /// may take it at once, fills it in place: here it is taken and filled from the moment
    /// `recycle` lets the lock go.
    @Test func aRecycledBatchIsFilledInPlaceByTheReader() {
        let pipeline = TracePipeline()
        var filledInPlace: [Bool] = []
        var kind = 0
        pipeline.didRecycleBatch = {
            if kind == 0 {
                var spare = pipeline.spare()
                let before = Self.address(of: spare)
                spare.append(Self.event(0))
                filledInPlace.append(Self.address(of: spare) == before)
            } else {
                var spare = pipeline.recordSpare()
                let before = Self.address(of: spare)
                spare.append(.lost(cpu: 0, count: 1, line: 1))
                filledInPlace.append(Self.address(of: spare) == before)
            }
        }
        var events = (0..<16).map(Self.event)
        pipeline.recycle(&events)
        kind = 1
        var records: [CapturedRecord] = (1...16).map { .lost(cpu: 0, count: 1, line: $0) }
        pipeline.recycle(&records)
        #expect(events.isEmpty && records.isEmpty)
        #expect(filledInPlace == [true, true])
    }

    /// Runs `read` in a pipeline whose reader waits after each batch it sends until the
    /// batch is recycled: the events or records received, and whether each batch was
    /// emptied in place.
    private static func recycledInPlace(_ read: @escaping (TracePipeline.Sink) throws -> Void) throws -> (received: Int, inPlace: [Bool]) {
        let pipeline = TracePipeline()
        let recycled = DispatchSemaphore(value: 0)
        // With a bound, so that a replay that stops early fails the test instead of hanging.
        pipeline.didSendBatch = { _ = recycled.wait(timeout: .now() + 10) }
        try pipeline.start { sink in
            try sink.begin(file: 0)
            try read(sink)
        }
        var inPlace: [Bool] = []
        var received = 0
        // As `Analysis` receives them: a switch on the call's result, with no `default`.
        receiving: while true {
            switch pipeline.receive() {
            case .begin: continue
            case .events(var events):
                received += events.count
                inPlace.append(pipeline.recycle(&events))
            case .records(var records):
                received += records.count
                inPlace.append(pipeline.recycle(&records))
            case .end: break receiving
            case .header, .summaryLines, .endFile, .failure:
                Issue.record("a message the reader did not send")
                break receiving
            }
            recycled.signal()
        }
        pipeline.join()
        return (received, inPlace)
    }

    private static func event(_ index: Int) -> Event {
        Event(kind: .irqEnable, cpu: 0, position: TracePosition(file: 0, line: index + 1, column: 1, event: index))
    }

    private static func address<Element>(of batch: [Element]) -> UnsafeRawPointer? {
        batch.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    /// `cancel` stops a reader at its next send and returns when its thread has ended (then
    /// `join` returns at once); a reader that sends nothing (blocked in a read) is waited
    /// for half a second, no more.
    @Test func cancelStopsTheReaderOrWaitsHalfASecond() throws {
        let sending = TracePipeline()
        try sending.start { sink in
            while true { try sink.begin(file: 0) }
        }
        _ = sending.receive()
        var start = ContinuousClock.now
        sending.cancel()
        #expect(ContinuousClock.now - start < .milliseconds(400))
        sending.join()

        let blocked = TracePipeline()
        try blocked.start { _ in usleep(2_000_000) }
        start = ContinuousClock.now
        blocked.cancel()
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(480) && waited < .milliseconds(1_900))
    }
}
