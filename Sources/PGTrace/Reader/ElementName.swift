/// The elements of trace format v1.
enum ElementName: String, CaseIterable {
    // Document structure
    case trace, meta, config, note, classes, `class`, events

    // Execution contexts
    case irqDisable = "irq-disable", irqEnable = "irq-enable"
    case hardirqEnter = "hardirq-enter", hardirqExit = "hardirq-exit"
    case softirqEnter = "softirq-enter", softirqExit = "softirq-exit"
    case bhDisable = "bh-disable", bhEnable = "bh-enable", bhState = "bh-state"
    case mightSleep = "might-sleep"
    case nmiEnter = "nmi-enter", nmiExit = "nmi-exit"
    case rcuReadLock = "rcu-read-lock", rcuReadUnlock = "rcu-read-unlock"
    case preemptDisable = "preempt-disable", preemptEnable = "preempt-enable"

    // Locks
    case acquire, release, contended, acquired
    case contentionBegin = "contention-begin", contentionEnd = "contention-end"

    // IPIs
    case ipiSend = "ipi-send", ipiHandle = "ipi-handle"

    // pgd_list
    case pgdAlloc = "pgd-alloc", pgdFree = "pgd-free"
    case pgdPopulate = "pgd-populate", pgdClear = "pgd-clear"
    case pgdListAdd = "pgd-list-add", pgdListDel = "pgd-list-del"
    case listWalkBegin = "list-walk-begin", listWalkVisit = "list-walk-visit"
    case listWalkEnd = "list-walk-end"

    // Pinning
    case setReadOnly = "set-ro", setReadWrite = "set-rw", pin, unpin
    case ptWrite = "pt-write", tlbFlush = "tlb-flush"

    // Freeing page tables
    case locklessWalkBegin = "lockless-walk-begin", locklessWalkEnd = "lockless-walk-end"
    case walkAccess = "walk-access", tableUnlink = "table-unlink"
    case rcuGracePeriod = "rcu-grace-period", tableFree = "table-free"

    // kmap
    case kmap, kunmap, pageFree = "page-free"

    // The capture
    case eventsLost = "events-lost"

    static let byName: [String: ElementName] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

    /// Whether this element is an event (a child of `<events>`).
    var isEvent: Bool {
        switch self {
        case .trace, .meta, .config, .note, .classes, .class, .events: return false
        default: return true
        }
    }

    /// The attributes this element takes besides the ones every event takes.
    var attributes: Set<AttributeName> {
        switch self {
        case .trace: return [.version, .source, .cpus, .partial]
        case .meta, .classes, .events: return []
        case .config: return [.name, .value]
        case .note: return [.text]
        case .class: return [.name, .type, .slots, .wait, .waitOuter, .novalidate]
        case .irqDisable, .irqEnable, .hardirqExit, .softirqExit, .bhDisable, .bhEnable, .nmiEnter, .nmiExit,
            .mightSleep, .preemptDisable, .preemptEnable, .listWalkEnd, .locklessWalkBegin, .locklessWalkEnd, .rcuGracePeriod:
            return []
        case .hardirqEnter: return [.irq, .threaded]
        case .rcuReadLock, .rcuReadUnlock: return [.flavor]
        case .softirqEnter: return [.vec]
        case .acquire: return [.lock, .instance, .subclass, .mode, .try, .irq, .bh, .nest]
        case .release: return [.lock, .instance, .subclass, .irq, .bh]
        case .contended, .acquired: return [.lock, .instance, .subclass]
        case .contentionBegin, .contentionEnd: return [.instance]
        case .eventsLost: return [.count]
        case .bhState: return [.disabled]
        case .ipiSend: return [.targets, .wait, .reason]
        case .ipiHandle: return [.from]
        case .pgdAlloc, .pgdFree: return [.pgd]
        case .pgdPopulate, .pgdClear: return [.pgd, .index]
        case .pgdListAdd, .pgdListDel: return [.pgd, .lock]
        case .listWalkBegin: return [.walker]
        case .listWalkVisit: return [.pgd]
        case .setReadOnly, .setReadWrite: return [.page, .level, .ptl]
        case .pin, .unpin: return [.page, .level]
        case .ptWrite: return [.page]
        case .tlbFlush: return [.targets, .mode, .wait]
        case .walkAccess, .tableUnlink, .tableFree: return [.table]
        case .kmap: return [.page, .series, .atomic]
        case .kunmap: return [.page, .series]
        case .pageFree: return [.page]
        }
    }
}

