/// Reports `irq-inversion`: an irq-safe lock class that depends, through strong paths of the
/// lock-order graph, on an irq-unsafe one. Lockdep's two ways in: a class gets a new usage
/// bit (search forward from a newly irq-safe class, backward from a newly irq-unsafe one),
/// or a new dependency joins a safe class behind it to an unsafe class ahead (check_irq_usage).
public final class IrqInversionChecker: LockGraphObserver {
    private let context: CheckerContext

    public init(context: CheckerContext) { self.context = context }

    /// Lockdep's usage_skip: a local lock is passed over in the irq-inversion searches (its
    /// inner wait type, config, is above any lock an irq can take, so the wait-context check
    /// keeps it off every path that could invert; on !PREEMPT_RT it is no lock at all).
    private var skipsLocalLocks: (ClassID) -> Bool {
        let classes = context.classes
        return { classes[$0].type == .localLock }
    }

    /// Only writer usage counts on a class reached through `-(*R)->` edges alone.
    private static func effective(_ usage: LockUsage, onlyXR: Bool) -> LockUsage {
        onlyXR ? usage.intersection(.writers) : usage
    }

    // MARK: A new usage bit

    public func lockGraph(_ graph: LockGraph, didMark fact: UsageFact) {
        let (bit, classID, lockMode, lockSite, site) = (fact.bit, fact.classID, fact.lockMode, fact.lockSite, fact.site)
        let wanted: LockUsage = bit.enabled ? .usedIn(bit.state) : .enabled(bit.state)
        let direction: LockGraph.Direction = bit.enabled ? .backward : .forward
        // The search gives up when no class behind (ahead of) the root, strong paths or not, has
        // the usage it looks for; the same test, the root's own usage added (so it skips no
        // more than the search would), made here spares the search's setup and the closure of
        // its local-lock test (most marks: a class used with irqs on, no irq-safe class behind).
        guard !graph.reachableUsage(of: classID, direction: direction).isDisjoint(with: wanted) else { return }
        let found = graph.search(
            from: classID,
            rootOnlyXR: bit.enabled ? lockMode != .write : lockMode == .recursiveRead,
            direction: direction, includeRoot: false, wanting: wanted,
            skipping: skipsLocalLocks
        ) { node, onlyXR in
            !Self.effective(graph.usage(of: node), onlyXR: onlyXR).isDisjoint(with: wanted)
        }
        guard let found else { return }
        let other = graph.usage(of: found.found).intersection(wanted)
        let otherBit = other.bits.first { !$0.read } ?? other.bits[0]
        // Paths are kept in the order safe -> ... -> unsafe.
        let path = bit.enabled ? found.path.reversed() : found.path
        let safe = bit.enabled ? found.found : classID
        let unsafe = bit.enabled ? classID : found.found
        let safeBit = bit.enabled ? otherBit : bit
        let unsafeBit = bit.enabled ? bit : otherBit
        let name = context.name(of: classID)
        let otherName = context.name(of: found.found)
        let irq = bit.state.name
        // print_irq_inversion_bug's body.
        let otherClass = irq + (otherBit.read ? "-READ" : "")
        let body: [ReportLine] = [
            .text("\(context.who(fact.moment, withState: false)) just changed the state of lock:"),
            .lock(name, at: context.evidence(lockSite, "acquires \(name)")),
            .text(bit.enabled
                ? "but this lock was taken by another, \(otherClass)-safe lock in the past:"
                : "but this lock took another, \(otherClass)-unsafe lock in the past:"),
            .lock(otherName, at: nil),
            .text(""),
            .text("and interrupts could create inverse lock ordering between them."),
            .text(""),
            .text("the shortest dependencies between 2nd lock and 1st lock:"),
        ] + dependencyLines(path)
        report(
            graph: graph, safe: safe, safeBit: safeBit, unsafe: unsafe, unsafeBit: unsafeBit,
            path: Array(path), trigger: context.evidence(site, "\(name) becomes {\(bit.name)}"), moment: fact.moment, holder: nil, body: body,
            headline: "possible irq lock inversion dependency detected",
            message: bit.enabled
                ? "\(name) becomes \(irq)-unsafe, but it was taken by \(otherName), a \(irq)\(otherBit.read ? "-READ" : "")-safe lock, in the past"
                : "\(name) becomes \(irq)-safe, but it took \(otherName), a \(irq)\(otherBit.read ? "-READ" : "")-unsafe lock, in the past")
    }

    // MARK: A new dependency

