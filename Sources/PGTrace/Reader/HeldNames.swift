/// The last locks an XML trace took on a cpu (and on the cpus `ValueSlots.cpuSlotCount`
/// apart from it, which share the list), the latest first, as the reader saw them: their
/// names and instances, not the replay's held locks. A `<release>`'s lock is looked for here
/// before the symbol table, and the latest entry of its name taken out. Locks are released
/// in the nest they were taken in, often several deep; an attribute's last two values miss
/// that when cpus interleave, and a probe of a table of millions of names costs a cache miss
/// or two. A hint only: a lock released elsewhere, or pushed out by deeper nesting, is
/// interned as any name is, and an instance is used only where its bytes are the release's.
struct HeldNames {
    /// How many locks a cpu's list keeps.
    static let depth = 8
    /// Lock and instance (nil for none) of each held lock, in pairs, the latest first; a nil
    /// lock ends the list.
    private let entries: UnsafeMutablePointer<Symbol?>

    init(_ entries: UnsafeMutablePointer<Symbol?>) { self.entries = entries }

    /// Room for `cpus` lists, all empty.
    static func allocate(cpus: Int) -> UnsafeMutablePointer<Symbol?> {
        let entries = UnsafeMutablePointer<Symbol?>.allocate(capacity: 2 * depth * cpus)
        entries.initialize(repeating: nil, count: 2 * depth * cpus)
        return entries
    }

    func lock(at position: Int) -> Symbol { entries[2 * position]! }
    func instance(at position: Int) -> Symbol? { entries[2 * position + 1] }

    /// Where the lock named `bytes`, whose key is `key`, is in the list (the latest first), if
    /// it is.
    @inline(__always)
    func position(of bytes: UnsafeBufferPointer<UInt8>, key: NameKey, in symbols: SymbolTable) -> Int? {
        for position in 0..<Self.depth {
            guard let lock = entries[2 * position] else { return nil }
            if symbols.matches(lock, key, bytes) { return position }
        }
        return nil
    }

    /// A lock just taken, at the front; the oldest falls off a full list.
    func push(_ lock: Symbol, instance: Symbol?) {
        (entries + 2).update(from: entries, count: 2 * (Self.depth - 1))
        entries[0] = lock
        entries[1] = instance
    }

    /// A lock released: out of the list, the ones after it moved up.
    func remove(at position: Int) {
        let last = 2 * (Self.depth - 1)
        (entries + 2 * position).update(from: entries + 2 * position + 2, count: last - 2 * position)
        entries[last] = nil
        entries[last + 1] = nil
    }
}