/// The attributes of trace format v1. Int-backed, so that an attribute's value is found by
/// index in the decoder's hot path.
enum AttributeName: Int, CaseIterable {
    // Every event
    case cpu, task, t, at, fn, pc
    // Document
    case version, source, cpus, name, value, type, slots, text
    // Events
    case irq, vec, lock, instance, subclass, mode, `try`, bh, nest
    case targets, wait, reason, from
    case pgd, index, walker
    case page, level, ptl
    case table
    case series, atomic
    case partial, count, disabled
    case waitOuter, threaded, novalidate, flavor

    /// The attribute's name in a trace.
    var name: String { Self.names[rawValue] }

    /// In the cases' order (ElementNameTests checks it against them). Written out, not made
    /// with `"\(case)"`: each such name is a reflective print, and the 42 cost every run some
    /// 1M instructions.
    private static let names: [String] = [
        "cpu", "task", "t", "at", "fn", "pc",
        "version", "source", "cpus", "name", "value", "type", "slots", "text",
        "irq", "vec", "lock", "instance", "subclass", "mode", "try", "bh", "nest",
        "targets", "wait", "reason", "from",
        "pgd", "index", "walker",
        "page", "level", "ptl",
        "table",
        "series", "atomic",
        "partial", "count", "disabled",
        "wait-outer", "threaded", "novalidate", "flavor",
    ]

    static let byName: [String: AttributeName] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.name, $0) })

    static let common: Set<AttributeName> = [.cpu, .task, .t, .at, .fn, .pc]

    var bit: UInt64 { 1 << UInt64(rawValue) }
}

extension ElementName {
    /// The attributes this element takes, as a bit set of `AttributeName.bit`.
    var allowedMask: UInt64 {
        (isEvent ? attributes.union(AttributeName.common) : attributes).reduce(0) { $0 | $1.bit }
    }
}

extension ElementName {
    /// The element that says `kind` in a trace.
    init(of kind: EventKind) {
        switch kind {
        case .irqDisable: self = .irqDisable
        case .irqEnable: self = .irqEnable
        case .hardirqEnter: self = .hardirqEnter
        case .hardirqExit: self = .hardirqExit
        case .softirqEnter: self = .softirqEnter
        case .softirqExit: self = .softirqExit
        case .bhDisable: self = .bhDisable
        case .bhEnable: self = .bhEnable
        case .bhState: self = .bhState
        case .mightSleep: self = .mightSleep
        case .nmiEnter: self = .nmiEnter
        case .nmiExit: self = .nmiExit
        case .rcuReadLock: self = .rcuReadLock
        case .rcuReadUnlock: self = .rcuReadUnlock
        case .preemptDisable: self = .preemptDisable
        case .preemptEnable: self = .preemptEnable
        case .acquire: self = .acquire
        case .release: self = .release
        case .contended: self = .contended
        case .acquired: self = .acquired
        case .contentionBegin: self = .contentionBegin
        case .contentionEnd: self = .contentionEnd
        case .ipiSend: self = .ipiSend
        case .ipiHandle: self = .ipiHandle
        case .pgdAlloc: self = .pgdAlloc
        case .pgdFree: self = .pgdFree
        case .pgdPopulate: self = .pgdPopulate
        case .pgdClear: self = .pgdClear
        case .pgdListAdd: self = .pgdListAdd
        case .pgdListDel: self = .pgdListDel
        case .listWalkBegin: self = .listWalkBegin
        case .listWalkVisit: self = .listWalkVisit
        case .listWalkEnd: self = .listWalkEnd
        case .setReadOnly: self = .setReadOnly
        case .setReadWrite: self = .setReadWrite
        case .pin: self = .pin
        case .unpin: self = .unpin
        case .ptWrite: self = .ptWrite
        case .tlbFlush: self = .tlbFlush
        case .locklessWalkBegin: self = .locklessWalkBegin
        case .locklessWalkEnd: self = .locklessWalkEnd
        case .walkAccess: self = .walkAccess
        case .tableUnlink: self = .tableUnlink
        case .rcuGracePeriod: self = .rcuGracePeriod
        case .tableFree: self = .tableFree
        case .kmap: self = .kmap
        case .kunmap: self = .kunmap
        case .pageFree: self = .pageFree
        case .eventsLost: self = .eventsLost
        }
    }
}

extension ElementName {
    /// An element's place in `allCases`: its one-byte name on a `ScanTape`.
    typealias Index = UInt8

    private static let ordered: [ElementName] = {
        precondition(allCases.count <= Int(Index.max) + 1, "more elements than a tape's one-byte name holds")
        return Array(allCases)
    }()
    private static let allowedMasks = ordered.map(\.allowedMask)

    var index: Index { Index(Self.ordered.firstIndex(of: self)!) }

    /// The element at `index`, and the attributes it takes.
    static func at(_ index: Index) -> (element: ElementName, allowed: UInt64) {
        (ordered[Int(index)], allowedMasks[Int(index)])
    }
}
