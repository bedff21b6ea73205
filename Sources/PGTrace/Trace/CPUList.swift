import Synchronization

/// A list of cpus an event names (`targets="0,2,5"`), as it names them: a handle to the
/// list, interned once for the process, so that an event carrying one stays a plain
/// value (copied bit for bit between the reading and the replaying thread, never retained).
public struct CPUList: Hashable, Sendable {
    private let id: Int32

    public init(_ cpus: [Int]) {
        id = CPUListTable.shared.intern(cpus)
    }

    /// The cpus, in the order given.
    public var cpus: [Int] { CPUListTable.shared.cpus(of: id) }
}

/// The process's cpu lists, by id: lists are few (a trace names a handful of IPI target
/// sets), and interning them keeps events trivially copyable.
private final class CPUListTable: Sendable {
    static let shared = CPUListTable()

    private let state = Mutex<(lists: [[Int]], ids: [[Int]: Int32])>(([], [:]))

    func intern(_ cpus: [Int]) -> Int32 {
        state.withLock { state in
            if let id = state.ids[cpus] { return id }
            let id = Int32(state.lists.count)
            state.lists.append(cpus)
            state.ids[cpus] = id
            return id
        }
    }

    func cpus(of id: Int32) -> [Int] { state.withLock { $0.lists[Int(id)] } }
}

/// A set of cpus as a message says it: "cpu 3", "cpus 4-8191", "cpus 0-2, 5, 7-9". Kept as
/// ranges, so that the cpus of an 8192-cpu machine cost what is printed, not one each.
public struct CPURanges: Equatable, Sendable, CustomStringConvertible {
    /// Sorted, disjoint and not adjacent, each `lower...upper`.
    public private(set) var ranges: [ClosedRange<Int>] = []

    public init(_ cpus: some Sequence<Int>) {
        for cpu in cpus.sorted() {
            if let last = ranges.last, cpu <= last.upperBound + 1 {
                ranges[ranges.count - 1] = last.lowerBound...max(last.upperBound, cpu)
            } else {
                ranges.append(cpu...cpu)
            }
        }
    }

    /// The cpus 0..<`count` but `excluded` (which may name cpus out of that range, and twice).
    public init(complementOf excluded: some Sequence<Int>, below count: Int) {
        var next = 0
        for cpu in excluded.sorted() where cpu >= next && cpu < count {
            if cpu > next { ranges.append(next...(cpu - 1)) }
            next = cpu + 1
        }
        if next < count { ranges.append(next...(count - 1)) }
    }

    public var isEmpty: Bool { ranges.isEmpty }
    public var count: Int { ranges.reduce(0) { $0 + $1.count } }

    public var description: String {
        let parts = ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        return (count == 1 ? "cpu " : "cpus ") + parts.joined(separator: ", ")
    }
}
