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
