@testable import PGTrace
import Testing

/// A novalidate class (lockdep_set_novalidate_class, as the driver core does with
/// &dev->mutex) is acquired with lockdep's check=0: held, listed and checked for wait context,
/// but adding no dependency, never reported as recursive, given no irq usage; dependencies
/// pass over it.
@Suite struct NovalidateTests {
    /// A trace with &dev->mutex (a mutex) and N (a spinlock) declared novalidate, beside the
    /// classes `body` declares.
    func analysis(_ body: (inout TraceBuilder) -> Void) throws -> Analysis {
        var trace = TraceBuilder(cpus: 2)
        trace.declare("&dev->mutex", .mutex, [("novalidate", "true")])
        trace.declare("N", .spinlock, [("novalidate", "true")])
        body(&trace)
        return try analyze(trace)
    }

    func rules(_ body: (inout TraceBuilder) -> Void) throws -> [Rule] {
        try analysis(body).findings.map(\.rule)
    }

    /// A capture cannot declare a class: the kernel's own novalidate classes are known by
    /// name (`LockClassTable.kernelBuiltins`), so a parent's and a child's probe are no
    /// recursion, and rcu_read_lock_trace (check=0) adds no dependency; a trace that declares
    /// the class otherwise is believed.
    @Test func theKernelsOwnNovalidateClassesNeedNoDeclaration() throws {
        var probe = TraceBuilder(cpus: 1)
        probe.partial = true
        probe.acquire("&dev->mutex", instance: "parent")
        probe.acquire("&dev->mutex", instance: "child")
        #expect(try analyze(probe).findings.isEmpty)
        var declared = probe
        declared.declare("&dev->mutex", .mutex)
        #expect(try analyze(declared).findings.map(\.rule) == [.recursiveLocking])

        var trace = TraceBuilder(cpus: 1)
        trace.acquire("rcu_read_lock_trace", mode: .recursiveRead)
        trace.acquire("&mm->mmap_lock", mode: .recursiveRead)
        trace.release("&mm->mmap_lock")
        trace.release("rcu_read_lock_trace")
        #expect(try analyze(trace).graph.dependencyCount == 0)
    }

    @Test func twoDeviceMutexesHeldAtOnceAreNoRecursion() throws {
        #expect(try rules { t in
            t.declare("S", .mutex)  // makes the <classes> section
            t.acquire("&dev->mutex", instance: "parent")
            t.acquire("&dev->mutex", instance: "child")
        } == [])
    }

    @Test func dependenciesPassOverIt() throws {
        // A, &dev->mutex, B: the dependency is A -> B, so B then A closes a cycle.
        let found = try analysis { t in
            t.declare("A", .mutex)
            t.declare("B", .mutex)
            t.acquire("A")
            t.acquire("&dev->mutex")
            t.acquire("B")
            t.release("B")
            t.release("&dev->mutex")
            t.release("A")
            t.acquire("B")
            t.acquire("A")
        }.findings
        #expect(found.map(\.rule) == [.circularDependency])
        #expect(found.first?.locks == ["A", "B"])
        // And it is in no dependency of its own: &dev->mutex then A, A then &dev->mutex.
        #expect(try rules { t in
            t.declare("A", .mutex)
            t.acquire("&dev->mutex")
            t.acquire("A")
            t.release("A")
            t.release("&dev->mutex")
            t.acquire("A")
            t.acquire("&dev->mutex")
        } == [])
    }

    @Test func itGetsNoIrqUsageButIsCheckedForWaitContext() throws {
        // Taken in a softirq and with bh on: no irq-inconsistent (it has no usage bits), where
        // a validated spinlock is one.
        for (lock, expected) in [("N", [Rule]()), ("V", [.irqInconsistent])] {
            #expect(try rules { t in
                t.declare("V", .spinlock)
                t.event("softirq-enter")
                t.acquire(lock)
                t.release(lock)
                t.event("softirq-exit")
                t.acquire(lock)
            } == expected, "\(lock)")
        }
        // ...but a mutex under a spinlock is still an invalid wait context.
        #expect(try rules { t in
            t.declare("S", .spinlock)
            t.acquire("S")
            t.acquire("&dev->mutex")
        } == [.invalidWaitContext])
    }
}
