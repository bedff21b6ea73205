import PGTrace
import Testing

/// Seed 001 ("kvm,x86: RCU based table free"): "get_user_pages_fast() depends on the IPI to
/// hold off page table teardown while they are locklessly walked with interrupts disabled."
/// Each scenario is the buggy trace and its fixed twin, with the exact finding.
@Suite struct TableFreeCheckerTests {
    private func findings(_ trace: TraceBuilder) throws -> [String] {
        try analyze(trace).findings.map { "\($0.rule.rawValue) \($0.severity.rawValue) \($0.objects) \($0.locations.map(\.event))" }
    }

    /// CPU1 walks locklessly (irqs disabled or not); CPU0 unlinks T, flushes by `flush`, and
    /// frees T; then `after` runs on CPU1 before the walk ends.
    private func munmapUnderWalk(
        irqsOff: Bool, partial: Bool = false, inWalk: (inout TraceBuilder) -> Void = { _ in },
        flush: (inout TraceBuilder) -> Void = { $0.event("tlb-flush", [("targets", "others"), ("mode", "ipi"), ("wait", "true"), ("at", "tlb.c:191")]) },
        beforeFree: (inout TraceBuilder) -> Void = { _ in }
    ) -> TraceBuilder {
        var trace = TraceBuilder(cpus: 2)
        trace.partial = partial
        trace.cpu = 1
        if irqsOff { trace.event("irq-disable", [("at", "gup.c:289")]) }
        trace.event("lockless-walk-begin", [("at", "gup.c:290")])
        inWalk(&trace)
        trace.cpu = 0
        trace.event("table-unlink", [("table", "T"), ("at", "memory.c:397")])
        flush(&trace)
        beforeFree(&trace)
        trace.cpu = 0
        trace.event("table-free", [("table", "T"), ("at", "memory.c:256")])
        trace.cpu = 1
        trace.event("lockless-walk-end", [("at", "gup.c:318")])
        if irqsOff { trace.event("irq-enable", [("at", "gup.c:319")]) }
        return trace
    }

    // MARK: The IPI holds off only walkers with irqs disabled

    @Test func anIPIFlushHoldsOffAWalkerWithIrqsDisabled() throws {
        #expect(try findings(munmapUnderWalk(irqsOff: true)).isEmpty)
        // With a list IPI to the walker's cpu too.
        let listed = munmapUnderWalk(irqsOff: true, flush: { $0.event("ipi-send", [("targets", "1"), ("wait", "true")]) })
        #expect(try findings(listed).isEmpty)
    }

