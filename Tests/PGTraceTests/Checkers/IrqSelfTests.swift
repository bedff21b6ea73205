import PGTrace
import Testing

/// lib/locking-selftest.c's irq cases, transcribed, against lockdep's verdicts.
///
/// Each family is written as the selftest writes it: events E1, E2 (, E3) made of macro calls,
/// run in every order GENERATE_PERMUTATIONS_{2,3}_EVENTS makes, with the IRQ_*() macros meaning
/// hardirqs (locking-selftest-hardirq.h) or softirqs (-softirq.h), over spin, wlock and rlock
/// (a recursive reader: force_read_lock_recursive is set). Lockdep stops at its first report,
/// so a FAILURE case asserts the rule of pgtrace's first finding and the event it fires at; the
/// spin and wlock variants fail and the rlock ones succeed, as DO_TESTCASE_3 and _2RW expect.
/// After those, force_read_lock_recursive is cleared: the queued-rwlock cases use read_lock(),
/// a reader that is recursive only in interrupt context.
@Suite struct IrqSelfTests {
    typealias Case = @Sendable (inout LockingSelfTest) -> Void

    /// One dotest() of the selftest: its function's name, its macro calls in the order they
    /// run, and lockdep's first report (nil for SUCCESS) with the index in `ops` of the call
    /// it fires at.
    struct SelfTestCase: Sendable, CustomTestStringConvertible {
        let name: String
        let type: SelfTestType
        let irq: SelfTestIrq
        let ops: [Case]
        let failure: (rule: Rule, op: Int)?
        var testDescription: String { name }
    }

    /// A position in a family: the macro call `op` (from 0) of event E`event` (from 1).
    typealias Position = (event: Int, op: Int)

    /// A GENERATE_PERMUTATIONS family.
    struct Family: Sendable {
        let name: String
        /// The hard and soft variants; [nil] for a family that names its irq macros itself.
        var irqs: [SelfTestIrq?] = [.hard, .soft]
        var types: [SelfTestType] = [.spin, .wlock, .rlock]
        let events: [[Case]]
        /// The report of the types that fail (all but rlock).
        let rule: Rule
        /// For each order ("12", "231", …) where lockdep reports.
        let failsAt: [String: Position]

        var cases: [SelfTestCase] {
            let orders = events.count == 2 ? IrqSelfTests.orders2 : IrqSelfTests.orders
            return irqs.flatMap { irq in
                types.flatMap { type in
                    orders.map { order in
                        let label = order.map { String($0 + 1) }.joined()
                        let parts = [name] + (irq.map { [$0.rawValue] } ?? []) + [type.rawValue, label]
                        let (ops, op) = IrqSelfTests.run(events, order: order, failingAt: type == .rlock ? nil : failsAt[label]!)
                        return SelfTestCase(
                            name: parts.joined(separator: "_"), type: type, irq: irq ?? .hard, ops: ops,
                            failure: op.map { (rule, $0) })
                    }
                }
            }
        }
    }