    public func lockGraph(_ graph: LockGraph, willAdd fact: DependencyFact) {
        guard fact.dependency.kind == .lockOrder, let moment = fact.moment else { return }
        let dependency = fact.dependency
        let holder = (classID: dependency.from, mode: fact.holderMode, site: dependency.holderSite)
        let next = (classID: dependency.to, mode: fact.nextMode, site: dependency.site)
        // Nothing to search for when even every class behind the holder and every class
        // ahead of the new lock, strong paths or not, cannot make a safe/unsafe pair.
        let safeBehind = graph.reachableUsage(of: holder.classID, direction: .backward).intersection(.usedInAny)
        guard !safeBehind.isEmpty,
            !graph.reachableUsage(of: next.classID, direction: .forward).isDisjoint(with: safeBehind.exclusive)
        else { return }
        // Step 1: every irq-safe usage behind the holder (itself included).
        var behind: LockUsage = []
        _ = graph.search(
            from: holder.classID, rootOnlyXR: holder.mode != .write, direction: .backward, wanting: .usedInAny,
            skipping: skipsLocalLocks
        ) {
            node, onlyXR in
            behind.formUnion(Self.effective(graph.usage(of: node), onlyXR: onlyXR))
            return false
        }
        behind.formIntersection(.usedInAny)
        guard !behind.isEmpty else { return }
        // Step 2: an irq-unsafe usage of the same irq ahead of the new lock.
        let forwardMask = behind.exclusive
        guard
            let ahead = graph.search(
                from: next.classID, rootOnlyXR: next.mode == .recursiveRead, wanting: forwardMask,
                skipping: skipsLocalLocks, match: {
                node, onlyXR in
                !Self.effective(graph.usage(of: node), onlyXR: onlyXR).isDisjoint(with: forwardMask)
            })
        else { return }
        // Step 3: the safe class behind that conflicts with it.
        let unsafeUsage = graph.usage(of: ahead.found).intersection(.enabledAny)
        let backwardMask = unsafeUsage.exclusive
        guard
            let safe = graph.search(
                from: holder.classID, rootOnlyXR: holder.mode != .write, direction: .backward,
                wanting: backwardMask, skipping: skipsLocalLocks, match: { node, onlyXR in
                    !Self.effective(graph.usage(of: node), onlyXR: onlyXR).isDisjoint(with: backwardMask)
                })
        else { return }
        // Step 4: the pair of usages to name (lockdep's find_exclusive_match).
        let safeUsage = graph.usage(of: safe.found)
        var pair: (LockUsage.Bit, LockUsage.Bit)?
        for bit in safeUsage.bits where !bit.enabled {
            let unsafeBits = [
                LockUsage.Bit(bit.state, enabled: true, read: false),
                LockUsage.Bit(bit.state, enabled: true, read: true),
            ]
            if let match = unsafeBits.first(where: { unsafeUsage.contains($0) }) {
                pair = (bit, match)
                break
            }
        }
        guard let (safeBit, unsafeBit) = pair else { return }
        let newEdge = LockDependency(
            from: holder.classID, to: next.classID, kind: .lockOrder, types: dependency.types,
            holderSite: holder.site, site: next.site)
        let path = safe.path.reversed() + [newEdge] + ahead.path
        let state = safeBit.state.name
        // Lockdep names both halves by the safe side's usage (print_bad_irq_dependency's
        // irqclass is state_name(backward_bit)): HARDIRQ-READ-safe -> HARDIRQ-READ-unsafe
        // when the safe class is a reader, HARDIRQ-safe -> HARDIRQ-unsafe otherwise, whatever
        // the unsafe side's read.
        let irqclass = state + (safeBit.read ? "-READ" : "")
        let safeName = context.name(of: safe.found)
        let unsafeName = context.name(of: ahead.found)
        let nextName = context.name(of: next.classID)
        let holderName = context.name(of: holder.classID)
        // print_bad_irq_dependency's body.
        var body: [ReportLine] = [
            .text("\(context.who(moment)) is trying to acquire:"),
            .lock(nextName, at: context.evidence(next.site, "acquires \(nextName)")),
            .text(""),
            .text("and this task is already holding:"),
            .lock(holderName, at: context.evidence(holder.site, "holds \(holderName)")),
            .text("which would create a new lock dependency:"),
            .dependency(from: holderName, to: nextName),
            .text(""),
            .text("but this new dependency connects a \(irqclass)-irq-safe lock:"),
            .lock(safeName, at: nil),
        ]
        if let at = graph.site(of: safeBit, for: safe.found) {
            body += [.text("... which became \(irqclass)-irq-safe at:"), .site(context.evidence(at, "\(safeName) is {\(safeBit.name)}"))]
        }
        body += [.text(""), .text("to a \(irqclass)-irq-unsafe lock:"), .lock(unsafeName, at: nil)]
        if let at = graph.site(of: unsafeBit, for: ahead.found) {
            body += [.text("... which became \(irqclass)-irq-unsafe at:"), .text("..."), .site(context.evidence(at, "\(unsafeName) is {\(unsafeBit.name)}"))]
        }
        // Lockdep's two closing sections: the safe lock to the one held, the one taken to the
        // unsafe lock.
        let backward = dependencyLines(safe.path.reversed())
        let forward = dependencyLines(ahead.path)
        body += [.text(""), .text("the dependencies between \(irqclass)-irq-safe lock and the holding lock:")]
            + (backward.isEmpty ? [.lock(safeName, at: nil)] : backward)
        body += [.text(""), .text("the dependencies between the lock to be acquired and \(irqclass)-irq-unsafe lock:")]
            + (forward.isEmpty ? [.lock(unsafeName, at: nil)] : forward)
        report(
            graph: graph, safe: safe.found, safeBit: safeBit, unsafe: ahead.found, unsafeBit: unsafeBit,
            path: Array(path),
            trigger: context.evidence(next.site, "acquires \(nextName) while holding \(holderName)"), moment: moment, holder: fact.holder, body: body,
            headline: "\(irqclass)-safe -> \(irqclass)-unsafe lock order detected",
            message: "\(safeName) is \(state)-safe and now depends on \(unsafeName), which is \(state)-unsafe: "
                + "a \(state.lowercased()) taking \(safeName) can interrupt a holder of \(unsafeName) that \(safeName)'s holder waits for")
    }

