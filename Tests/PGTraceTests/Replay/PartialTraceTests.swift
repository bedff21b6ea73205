import PGTrace
import Testing

/// Partial traces (trace-format.md, "Partial traces"): a capture starts with locks held and
/// irq state unknown. The same events in a trace that starts from an idle machine say more.
@Suite struct PartialTraceTests {
    private func rules(_ builder: TraceBuilder) throws -> [String] {
        try analyze(builder).findings.map { "\($0.rule.rawValue) \($0.locks.joined(separator: ","))" }
    }

    /// rostedt's capture (LKML 20251106): its first line releases the mmap_lock.
    @Test func aReleaseOfALockNeverSeenTakenIsHeldFromBefore() throws {
        var capture = TraceBuilder()
        capture.partial = true
        capture.task = "chronyd-544"
        capture.release("&mm->mmap_lock", instance: "0000000099631762")
        capture.acquire("&mm->mmap_lock", instance: "0000000099631762", mode: .recursiveRead)
        capture.release("&mm->mmap_lock", instance: "0000000099631762")
        let analysis = try analyze(capture)
        #expect(analysis.findings.isEmpty)
        #expect(analysis.notes.map(\.message) == [
            "&mm->mmap_lock is released at test.xml:\(capture.line(ofEvent: 0)) without being seen taken: held since before the capture began"
        ])
        // From an idle machine the same first release is a bad unlock.
        var idle = capture
        idle.partial = false
        #expect(try rules(idle) == ["bad-unlock &mm->mmap_lock"])
    }

    @Test func aSecondReleaseOfALockSeenTakenIsStillABadUnlock() throws {
        var capture = TraceBuilder()
        capture.partial = true
        capture.task = "bash-1040"
        capture.acquire("tasklist_lock")
        capture.release("tasklist_lock")
        capture.release("tasklist_lock")
        #expect(try rules(capture) == ["bad-unlock tasklist_lock"])
    }

    /// pgd_lock taken in a hardirq, and by a task whose irq state the capture never stated:
    /// nothing is inferred (no HARDIRQ-ON), so no inconsistency; stated, it is found.
    @Test func nothingIsInferredFromAnUnknownIrqState() throws {
        var capture = TraceBuilder(cpus: 2)
        capture.partial = true
        capture.cpu = 1
        capture.event("hardirq-enter", [("irq", "19")])
        capture.acquire("pgd_lock")
        capture.release("pgd_lock")
        capture.event("hardirq-exit")
        capture.cpu = 0
        capture.task = "modprobe-3301"
        capture.acquire("pgd_lock")
        capture.release("pgd_lock")
        #expect(try rules(capture) == [])

        var stated = capture
        stated.event("irq-enable")
        stated.acquire("pgd_lock")
        stated.release("pgd_lock")
        #expect(try rules(stated) == ["irq-inconsistent pgd_lock"])

        var idle = capture
        idle.partial = false
        #expect(try rules(idle) == ["irq-inconsistent pgd_lock"])
    }

    /// An `irq-enable` with a lock held marks it HARDIRQ-ON, as lockdep's mark_held_locks.
    @Test func enablingIrqsStatesTheStateOfTheLocksHeld() throws {
        var capture = TraceBuilder(cpus: 2)
        capture.partial = true
        capture.cpu = 1
        capture.event("hardirq-enter")
        capture.acquire("&desc->lock")
        capture.release("&desc->lock")
        capture.event("hardirq-exit")
        capture.cpu = 0
        capture.task = "k-1"
        capture.acquire("&desc->lock")
        capture.event("irq-enable")
        capture.release("&desc->lock")
        #expect(try rules(capture) == ["irq-inconsistent &desc->lock"])
    }

    /// The kernel switches tasks inside __schedule with irqs off: in a capture that is no
    /// scheduling while atomic. A task finds its own state when it runs again.
    @Test func aCapturesTaskSwitchesAreTheKernels() throws {
        var capture = TraceBuilder(cpus: 2)
        capture.partial = true
        capture.task = "a-1"
        capture.event("irq-enable")
        capture.event("irq-disable")  // inside __schedule
        capture.task = "b-2"
        capture.event("irq-enable")
        capture.acquire("L")
        capture.release("L")
        capture.event("irq-disable")
        capture.task = "a-1"  // back: its state was irqs off when it left (in __schedule)
        capture.event("irq-enable")
        capture.acquire("M")
        capture.release("M")
        #expect(try rules(capture) == [])

        var idle = capture
        idle.partial = false
        #expect(try rules(idle).contains { $0.hasPrefix("sleep-in-atomic") })
    }

    @Test func anEnableOfADisableFromBeforeIsNoError() throws {
        var capture = TraceBuilder()
        capture.partial = true
        capture.task = "k-1"
        capture.event("bh-enable")
        capture.event("preempt-enable")
        capture.acquire("L")
        capture.release("L")
        #expect(try rules(capture) == [])

        var idle = capture
        idle.partial = false
        let error = try #require(inputError(idle.xml))
        #expect(error.message.contains("<bh-enable/> with bh already enabled"))
    }

    /// A capture may begin inside a handler: its exit is no error, and what it returns to is
    /// unknown (helper-136: the hardirq's and softirq's exits were refused where the NMI's
    /// was taken). From an idle machine, or inside another kind of handler, it is an error.
    @Test func aHandlerRunningWhenTheTraceBeganEndsIntoAnUnknownState() throws {
        for kind in ["hardirq", "softirq"] {
            var capture = TraceBuilder()
            capture.partial = true
            capture.task = "k-1"
            capture.acquire("A")
            capture.release("A")
            capture.event("\(kind)-exit")
            capture.event("might-sleep")
            capture.acquire("B")
            capture.release("B")
            #expect(try rules(capture) == [], "\(kind)")
            // Its state once stated is known again: irqs disabled, a sleep is a finding.
            var stated = capture
            stated.event("irq-disable")
            stated.event("might-sleep")
            #expect(try rules(stated).map { $0.prefix(15) } == ["sleep-in-atomic"], "\(kind)")

            var idle = capture
            idle.partial = false
            let error = try #require(inputError(idle.xml))
            #expect(error.message == "<\(kind)-exit/> on cpu 0 outside any \(kind); expected a matching <\(kind)-enter/> first", "\(error)")
        }
        var inside = TraceBuilder()
        inside.partial = true
        inside.event("softirq-enter", [("vec", "NET_RX")])
        inside.event("hardirq-exit")
        let error = try #require(inputError(inside.xml))
        #expect(error.message == "<hardirq-exit/> on cpu 0 inside a softirq; expected a matching <hardirq-enter/> first", "\(error)")

        // A hardirq that interrupted a softirq ends first, then the softirq; each once, and
        // none the trace has seen the cpu out of (helper-139: any number of exits was taken).
        func exits(_ events: [String]) -> TraceBuilder {
            var trace = TraceBuilder()
            trace.partial = true
            for event in events { trace.event(event) }
            return trace
        }
        #expect(try rules(exits(["hardirq-exit", "softirq-exit"])) == [])
        for (events, refused) in [
            (["hardirq-exit", "hardirq-exit"], "hardirq"), (["softirq-exit", "hardirq-exit"], "hardirq"),
            (["softirq-exit", "softirq-exit"], "softirq"), (["hardirq-enter", "hardirq-exit", "hardirq-exit"], "hardirq"),
            (["softirq-enter", "softirq-exit", "softirq-exit"], "softirq"), (["softirq-enter", "softirq-exit", "hardirq-exit"], "hardirq"),
        ] {
            let error = try #require(inputError(exits(events).xml), "\(events)")
            #expect(error.message.hasPrefix("<\(refused)-exit/> on cpu 0 outside any \(refused)"), "\(events): \(error)")
        }
        // Lost events may hide an enter again, where no handler is open; and on a cpu first
        // met after them (helper-140: it was refused there).
        #expect(try rules(exits(["hardirq-enter", "hardirq-exit", "events-lost", "hardirq-exit"])) == [])
        let firstMetAfter = """
            <?xml version="1.0"?>
            <trace version="1"><events>
            <acquire cpu="0" lock="A"/><release cpu="0" lock="A"/>
            <events-lost/>
            <hardirq-exit cpu="1"/>
            </events></trace>
            """
        #expect(inputError(firstMetAfter) == nil)
        // A cpu the loss did not touch keeps what it knew.
        var otherCPU = TraceBuilder(cpus: 2)
        otherCPU.event("events-lost")
        otherCPU.cpu = 1
        otherCPU.event("hardirq-exit")
        #expect(inputError(otherCPU.xml)?.message.hasPrefix("<hardirq-exit/> on cpu 1 outside any hardirq") == true)
        // A softirq open across the loss ends as seen; no hardirq ran unseen below it (helper-140).
        let acrossTheLoss = try #require(inputError(exits(["softirq-enter", "events-lost", "softirq-exit", "hardirq-exit"]).xml))
        #expect(acrossTheLoss.message.hasPrefix("<hardirq-exit/> on cpu 0 outside any hardirq"), "\(acrossTheLoss)")
    }

    /// After lost events the irq and bh state are unknown, even from an idle machine: a
    /// switch then is no evidence of sleeping in atomic context.
    @Test func lostEventsMakeTheIrqStateUnknown() throws {
        for disable in ["irq-disable", "bh-disable"] {
            var trace = TraceBuilder()
            trace.task = "a-1"
            trace.event(disable)
            trace.event("events-lost")
            trace.task = "b-2"
            trace.acquire("L")
            trace.release("L")
            #expect(try rules(trace) == [], "\(disable)")
        }
    }

    /// spin_unlock_irqrestore of flags saved before the capture restores a state the capture
    /// never saw: the cpu's irq state stays unknown, so a lock taken next is not HARDIRQ-ON.
    @Test func restoringFlagsSavedBeforeTheTraceStatesNothing() throws {
        /// A partial capture: cpu 0's `irqEvents` on rq->lock, then desc->lock there with the
        /// state they leave, and desc->lock in a hardirq on cpu 1.
        func capture(_ irqEvents: (inout TraceBuilder) -> Void) -> TraceBuilder {
            var trace = TraceBuilder(cpus: 2)
            trace.partial = true
            trace.cpu = 0
            trace.task = "kworker-7"
            irqEvents(&trace)
            trace.acquire("&desc->lock")
            trace.release("&desc->lock")
            trace.cpu = 1
            trace.event("hardirq-enter", [("irq", "1")])
            trace.acquire("&desc->lock")
            trace.release("&desc->lock")
            trace.event("hardirq-exit")
            return trace
        }
        #expect(try rules(capture { $0.release("&rq->lock", irq: "restore") }) == [])

        // The same with the save seen in the trace, taken from the unknown state.
        let pair = capture {
            $0.acquire("&rq->lock", irq: "save")
            $0.release("&rq->lock", irq: "restore")
        }
        #expect(try rules(pair) == [])

        // spin_unlock_irq states it: enabled.
        #expect(try rules(capture { $0.release("&rq->lock", irq: "enable") }) == ["irq-inconsistent &desc->lock"])

        // From an idle machine the pair restores the enabled state it saved.
        var idle = pair
        idle.partial = false
        #expect(try rules(idle) == ["irq-inconsistent &desc->lock"])
    }

    /// preempt_disable(); might_sleep(); is a bug whatever the count was before the capture:
    /// the count is at least what the trace saw disabled, and the report says so.
    @Test func preemptionDisabledInAPartialTraceIsStillAtomic() throws {
        for (disable, enable) in [("preempt-disable", "preempt-enable"), ("rcu-read-lock", "rcu-read-unlock")] {
            var capture = TraceBuilder()
            capture.partial = true
            capture.task = "kworker-7"
            let flavor: [(String, String)] = disable == "rcu-read-lock" ? [("flavor", "sched")] : []
            capture.event(disable, flavor)
            capture.event("might-sleep")
            let analysis = try analyze(capture)
            #expect(analysis.findings.map(\.rule) == [.sleepInAtomic], "\(disable)")
            #expect(analysis.findings.first?.message.contains("with preemption disabled (preempt count at least 1)") == true, "\(disable)")

            var fixed = TraceBuilder()
            fixed.partial = true
            fixed.task = "kworker-7"
            fixed.event(disable, flavor)
            fixed.event(enable, flavor)
            fixed.event("might-sleep")
            #expect(try rules(fixed) == [], "\(disable)")
        }
        // An enable of a count from before the trace, then a disable: still at least 1.
        var edges = TraceBuilder()
        edges.partial = true
        edges.task = "kworker-7"
        edges.event("preempt-enable")
        edges.event("preempt-disable")
        edges.event("might-sleep")
        #expect(try rules(edges) == ["sleep-in-atomic "])
    }
}