    static let orders2 = [[0, 1], [1, 0]]
    static let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]

    /// The events run in `order`, and the index of the failing call among them.
    static func run(_ events: [[Case]], order: [Int], failingAt position: Position?) -> ([Case], Int?) {
        var ops: [Case] = []
        var failing: Int?
        for event in order {
            if let position, position.event == event + 1 { failing = ops.count + position.op }
            ops += events[event]
        }
        return (ops, failing)
    }

    /// A case that is one function in the selftest, cut into its commented steps.
    static func single(
        _ name: String, _ type: SelfTestType = .spin, fails rule: Rule?, at position: Position? = nil,
        _ steps: [[Case]]
    ) -> SelfTestCase {
        let (ops, op) = run(steps, order: Array(steps.indices), failingAt: position)
        return SelfTestCase(name: name, type: type, irq: .hard, ops: ops, failure: rule.map { ($0, op!) })
    }

    /// How many trace events the test has emitted so far: the index of the next one.
    static func eventCount(_ test: LockingSelfTest) -> Int {
        let lines = test.trace.xml.split(separator: "\n")
        return lines.count - lines.firstIndex(of: "<events>")! - 3
    }

    /// Runs the case and checks lockdep's verdict: its first report, at the event lockdep
    /// reports at, or no report at all.
    static func check(_ selfTest: SelfTestCase) throws {
        var test = LockingSelfTest(selfTest.type, irq: selfTest.irq)
        var failingEvent: Int?
        for (index, op) in selfTest.ops.enumerated() {
            if index == selfTest.failure?.op { failingEvent = eventCount(test) }
            op(&test)
        }
        let findings = try analyze(test.trace).findings
        let found = findings.map { "\($0.rule.rawValue) at event \($0.locations.first?.event ?? -1): \($0.message)" }
        guard let failure = selfTest.failure else {
            #expect(findings.isEmpty, "\(selfTest.name): expected SUCCESS, found \(found)")
            return
        }
        #expect(
            findings.first?.rule == failure.rule,
            "\(selfTest.name): expected \(failure.rule.rawValue) first, found \(found)")
        #expect(
            findings.first?.locations.first?.event == failingEvent,
            "\(selfTest.name): expected the first report at event \(failingEvent ?? -1), found \(found)")
    }

    // MARK: irqsafe1/2A/2B: one lock, irq-safe and irq-unsafe

    static let singleLockFamilies: [Family] = [
        // "irqs-on + irq-safe-A": A is taken in the irq ({IN-s-W}) and with irqs on ({s-ON-W}),
        // in either order: inconsistent lock state at the second lock(A). Reader usages
        // ({IN-s-R}, {s-ON-R}) do not conflict.
        Family(
            name: "irqsafe1",
            events: [
                [{ $0.IRQ_ENTER() }, { $0.LOCK("A") }, { $0.UNLOCK("A") }, { $0.IRQ_EXIT() }],
                [{ $0.LOCK("A") }, { $0.UNLOCK("A") }],
            ],
            rule: .irqInconsistent,
            failsAt: ["12": (2, 0), "21": (1, 1)]),
        // "sirq-safe-A => hirqs-on": A is softirq-safe; taken with hardirqs off, it becomes
        // {HARDIRQ-ON-W} and {SOFTIRQ-ON-W} when HARDIRQ_ENABLE() runs with it held
        // (mark_held_locks), so _12 fails at the HARDIRQ_ENABLE(), not at a lock.
        Family(
            name: "irqsafe2A", irqs: [nil],
            events: [
                [{ $0.SOFTIRQ_ENTER() }, { $0.LOCK("A") }, { $0.UNLOCK("A") }, { $0.SOFTIRQ_EXIT() }],
                [{ $0.HARDIRQ_DISABLE() }, { $0.LOCK("A") }, { $0.HARDIRQ_ENABLE() }, { $0.UNLOCK("A") }],
            ],
            rule: .irqInconsistent,
            failsAt: ["12": (2, 2), "21": (1, 1)]),
        // "safe-A + irqs-on": as irqsafe2A with the irq of the variant; the soft variant's
        // lock(A) under local_bh_disable() is {HARDIRQ-ON-W}, and local_bh_enable() makes it
        // {SOFTIRQ-ON-W}.
        Family(
            name: "irqsafe2B",
            events: [
                [{ $0.IRQ_ENTER() }, { $0.LOCK("A") }, { $0.UNLOCK("A") }, { $0.IRQ_EXIT() }],
                [{ $0.IRQ_DISABLE() }, { $0.LOCK("A") }, { $0.IRQ_ENABLE() }, { $0.UNLOCK("A") }],
            ],
            rule: .irqInconsistent,
            failsAt: ["12": (2, 2), "21": (1, 1)]),
    ]

    @Test(arguments: singleLockFamilies.flatMap(\.cases))
    func singleLockIrqCaseGivesLockdepsVerdict(_ selfTest: SelfTestCase) throws {
        try Self.check(selfTest)
    }

    // MARK: irqsafe3/4, irq_inversion: a safe lock A and an unsafe lock B

    static let twoLockFamilies: [Family] = [
        // "safe-A + unsafe-B #1": E1 takes A with irqs on, so A itself is {s-ON-W}; E3 takes it
        // in the irq. Whatever the order, A's own usages conflict: inconsistent lock state at
        // E3's lock(A) when E1 ran first, else at E1's lock(A).
        Family(
            name: "irqsafe3",
            events: [
                [{ $0.LOCK("A") }, { $0.LOCK("B") }, { $0.UNLOCK("B") }, { $0.UNLOCK("A") }],
                [{ $0.LOCK("B") }, { $0.UNLOCK("B") }],
                [{ $0.IRQ_ENTER() }, { $0.LOCK("A") }, { $0.UNLOCK("A") }, { $0.IRQ_EXIT() }],
            ],
            rule: .irqInconsistent,
            failsAt: [
                "123": (3, 1), "132": (3, 1), "213": (3, 1),
                "231": (1, 0), "312": (1, 0), "321": (1, 0),
            ]),
        // "safe-A + unsafe-B #2": E1 adds A -> B with the irq off; B is irq-unsafe (E2), A is
        // irq-safe (E3). Whichever comes last reports: A becoming safe searches forward to B
        // ("took another, s-unsafe lock"), B becoming unsafe searches backward to A ("taken by
        // another, s-safe lock"), and the edge itself is "s-safe -> s-unsafe lock order".
        Family(
            name: "irqsafe4",
            events: [
                [
                    { $0.IRQ_DISABLE() }, { $0.LOCK("A") }, { $0.LOCK("B") }, { $0.UNLOCK("B") },
                    { $0.UNLOCK("A") }, { $0.IRQ_ENABLE() },
                ],
                [{ $0.LOCK("B") }, { $0.UNLOCK("B") }],
                [{ $0.IRQ_ENTER() }, { $0.LOCK("A") }, { $0.UNLOCK("A") }, { $0.IRQ_EXIT() }],
            ],
            rule: .irqInversion,
            failsAt: [
                "123": (3, 1), "132": (2, 0), "213": (3, 1),
                "231": (1, 2), "312": (2, 0), "321": (1, 2),
            ]),
        // "irq lock-inversion": rwlock_A is write-locked with the irq off around B, and
        // read-locked (recursively) in the irq: {IN-s-R}. A reader in the irq still spins on
        // a writer, so B becoming {s-ON-W} is an inversion; for rlock, B is a recursive reader
        // reached only through -(ER)->, whose reader usage cannot deadlock.
        Family(
            name: "irq_inversion",
            events: [
                [
                    { $0.IRQ_DISABLE() }, { $0.WL("A") }, { $0.LOCK("B") }, { $0.UNLOCK("B") },
                    { $0.WU("A") }, { $0.IRQ_ENABLE() },
                ],
                [{ $0.LOCK("B") }, { $0.UNLOCK("B") }],
                [{ $0.IRQ_ENTER() }, { $0.RL("A") }, { $0.RU("A") }, { $0.IRQ_EXIT() }],
            ],
            rule: .irqInversion,
            failsAt: [
                "123": (3, 1), "132": (2, 0), "213": (3, 1),
                "231": (1, 2), "312": (2, 0), "321": (1, 2),
            ]),
    ]

    @Test(arguments: twoLockFamilies.flatMap(\.cases))
    func twoLockIrqCaseGivesLockdepsVerdict(_ selfTest: SelfTestCase) throws {
        try Self.check(selfTest)
    }

    // MARK: irq_read_recursion 1-3: rwlock_A read in the irq or with it on

    static let readRecursionFamilies: [Family] = [
        // "irq read-recursion": A is {s-ON-R} (E2) and taken in the irq (E3): a writer there
        // ({IN-s-W}) conflicts with the reader usage, inconsistent lock state; a recursive
        // reader ({IN-s-R}) does not.
        Family(
            name: "irq_read_recursion", types: [.wlock, .rlock],
            events: [
                [{ $0.IRQ_DISABLE() }, { $0.WL("A") }, { $0.WU("A") }, { $0.IRQ_ENABLE() }],
                [{ $0.RL("A") }, { $0.RU("A") }],
                [
                    { $0.IRQ_ENTER() }, { $0.LOCK("A") }, { $0.L("B") }, { $0.U("B") }, { $0.UNLOCK("A") },
                    { $0.IRQ_EXIT() },
                ],
            ],
            rule: .irqInconsistent,
            failsAt: [
                "123": (3, 1), "213": (3, 1), "231": (3, 1),
                "132": (2, 0), "312": (2, 0), "321": (2, 0),
            ]),
        // "irq read-recursion #2": lock_B is {IN-s-W}, B -> A, and A is {s-ON-R}: a writer of
        // A (wlock) behind B makes the reader usage an inversion; a recursive read of A under
        // B (rlock, -(ER)->) does not.
        Family(
            name: "irq_read_recursion2", types: [.wlock, .rlock],
            events: [
                [
                    { $0.IRQ_DISABLE() }, { $0.L("B") }, { $0.LOCK("A") }, { $0.UNLOCK("A") }, { $0.U("B") },
                    { $0.IRQ_ENABLE() },
                ],
                [{ $0.RL("A") }, { $0.RU("A") }],
                [{ $0.IRQ_ENTER() }, { $0.L("B") }, { $0.U("B") }, { $0.IRQ_EXIT() }],
            ],
            rule: .irqInversion,
            failsAt: [
                "123": (3, 1), "213": (3, 1),
                "132": (2, 0), "312": (2, 0),
                "231": (1, 2), "321": (1, 2),
            ]),
        // "irq read-recursion #3": as #2 with rwlock_B, write-locked around A and read in the
        // irq ({IN-s-R}): "s-READ-safe -> s-READ-unsafe" unless A is a recursive reader.
        Family(
            name: "irq_read_recursion3", types: [.wlock, .rlock],
            events: [
                [
                    { $0.IRQ_DISABLE() }, { $0.WL("B") }, { $0.LOCK("A") }, { $0.UNLOCK("A") }, { $0.WU("B") },
                    { $0.IRQ_ENABLE() },
                ],
                [{ $0.RL("A") }, { $0.RU("A") }],
                [{ $0.IRQ_ENTER() }, { $0.RL("B") }, { $0.RU("B") }, { $0.IRQ_EXIT() }],
            ],
            rule: .irqInversion,
            failsAt: [
                "123": (3, 1), "213": (3, 1),
                "132": (2, 0), "312": (2, 0),
                "231": (1, 2), "321": (1, 2),
            ]),
    ]

    @Test(arguments: readRecursionFamilies.flatMap(\.cases))
    func readRecursionCaseGivesLockdepsVerdict(_ selfTest: SelfTestCase) throws {
        try Self.check(selfTest)
    }

    // MARK: With force_read_lock_recursive cleared

    /// LOCK(B) here is write_lock(&rwlock_B): the last header the file included is
    /// locking-selftest-wlock.h. read_lock(&rwlock_A) is a recursive reader inside
    /// HARDIRQ_ENTER() and a plain one outside.
    static let singleCases: [SelfTestCase] = [
        // "hardirq read-lock/lock-read": A -(SN)-> B in the irq, then B -> A with A a plain
        // reader: the graph spans contexts, and a plain reader waits for a queued writer, so
        // B -> A -> B is a strong cycle at the second read_lock(A).
        single(
            "queued_read_lock_hardirq_RE_Er", .wlock, fails: .circularDependency, at: (2, 2),
            [
                [
                    { $0.HARDIRQ_ENTER() }, { $0.read_lock("A") }, { $0.WL("B") }, { $0.WU("B") },
                    { $0.read_unlock("A") }, { $0.HARDIRQ_EXIT() },
                ],
                [
                    { $0.HARDIRQ_DISABLE() }, { $0.WL("B") }, { $0.read_lock("A") }, { $0.read_unlock("A") },
                    { $0.WU("B") }, { $0.HARDIRQ_ENABLE() },
                ],
            ]),
        // "hardirq lock-read/read-lock": B -(ER)-> A in the irq, then A -(SN)-> B: the path
        // B -> A ends in a recursive read, which the plain reader A does not block: no cycle,
        // and A's {IN-HARDIRQ-R} is masked in the irq-usage check.
        single(
            "queued_read_lock_hardirq_ER_rE", .wlock, fails: nil,
            [
                [
                    { $0.HARDIRQ_ENTER() }, { $0.WL("B") }, { $0.read_lock("A") }, { $0.read_unlock("A") },
                    { $0.WU("B") }, { $0.HARDIRQ_EXIT() },
                ],
                [
                    { $0.HARDIRQ_DISABLE() }, { $0.read_lock("A") }, { $0.WL("B") }, { $0.WU("B") },
                    { $0.read_unlock("A") }, { $0.HARDIRQ_ENABLE() },
                ],
            ]),
        // "hardirq inversion": B is {IN-HARDIRQ-W}, B -(EN)-> A (A a plain reader), then A is
        // read with hardirqs on, {HARDIRQ-ON-R}: irq lock inversion at that read_lock(A).
        single(
            "queued_read_lock_hardirq_inversion", .wlock, fails: .irqInversion, at: (3, 0),
            [
                [{ $0.HARDIRQ_ENTER() }, { $0.WL("B") }, { $0.WU("B") }, { $0.HARDIRQ_EXIT() }],
                [
                    { $0.HARDIRQ_DISABLE() }, { $0.WL("B") }, { $0.read_lock("A") }, { $0.read_unlock("A") },
                    { $0.WU("B") }, { $0.HARDIRQ_ENABLE() },
                ],
                [{ $0.read_lock("A") }, { $0.read_unlock("A") }],
            ]),
        // hardirq_deadlock_softirq_not_deadlock ("hardirq_unsafe_softirq_safe"):
        // lock_A -> lock_B -> lock_C -> lock_D runs from hardirq-safe A to hardirq-unsafe D
        // ("HARDIRQ-safe -> HARDIRQ-unsafe lock order" at the last spin_lock(D)), while
        // mutex_A -> lock_C -> lock_D runs from softirq-unsafe to softirq-safe, no deadlock.
        single(
            "hardirq_unsafe_softirq_safe", fails: .irqInversion, at: (7, 2),
            [
                // mutex_A is hardirq-unsafe and softirq-unsafe; mutex_A -> lock_C
                [
                    { $0.ML("A") }, { $0.HARDIRQ_DISABLE() }, { $0.L("C") }, { $0.U("C") },
                    { $0.HARDIRQ_ENABLE() }, { $0.MU("A") },
                ],
                // lock_A is hardirq-safe
                [{ $0.HARDIRQ_ENTER() }, { $0.L("A") }, { $0.U("A") }, { $0.HARDIRQ_EXIT() }],
                // lock_A -> lock_B
                [
                    { $0.HARDIRQ_DISABLE() }, { $0.L("A") }, { $0.L("B") }, { $0.U("B") }, { $0.U("A") },
                    { $0.HARDIRQ_ENABLE() },
                ],
                // lock_B -> lock_C
                [
                    { $0.HARDIRQ_DISABLE() }, { $0.L("B") }, { $0.L("C") }, { $0.U("C") }, { $0.U("B") },
                    { $0.HARDIRQ_ENABLE() },
                ],
                // lock_D is softirq-safe
                [{ $0.SOFTIRQ_ENTER() }, { $0.L("D") }, { $0.U("D") }, { $0.SOFTIRQ_EXIT() }],
                // and lock_D is hardirq-unsafe
                [{ $0.SOFTIRQ_DISABLE() }, { $0.L("D") }, { $0.U("D") }, { $0.SOFTIRQ_ENABLE() }],
                // lock_C -> lock_D
                [
                    { $0.HARDIRQ_DISABLE() }, { $0.L("C") }, { $0.L("D") }, { $0.U("D") }, { $0.U("C") },
                    { $0.HARDIRQ_ENABLE() },
                ],
            ]),
    ]

    @Test(arguments: singleCases)
    func singleCaseGivesLockdepsVerdict(_ selfTest: SelfTestCase) throws {
        try Self.check(selfTest)
    }

    // MARK: local_lock_tests()

    /// local_lock_tests(): a local lock is passed over by the irq-inversion searches
    /// (usage_skip), so lock_A (hardirq-safe) -> local_A (taken with irqs on) is no
    /// inversion (2), nor lock_A -> local_A -> lock_B (3A); lock_A -> lock_B is one (3B).
    /// (hardirq_deadlock_softirq_not_deadlock is transcribed above, as the selftest names it:
    /// hardirq_unsafe_softirq_safe.)
    static let localLockCases: [SelfTestCase] = {
        let lockLocal: [Case] = [{ $0.local_lock("A") }, { $0.local_unlock("A") }]
        let lockLocalThenB: [Case] = [{ $0.local_lock("A") }, { $0.L("B") }, { $0.U("B") }, { $0.local_unlock("A") }]
        let safeA: [Case] = [{ $0.HARDIRQ_ENTER() }, { $0.L("A") }, { $0.U("A") }, { $0.HARDIRQ_EXIT() }]
        let aThenLocal: [Case] = [
            { $0.HARDIRQ_DISABLE() }, { $0.L("A") }, { $0.local_lock("A") }, { $0.local_unlock("A") }, { $0.U("A") },
            { $0.HARDIRQ_ENABLE() },
        ]
        let aThenB: [Case] = [
            { $0.HARDIRQ_DISABLE() }, { $0.L("A") }, { $0.L("B") }, { $0.U("B") }, { $0.U("A") }, { $0.HARDIRQ_ENABLE() },
        ]
        return [
            single("local_lock_2", fails: nil, [lockLocal, safeA, aThenLocal]),
            single("local_lock_3A", fails: nil, [lockLocalThenB, safeA, aThenLocal]),
            single("local_lock_3B", fails: .irqInversion, at: (4, 2), [lockLocalThenB, safeA, aThenLocal, aThenB]),
        ]
    }()

    @Test(arguments: localLockCases)
    func localLockCaseGivesLockdepsVerdict(_ selfTest: SelfTestCase) throws {
        try Self.check(selfTest)
    }

    // MARK: The event indices the cases expect

    /// The failing positions above are macro calls; the trace has one event per call except
    /// HARDIRQ_ENTER/EXIT (2) and SOFTIRQ_ENTER/EXIT (3). A few indices, counted by hand.
    @Test func failingEventsAreCountedAsTheMacrosEmitThem() throws {
        func failingEvent(_ name: String, in cases: [SelfTestCase]) throws -> Int? {
            let selfTest = try #require(cases.first { $0.name == name })
            var test = LockingSelfTest(selfTest.type, irq: selfTest.irq)
            for op in selfTest.ops.prefix(selfTest.failure?.op ?? 0) { op(&test) }
            return selfTest.failure.map { _ in Self.eventCount(test) }
        }
        // SE(3) L U SX(3), then HD L: the HARDIRQ_ENABLE() is event 10.
        #expect(try failingEvent("irqsafe2A_spin_12", in: Self.singleLockFamilies.flatMap(\.cases)) == 10)
        // soft: SE(3) L U SX(3), then SD L: the SOFTIRQ_ENABLE() is event 10.
        #expect(try failingEvent("irqsafe2B_soft_wlock_12", in: Self.singleLockFamilies.flatMap(\.cases)) == 10)
        // E2 (L U), E3 (HE(2) L U HX(2)), then E1's HD, L(A): L(B) is event 10.
        #expect(try failingEvent("irqsafe4_hard_spin_231", in: Self.twoLockFamilies.flatMap(\.cases)) == 10)
        // HE(2) read_lock WL WU read_unlock HX(2), then HD WL: read_lock(A) is event 10.
        #expect(try failingEvent("queued_read_lock_hardirq_RE_Er", in: Self.singleCases) == 10)
        #expect(try failingEvent("queued_read_lock_hardirq_inversion", in: Self.singleCases) == 12)
        // 6 + 6 + 6 + 6 + 8 + 4 events, then HD, L(C): L(D) is event 38.
        #expect(try failingEvent("hardirq_unsafe_softirq_safe", in: Self.singleCases) == 38)
        #expect(try failingEvent("irqsafe2A_rlock_12", in: Self.singleLockFamilies.flatMap(\.cases)) == nil)
    }
}
