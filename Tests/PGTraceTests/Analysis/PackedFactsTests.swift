import Testing

@testable import PGTrace

/// The fact log keeps its facts packed, their sites in a table of their own: every kind of
/// fact, every bit, mode and type reads back as it was recorded, its evidence's trace and
/// place with it; sites shared by facts are kept once; and a log whose facts are replaced
/// again and again keeps its table of sites to what its facts use.
@Suite struct PackedFactsTests {
    private static func site(_ event: Int, file: Int = 0, cpu: Int = 1) -> EventSite {
        EventSite(
            position: TracePosition(file: file, line: event + 3, column: 5, event: event), cpu: cpu,
            task: Symbol(rawValue: 7), at: event % 2 == 0 ? nil : Symbol(rawValue: 9), function: nil)
    }

    /// Facts of every kind and every value their packed bytes keep.
    private static var facts: [GraphFact] {
        var facts: [GraphFact] = []
        var event = 0
        for state in LockUsage.IrqState.allCases {
            for enabled in [false, true] {
                for read in [false, true] {
                    for mode in LockMode.allCases {
                        event += 1
                        facts.append(.usage(UsageFact(
                            classID: Int32(event), bit: LockUsage.Bit(state, enabled: enabled, read: read),
                            site: site(event), lockSite: site(event - 100), lockMode: mode, moment: MomentID(index: Int32(event * 3)))))
                    }
                }
            }
        }
        let kinds: [DependencyKind] = [.lockOrder, .ipi, .kmap]
        for kind in kinds {
            for types: DependencyTypes in [.sr, .er, .sn, .en, [.er, .en], [.sr, .er, .sn, .en]] {
                for (holder, next) in [(LockMode.write, LockMode.read), (.read, .recursiveRead), (.recursiveRead, .write)] {
                    event += 1
                    let dependency = LockDependency(
                        from: Int32(event), to: Int32(event + 1_000_000), kind: kind, types: types,
                        holderSite: site(event - 1, cpu: 3), site: site(event, file: 2))
                    let moment = kind == .lockOrder ? MomentID(index: Int32(event)) : nil
                    facts.append(.dependency(DependencyFact(dependency: dependency, holderMode: holder, nextMode: next, moment: moment)))
                }
            }
        }
        for read in [false, true] {
            event += 1
            facts.append(.used(classID: Int32(event), read: read, site: site(event)))
        }
        for (subclass, mode, afterUse, count) in [(0, LockMode.write, false, 1), (7, .read, true, 5), (3, .recursiveRead, false, Int.max)] {
            event += 1
            facts.append(.nmiAcquire(NmiAcquireFact(
                key: LockClassKey(name: Symbol(rawValue: Int32(event)), subclass: subclass), mode: mode, afterUse: afterUse,
                site: site(event), moment: MomentID(index: Int32(event)), count: count)))
        }
        return facts
    }

    /// The file of fact `index`: none (-1, a log filled without a trace), the first files
    /// and the last an analysis reads, whose bits an entry keeps beside the fact's modes.
    private static func file(_ index: Int) -> Int {
        index % 2 == 0 ? index % 5 - 1 : EventSite.maximumFiles - 1 - index % 5
    }

    @Test func everyFactReadsBackAsItWasRecorded() {
        var packed = PackedFacts()
        let facts = Self.facts
        for (index, fact) in facts.enumerated() {
            packed.append(GraphFactLog.Entry(fact: fact, file: Self.file(index), sequence: index * 2), key: fact.key)
        }
        #expect(packed.count == facts.count)
        for (index, fact) in facts.enumerated() {
            let entry = packed[index]
            #expect("\(entry.fact)" == "\(fact)")
            #expect(entry.file == Self.file(index) && entry.sequence == index * 2)
            #expect(packed.key(at: index) == fact.key)
            #expect(packed.file(at: index) == Self.file(index) && packed.sequence(at: index) == index * 2)
        }
        #expect(PackedFacts.bytesPerEntry == 32)
    }

    /// The facts one acquisition makes (a class's first use, its usage bits, the dependency
    /// it closes under a lock taken before) keep its site once, and the holder's once.
    @Test func theFactsOfOneEventKeepItsSiteOnce() {
        var packed = PackedFacts()
        let holder = Self.site(10), site = Self.site(11)
        let facts: [GraphFact] = [
            .used(classID: 1, read: false, site: holder),
            .used(classID: 2, read: false, site: site),
            .usage(UsageFact(
                classID: 2, bit: LockUsage.Bit(.hardirq, enabled: true, read: false), site: site, lockSite: site, lockMode: .write,
                moment: MomentID(index: 0))),
            .usage(UsageFact(
                classID: 2, bit: LockUsage.Bit(.softirq, enabled: true, read: false), site: site, lockSite: site, lockMode: .write,
                moment: MomentID(index: 0))),
            .dependency(DependencyFact(
                dependency: LockDependency(from: 1, to: 2, kind: .lockOrder, types: .en, holderSite: holder, site: site),
                holderMode: .write, nextMode: .write, moment: MomentID(index: 1))),
        ]
        for (index, fact) in facts.enumerated() { packed.append(GraphFactLog.Entry(fact: fact, file: 0, sequence: index), key: fact.key) }
        #expect(packed.sitesKept == 2)
        #expect(packed.sites(at: 4).site == site && packed.sites(at: 4).other == holder)
        #expect(packed.sites(at: 2).site == site && packed.sites(at: 2).other == site)
        #expect(packed.sites(at: 0).site == holder && packed.sites(at: 0).other == nil)
        #expect(packed.dependencyEnds(at: 4)! == (1, 2) && packed.dependencyEnds(at: 2) == nil)
    }

