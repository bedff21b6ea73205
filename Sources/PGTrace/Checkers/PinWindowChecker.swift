/// Reports `pin-window` (seed 004, Xen pinning with split pte locks). A page-table page that
/// is read-only but not pinned — from `set-ro` to `pin`, and from `unpin` to `set-rw` — must
/// stay under its `ptl` lock: a write to it then faults, because Xen does not trap-and-emulate
/// writes to an unpinned read-only page. Pinning the top level pins the tree under it (Xen
/// validates it whole), which closes the windows of the pages its walk made read-only, and
/// unpinning it reopens them until they are writable again. Also: a pin of a page that was
/// never made read-only, and a pin walk that handles the top level before the levels under it.
public final class PinWindowChecker: ReplayObserver {
    public var observedEvents: ObservedEvents { [.pinEvents, .releases] }

    private struct Window {
        var opened: EventSite
        var afterUnpin: Bool
        /// Where the window was first outside its ptl lock, if it was.
        var unguarded: EventSite?
        /// The ptl instance whose release would leave it unguarded (in `guardedBy`).
        var ptl: Symbol?
        /// The first writes (cited), and how many there were.
        var writes: [EventSite] = []
        var writeCount = 0
    }

    /// How many writes to one window a finding cites.
    static let citedWrites = 8

    private let context: CheckerContext
    @exclusivity(unchecked) private var windows: [Symbol: Window] = [:]
    /// Per cpu, the top-level page already processed by a pin walk that has not yet ended with
    /// the top-level pin, and whether a pmd page has been made read-only since (PAE's unshared
    /// kernel pmd, which xen_pgd_pin() handles after the walk and before the L3 pin).
    @exclusivity(unchecked) private var pinnedTop: [Int: (page: Symbol, site: EventSite, kernelPmd: Bool)] = [:]
    /// For each pinned top-level page, the read-only pages its pin covers.
    @exclusivity(unchecked) private var covered: [Symbol: [Symbol]] = [:]
    /// The open windows a pgd pin on each cpu closes (opened by set-ro there), and those a
    /// release of each ptl instance leaves unguarded: so that an event touches only its own.
    @exclusivity(unchecked) private var walkedOn: [Int: Set<Symbol>] = [:]
    @exclusivity(unchecked) private var guardedBy: [Symbol: Set<Symbol>] = [:]

    public init(context: CheckerContext) { self.context = context }

    public func replayWillBegin(_ replay: ReplayEngine) {
        windows = [:]
        pinnedTop = [:]
        covered = [:]
        walkedOn = [:]
        guardedBy = [:]
    }

    public func replay(_ replay: ReplayEngine, didApply event: Event, at site: EventSite) {
        switch event.kind {
        case .setReadOnly(let page, let level, _):
            checkPinOrder(page, level: level, isPin: false, at: site)
            if let window = windows[page] { reindex(page, window, ptl: replay.memory.pages[page]?.ptl) }
            guard let state = replay.memory.pages[page], state.pinned == nil else { return }
            openWindow(page, state, afterUnpin: false, at: site, replay: replay)
        case .unpin(let page, _):
            for lower in covered.removeValue(forKey: page) ?? [] {
                guard let state = replay.memory.pages[lower], state.readOnly != nil, state.pinned == nil else { continue }
                openWindow(lower, state, afterUnpin: true, at: site, replay: replay)
            }
            guard let state = replay.memory.pages[page], state.readOnly != nil else { return }
            openWindow(page, state, afterUnpin: true, at: site, replay: replay)
        case .pin(let page, let level):
            checkPinOrder(page, level: level, isPin: true, at: site)
            if replay.memory.pages[page]?.readOnly == nil {
                reportWritablePin(page, at: site)
            }
            close(page, at: site)
            if level == .pgd {
                let walked = (walkedOn.removeValue(forKey: event.cpu) ?? []).sorted()
                for lower in walked { close(lower, at: site) }
                covered[page] = walked
            }
        case .setReadWrite(let page, _, _):
            close(page, at: site)
        case .ptWrite(let page):
            guard windows[page] != nil else { return }
            if windows[page]!.writes.count < Self.citedWrites { windows[page]!.writes.append(site) }
            windows[page]!.writeCount += 1
        default:
            break
        }
    }

    /// A ptl dropped (the instance of the lock the release matched, named or not) leaves the
    /// windows it guarded open.
    public func replay(_ replay: ReplayEngine, didRelease lock: HeldLock, at site: EventSite) {
        guard let instance = lock.ref.instance, let pages = guardedBy[instance],
            !replay.holds(cpu: site.cpu, instance: instance)
        else { return }
        for page in pages where windows[page]?.unguarded == nil {
            windows[page]!.unguarded = site
            windows[page]!.ptl = nil
        }
        guardedBy[instance] = nil
    }

    /// A set-ro that names another ptl for a page with an open, still guarded window: the
    /// window is guarded by that one now.
    private func reindex(_ page: Symbol, _ window: Window, ptl: Symbol?) {
        guard window.unguarded == nil, let ptl, window.ptl != ptl else { return }
        if let old = window.ptl { guardedBy[old]?.remove(page) }
        guardedBy[ptl, default: []].insert(page)
        windows[page]!.ptl = ptl
    }

    public func replayDidEnd(_ replay: ReplayEngine) {
        for page in windows.keys.sorted() { close(page, at: nil) }
    }

