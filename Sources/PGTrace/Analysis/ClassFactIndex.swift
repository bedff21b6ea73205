/// Finds the fact log's facts about one class, its usage bits and its uses, by the class's
/// id: which of them the class has, as a mask, and where the one recorded last is, each
/// linking to the one recorded before it. The replay asks for them as it meets each class
/// (`IrqUsageChecker`, `NmiChecker`), new classes in order of their ids: here the answer for a
/// new class is in a table read in that order, where the position index put each such fact at
/// a random slot of a table of megabytes (a trace of a million short cycles, six facts a
/// cycle: a cache miss each, 19% of its replay).
struct ClassFactIndex {
    private struct Class {
        /// Bits 0-7 the usage bits by their index (`LockUsage.Bit.index`), 8 and 9 a use for a
        /// write and for a read.
        var bits: UInt16
        /// The last of the class's facts in `facts`, or -1.
        var last: Int32
    }

    /// A fact: where the log holds it, and the class's fact recorded before it in `facts`, or -1.
    private struct Fact {
        var position: Int32
        var before: Int32
    }

    private var classes: [Class] = []
    private var facts = ChunkedArray<Fact>()

    /// The bit `key` has in its class's mask, nil if it names no class fact (the position index
    /// finds those).
    @inline(__always) static func bit(of key: GraphFactKey) -> Int? {
        guard key.a >= 0 else { return nil }
        switch key.kind {
        case .usage where key.detail.nonzeroBitCount == 1 && key.detail < 1 << LockUsage.bitCount:
            return key.detail.trailingZeroBitCount
        case .used where key.detail < 2: return LockUsage.bitCount + Int(key.detail)
        default: return nil
        }
    }

    /// The position of the fact of class `id` with `bit`, the one that `matches` among the
    /// class's facts.
    @inline(__always) func position(of id: ClassID, bit: Int, where matches: (Int) -> Bool) -> Int? {
        let id = Int(id)
        guard id < classes.count, classes[id].bits & 1 << bit != 0 else { return nil }
        var at = classes[id].last
        while at >= 0 {
            let fact = facts[Int(at)]
            if matches(Int(fact.position)) { return Int(fact.position) }
            at = fact.before
        }
        return nil
    }

    /// Takes room for the classes below `count` (the facts are kept in chunks, which never
    /// move).
    mutating func reserveCapacity(classes count: Int) { classes.reserveCapacity(count) }

    /// Adds the fact of class `id` with `bit` (none is here) at `position`.
    mutating func insert(_ id: ClassID, bit: Int, position: Int) {
        precondition((0..<Int(Int32.max)).contains(position), "a position past 2^31 - 2")
        let id = Int(id)
        classes.grow(toInclude: id, filling: Class(bits: 0, last: -1))
        facts.append(Fact(position: Int32(position), before: classes[id].last))
        classes[id].bits |= 1 << bit
        classes[id].last = Int32(facts.count - 1)
    }
}
