@testable import PGTrace

extension ReplayEngine {
    /// A bare engine for the replay's own tests: `cpus` cpus, a fresh class table, no
    /// `<meta>`, `pgd_lock` as the pgd_list lock, and the observers given.
    static func forTests(
        symbols: SymbolTable, cpus: Int, partial: Bool = false, observers: [any ReplayObserver] = []
    ) -> ReplayEngine {
        var header = TraceHeader()
        header.cpus = cpus
        header.partial = partial
        return ReplayEngine(
            header: header, fileName: "t.xml", classes: LockClassTable(), symbols: symbols,
            defaultListLock: symbols.intern("pgd_lock"), observers: observers)
    }
}