    private func openWindow(_ page: Symbol, _ state: MemoryState.Page, afterUnpin: Bool, at site: EventSite, replay: ReplayEngine) {
        guard windows[page] == nil else { return }
        var window = Window(opened: site, afterUnpin: afterUnpin)
        if let ptl = state.ptl {
            if replay.holds(cpu: site.cpu, instance: ptl) {
                guardedBy[ptl, default: []].insert(page)
                window.ptl = ptl
            } else {
                window.unguarded = site
            }
        }
        windows[page] = window
        if !afterUnpin { walkedOn[site.cpu, default: []].insert(page) }
    }

    private func close(_ page: Symbol, at site: EventSite?) {
        guard let window = windows.removeValue(forKey: page) else { return }
        if !window.afterUnpin { walkedOn[window.opened.cpu]?.remove(page) }
        if let ptl = window.ptl { guardedBy[ptl]?.remove(page) }
        guard window.unguarded != nil || !window.writes.isEmpty else { return }
        let name = context.symbols[page]
        let span = window.afterUnpin ? "unpinned but still read-only" : "read-only but not yet pinned"
        var locations = [context.evidence(window.opened, window.afterUnpin ? "unpins \(name)" : "makes \(name) read-only")]
        if let unguarded = window.unguarded, unguarded.position != window.opened.position {
            locations.append(context.evidence(unguarded, "drops the ptl lock while \(name) is \(span)"))
        }
        locations += window.writes.map { context.evidence($0, "writes to \(name): the write faults") }
        let unshown = window.writeCount - window.writes.count
        if let site {
            locations.append(context.evidence(site, window.afterUnpin ? "makes \(name) writable again" : "pins \(name)"))
        }
        let message: String
        if window.writes.isEmpty {
            message = "page-table page \(name) is \(span) outside its ptl lock: a concurrent set_pte would fault, since Xen does not trap-and-emulate writes to an unpinned read-only page"
        } else {
            message = "a write to page-table page \(name) while it is \(span) faults: Xen does not trap-and-emulate writes to an unpinned read-only page"
        }
        let fix = window.afterUnpin
            ? "hold the pte lock from the unpin until the page is writable again (unpin_page's converse of pin_page)"
            : "hold the pte lock from making the page read-only until it is pinned, pinning each pte page under its lock (Jeremy's pin_page)"
        context.report(
            Finding(
                rule: .pinWindow, severity: window.writes.isEmpty ? .warning : .error, message: message,
                locks: [], objects: [name], locations: locations,
                notes: (site == nil ? ["The window is still open at the end of the trace."] : [])
                    + (unshown > 0 ? ["\(unshown) more writes to \(name) in the window are not shown."] : []) + [fix],
                // Only seen open (a warning) and seen hit (an error) are two problems (PgdListChecker).
                key: "\(name)|\(window.afterUnpin ? "unpin" : "pin")|\(context.place(window.opened))"
                    + (window.writes.isEmpty ? "|open" : "")))
    }

    private func reportWritablePin(_ page: Symbol, at site: EventSite) {
        let name = context.symbols[page]
        context.report(
            Finding(
                rule: .pinWindow, severity: .error,
                message: "page-table page \(name) is pinned while still writable: Xen refuses to pin a page-table page the guest can write",
                locks: [], objects: [name], locations: [context.evidence(site, "pins \(name)")],
                notes: ["make the page read-only (set-ro) under its ptl lock before pinning it"],
                key: "\(name)|writable-pin", title: "page table pinned while writable"))
    }

    /// A pin walk (pgd_walk(pgd, pin_page, USER_LIMIT)) makes each page read-only, pinning pte
    /// pages on the way, and the top level's own callback comes last ("Do the top level last, so
    /// that the callbacks can use it as a cue to do final things like tlb flushes", seed 004).
    /// The pin hypercall (L3/L4) needs every page under the pgd read-only before it, not before
    /// the pgd's own read-only remap: on PAE, xen_pgd_pin() makes the unshared kernel pmd
    /// (above USER_LIMIT, so outside the walk) read-only after the walk and before the L3 pin
    /// ("Need to make sure unshared kernel PMD is pinnable"). So one pmd page made read-only
    /// between the pgd's set-ro and its pin is that step; a pte page, a lower pin or a second
    /// pmd there is the walk handling the top level before the levels under it.
    private func checkPinOrder(_ page: Symbol, level: PageTableLevel?, isPin: Bool, at site: EventSite) {
        guard let level else { return }
        if level == .pgd {
            pinnedTop[site.cpu] = isPin ? nil : (page, site, false)
            return
        }
        guard let top = pinnedTop[site.cpu] else { return }
        if level == .pmd, !isPin, !top.kernelPmd {
            pinnedTop[site.cpu]!.kernelPmd = true
            return
        }
        let topName = context.symbols[top.page]
        context.report(
            Finding(
                rule: .pinWindow, severity: .warning,
                message: "the pin walk handles the top level \(topName) before the \(level.rawValue) page \(context.symbols[page]) under it: the top level's callback (its read-only remap, which carries the TLB flush) is the callbacks' cue for final work, so it must come last",
                locks: [], objects: [topName, context.symbols[page]],
                locations: [
                    context.evidence(top.site, "makes the top level \(topName) read-only first"),
                    context.evidence(site, "\(isPin ? "pins" : "makes") \(context.symbols[page])\(isPin ? "" : " read-only") afterwards"),
                ],
                notes: ["Do the top level last, as Jeremy's pgd_walk does"],
                key: "\(topName)|pin-order", title: "pin walk handles the top level before the levels under it"))
    }
}
