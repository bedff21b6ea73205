/// An interned string: lock class names, instances, tasks, pages and source locations are
/// compared and stored as small integers, and turned back into text only for reports.
public struct Symbol: Hashable, Comparable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static func < (lhs: Symbol, rhs: Symbol) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The interning table behind `Symbol`, shared by every trace of one analysis so that a
/// class name means the same node of the lock-order graph in every file.
public final class SymbolTable {
    private var ids: [String: Symbol] = [:]
    public private(set) var names: [String] = []

    public init() {}

    public func intern(_ name: String) -> Symbol {
        if let id = ids[name] { return id }
        let id = Symbol(rawValue: Int32(names.count))
        names.append(name)
        ids[name] = id
        return id
    }

    /// The symbol for `name` if it was interned before; nil otherwise.
    public func lookup(_ name: String) -> Symbol? { ids[name] }

    public subscript(symbol: Symbol) -> String { names[Int(symbol.rawValue)] }
}
