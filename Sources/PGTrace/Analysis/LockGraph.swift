/// Lockdep's dependency type bits: whether the held lock was shared (a reader) or exclusive,
/// and whether the new lock is a recursive reader or not. A path is only a deadlock when no
/// `-(*R)->` edge is followed by an `-(S*)->` edge (lockdep-design.rst, "strong" paths).
public struct DependencyTypes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Shared -> recursive reader.
    public static let sr = DependencyTypes(rawValue: 1 << 0)
    /// Exclusive -> recursive reader.
    public static let er = DependencyTypes(rawValue: 1 << 1)
    /// Shared -> non-recursive.
    public static let sn = DependencyTypes(rawValue: 1 << 2)
    /// Exclusive -> non-recursive.
    public static let en = DependencyTypes(rawValue: 1 << 3)

    public static let fromExclusive: DependencyTypes = [.er, .en]
    public static let toNonRecursive: DependencyTypes = [.sn, .en]

    /// lockdep's __calc_dep_bit.
    public init(holder: LockMode, next: LockMode) {
        let exclusive = holder == .write
        let recursive = next == .recursiveRead
        switch (exclusive, recursive) {
        case (false, true): self = .sr
        case (true, true): self = .er
        case (false, false): self = .sn
        case (true, false): self = .en
        }
    }
}

/// A dependency `from -> to`: `to` was acquired while `from` was held in the same context.
public struct LockDependency: Sendable {
    public var from: ClassID
    public var to: ClassID
    public var types: DependencyTypes
    /// The acquisition of `from` that was held when the edge was first created.
    public var holderSite: EventSite
    /// The acquisition of `to` that first created the edge.
    public var site: EventSite
}

/// The lock-order graph of an analysis: lock classes and the dependencies between them,
/// deduplicated, each keeping the first event that created it. Spans every trace analysed.
public final class LockGraph {
    public private(set) var edges: [LockDependency] = []
    private var edgeIndex: [UInt64: Int] = [:]
    private var forward: [[Int]] = []
    private var backward: [[Int]] = []

    public init() {}

    public func edge(from: ClassID, to: ClassID) -> LockDependency? {
        edgeIndex[Self.key(from, to)].map { edges[$0] }
    }

    public func outgoing(_ id: ClassID) -> [LockDependency] {
        Int(id) < forward.count ? forward[Int(id)].map { edges[$0] } : []
    }

    public func incoming(_ id: ClassID) -> [LockDependency] {
        Int(id) < backward.count ? backward[Int(id)].map { edges[$0] } : []
    }

    /// Adds `from -> to` or widens the types of the existing edge; true when the edge is new.
    @discardableResult
    public func add(
        from: ClassID, to: ClassID, types: DependencyTypes, holderSite: EventSite, site: EventSite
    ) -> Bool {
        let key = Self.key(from, to)
        if let index = edgeIndex[key] {
            edges[index].types.formUnion(types)
            return false
        }
        let needed = Int(max(from, to)) + 1
        while forward.count < needed {
            forward.append([])
            backward.append([])
        }
        edgeIndex[key] = edges.count
        forward[Int(from)].append(edges.count)
        backward[Int(to)].append(edges.count)
        edges.append(LockDependency(from: from, to: to, types: types, holderSite: holderSite, site: site))
        return true
    }

    /// Lockdep's check_noncircular: would a new dependency `holder -> next` close a cycle?
    /// Searches breadth-first from `next` for a strong path back to `holder`, and returns the
    /// shortest such path's edges (from `next` to `holder`), or nil.
    public func strongPath(
        from next: ClassID, nextMode: LockMode, to holder: ClassID, holderMode: LockMode
    ) -> [LockDependency]? {
        guard Int(next) < forward.count else { return nil }
        // A search state is a class and whether the path into it ended in a `-(*R)->` edge
        // (then only an exclusive-holder edge may follow). Reaching a class freely dominates
        // reaching it only-xr, so a class is searched at most twice.
        struct State: Hashable {
            var node: ClassID
            var onlyXR: Bool
        }
        let start = State(node: next, onlyXR: nextMode == .recursiveRead)
        var reachedFreely: Set<ClassID> = []
        var reachedOnlyXR: Set<ClassID> = []
        var parent: [State: (edge: Int, from: State)] = [:]
        var queue: [State] = [start]
        if start.onlyXR { reachedOnlyXR.insert(next) } else { reachedFreely.insert(next) }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            guard Int(state.node) < forward.count else { continue }
            for index in forward[Int(state.node)] {
                let edge = edges[index]
                var types = edge.types
                if state.onlyXR { types.formIntersection(.fromExclusive) }
                if types.isEmpty { continue }
                let child = State(node: edge.to, onlyXR: types.isDisjoint(with: .toNonRecursive))
                if edge.to == holder, holderMode == .write || !child.onlyXR {
                    var result = [edges[index]]
                    var cursor = state
                    while let step = parent[cursor] {
                        result.append(edges[step.edge])
                        cursor = step.from
                    }
                    return result.reversed()
                }
                if reachedFreely.contains(edge.to) { continue }
                if child.onlyXR {
                    guard reachedOnlyXR.insert(edge.to).inserted else { continue }
                } else {
                    reachedFreely.insert(edge.to)
                }
                parent[child] = (index, state)
                queue.append(child)
            }
        }
        return nil
    }

    private static func key(_ from: ClassID, _ to: ClassID) -> UInt64 {
        UInt64(UInt32(bitPattern: from)) << 32 | UInt64(UInt32(bitPattern: to))
    }
}