    @Test func aWalkerWithIrqsEnabledTakesTheIPIAndWalksOn() throws {
        // Review case tf1: the walker never disables irqs, and even handles the IPI mid-walk.
        let trace = munmapUnderWalk(irqsOff: false, beforeFree: {
            $0.cpu = 1
            $0.event("hardirq-enter", [("irq", "251")])
            $0.event("ipi-handle", [("from", "0"), ("at", "tlb.c:129")])
            $0.event("hardirq-exit")
        })
        let found = try analyze(trace).findings
        #expect(found.map { "\($0.rule.rawValue) \($0.severity.rawValue) \($0.objects) \($0.locations.map(\.event))" }
            == ["table-free-race error [\"T\"] [0, 1, 2, 4, 6, 7]"])
        #expect(found.first?.locations.map(\.role) == [
            "begins a lockless walk with irqs enabled", "unlinks T",
            "flushes by IPI while cpu 1 has irqs enabled: nothing holds the walk off",
            "takes the IPI and walks on", "frees T while the walk runs", "ends the walk",
        ])
        #expect(found.first?.message
            == "page table T is freed while a lockless walk on cpu 1, begun before the unlink, may still hold it: the IPI flush does not hold off a walker with irqs enabled")
        // A list IPI naming the walker's cpu holds it off no more.
        let listed = munmapUnderWalk(irqsOff: false, flush: { $0.event("ipi-send", [("targets", "1"), ("wait", "true")]) })
        #expect(try findings(listed) == ["table-free-race error [\"T\"] [0, 1, 2, 3, 4]"])
    }

    @Test func aWalkerThatEnablesIrqsBeforeTheIPIIsNotHeldOff() throws {
        // Review case tf8: irqs off at the begin, on again before the flush.
        let trace = munmapUnderWalk(irqsOff: true, inWalk: { $0.event("irq-enable", [("at", "gup.c:200")]) })
        let found = try analyze(trace).findings
        #expect(found.map { $0.locations.map(\.event) } == [[1, 2, 3, 4, 5, 6]])
        #expect(found.first?.locations.map(\.role) == [
            "begins a lockless walk with irqs disabled", "enables irqs within the walk", "unlinks T",
            "flushes by IPI while cpu 1 has irqs enabled: nothing holds the walk off",
            "frees T while the walk runs", "ends the walk",
        ])
        // Fixed: it disables them again before the unlink, and the IPI finds them off.
        let fixed = munmapUnderWalk(irqsOff: true, inWalk: {
            $0.event("irq-enable", [("at", "gup.c:200")])
            $0.event("irq-disable", [("at", "gup.c:201")])
        })
        #expect(try findings(fixed).isEmpty)
    }

    @Test func oneBroadcastJudgesEachWalkByItsOwnCPU() throws {
        // Walks on cpus 1-3, irqs off on 1 and 3, on on 2; cpu 0 flushes the others, then
        // frees: only cpu 2's walk is exposed, whatever order the walks are reached in.
        func trace(targets: String, walkerWithIrqsOn: Int?) -> TraceBuilder {
            var trace = TraceBuilder(cpus: 4)
            for cpu in [3, 1, 2] {
                trace.cpu = cpu
                if cpu != walkerWithIrqsOn { trace.event("irq-disable", [("at", "gup.c:289")]) }
                trace.event("lockless-walk-begin", [("at", "gup.c:290")])
            }
            trace.cpu = 0
            trace.event("table-unlink", [("table", "T"), ("at", "memory.c:397")])
            trace.event("tlb-flush", [("targets", targets), ("mode", "ipi"), ("wait", "true"), ("at", "tlb.c:191")])
            trace.event("table-free", [("table", "T"), ("at", "memory.c:256")])
            for cpu in [1, 2, 3] {
                trace.cpu = cpu
                trace.event("lockless-walk-end", [("at", "gup.c:318")])
            }
            return trace
        }
        for targets in ["others", "all"] {
            let found = try analyze(trace(targets: targets, walkerWithIrqsOn: 2)).findings
            #expect(found.map { "\($0.rule.rawValue) \($0.objects) \($0.locations.map(\.event))" }
                == ["table-free-race [\"T\"] [4, 5, 6, 7, 9]"])
            #expect(found.first?.locations.map(\.role) == [
                "begins a lockless walk with irqs enabled", "unlinks T",
                "flushes by IPI while cpu 2 has irqs enabled: nothing holds the walk off",
                "frees T while the walk runs", "ends the walk",
            ])
            #expect(try findings(trace(targets: targets, walkerWithIrqsOn: nil)).isEmpty)
        }
    }

    @Test func aWalkerThatEnablesIrqsAfterTheIPIIsNoLongerHeldOff() throws {
        let trace = munmapUnderWalk(irqsOff: true, beforeFree: {
            $0.cpu = 1
            $0.event("irq-enable", [("at", "gup.c:200")])
        })
        let found = try analyze(trace).findings
        #expect(found.first?.locations.map(\.role) == [
            "begins a lockless walk with irqs disabled", "unlinks T", "flushes by IPI while cpu 1 has irqs disabled",
            "enables irqs within the walk: the IPI no longer holds it off", "frees T while the walk runs", "ends the walk",
        ])
        #expect(found.map(\.severity) == [.error])
    }

    @Test func anUnknownIrqStateAtTheIPIIsNoFinding() throws {
        // A partial trace: what the walker's irqs were before the capture is not known.
        #expect(try findings(munmapUnderWalk(irqsOff: false, partial: true)).isEmpty)
        // Once the trace shows them enabled in the walk, the IPI holds nothing off.
        let shown = munmapUnderWalk(irqsOff: false, partial: true, inWalk: { $0.event("irq-enable", [("at", "gup.c:200")]) })
        #expect(try findings(shown) == ["table-free-race error [\"T\"] [0, 1, 2, 3, 4, 5]"])
    }

    // MARK: A grace period waits only for read-side sections

    /// Seed 001's RCU table free: "since the in-progress gup_fast() will have IRQs disabled
    /// this will be delayed". Its twin walks with irqs on, which no grace period waits for.
    @Test func aGracePeriodHoldsOffAWalkerWithIrqsDisabled() throws {
        let grace: (inout TraceBuilder) -> Void = { $0.event("rcu-grace-period", [("at", "rcupdate.c:100")]) }
        #expect(try findings(munmapUnderWalk(irqsOff: true, flush: grace)).isEmpty)
        let on = munmapUnderWalk(irqsOff: false, flush: grace)
        let found = try analyze(on).findings
        #expect(found.map { "\($0.rule.rawValue) \($0.severity.rawValue) \($0.objects) \($0.locations.map(\.event))" }
            == ["table-free-race error [\"T\"] [0, 1, 2, 3, 4]"])
        #expect(found.first?.locations.map(\.role) == [
            "begins a lockless walk with irqs enabled", "unlinks T",
            "ends an RCU grace period while cpu 1 is outside any RCU read-side section: it does not wait for the walk",
            "frees T while the walk runs", "ends the walk",
        ])
        #expect(found.first?.message
            == "page table T is freed while a lockless walk on cpu 1, begun before the unlink, may still hold it: an RCU grace period waits only for walkers in a read-side section (irqs, preemption or bh disabled, or rcu_read_lock held)")
    }

    /// Since the kernel's RCU flavors were consolidated a grace period waits for
    /// rcu_read_lock() and preempt-disabled sections too: pte_offset_map()'s lockless walks
    /// (Linux 6.5) hold rcu_read_lock() with irqs on.
    @Test func aGracePeriodHoldsOffAWalkerInAnyReadSideSection() throws {
        let grace: (inout TraceBuilder) -> Void = { $0.event("rcu-grace-period") }
        for section in ["rcu-read-lock", "preempt-disable"] {
            let trace = munmapUnderWalk(irqsOff: false, inWalk: { $0.event(section) }, flush: grace)
            #expect(try findings(trace).isEmpty, "\(section)")
        }
        // A spinning lock held disables preemption as well.
        let locked = munmapUnderWalk(irqsOff: false, inWalk: { $0.acquire("ptl") }, flush: grace)
        #expect(try findings(locked).filter { $0.hasPrefix("table-free-race") }.isEmpty)
        // Review case T: an interrupt in the middle of an rcu_read_lock() walk, or irqs
        // toggled in it, or in a preempt-disabled one, is no quiescent state.
        for section in ["rcu-read-lock", "preempt-disable"] {
            let ticked = munmapUnderWalk(irqsOff: false, inWalk: { $0.event(section) }, flush: {
                $0.cpu = 1
                $0.event("hardirq-enter", [("irq", "0")])
                $0.event("hardirq-exit")
                $0.event("irq-disable")
                $0.event("irq-enable")
                $0.cpu = 0
                $0.event("rcu-grace-period")
            })
            #expect(try findings(ticked).isEmpty, "\(section)")
        }
    }

    /// Irqs enabled between the unlink and the grace period's end are a quiescent state the
    /// grace period may have ended on, even if disabled again by then.
    @Test func aWalkerQuiescentSinceTheUnlinkIsNotHeldOff() throws {
        let trace = munmapUnderWalk(irqsOff: true, flush: {
            $0.cpu = 1
            $0.event("irq-enable", [("at", "gup.c:200")])
            $0.event("irq-disable", [("at", "gup.c:201")])
            $0.cpu = 0
            $0.event("rcu-grace-period")
        })
        let found = try analyze(trace).findings
        #expect(found.first?.locations.map(\.role) == [
            "begins a lockless walk with irqs disabled", "unlinks T",
            "enables irqs or bh within the walk (or returns to it from an interrupt), outside any RCU read-side section: a quiescent state",
            "ends an RCU grace period, which need not have waited for the walk on cpu 1",
            "frees T while the walk runs", "ends the walk",
        ])
        // Review case C1: a first grace period found the cpu quiescent, a second found irqs
        // off: the first is what is cited as the quiescent state, the last beside it.
        let twice = munmapUnderWalk(irqsOff: false, flush: {
            $0.event("rcu-grace-period", [("at", "first")])
            $0.cpu = 1
            $0.event("irq-disable")
            $0.cpu = 0
            $0.event("rcu-grace-period", [("at", "second")])
        })
        let cited = try analyze(twice).findings.first?.locations.map { "\($0.at ?? "") \($0.role)" }
        #expect(cited == [
            "gup.c:290 begins a lockless walk with irqs enabled", "memory.c:397 unlinks T",
            "first ends an RCU grace period while cpu 1 is outside any RCU read-side section: it does not wait for the walk",
            "second ends an RCU grace period, which need not have waited for the walk on cpu 1",
            "memory.c:256 frees T while the walk runs", "gup.c:318 ends the walk",
        ])
        // Irqs enabled only after the grace period ended (before the free) change nothing:
        // the grace period waited for the section it found.
        let after = munmapUnderWalk(irqsOff: true, flush: { $0.event("rcu-grace-period") }, beforeFree: {
            $0.cpu = 1
            $0.event("irq-enable", [("at", "gup.c:200")])
        })
        #expect(try findings(after).isEmpty)
        // A partial trace that never states the walker's irqs: unknown is no finding.
        let unknown = munmapUnderWalk(irqsOff: false, partial: true, flush: { $0.event("rcu-grace-period") })
        #expect(try findings(unknown).isEmpty)
    }

    /// Review case t6: the walker, in rcu_read_lock(), is preempted; another task runs on its
    /// cpu with irqs on when the grace period ends. Preemptible RCU waits for the preempted
    /// reader: the cpu is not quiescent for the walk. Review case t9: past eight grace
    /// periods, each after a quiescent moment, the race is still found (it was merged away).
    @Test func aGracePeriodJudgesTheWalkersTaskAndAnyNumberOfThem() throws {
        // The reader walks (in rcu_read_lock() or not); CPU0 unlinks T; CPU1 is preempted by
        // another task, or in an NMI at a first grace period; a grace period ends; T is freed.
        func rcuFree(inReadLock: Bool, switched: Bool, nmi: Bool) -> TraceBuilder {
            var trace = TraceBuilder(cpus: 2)
            trace.cpu = 1
            trace.task = "reader"
            if inReadLock { trace.event("rcu-read-lock") }
            trace.event("lockless-walk-begin")
            trace.cpu = 0
            trace.task = "munmap"
            trace.event("table-unlink", [("table", "T")])
            trace.cpu = 1
            if switched {
                trace.task = "other"
                trace.event("might-sleep")
            }
            if nmi {
                trace.task = nil
                trace.event("nmi-enter")
                trace.cpu = 0
                trace.task = "munmap"
                trace.event("rcu-grace-period")
                trace.cpu = 1
                trace.task = nil
                trace.event("nmi-exit")
            }
            trace.cpu = 0
            trace.task = "munmap"
            trace.event("rcu-grace-period")
            trace.event("table-free", [("table", "T")])
            trace.cpu = 1
            trace.task = "reader"
            trace.event("lockless-walk-end")
            if inReadLock { trace.event("rcu-read-unlock") }
            return trace
        }
        #expect(try findings(rcuFree(inReadLock: true, switched: true, nmi: false)).filter { $0.hasPrefix("table-free-race") }.isEmpty)
        // Review case s5b: preempted outside any read-side section, the switch was a quiescent
        // state; review case s2: irqs back on at an NMI's exit, with no enable to see, are
        // seen at the next grace period.
        for (switched, nmi) in [(true, false), (false, true)] {
            let trace = rcuFree(inReadLock: false, switched: switched, nmi: nmi)
            #expect(try findings(trace).filter { $0.hasPrefix("table-free-race") }.count == 1, "switched \(switched), nmi \(nmi)")
        }

        let many = munmapUnderWalk(irqsOff: true, flush: {
            for _ in 0..<12 {
                $0.cpu = 1
                $0.event("irq-enable")
                $0.event("irq-disable")
                $0.cpu = 0
                $0.event("rcu-grace-period")
            }
        })
        #expect(try findings(many).count == 1)
    }

    @Test func hypercallFlushesKeepTheirRule() throws {
        // A hypercall flush holds off no walker, irqs disabled or not.
        let hypercall = munmapUnderWalk(irqsOff: true, flush: { $0.event("tlb-flush", [("targets", "others"), ("mode", "hypercall")]) })
        #expect(try findings(hypercall) == ["table-free-race error [\"T\"] [1, 2, 3, 4, 5]"])
    }

    @Test func theWalkBeginSaysWhatTheIrqsWere() throws {
        // Review case tf9: no synchronization at all, irqs known on.
        let on = munmapUnderWalk(irqsOff: false, flush: { _ in })
        #expect(try analyze(on).findings.first?.locations.first?.role == "begins a lockless walk with irqs enabled")
        let off = munmapUnderWalk(irqsOff: true, flush: { _ in })
        #expect(try analyze(off).findings.first?.locations.first?.role == "begins a lockless walk with irqs disabled")
        let unknown = munmapUnderWalk(irqsOff: false, partial: true, flush: { _ in })
        #expect(try analyze(unknown).findings.first?.locations.first?.role == "begins a lockless walk")
    }

    // MARK: Lost events

    @Test func aFreeAfterLostEventsIsNotReportedUnsynchronized() throws {
        // Review case tf4: the flush may be among the lost events, sent from any cpu.
        for lostOn in [0, 1] {
            var trace = TraceBuilder(cpus: 2)
            trace.partial = true
            trace.event("table-unlink", [("table", "T")])
            trace.cpu = lostOn
            trace.event("events-lost", [("count", "3")])
            trace.cpu = 0
            trace.event("table-free", [("table", "T")])
            let analysis = try analyze(trace)
            #expect(analysis.findings.isEmpty)
            #expect(analysis.notes.last?.message
                == "page table T is freed after events were lost since its unlink: a flush among them may have synchronized with the walkers, so no table-free-race is reported")
            #expect(analysis.notes.last?.evidence?.event == 2)
        }
        // Fixed twin: nothing lost, nothing synchronized.
        var whole = TraceBuilder(cpus: 2)
        whole.partial = true
        whole.event("table-unlink", [("table", "T")])
        whole.event("table-free", [("table", "T")])
        #expect(try findings(whole) == ["table-free-race warning [\"T\"] [0, 1]"])
    }

    @Test func anAccessAfterTheFreeIsReportedAcrossLostEvents() throws {
        func trace(access: Bool) -> TraceBuilder {
            var trace = TraceBuilder(cpus: 2)
            trace.cpu = 1
            trace.event("irq-disable")
            trace.event("lockless-walk-begin")
            trace.cpu = 0
            trace.event("table-unlink", [("table", "T")])
            trace.event("events-lost")
            trace.event("table-free", [("table", "T")])
            trace.cpu = 1
            if access { trace.event("walk-access", [("table", "T")]) }
            trace.event("lockless-walk-end")
            return trace
        }
        #expect(try findings(trace(access: true)) == ["table-free-race error [\"T\"] [1, 2, 4, 5]"])
        let walkedOnly = try analyze(trace(access: false))
        #expect(walkedOnly.findings.isEmpty)
        #expect(walkedOnly.notes.contains { $0.message.hasPrefix("page table T is freed after events were lost since its unlink") })
    }

    // MARK: At scale

    @Test func theCPUsNotSynchronizedAreWrittenAsRanges() throws {
        var trace = TraceBuilder(cpus: 8192)
        trace.event("table-unlink", [("table", "T")])
        trace.event("tlb-flush", [("targets", "1,2,3"), ("mode", "ipi"), ("wait", "true")])
        trace.event("table-free", [("table", "T")])
        #expect(try analyze(trace).findings.map(\.message)
            == ["page table T is freed without synchronizing with cpus 4-8191, which may be walking it locklessly (get_user_pages_fast)"])

        var holes = TraceBuilder(cpus: 10)
        holes.event("table-unlink", [("table", "T")])
        holes.event("ipi-send", [("targets", "3,4,6"), ("wait", "true")])
        holes.event("table-free", [("table", "T")])
        #expect(try analyze(holes).findings.first?.message.contains("with cpus 1-2, 5, 7-9, which") == true)
    }

    @Test func cpuRangesReadAsAMessageSaysThem() {
        #expect(CPURanges([3]).description == "cpu 3")
        #expect(CPURanges([9, 0, 1, 2, 5, 7, 8, 2]).description == "cpus 0-2, 5, 7-9")
        #expect(CPURanges(complementOf: [0, 1, 2, 3, 9000], below: 8192).description == "cpus 4-8191")
        #expect(CPURanges(complementOf: [0, 1], below: 2).isEmpty)
        #expect(CPURanges(complementOf: [2, 2, 5], below: 6).ranges == [0...1, 3...4])
    }

    @Test func oneMunmapPathFreeingManyTablesIsOneFindingCounted() throws {
        // Review case dedup1: a Xen PV munmap (hypercall flush) freeing 100 pte pages.
        var trace = TraceBuilder(cpus: 2)
        for index in 0..<100 { trace.event("table-unlink", [("table", "pte:\(index)"), ("at", "mm/memory.c:397"), ("fn", "free_pte_range")]) }
        trace.event("tlb-flush", [("targets", "others"), ("mode", "hypercall"), ("fn", "xen_flush_tlb_others")])
        for index in 0..<100 { trace.event("table-free", [("table", "pte:\(index)"), ("at", "mm/memory.c:256"), ("fn", "tlb_flush_mmu")]) }
        let found = try analyze(trace).findings
        #expect(found.map { "\($0.rule.rawValue) \($0.objects) \($0.count) \($0.locations.map(\.event))" }
            == ["table-free-race [\"pte:0\"] 100 [0, 100, 101]"])
        // Frees by another path are another finding.
        trace.event("table-unlink", [("table", "pmd:0"), ("fn", "free_pmd_range")])
        trace.event("table-free", [("table", "pmd:0"), ("fn", "tlb_flush_mmu")])
        #expect(try analyze(trace).findings.map(\.objects) == [["pte:0"], ["pmd:0"]])
    }
}
