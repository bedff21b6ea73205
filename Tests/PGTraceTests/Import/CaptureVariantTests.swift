import Foundation
import PGTrace
import Testing

/// Captures as kernels and their tools print them beyond ../shared/captures, each the shape
/// of a report from review: how the line reads, and what the analysis of it says.
@Suite struct CaptureVariantTests {
    struct Outcome: Equatable {
        var findings: [String]
        var notes: [String]
        var events: Int
    }

    /// Analyses `text` as capture c.txt, its last line ended by a newline as a tracer ends
    /// every line, unless `cutShort` (a capture cut in the middle of its last line).
    private func analyze(_ text: String, cutShort: Bool = false) throws -> Outcome {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-variant-\(UUID().uuidString).txt").path
        try (cutShort || text.hasSuffix("\n") ? text : text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let analysis = Analysis()
        try analysis.analyze([.file(path: path, displayName: "c.txt")])
        return Outcome(
            findings: analysis.findings.map { "\($0.rule.rawValue) \($0.locks.joined(separator: ","))" },
            notes: analysis.notes.map(\.message), events: analysis.eventCount)
    }

    private func error(_ text: String, cutShort: Bool = false) -> String? {
        do {
            _ = try analyze(text, cutShort: cutShort)
            return nil
        } catch let error as TraceInputError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    // MARK: What a capture shows is no bug

    /// A task sleeps in __schedule holding a mutex and an rwsem: a capture never says a
    /// class's type, so neither is taken for a spinlock held across the switch.
    @Test func aTaskSwitchedOutHoldingSleepingLocks() throws {
        let outcome = try analyze("""
            # tracer: nop
                        bash-1040    [003] .....  4543.100000: lock_acquire: 00000000a1b2c3d4 &mm->mmap_lock
                        bash-1040    [003] .....  4543.100000: lock_acquire: 00000000a1b2c3ff &inode->i_rwsem
                        bash-1040    [003] d..1.  4543.100001: lock_acquire: 00000000deadbeef &rq->__lock
                        bash-1040    [003] d..2.  4543.100002: sched_switch: prev_comm=bash prev_pid=1040 prev_prio=120 prev_state=D ==> next_comm=swapper/3 next_pid=0 next_prio=120
                        bash-1040    [003] d..2.  4543.100002: lock_release: 00000000deadbeef &rq->__lock
                      <idle>-0       [003] d..2.  4543.100003: lock_acquire: 00000000deadbeef &rq->__lock
                      <idle>-0       [003] d..2.  4543.100004: sched_switch: prev_comm=swapper/3 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=bash next_pid=1040 next_prio=120
                      <idle>-0       [003] d..2.  4543.100004: lock_release: 00000000deadbeef &rq->__lock
                        bash-1040    [003] .....  4543.100006: lock_release: 00000000a1b2c3ff &inode->i_rwsem
                        bash-1040    [003] .....  4543.100006: lock_release: 00000000a1b2c3d4 &mm->mmap_lock
            """)
        #expect(outcome.findings == [])
    }

    /// bash leaves cpu 1 (its switch-in elsewhere was not traced) and runs on cpu 2: cpu 1's
    /// next events are not bash's.
    @Test func aTaskThatMigrated() throws {
        let outcome = try analyze("""
            # tracer: nop
                        bash-1040    [001] .....  4543.100000: lock_acquire: 00000000000000a1 &A->lock
                        bash-1040    [001] .....  4543.100001: lock_release: 00000000000000a1 &A->lock
                        bash-1040    [002] d..2.  4543.100010: lock_acquire: 00000000000000b1 &p->pi_lock
                      <idle>-0       [001] d.h1.  4543.100011: irq_handler_entry: irq=24 name=eth0
                      <idle>-0       [001] d.h1.  4543.100012: irq_handler_exit: irq=24 ret=handled
                        bash-1040    [002] d..2.  4543.100013: lock_release: 00000000000000b1 &p->pi_lock
            """)
        #expect(outcome.findings == [])
    }

    /// The flags' 'Z' (an NMI, with the hardirq count nmi_enter() adds) is an NMI, not a
    /// hardirq: printk's logbuf_lock taken by the task and then in an NMI is lockdep's
    /// {INITIAL USE} -> {IN-NMI}; as a hardirq it was nothing (the task took it with irqs off).
    @Test func anNMIFlagIsAnNMI() throws {
        let capture = """
            # tracer: nop
                        bash-1040    [001] d..1.  4543.100000: lock_acquire: 00000000000000a1 logbuf_lock
                        bash-1040    [001] d..1.  4543.100001: lock_release: 00000000000000a1 logbuf_lock
                        bash-1040    [001] d.Z1.  4543.100002: lock_acquire: 00000000000000a1 logbuf_lock
                        bash-1040    [001] d.Z1.  4543.100003: lock_release: 00000000000000a1 logbuf_lock
                        bash-1040    [001] d..1.  4543.100004: lock_acquire: 00000000000000b1 &B->lock
            """
        #expect(try analyze(capture).findings == ["irq-inconsistent logbuf_lock"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-nmi-\(UUID().uuidString).txt").path
        try (capture + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var kinds: [String] = []
        try TraceImporter(path: path).read(header: { _ in }) { event in
            switch event.kind {
            case .nmiEnter: kinds.append("nmi-enter")
            case .nmiExit: kinds.append("nmi-exit")
            case .hardirqEnter: kinds.append("hardirq-enter")
            case .acquire: kinds.append("acquire")
            case .release: kinds.append("release")
            default: break
            }
        }
        #expect(kinds == ["acquire", "release", "nmi-enter", "acquire", "release", "nmi-exit", "acquire"])
    }

    /// Lost events end an NMI (the replay records nothing of it), so the next 'Z' enters a
    /// new one; and an NMI is left at the next other flag even if its lock release was not
    /// seen. Either way what the NMI takes adds no dependency: A -> B in an NMI and B -> A in
    /// a task is no cycle, and the task's own A -> B, B -> A after it is one.
    @Test func anNMIEndsAtLostEventsAndAtTheNextFlagWhateverItHolds() throws {
        let nmiAfterLoss = try analyze("""
            # tracer: nop
                        bash-1040    [001] d.Z1.  4543.100000: lock_acquire: 00000000000000f1 &X->lock
                        bash-1040    [001] d.Z1.  4543.100001: lock_release: 00000000000000f1 &X->lock
            CPU:1 [LOST 1200 EVENTS]
                        bash-1040    [001] d.Z1.  4543.200000: lock_acquire: 00000000000000a1 &A->lock
                        bash-1040    [001] d.Z1.  4543.200001: lock_acquire: 00000000000000b1 &B->lock
                        bash-1040    [001] d.Z1.  4543.200002: lock_release: 00000000000000b1 &B->lock
                        bash-1040    [001] d.Z1.  4543.200003: lock_release: 00000000000000a1 &A->lock
                        sshd-2000    [002] .....  4543.300000: lock_acquire: 00000000000000b1 &B->lock
                        sshd-2000    [002] .....  4543.300001: lock_acquire: 00000000000000a1 &A->lock
            """)
        #expect(nmiAfterLoss.findings == [])
        let nmiLeftHolding = try analyze("""
            # tracer: nop
                        bash-1040    [001] d.Z1.  4543.100000: lock_acquire: 00000000000000f1 &X->lock
                        bash-1040    [001] .....  4543.200000: lock_acquire: 00000000000000a1 &A->lock
                        bash-1040    [001] .....  4543.200001: lock_acquire: 00000000000000b1 &B->lock
                        bash-1040    [001] .....  4543.200002: lock_release: 00000000000000b1 &B->lock
                        bash-1040    [001] .....  4543.200003: lock_release: 00000000000000a1 &A->lock
                        sshd-2000    [002] .....  4543.300000: lock_acquire: 00000000000000b1 &B->lock
                        sshd-2000    [002] .....  4543.300001: lock_acquire: 00000000000000a1 &A->lock
            """)
        #expect(nmiLeftHolding.findings == ["circular-dependency &A->lock,&B->lock"] || nmiLeftHolding.findings == ["circular-dependency &B->lock,&A->lock"])
    }

    /// A release of a lock a frame never took (held since before the capture) does not make
    /// the frame look empty: the hardirq is not closed over the lock it still holds.
    @Test func aReleaseFromBeforeDoesNotEmptyAnIrqFrame() throws {
        let outcome = try analyze("""
            # tracer: nop
                        bash-1040    [001] d.h1.  4543.100000: lock_acquire: 00000000000000a1 &A->lock
                        bash-1040    [001] d.h1.  4543.100001: lock_release: 00000000000000c1 &C->lock
                        bash-1040    [001] d..1.  4543.100002: lock_acquire: 00000000000000b1 &B->lock
            """)
        #expect(outcome.findings == [])
    }

    /// A hardirq on cpu 1 takes &rq->__lock and its release is not in the capture (filtered,
    /// a snippet cut or joined); the next line's flags say cpu 1 runs bash in task context.
    /// The hardirq is over, and its lock with it: bash does not take &p->pi_lock inside it
    /// holding &rq->__lock, so cat's &p->pi_lock -> &rq->__lock on cpu 2 is no cycle (it was
    /// one, a false circular-dependency, while the frame stayed open for every later line of
    /// the cpu). The lost release is lost events on cpu 1 there; the twin whose handler
    /// releases its lock loses nothing.
    @Test func anIrqFrameTheFlagsEndIsOverWhateverItStillHolds() throws {
        let irq = "          <idle>-0       [001] d.h1.   100.000001: lock_acquire: 00000000aaaa0001 &rq->__lock\n"
        let release = "          <idle>-0       [001] d.h1.   100.000002: lock_release: 00000000aaaa0001 &rq->__lock\n"
        let tasks = """
                        bash-1040    [001] d....   100.000010: lock_acquire: 00000000aaaa0002 &p->pi_lock
                        bash-1040    [001] d....   100.000011: lock_release: 00000000aaaa0002 &p->pi_lock
                         cat-2000    [002] d....   100.000020: lock_acquire: 00000000aaaa0003 &p->pi_lock
                         cat-2000    [002] d....   100.000021: lock_acquire: 00000000aaaa0004 &rq->__lock
                         cat-2000    [002] d....   100.000022: lock_release: 00000000aaaa0004 &rq->__lock
                         cat-2000    [002] d....   100.000023: lock_release: 00000000aaaa0003 &p->pi_lock
            """
        let lostRelease = try analyze("# tracer: nop\n" + irq + tasks)
        #expect(lostRelease.findings == [])
        #expect(lostRelease.notes == ["c.txt: cpu 1 lost events (line 3): findings may be incomplete"])
        let released = try analyze("# tracer: nop\n" + irq + release + tasks)
        #expect(released == Outcome(findings: [], notes: [], events: 12))
        #expect(lostRelease.events == 12)  // the lost events in place of the release
        // A softirq's lock the same: bash's &mm->mmap_lock, taken with irqs and bh on, is not
        // IN-SOFTIRQ (irq-inconsistent against its SOFTIRQ-ON use by cat).
        let softirq = try analyze("""
            # tracer: nop
                      <idle>-0       [001] ..s1.   100.000001: lock_acquire: 00000000aaaa0001 &base->lock
                        bash-1040    [001] .....   100.000010: lock_acquire: 00000000aaaa0002 &mm->mmap_lock
                        bash-1040    [001] .....   100.000011: lock_release: 00000000aaaa0002 &mm->mmap_lock
                         cat-2000    [002] .....   100.000020: lock_acquire: 00000000aaaa0003 &mm->mmap_lock
                         cat-2000    [002] .....   100.000021: lock_release: 00000000aaaa0003 &mm->mmap_lock
            """)
        #expect(softirq.findings == [])
        #expect(softirq.notes == ["c.txt: cpu 1 lost events (line 3): findings may be incomplete"])
        // The handler's exit record with the lock still held is no end (a handler's exit inside
        // another's, below); the next line's flags are, and what follows the loss is still
        // checked: bash and cat's AB-BA after it is a cycle.
        let exitRecord = try analyze("""
            # tracer: nop
                      <idle>-0       [001] d.h1.   100.000001: irq_handler_entry: irq=5 name=foo
                      <idle>-0       [001] d.h1.   100.000002: lock_acquire: 00000000aaaa0001 &desc->lock
                      <idle>-0       [001] d.h1.   100.000003: irq_handler_exit: irq=5 ret=handled
                        bash-1040    [001] .....   100.000010: lock_acquire: 00000000000000a1 &A->lock
                        bash-1040    [001] .....   100.000011: lock_acquire: 00000000000000b1 &B->lock
                         cat-2000    [002] .....   100.000020: lock_acquire: 00000000000000b2 &B->lock
                         cat-2000    [002] .....   100.000021: lock_acquire: 00000000000000a2 &A->lock
            """)
        #expect(exitRecord.findings == ["circular-dependency &A->lock,&B->lock"])
        #expect(exitRecord.notes.first == "c.txt: cpu 1 lost events (line 5): findings may be incomplete")
        // A driver's handler holds &chip->lock and runs a nested handler (generic_handle_irq)
        // in the same hardirq: the inner exit does not end the outer frame, so its lock stays
        // held and the nested handler's &stats->lock -> &chip->lock against the outer one's
        // order is the cycle it is. The inner exit's end was lost events (a made-up loss
        // that forgot the outer lock).
        let nested = try analyze("""
            # tracer: nop
                      <idle>-0       [000] d.h1.   100.000001: irq_handler_entry: irq=5 name=chip
                      <idle>-0       [000] d.h1.   100.000002: lock_acquire: 00000000aaaa0001 &chip->lock
                      <idle>-0       [000] d.h1.   100.000003: irq_handler_entry: irq=40 name=child
                      <idle>-0       [000] d.h1.   100.000004: lock_acquire: 00000000aaaa0002 &stats->lock
                      <idle>-0       [000] d.h1.   100.000005: lock_release: 00000000aaaa0002 &stats->lock
                      <idle>-0       [000] d.h1.   100.000006: irq_handler_exit: irq=40 ret=handled
                      <idle>-0       [000] d.h1.   100.000007: lock_release: 00000000aaaa0001 &chip->lock
                      <idle>-0       [000] d.h1.   100.000008: irq_handler_exit: irq=5 ret=handled
                      <idle>-0       [001] d.h1.   100.000010: lock_acquire: 00000000aaaa0002 &stats->lock
                      <idle>-0       [001] d.h1.   100.000011: lock_acquire: 00000000aaaa0001 &chip->lock
            """)
        #expect(nested.findings == ["circular-dependency &stats->lock,&chip->lock"] || nested.findings == ["circular-dependency &chip->lock,&stats->lock"])
        #expect(!nested.notes.contains { $0.contains("lost events") })
    }

    /// A Xen guest's capture: bash exits and unpins its mm, pinned at fork before tracing
    /// began, and gives back a pte page pinned then too. Both were exit 2 ("is not pinned;
    /// expected a <pin> before its <unpin>"), so such captures could not be analysed at all.
    @Test func aXenCaptureUnpinsWhatWasPinnedBeforeIt() throws {
        let outcome = try analyze("""
            # tracer: nop
                        bash-1108    [000] ....1    73.950578: xen_mmu_pgd_unpin: mm ffff880037a1c000 pgd ffff880037b00000
                        bash-1108    [000] ....1    73.950601: xen_mmu_release_ptpage: pfn 3a000  level 1  pinned
                        bash-1108    [000] ....1    73.950623: xen_mmu_release_ptpage: pfn 3a001  level 1  pinned
            """)
        #expect(outcome.findings == [])
        #expect(outcome.notes == [
            "pgd:ffff880037b00000 is unpinned at c.txt:2 without being seen pinned: pinned since before the capture began"
        ])
    }

    /// What lost events may have done is not known: a lock taken in a hardirq before them is
    /// not held after them, and a release after them of a lock released before is a note.
    @Test func lostEventsForgetWhatTheyMayHaveChanged() throws {
        let inIrq = try analyze("""
            # tracer: nop
                        bash-1040    [001] .....  4543.100000: lock_acquire: 00000000000000c1 &C->lock
                        bash-1040    [001] .....  4543.100001: lock_release: 00000000000000c1 &C->lock
                        bash-1040    [001] d.h1.  4543.200001: lock_acquire: 00000000000000a2 &A->lock
            CPU:1 [LOST 1200 EVENTS]
                        bash-1040    [001] .....  4543.300000: lock_acquire: 00000000000000c1 &C->lock
                        bash-1040    [001] .....  4543.300001: lock_release: 00000000000000c1 &C->lock
            """)
        #expect(inIrq.findings == [])
        let again = try analyze("""
            # tracer: nop
                        bash-1040    [001] .....  4543.100000: lock_acquire: 00000000000000c1 &C->lock
                        bash-1040    [001] .....  4543.100001: lock_release: 00000000000000c1 &C->lock
            CPU:1 [LOST 1200 EVENTS]
                        bash-1040    [001] .....  4543.300001: lock_release: 00000000000000c1 &C->lock
            """)
        #expect(again.findings == [])
        #expect(again.notes == [
            "c.txt: cpu 1 lost 1200 events (line 4): findings may be incomplete",
            "&C->lock is released at c.txt:5 without being seen taken: held since before the capture began",
        ])
    }

    /// bash leaves cpu 0 holding L (its switch-out is traced, but cpu 0 shows nothing after
    /// it) and comes back on cpu 1 after a gap there: what it holds is not known any more.
    @Test func lostEventsForgetWhatEveryTaskHolds() throws {
        let outcome = try analyze("""
            # tracer: nop
                        bash-1040    [000] .....  4543.100000: lock_acquire: 00000000000000a1 &L->lock
                        bash-1040    [000] d..2.  4543.100002: sched_switch: prev_comm=bash prev_pid=1040 prev_prio=120 prev_state=D ==> next_comm=swapper/0 next_pid=0 next_prio=120
                      <idle>-0       [001] d.h1.  4543.100011: irq_handler_entry: irq=24 name=eth0
                      <idle>-0       [001] d.h1.  4543.100012: irq_handler_exit: irq=24 ret=handled
            CPU:1 [LOST 1200 EVENTS]
                        bash-1040    [001] .....  4543.300000: lock_acquire: 00000000000000a1 &L->lock
                        bash-1040    [001] .....  4543.300001: lock_release: 00000000000000a1 &L->lock
            """)
        #expect(outcome.findings == [])
    }

    @Test func trimmedTraceCmdDroppedEventsAreLostEvents() throws {
        let outcome = try analyze("""
            version = 6
            cpus=8
                       <...>-3979  [007]   217.975284: sched_stat_runtime:   comm=Thread-103 pid=3979 runtime=5014167 [ns] vruntime=244334517704 [ns]
            CPU:7 [204600 EVENTS DROPPED]
            CPU:6 [EVENTS DROPPED]
            """)
        #expect(outcome.notes == [
            "c.txt: cpu 7 lost 204600 events (line 4): findings may be incomplete",
            "c.txt: cpu 6 lost events (line 5): findings may be incomplete",
        ])
    }

    // MARK: What a capture shows is a bug

    /// A kernel that prints bh-off ('b', 5.19+) says bh is on where it prints '.': a lock
    /// taken there and in a softirq is softirq-unsafe and softirq-safe.
    @Test func bhStatedByTheFlagsMakesSoftirqUsageKnown() throws {
        let outcome = try analyze("""
            # tracer: nop
                        bash-1040    [003] b....  4543.100000: lock_acquire: 00000000000000a1 &A->lock
                        bash-1040    [003] b....  4543.100001: lock_release: 00000000000000a1 &A->lock
                        bash-1040    [003] .....  4543.100002: lock_acquire: 00000000000000a1 &A->lock
                        bash-1040    [003] .....  4543.100003: lock_release: 00000000000000a1 &A->lock
                      <idle>-0       [001] ..s1.  4543.200000: softirq_entry: vec=3 [action=NET_RX]
                      <idle>-0       [001] ..s1.  4543.200001: lock_acquire: 00000000000000a2 &A->lock
                      <idle>-0       [001] ..s1.  4543.200002: lock_release: 00000000000000a2 &A->lock
                      <idle>-0       [001] ..s1.  4543.200003: softirq_exit: vec=3 [action=NET_RX]
            """)
        #expect(outcome.findings == ["irq-inconsistent &A->lock"])
        // Without a 'b' anywhere, '.' may be an older kernel that does not print bh-off.
        let older = try analyze("""
            # tracer: nop
                        bash-1040    [003] .....  4543.100002: lock_acquire: 00000000000000a1 &A->lock
                        bash-1040    [003] .....  4543.100003: lock_release: 00000000000000a1 &A->lock
                      <idle>-0       [001] ..s1.  4543.200000: softirq_entry: vec=3 [action=NET_RX]
                      <idle>-0       [001] ..s1.  4543.200001: lock_acquire: 00000000000000a2 &A->lock
                      <idle>-0       [001] ..s1.  4543.200002: lock_release: 00000000000000a2 &A->lock
                      <idle>-0       [001] ..s1.  4543.200003: softirq_exit: vec=3 [action=NET_RX]
            """)
        #expect(older.findings == [])
    }

    // MARK: Formats

    @Test(arguments: [
        // syzbot's console logs: printk time and caller.
        "[  123.456791][ T1234]   bash-1040      3d..2. 382171111us : lock_acquire: ffff8881 &mm->mmap_lock",
        // /dev/kmsg's log level.
        "<4>[  123.456791]   bash-1040      3d..2. 382171111us : lock_acquire: ffff8881 &mm->mmap_lock",
        // A counter clock (x86-tsc): no unit.
        "            bash-1040    [003] d..2. 12345678901234: lock_acquire: ffff888100001234 &mm->mmap_lock",
        // trace-cmd report --ts-diff.
        "            bash-1040    [003] d..2.  4543.113112: (+0.000001) lock_acquire: ffff888100001234 &mm->mmap_lock",
        // 6.13's lazy preemption in the need-resched column.
        "            bash-1040    [003] dB.2.  4543.113112: lock_acquire: ffff888100001234 &mm->mmap_lock",
        // #P counts cpus online, not the highest id.
        "#P:2\n            bash-1040    [005] d...  4543.113112: lock_acquire: ffff888100001234 &mm->mmap_lock",
    ])
    func aVariantReadsAsItsLockAcquire(_ text: String) throws {
        let outcome = try analyze(text + "\n")
        // The irq-disable the flags state, then the acquisition.
        #expect(outcome.events == 2)
        #expect(outcome.findings == [])
    }

    /// A cpumask line of 90 KB, longer than the 64 KiB in which a capture must show itself.
    @Test func aFirstEventLineLongerThanTheSniffIsStillAnEvent() throws {
        let mask = (0..<8_000).map { "\($0)-\($0)" }.joined(separator: ",")
        let outcome = try analyze(
            "  bash-1040  [001] ....  4543.113112: ipi_send_cpumask: cpumask=\(mask) callsite=x+0x0/0x1 callback=f+0x0/0x1\n")
        #expect(outcome.events == 2)
    }

    @Test func aCaptureCutInTheMiddleOfALineIsLostEvents() throws {
        let outcome = try analyze(
            "# tracer: nop\n  bash-1040  [001] ....  4543.113112: lock_acquire: 0000000000000001 A\n  bash-1040  [001] ....  4543.11",
            cutShort: true)
        #expect(outcome.findings == [])
        #expect(outcome.notes.contains("c.txt: the capture lost events (line 3): findings may be incomplete"))
    }

    /// An event line cut short is as well-formed as a whole one (`&mm->mmap_` for
    /// `&mm->mmap_lock`, `read` for the class of `read &mm->mmap_lock`): a last line without
    /// its newline is not read but lost events, whatever it reads as (it was an acquisition
    /// of a class the capture never had, held at the end, exit 0 with no note).
    @Test(arguments: [
        "lock_acquire: 0000000099631762 read &mm->mmap_", "lock_acquire: 0000000099631762 read",
        "lock_acquire: 0000000099631762 ", "lock_acq", "irq_handler_entry: irq=1",
    ])
    func aLastEventLineCutShortIsLostEvents(_ cut: String) throws {
        let outcome = try analyze(
            "# tracer: nop\n  bash-1040  [001] ....  4543.113112: lock_acquire: 0000000000000001 A\n  bash-1040  [001] ....  4543.113113: \(cut)",
            cutShort: true)
        // Line 2's irq-enable (its flags) and acquire, then the loss: nothing of line 3.
        #expect(outcome.events == 3)
        #expect(outcome.findings == [])
        #expect(outcome.notes == ["c.txt: the capture lost events (line 3): findings may be incomplete"])
    }

    /// A lost-events marker cut short may have lost digits of its count: no count is taken
    /// from it, and the loss is on every cpu (what followed it is gone too).
    @Test func aLostEventsMarkerCutShortCountsNothing() throws {
        let outcome = try analyze(
            "# tracer: nop\n  bash-1040  [001] ....  4543.113112: lock_acquire: 0000000000000001 A\nCPU:1 [LOST 12", cutShort: true)
        #expect(outcome.notes == ["c.txt: the capture lost events (line 3): findings may be incomplete"])
    }

    /// A capture whose lines end in a carriage return alone is one line with no newline: it
    /// read as its first event cut short, no finding and exit 0 for a capture of an AB-BA
    /// deadlock (helper-138). It is an error at the first carriage return; with newlines, or
    /// CRLF, the same capture is read and the deadlock found.
    @Test func aCaptureWhoseLinesEndInACarriageReturnAloneIsAnError() throws {
        let lines = [
            "# tracer: nop",
            "  bash-1040  [001] ....  4543.100000: lock_acquire: 0000000000000001 A",
            "  bash-1040  [001] ....  4543.100001: lock_acquire: 0000000000000002 B",
            "  bash-1040  [001] ....  4543.100002: lock_release: 0000000000000002 B",
            "  bash-1040  [001] ....  4543.100003: lock_release: 0000000000000001 A",
            "  bash-1040  [001] ....  4543.100004: lock_acquire: 0000000000000002 B",
            "  bash-1040  [001] ....  4543.100005: lock_acquire: 0000000000000001 A",
            "  bash-1040  [001] ....  4543.100006: lock_release: 0000000000000001 A",
            "  bash-1040  [001] ....  4543.100007: lock_release: 0000000000000002 B",
        ]
        #expect(try analyze(lines.joined(separator: "\n") + "\n").findings == ["circular-dependency A,B"])
        #expect(try analyze(lines.joined(separator: "\r\n") + "\r\n").findings == ["circular-dependency A,B"])
        let carriage = lines[0].utf8.count + 1
        let message = "error: a carriage return in mid-line after a whole line: the capture's lines end in a carriage return alone; convert them to newlines (tr '\\r' '\\n')"
        #expect(error(lines.joined(separator: "\r") + "\r", cutShort: true) == "c.txt:1:\(carriage): \(message)")
        // Ended by a newline all the same, or its header alone (helper-140: one event, exit 0).
        #expect(error(lines.joined(separator: "\r") + "\n") == "c.txt:1:\(carriage): \(message)")
        #expect(error(lines[0] + "\n" + lines.dropFirst().joined(separator: "\r") + "\n") == "c.txt:2:\(lines[1].utf8.count + 1): \(message)")
        // A carriage return in a task's name (prctl allows it) has no whole line before it: read.
        let named = "  a\rb-1041  [000] ....  4543.100008: lock_acquire: 0000000000000003 C"
        #expect(try analyze(lines.joined(separator: "\n") + "\n" + named + "\n").events == 11)
        #expect(try analyze(lines.joined(separator: "\n") + "\n" + named.prefix(50), cutShort: true).notes.last
            == "c.txt: the capture lost events (line 10): findings may be incomplete")
    }

    /// A cut last line is lost events only in what already reads as a capture.
    @Test func aLastLineWithoutNewlineIsNoTraceByItself() {
        #expect(error("hello", cutShort: true)?.hasPrefix("c.txt:1:1: error: not a trace pgtrace knows") == true)
    }

    @Test func outputsPgtraceCannotReadSayWhatToRecordInstead() {
        let noCPU = error("            perf  3409  1234.567890: lock:contention_begin: 0xffff8881234 (flags=SPIN)\n")
        #expect(noCPU?.contains("c.txt:1:1: error: this line has no cpu column") == true, "\(noCPU ?? "")")
        #expect(noCPU?.contains("perf script -F +cpu") == true)
        let graph = error("# tracer: function_graph\n 0)               |  down_write() {\n")
        #expect(graph?.hasPrefix("c.txt:2:1: error: function_graph tracer output") == true, "\(graph ?? "")")
    }

    /// The flags column's depth (the preempt count's low four bits) rides on the line's
    /// first event where it changed: `pc`, which the replay takes as the task's count.
    @Test func thePreemptDepthOfTheFlagsIsSampled() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtrace-pc-\(UUID().uuidString).txt").path
        try """
              bash-1040  [001] d....  1.000001: lock_acquire: 00000000000000a1 A
              bash-1040  [001] d..1.  1.000002: lock_acquire: 00000000000000a2 B
              bash-1040  [001] d..2.  1.000003: lock_release: 00000000000000a2 B
              bash-1040  [001] d..2.  1.000004: lock_release: 00000000000000a1 A
              bash-1040  [001] d..3.  1.000005: sched_wakeup: comm=b pid=2 prio=120 target_cpu=001
              bash-1040  [001] d..3.  1.000006: lock_acquire: 00000000000000a4 D
              bash-1040  [001] d..a.  1.000007: lock_acquire: 00000000000000a3 C

            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var samples: [UInt8?] = []
        try TraceImporter(path: path).read(header: { _ in }) { samples.append($0.preemptCount) }
        // irq-disable (stating irqs, with the first sample), then the four locks, D and C. The
        // wakeup's line makes no event: its sample (3) is stated by D's.
        #expect(samples == [0, nil, 1, 2, nil, 3, 10])
        let xml = "<?xml version=\"1.0\"?><trace version=\"1\" partial=\"true\"><events><acquire cpu=\"0\" lock=\"A\" pc=\"2\"/></events></trace>"
        let reader = TraceReader(displayName: "pc.xml", fileIndex: 0, symbols: SymbolTable())
        var decoded: [UInt8?] = []
        try reader.read(bytes: Array(xml.utf8), schema: .v1, header: { _ in }, event: { decoded.append($0.preemptCount) })
        #expect(decoded == [2])
        let tooBig = xml.replacingOccurrences(of: "pc=\"2\"", with: "pc=\"300\"")
        #expect(throws: TraceInputError.self) {
            try reader.read(bytes: Array(tooBig.utf8), header: { _ in }, event: { _ in })
        }
    }
}