    // MARK: The report

    /// Each dependency of a path as lockdep's closing sections show it: the edge, and the
    /// event that made it.
    private func dependencyLines(_ path: some Sequence<LockDependency>) -> [ReportLine] {
        path.flatMap { edge -> [ReportLine] in
            let to = context.name(of: edge.to)
            return [.dependency(from: context.name(of: edge.from), to: to), .site(context.evidence(edge.site, "acquires \(to)"))]
        }
    }

    private func report(
        graph: LockGraph, safe: ClassID, safeBit: LockUsage.Bit, unsafe: ClassID, unsafeBit: LockUsage.Bit,
        path: [LockDependency], trigger: Evidence, moment: MomentID, holder: ReplayMoment.Held?, body: [ReportLine], headline: String,
        message: String
    ) {
        // One class both safe and unsafe is irq-inconsistent, reported as such.
        guard safe != `unsafe` else { return }
        let safeName = context.name(of: safe)
        let unsafeName = context.name(of: unsafe)
        let key = "\(safeName) -> \(unsafeName)|\(safeBit.state.name)"
        guard !context.hasReported(.irqInversion, key: key, scope: .graph) else { return }
        let links = path.map { edge in
            ChainLink(
                holder: context.name(of: edge.from), acquired: context.name(of: edge.to),
                holderEvidence: context.evidence(edge.holderSite, "holds \(context.name(of: edge.from))"),
                evidence: context.evidence(
                    edge.site, "acquires \(context.name(of: edge.to)) while holding \(context.name(of: edge.from))"))
        }
        var locations = [trigger]
        if let site = graph.site(of: safeBit, for: safe) {
            locations.append(context.evidence(site, "\(safeName) is {\(safeBit.name)}: taken in \(safeBit.state.contextName) context"))
        }
        if let site = graph.site(of: unsafeBit, for: unsafe) {
            locations.append(context.evidence(site, "\(unsafeName) is {\(unsafeBit.name)}: taken with \(unsafeBit.state == .hardirq ? "hardirqs" : "softirqs") enabled"))
        }
        locations += links.map(\.evidence).filter { link in !locations.contains { $0.event == link.event && $0.file == link.file } }
        let middle = path.first.map { context.name(of: $0.to) } ?? unsafeName
        var steps: [(column: Int, action: String)] = [
            (0, "lock(\(unsafeName));"),
            (1, safeBit.state == .hardirq ? "local_irq_disable();" : "local_bh_disable();"),
            (1, "lock(\(safeName));"),
            (1, "lock(\(middle));"),
            (0, "<Interrupt>"),
            (0, "  lock(\(safeName));"),
        ]
        var notes: [String] = []
        if middle != unsafeName {
            notes.append("Chain exists of: \(safeName) --> \(middle) --> \(unsafeName)")
        } else {
            steps.remove(at: 3)
            steps.insert((1, "lock(\(unsafeName));"), at: 3)
        }
        notes.append(
            "\(safeName)\(graph.usage(of: safe).lockdepString) is irq-safe; \(unsafeName)\(graph.usage(of: unsafe).lockdepString) is irq-unsafe: "
                + "take \(unsafeName) with \(safeBit.state == .hardirq ? "irqs" : "bh") disabled everywhere, or break the dependency")
        var finding = Finding(
            rule: .irqInversion, severity: .error, message: message,
            locks: [safeName, unsafeName], locations: locations, chain: links,
            scenario: Scenario(columns: ["CPU0", "CPU1"], steps: steps), notes: notes, key: key,
            title: headline)
        finding.body = body
        context.attachHeldLocks(to: &finding, moment: moment, holder: holder)
        context.report(finding, scope: .graph)
    }
}
