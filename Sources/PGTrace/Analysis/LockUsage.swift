/// Lockdep's usage bits of a lock class: taken in hardirq/softirq context (irq-safe) or with
/// hardirqs/softirqs enabled (irq-unsafe), each for writers and readers.
public struct LockUsage: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The irq kinds lockdep tracks; lockdep calls them states.
    public enum IrqState: Int, CaseIterable, Sendable {
        case hardirq = 0
        case softirq = 1

        public var name: String { self == .hardirq ? "HARDIRQ" : "SOFTIRQ" }
        /// The irq context's name in messages.
        public var contextName: String { self == .hardirq ? "hardirq" : "softirq" }
    }

    /// One usage bit, numbered as lockdep's enum lock_usage_bit: state * 4 + dir * 2 + read.
    public struct Bit: Hashable, Sendable {
        public var state: IrqState
        /// Enabled (taken with the irq on: unsafe) rather than used in irq context (safe).
        public var enabled: Bool
        public var read: Bool

        public init(_ state: IrqState, enabled: Bool, read: Bool) {
            self.state = state
            self.enabled = enabled
            self.read = read
        }

        /// Lockdep's enum lock_usage_bit: state * 4 + dir * 2 + read (0 to 7).
        public var index: Int { state.rawValue * 4 + (enabled ? 2 : 0) + (read ? 1 : 0) }

        /// The bit of lockdep's number `index` (0 to 7).
        init(index: Int) {
            precondition((0..<LockUsage.bitCount).contains(index), "usage bit \(index) out of 0..<\(LockUsage.bitCount)")
            self.init(IrqState(rawValue: index >> 2)!, enabled: index & 2 != 0, read: index & 1 != 0)
        }

        public var mask: LockUsage { LockUsage(rawValue: 1 << index) }

        /// Lockdep's names: IN-HARDIRQ-W, HARDIRQ-ON-R, …
        public var name: String {
            (enabled ? "\(state.name)-ON" : "IN-\(state.name)") + (read ? "-R" : "-W")
        }

        /// The bit of `usage` that this one conflicts with on the same class (lockdep's
        /// valid_state pairs), the writer's first: a writer conflicts with both opposite
        /// usages, a reader only with the opposite writer. (Asked of every usage fact: no
        /// array of the candidates is made.)
        public func conflict(in usage: LockUsage) -> Bit? {
            let opposite = Bit(state, enabled: !enabled, read: false)
            if usage.contains(opposite) { return opposite }
            let oppositeReader = Bit(state, enabled: !enabled, read: true)
            return !read && usage.contains(oppositeReader) ? oppositeReader : nil
        }
    }

    public static func usedIn(_ state: IrqState) -> LockUsage {
        Bit(state, enabled: false, read: false).mask.union(Bit(state, enabled: false, read: true).mask)
    }

    public static func enabled(_ state: IrqState) -> LockUsage {
        Bit(state, enabled: true, read: false).mask.union(Bit(state, enabled: true, read: true).mask)
    }

    /// How many usage bits there are (2 states x used-in/enabled x write/read).
    static let bitCount = 8

    public static let usedInAny: LockUsage = usedIn(.hardirq).union(usedIn(.softirq))
    public static let enabledAny: LockUsage = enabled(.hardirq).union(enabled(.softirq))
    /// Lockdep's LOCKF_IRQ: the writer bits.
    public static let writers = LockUsage(rawValue: 0b0101_0101)

    public func contains(_ bit: Bit) -> Bool { contains(bit.mask) }

    /// Lockdep's exclusive_mask: for each state used in irq context, both enabled bits of that
    /// state, and the reverse.
    public var exclusive: LockUsage {
        var result: LockUsage = []
        for state in IrqState.allCases {
            if !intersection(.usedIn(state)).isEmpty { result.formUnion(.enabled(state)) }
            if !intersection(.enabled(state)).isEmpty { result.formUnion(.usedIn(state)) }
        }
        return result
    }

    public var bits: [Bit] {
        IrqState.allCases.flatMap { state in
            [false, true].flatMap { enabled in
                [false, true].map { read in Bit(state, enabled: enabled, read: read) }
            }
        }.filter { contains($0) }
    }

    /// Lockdep's usage string, `{+.-.}`: per state, writer then reader; '+' taken with the irq
    /// enabled, '-' taken in irq context, '?' both, '.' neither.
    public var lockdepString: String {
        // Six bytes, written in place: a String of them is stored inline, with no allocation
        // (appending character by character cost some 900 instructions a class).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 + 2 * IrqState.allCases.count) { text in
            text[0] = UInt8(ascii: "{")
            var index = 1
            for state in IrqState.allCases {
                for read in [false, true] {
                    let enabled = contains(Bit(state, enabled: true, read: read))
                    let used = contains(Bit(state, enabled: false, read: read))
                    text[index] = UInt8(ascii: enabled ? (used ? "?" : "+") : (used ? "-" : "."))
                    index += 1
                }
            }
            text[index] = UInt8(ascii: "}")
            return String(decoding: text, as: UTF8.self)
        }
    }
}
