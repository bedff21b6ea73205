import PGTrace
import Testing

/// The seed-002 deadlock in its variations: which waits close a cycle and which do not.
@Suite struct IpiDeadlockCheckerTests {
    /// CPU0 takes `spun` with irqs disabled (irqsave); CPU1 waits for an IPI holding `held`.
    private func seed002(irqsave: Bool = true, flush: String = "mode=\"ipi\" wait=\"true\"", targets: String = "others", flushFirst: Bool = false) -> TraceBuilder {
        var trace = TraceBuilder(cpus: 2)
        func cpu0(_ trace: inout TraceBuilder) {
            trace.cpu = 0
            trace.acquire("pgd_lock", irq: irqsave ? "save" : nil)
            trace.acquire("ptl")
            trace.release("ptl")
            trace.release("pgd_lock", irq: irqsave ? "restore" : nil)
        }
        func cpu1(_ trace: inout TraceBuilder) {
            trace.cpu = 1
            trace.acquire("ptl")
            trace.event("tlb-flush", [("targets", targets)] + attributes(flush))
            trace.release("ptl")
        }
        if flushFirst {
            cpu1(&trace)
            cpu0(&trace)
        } else {
            cpu0(&trace)
            cpu1(&trace)
        }
        return trace
    }

    private func attributes(_ text: String) -> [(String, String)] {
        text.split(separator: " ").map { pair in
            let parts = pair.split(separator: "=")
            return (String(parts[0]), String(parts[1].dropFirst().dropLast()))
        }
    }

    @Test func theDeadlockIsPredictedWhicheverSideIsSeenFirst() throws {
        for flushFirst in [false, true] {
            let findings = try analyze(seed002(flushFirst: flushFirst)).findings
            #expect(findings.map(\.rule) == [.ipiDeadlock], "flush first: \(flushFirst)")
            #expect(findings.first?.locks == ["ptl"])
        }
    }

    @Test func aHypercallFlushWaitsForNoIrq() throws {
        #expect(try analyze(seed002(flush: "mode=\"hypercall\" wait=\"true\"")).findings.isEmpty)
    }

    @Test func anAsynchronousIPIWaitsForNothing() throws {
        #expect(try analyze(seed002(flush: "mode=\"ipi\" wait=\"false\"")).findings.isEmpty)
    }

    @Test func aLocalFlushSendsNoIPI() throws {
        #expect(try analyze(seed002(targets: "local")).findings.isEmpty)
        #expect(try analyze(seed002(targets: "1")).findings.isEmpty)
        #expect(try analyze(seed002(targets: "0")).findings.map(\.rule) == [.ipiDeadlock])
    }

    @Test func spinningWithIrqsOnAnswersTheIPI() throws {
        #expect(try analyze(seed002(irqsave: false)).findings.isEmpty)
    }

    @Test func aLockOrderEdgeCanCloseTheCycle() throws {
        // CPU1 waits for the IPI under A; CPU0 takes B with irqs off; only later does some
        // path take A under B: B -> A closes A -> (irqs off) -> B -> A.
        var trace = TraceBuilder(cpus: 2)
        trace.cpu = 1
        trace.acquire("A")
        trace.event("ipi-send", [("targets", "all"), ("wait", "true")])
        trace.release("A")
        trace.cpu = 0
        trace.acquire("B", irq: "save")
        trace.release("B", irq: "restore")
        trace.acquire("B")
        trace.acquire("A")
        let findings = try analyze(trace).findings
        #expect(findings.map(\.rule) == [.ipiDeadlock])
        #expect(Set(findings.first?.locks ?? []) == ["A", "B"])
    }

    @Test func waitingForAnIPIWithIrqsOffIsADeadlockByItself() throws {
        var trace = TraceBuilder(cpus: 4)
        trace.event("irq-disable")
        trace.event("ipi-send", [("targets", "others"), ("wait", "true"), ("reason", "call-function")])
        trace.event("irq-enable")
        let findings = try analyze(trace).findings
        #expect(findings.map(\.rule) == [.ipiDeadlock])
        #expect(findings.first?.locations.map(\.event) == [1, 0])
    }

    /// The spinner may be the IPI's own handler: it takes the IPI, and its handler spins on
    /// the lock the sender holds, so the IPI is never answered. The message said the cpu
    /// "never takes the IPI", which is the common case's reason, not this one's.
    @Test func aHandlerSpinningOnTheSendersLockNeverAnswersTheIPI() throws {
        var trace = TraceBuilder(cpus: 2)
        trace.cpu = 1
        trace.acquire("ptl")
        trace.event("ipi-send", [("targets", "0"), ("wait", "true")])
        trace.release("ptl")
        trace.cpu = 0
        trace.event("hardirq-enter", [("irq", "251")])
        trace.event("ipi-handle", [("from", "1")])
        trace.acquire("ptl")
        trace.release("ptl")
        trace.event("hardirq-exit")
        let finding = try #require(try analyze(trace).findings.first { $0.rule == .ipiDeadlock })
        #expect(finding.message == "cpu 1 holds ptl and waits for a synchronous IPI; cpu 0 spins on ptl with hardirqs disabled, so it never answers the IPI")
    }

    @Test func theReportTellsWhoHoldsWhatAndWhoSpins() throws {
        let finding = try #require(try analyze(seed002()).findings.first)
        #expect(finding.message == "cpu 1 holds ptl and waits for a synchronous IPI; cpu 0 spins on ptl with hardirqs disabled, so it never answers the IPI")
        #expect(finding.chain.map(\.evidence.role) == [
            "waits for a synchronous IPI while holding ptl", "acquires ptl with hardirqs disabled",
        ])
        #expect(finding.chain[1].holderEvidence.role == "disables hardirqs")
        #expect(finding.chain[1].holderEvidence.event == 0)
        // The scenario's columns are the cpus the message names: the IPI wait on cpu 1.
        #expect(finding.scenario?.columns == ["CPU1", "CPU0"])
        #expect(finding.scenario?.steps.map(\.column) == [0, 1, 1, 0])
        #expect(finding.scenario?.steps.last?.action == "smp_call_function_many(wait); /* waits for CPU0 */")
    }
}