    /// The walk the graph checks make of the log before they begin (`dependencyEnds`): the
    /// classes of every dependency of every kind, in the log's order, none of another fact,
    /// across the log's chunks of 4,096 facts, and the same again on a second walk.
    @Test func theDependencyEndsAreEveryDependencysInOrderOnEachWalk() {
        var packed = PackedFacts()
        var expected: [(from: ClassID, to: ClassID)] = []
        let kinds: [DependencyKind] = [.lockOrder, .ipi, .kmap]
        for index in 0..<10_000 {
            let fact: GraphFact
            if index % 3 == 1 {
                fact = .usage(UsageFact(
                    classID: Int32(index), bit: LockUsage.Bit(.hardirq, enabled: index % 2 == 0, read: false),
                    site: Self.site(index), lockSite: Self.site(index), lockMode: .write, moment: MomentID(index: 0)))
            } else if index % 7 == 3 {
                fact = .used(classID: Int32(index), read: false, site: Self.site(index))
            } else {
                let dependency = LockDependency(
                    from: Int32(index), to: Int32(2 * index + 1), kind: kinds[index % 3], types: .en,
                    holderSite: Self.site(index), site: Self.site(index + 1))
                fact = .dependency(DependencyFact(dependency: dependency, holderMode: .write, nextMode: .write, moment: nil))
                expected.append((Int32(index), Int32(2 * index + 1)))
            }
            packed.append(GraphFactLog.Entry(fact: fact, file: 0, sequence: index), key: fact.key)
        }
        let ends = packed.dependencyEnds
        for walk in 1...2 {
            let walked = Array(ends)
            #expect(walked.count == expected.count, "walk \(walk)")
            #expect(walked.elementsEqual(expected) { $0 == $1 }, "walk \(walk)")
        }
        #expect(Array(PackedFacts().dependencyEnds).isEmpty)
    }

    /// Each replacement leaves the sites it replaced in the table until they are half of it;
    /// the table is then made again from the sites the facts use, each fact still reading back
    /// as last recorded.
    @Test func replacedFactsLeaveTheTableOfSitesBounded() {
        var packed = PackedFacts()
        let count = 1_000
        func fact(_ index: Int, round: Int) -> GraphFact {
            .dependency(DependencyFact(
                dependency: LockDependency(
                    from: Int32(index), to: Int32(index + 1), kind: .lockOrder, types: .en,
                    holderSite: Self.site(round * 10_000 + 2 * index), site: Self.site(round * 10_000 + 2 * index + 1)),
                holderMode: .write, nextMode: .write, moment: MomentID(index: Int32(index))))
        }
        for index in 0..<count { packed.append(GraphFactLog.Entry(fact: fact(index, round: 0), file: 0, sequence: index), key: fact(index, round: 0).key) }
        #expect(packed.sitesKept == 2 * count)
        var most = 0
        for round in 1...20 {
            for index in 0..<count {
                packed.replace(at: index, with: GraphFactLog.Entry(fact: fact(index, round: round), file: round, sequence: index))
            }
            most = max(most, packed.sitesKept)
        }
        // 42,000 sites were kept in all; no more than 4,096 replaced ones (and one fact's
        // two) stay beside the 2,000 in use.
        #expect(most <= 2 * count + 4_098)
        for index in 0..<count {
            #expect("\(packed[index].fact)" == "\(fact(index, round: 20))")
            #expect(packed.file(at: index) == 20)
        }
    }

    /// Facts not replaced come through the table's remaking with their own sites: the first
    /// 3,000 of 10,000 facts replaced four times over (24,000 sites left, the table made
    /// again), the other 7,000 still read back as first recorded.
    @Test func factsNotReplacedKeepTheirSitesWhenTheTableIsMadeAgain() {
        var packed = PackedFacts()
        func fact(_ index: Int, round: Int) -> GraphFact {
            .dependency(DependencyFact(
                dependency: LockDependency(
                    from: Int32(index), to: Int32(index + 1), kind: .lockOrder, types: .en,
                    holderSite: Self.site(round * 100_000 + 2 * index), site: Self.site(round * 100_000 + 2 * index + 1)),
                holderMode: .write, nextMode: .read, moment: nil))
        }
        for index in 0..<10_000 {
            packed.append(GraphFactLog.Entry(fact: fact(index, round: 0), file: 0, sequence: index), key: fact(index, round: 0).key)
        }
        for round in 1...4 {
            for index in 0..<3_000 {
                packed.replace(at: index, with: GraphFactLog.Entry(fact: fact(index, round: round), file: round, sequence: index))
            }
        }
        #expect(packed.sitesKept < 20_000 + 24_000)
        for index in 0..<10_000 {
            #expect("\(packed[index].fact)" == "\(fact(index, round: index < 3_000 ? 4 : 0))")
        }
    }

    /// An NMI acquisition's count is kept apart from its packed bytes, and set in place.
    @Test func anNMIAcquisitionsCountIsSetInPlace() {
        var packed = PackedFacts()
        let fact = GraphFact.nmiAcquire(NmiAcquireFact(
            key: LockClassKey(name: Symbol(rawValue: 4), subclass: 1), mode: .write, afterUse: false, site: Self.site(1),
            moment: MomentID(index: 0), count: 1))
        packed.append(GraphFactLog.Entry(fact: fact, file: 0, sequence: 0), key: fact.key)
        packed.setNMICount(42, at: 0)
        guard case .nmiAcquire(let kept) = packed[0].fact else {
            Issue.record("not an NMI acquisition: \(packed[0].fact)")
            return
        }
        #expect(kept.count == 42)
    }
}
