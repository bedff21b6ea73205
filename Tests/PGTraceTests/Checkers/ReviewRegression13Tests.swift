import Foundation
@testable import PGTrace
import Testing

/// Defects a stranger's review found in the NMI, novalidate and RCU work, each pinned.
@Suite struct ReviewRegression13Tests {
    func rules(_ xml: String) throws -> [Rule] {
        try analyze([(name: "test.xml", xml: xml)]).findings.map(\.rule)
    }

    @Test func aTraceDeclaringRcuReadLockItselfIsOneAnalysis() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-\(UUID().uuidString).xml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            <trace version="1" cpus="2"><classes><class name="rcu_read_lock" type="spinlock"/></classes>
            <events><acquire cpu="0" task="t" lock="rcu_read_lock"/><release cpu="0" task="t" lock="rcu_read_lock"/></events></trace>
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let analyses = try Analysis.analyzeSeparatingConflicts([.file(path: path, displayName: "t.xml")], options: AnalysisOptions())
        #expect(analyses.count == 1)
        #expect(analyses[0].findings.isEmpty)
    }

    @Test func rcuReadLockWrittenAsAnAcquireIsCheckZeroToo() throws {
        // A, rcu_read_lock (as a capture spells it), B; then B, A: the cycle A -> B.
        #expect(try rules("""
            <trace version="1" cpus="1"><events>
            <acquire cpu="0" lock="A"/><acquire cpu="0" lock="rcu_read_lock" mode="recursive-read"/><acquire cpu="0" lock="B"/>
            <release cpu="0" lock="B"/><release cpu="0" lock="rcu_read_lock"/><release cpu="0" lock="A"/>
            <acquire cpu="0" lock="B"/><acquire cpu="0" lock="A"/></events></trace>
            """) == [.circularDependency])
    }

    @Test func lostEventsEndAnNMI() throws {
        // A used; an NMI whose exit was lost; then the task's A -> B, B -> A is found, and A
        // is not taken "in NMI".
        #expect(try rules("""
            <trace version="1" cpus="1"><events>
            <acquire cpu="0" lock="A"/><release cpu="0" lock="A"/><nmi-enter cpu="0"/><events-lost cpu="0"/>
            <acquire cpu="0" lock="A"/><acquire cpu="0" lock="B"/><release cpu="0" lock="B"/><release cpu="0" lock="A"/>
            <acquire cpu="0" lock="B"/><acquire cpu="0" lock="A"/></events></trace>
            """) == [.circularDependency])
    }

    @Test func irqEnableInsideAnNMIMarksNothing() throws {
        #expect(try rules("""
            <trace version="1" cpus="1"><events>
            <acquire cpu="0" lock="A" irq="save"/><nmi-enter cpu="0"/><irq-enable cpu="0"/><irq-disable cpu="0"/><nmi-exit cpu="0"/>
            <release cpu="0" lock="A" irq="restore"/><hardirq-enter cpu="0"/><acquire cpu="0" lock="A"/><release cpu="0" lock="A"/>
            <hardirq-exit cpu="0"/></events></trace>
            """) == [])
    }

    @Test func mightSleepIsJudgedByItsOwnPreemptSample() throws {
        #expect(try rules("""
            <trace version="1" cpus="1" partial="true"><events>
            <acquire cpu="0" lock="L" pc="1"/><release cpu="0" lock="L" pc="1"/><might-sleep cpu="0" pc="0"/></events></trace>
            """) == [])
    }
}
