import Foundation
import Testing

@testable import PGTrace

/// The mutex and condition the pipeline's threads wait on.
@Suite(.timeLimit(.minutes(1))) struct ConditionLockTests {
    /// A timed wait returns false once its deadline has passed, and not before.
    @Test func aTimedWaitEndsAtItsDeadline() {
        let lock = ConditionLock()
        lock.lock()
        let deadline = ConditionLock.now() + 100_000_000
        while lock.wait(until: deadline) {}
        let ended = ConditionLock.now()
        lock.unlock()
        #expect(ended >= deadline)
        #expect(ended - deadline < 2_000_000_000)
    }

    /// A waiter woken by a signal sees what was changed under the lock before it. (The
    /// waiter says it waits under the lock, which `wait` lets go of only once it waits: when
    /// the signal is sent, it is waiting.)
    @Test func aSignalWakesTheWaiter() {
        let lock = ConditionLock()
        nonisolated(unsafe) var waiting = false
        nonisolated(unsafe) var ready = false
        nonisolated(unsafe) var seen = false
        let done = ConditionLock()
        Thread {
            lock.lock()
            waiting = true
            while !ready { lock.wait() }
            lock.unlock()
            done.withLock { seen = true }
        }.start()
        while !lock.withLock({ waiting }) { usleep(1_000) }
        lock.withLock { ready = true }
        lock.signal()
        let deadline = ConditionLock.now() + 5_000_000_000
        while !done.withLock({ seen }), ConditionLock.now() < deadline { usleep(1_000) }
        #expect(done.withLock { seen })
    }
}
