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
