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

    /// A batch goes to the replay and back with nothing else referring to it, so the replay
    /// empties it in place and the reader fills it again: the same few buffers go round.
    /// (While the reading thread kept a copy of a sent batch until it next ran, the replay
    /// made a new batch now and then and the old one was freed on the other thread; peak
    /// RSS crept with the trace's length: docs/performance.md, stop 70.) Here the reader
    /// waits, where it sent each batch, until the replay has recycled it: batches of events
    /// (an XML trace's) and of records (a capture's).
    @Test func aBatchIsEmptiedInPlaceWhileItsReaderStillRuns() throws {
        let batches = TracePipeline.firstBatches + 4
        let count = TracePipeline.firstBatches * TracePipeline.firstBatchSize + 4 * TracePipeline.batchSize
        let ofEvents = try Self.recycledInPlace { sink in
            for index in 0..<count {
                try sink.event(Event(kind: .irqEnable, cpu: 0, position: TracePosition(file: 0, line: index + 1, column: 1, event: index)))
            }
        }
        #expect(ofEvents.received == count)
        #expect(ofEvents.inPlace == Array(repeating: true, count: batches))

        let ofRecords = try Self.recycledInPlace { sink in
            for line in 1...count { try sink.lost(cpu: 0, count: 1, line: line) }
        }
        #expect(ofRecords.received == count)
        #expect(ofRecords.inPlace == Array(repeating: true, count: batches))
    }

    /// Runs `read` in a pipeline whose reader waits after each batch it sends until the
    /// batch is recycled: the events or records received, and whether each batch was
    /// emptied in place.
    private static func recycledInPlace(_ read: @escaping (TracePipeline.Sink) throws -> Void) throws -> (received: Int, inPlace: [Bool]) {
        let pipeline = TracePipeline()
        let recycled = DispatchSemaphore(value: 0)
        pipeline.didSendBatch = { recycled.wait() }
        try pipeline.start { sink in
            try sink.begin(file: 0)
            try read(sink)
        }
        var inPlace: [Bool] = []
        var received = 0
        while true {
            let message = pipeline.receive()
            if case .end = message { break }
            if case .begin = message { continue }
            switch Self.batch(of: consume message) {
            case .events(var events)?:
                received += events.count
                inPlace.append(pipeline.recycle(&events))
            case .records(var records)?:
                received += records.count
                inPlace.append(pipeline.recycle(&records))
            case nil:
                Issue.record("a message the reader did not send")
                continue
            }
            recycled.signal()
        }
        pipeline.join()
        return (received, inPlace)
    }

    private enum Batch {
        case events([Event])
        case records([CapturedRecord])
    }

    /// The batch of `message`, with nothing else left referring to it (a pattern's binding
    /// is a copy of the payload until the message is gone, in a debug build).
    private static func batch(of message: consuming TracePipeline.Message) -> Batch? {
        switch consume message {
        case .events(let events): .events(events)
        case .records(let records): .records(records)
        default: nil
        }
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
