/// The locks a context holds, oldest first (lockdep's held-lock array, a nest lock's run kept
/// lock by lock). An array with room at its front: a lock released from the bottom half
/// moves the locks below it up a place, not those above it down, so mm_drop_all_locks(),
/// which releases the thousands of locks mm_take_all_locks() took in the order taken, costs
/// what it releases, not its square. Read as an array is: indices from 0, contiguous.
///
/// (swift-collections' Deque does the same in a ring; measured on the kernel-shaped trace,
/// its segmented reads and reference counting on the replay thread cost 4.3% more
/// instructions in all, where this costs what an array does.)
public struct HeldLocks: RandomAccessCollection, MutableCollection, RangeReplaceableCollection,
    ExpressibleByArrayLiteral, Sendable
{
    /// The locks at `storage[start...]`; those before `start` were released and are dead.
    private var storage: [HeldLock]
    private var start = 0

    public init() { storage = [] }

    /// Empty, with room for `capacity` locks before it allocates again.
    init(capacity: Int) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    public init(arrayLiteral locks: HeldLock...) { storage = locks }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.count - start }
    public var count: Int { storage.count - start }
    public var isEmpty: Bool { storage.count == start }

    // (Past the top, the array's own check traps; below the bottom, this one: the dead.)
    public subscript(position: Int) -> HeldLock {
        get {
            precondition(position >= 0, "held lock index out of range")
            return storage[start &+ position]
        }
        _modify {
            precondition(position >= 0, "held lock index out of range")
            yield &storage[start &+ position]
        }
    }

    public func makeIterator() -> IndexingIterator<ArraySlice<HeldLock>> { storage[start...].makeIterator() }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<HeldLock>) throws -> R) rethrows -> R? {
        try storage[start...].withUnsafeBufferPointer(body)
    }

    public mutating func append(_ lock: HeldLock) { storage.append(lock) }

    public mutating func removeAll(keepingCapacity keepCapacity: Bool = false) {
        storage.removeAll(keepingCapacity: keepCapacity)
        start = 0
    }

    /// Its room, for a list that is empty again to be used again (see `ReplayEngine`'s
    /// spare lists): held-lock lists are made at every task switch-in and irq entry.
    var capacity: Int { storage.capacity }

    public mutating func replaceSubrange<C: Collection>(_ subrange: Range<Int>, with locks: C)
    where C.Element == HeldLock {
        precondition(subrange.lowerBound >= 0 && subrange.upperBound <= count, "held lock range out of range")
        storage.replaceSubrange((start + subrange.lowerBound)..<(start + subrange.upperBound), with: locks)
    }

    /// The places of released locks kept at the front (for tests: they go once the list is
    /// emptied).
    var deadPlaces: Int { start }

    /// Removes the newest lock (nearly every release), without the copy `remove(at:)` returns.
    public mutating func removeNewest() {
        precondition(!isEmpty, "no held lock to remove")
        storage.removeLast()
        if storage.count == start { emptied() }
    }

    /// The most room a list keeps once emptied, in locks (1.7 MB): a list whose room grew past
    /// it (it held more than half as many locks at once where malloc rounds a block up to
    /// whole pages, more than as many where it does not: mm_take_all_locks() of a large mm)
    /// gives it back at its last release, where it kept it for as long as its task ran (a task
    /// on each cpu, each with the room of its deepest stack). Below it the room stays, for the
    /// next walk that takes as many (a Xen pin walk holds a lock of every page-table page it
    /// pins).
    static let roomKeptEmpty = 1 << 14

    /// Emptied from the top: the dead go too, and room past `roomKeptEmpty`.
    private mutating func emptied() {
        if storage.capacity > Self.roomKeptEmpty {
            storage = []
        } else if start > 0 {
            storage.removeAll(keepingCapacity: true)
        }
        start = 0
    }

    /// Removes the lock at `position`, moving the fewer of those below and above it.
    @discardableResult
    public mutating func remove(at position: Int) -> HeldLock {
        let removed = self[position]
        guard position < count / 2 else {
            storage.remove(at: start + position)
            if storage.count == start { emptied() }
            return removed
        }
        var index = start + position
        while index > start {
            storage[index] = storage[index - 1]
            index -= 1
        }
        start += 1
        // Once the dead outnumber the held, they go (each costs one move, once).
        if start >= 16, start >= count {
            storage.removeSubrange(0..<start)
            start = 0
        }
        return removed
    }

    /// The first `limit` held locks, and how many follow them (`Array.listed(upTo:)`): the
    /// array itself, shared, where there are no more and none is dead.
    func listed(upTo limit: Int) -> (listed: [HeldLock], more: Int) {
        if start == 0, count <= limit { return (storage, 0) }
        return (Array(prefix(limit)), Swift.max(0, count - limit))
    }

    /// Whether the lock at `position` is one of a nest lock's run of two or more (lockdep's
    /// entry with `references`): it is folded, or the lock above it is.
    func isInRun(_ position: Int) -> Bool {
        self[position].isFolded || (position + 1 < count && self[position + 1].isFolded)
    }
}
