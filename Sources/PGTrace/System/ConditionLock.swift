import Glibc

/// A mutex and a condition variable over it (pthread's): what the pipeline's threads wait on
/// to hand over batches and tapes, and the lock of a few things no one waits for. The one
/// owner of the two pthread objects, which live on the heap because pthread's must not move.
/// (Foundation's `NSCondition` is the same thing; this lets the binary go without
/// Foundation proper.)
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        defer { pthread_condattr_destroy(&attributes) }
        // Timed waits measure a duration: the monotonic clock, which a clock change does not move.
        precondition(pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) == 0)
        precondition(pthread_mutex_init(mutex, nil) == 0 && pthread_cond_init(condition, &attributes) == 0)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits for a signal, the lock held (as pthread_cond_wait: it may return without one,
    /// so callers wait in a loop on what they wait for).
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits, the lock held, for a signal or until `deadline` (a reading of
    /// `ConditionLock.now()`, in nanoseconds); false once the deadline has passed.
    func wait(until deadline: UInt64) -> Bool {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &time) != ETIMEDOUT
    }

    /// Wakes one waiter.
    func signal() { pthread_cond_signal(condition) }
    /// Wakes every waiter.
    func broadcast() { pthread_cond_broadcast(condition) }

    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// The monotonic clock, in nanoseconds: what `wait(until:)` takes.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
