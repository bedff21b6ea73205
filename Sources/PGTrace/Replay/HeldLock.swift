/// A lock as a context holds it: which class and instance, how it was taken, and the state
/// that its release must restore.
public struct HeldLock: Sendable {
    public var classID: ClassID
    public var ref: LockRef
    /// The mode lockdep sees (a queued rwlock's read is recursive only in irq context).
    public var mode: LockMode
    public var isTry: Bool
    public var irq: IrqAcquireAction?
    public var bh: Bool
    /// The class of the lock that serializes nesting of this class (spin_lock_nest_lock).
    public var nest: Symbol?
    /// The hardirq state before an `irq="save"` acquisition, for its `irq="restore"`.
    public var savedHardirqsEnabled: Bool
    /// Whether that state was known (a partial trace's cpu starts unknown): restoring an
    /// unknown state leaves the cpu's state unknown.
    public var savedHardirqsKnown = true
    public var site: EventSite
    /// Lockdep's `check`: false for a lock of a novalidate class (and an RCU read-side
    /// section): held, listed and checked for wait context, but adding no dependency, never
    /// recursive and given no irq usage; dependencies pass over it.
    public var validates = true
    /// Lockdep's entries in this lock's held-lock array (the task's, or an irq frame's) up to
    /// and with it (`lockdepDepth(after:…)`). Kept as locks are taken and released out of
    /// order, so the depth is read off the top lock, never counted.
    public var lockdepDepth: Int32 = 1
    /// Lockdep's chain key: a hash of the classes (and read states) of lockdep's entries held
    /// in this context, up to this lock; a folded lock has the key of the lock below it.
    public var chainKey: UInt64
    /// Whether lockdep folds this acquisition into the task's newest held lock, of its class
    /// (a nest lock given: `references`): __lock_acquire returns before any check, so it
    /// marks no usage, checks no wait context, no nest lock, no recursion and adds no
    /// dependency. The newest held lock is the task's, whatever the context: an irq's first
    /// lock folds into the interrupted task's top.
    public var isFolded = false

    /// The depth of a lock of `classID` taken right above `below`: a lock taken with a nest
    /// lock above a held lock of its class is one entry with it in lockdep's array (its
    /// `references`), and adds nothing (`ReplayEngine.validatedDepth`).
    static func lockdepDepth(after below: HeldLock?, classID: ClassID, nest: Symbol?) -> Int32 {
        (below?.lockdepDepth ?? 0) + (nest != nil && below?.classID == classID ? 0 : 1)
    }

    /// Whether lockdep checks anything of this lock when it takes it anew above a lock
    /// released out of order, that pgtrace's checkers see (`willReacquire`): not folded
    /// (`isFolded`, as the engine sets it for the locks under it then), and validated (not a
    /// trylock, not check=0) or naming a nest lock (looked for whatever the lock).
    var isCheckedAgain: Bool { !isFolded && (validates && !isTry || nest != nil) }

    /// The chain key after `previous`, with this lock's class and read state mixed in; a
    /// folded acquisition leaves it as it was (lockdep's __lock_acquire returns before it
    /// changes curr->curr_chain_key), so a nest lock's run has one key whatever its length.
    static func chainKey(after previous: UInt64, classID: ClassID, mode: LockMode, isFolded: Bool) -> UInt64 {
        if isFolded { return previous }
        let id = UInt64(UInt32(bitPattern: classID)) | (UInt64(mode.lockdepRead) << 32)
        // splitmix64 over (previous, id): order-sensitive, well mixed.
        var z = previous &+ 0x9E37_79B9_7F4A_7C15 &+ id &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
