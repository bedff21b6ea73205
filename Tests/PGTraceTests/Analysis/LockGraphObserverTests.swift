@testable import PGTrace
import Testing

/// The graph tells its observers of each new dependency before it enters, and of each usage
/// bit set, in the order they were added. The list a change walks is the one of when it
/// began: an observer added from inside a call hears the next change, not this one, and the
/// list being walked stays alive (the graph reads it unretained).
@Suite struct LockGraphObserverTests {
    final class Recorder: LockGraphObserver {
        let name: String
        let log: Log
        /// Added to the graph on this recorder's first call, if any.
        var adds: Recorder?
        init(_ name: String, _ log: Log, adds: Recorder? = nil) {
            (self.name, self.log, self.adds) = (name, log, adds)
        }
        func lockGraph(_ graph: LockGraph, willAdd fact: DependencyFact) {
            log.calls.append("\(name) add \(fact.dependency.from)->\(fact.dependency.to)")
            addOnce(to: graph)
        }
        func lockGraph(_ graph: LockGraph, didMark fact: UsageFact) {
            log.calls.append("\(name) mark \(fact.classID)")
            addOnce(to: graph)
        }
        private func addOnce(to graph: LockGraph) {
            guard let other = adds else { return }
            adds = nil
            graph.addObserver(other)
        }
    }

    final class Log { var calls: [String] = [] }

    static let site = EventSite(Event(kind: .irqEnable, cpu: 0, position: TracePosition(file: 0, line: 1, column: 1, event: 0)))

    static func dependency(_ from: ClassID, _ to: ClassID) -> DependencyFact {
        DependencyFact(
            dependency: LockDependency(from: from, to: to, kind: .lockOrder, types: .en, holderSite: site, site: site),
            holderMode: .write, nextMode: .write, moment: nil)
    }

    @Test(arguments: [1, 3, 4, 5, 8, 9, 12])
    func observersHearEachChangeInOrderAndOneAddedMidCallHearsTheNext(_ count: Int) {
        let graph = LockGraph()
        let log = Log()
        let late = Recorder("late", log)
        let recorders = (0..<count).map { Recorder("\($0)", log, adds: $0 == count - 1 ? late : nil) }
        for recorder in recorders { graph.addObserver(recorder) }
        #expect(graph.add(Self.dependency(0, 1)))
        graph.announce(UsageFact(classID: 1, bit: LockUsage.Bit(.hardirq, enabled: false, read: false), site: Self.site, lockSite: Self.site, lockMode: .write, moment: MomentID(index: 0)))
        #expect(!graph.add(Self.dependency(0, 1)))
        let names = recorders.map(\.name)
        #expect(log.calls == names.map { "\($0) add 0->1" } + (names + ["late"]).map { "\($0) mark 1" })
    }

    /// The first observer adds one in its call, which adds another in its own first call:
    /// each change walks the list of when it began to its end (the observers after the one
    /// that added), so a replaced list outlives the call that replaced it.
    @Test func aListReplacedMidCallIsWalkedToItsEnd() {
        let graph = LockGraph()
        let log = Log()
        let last = Recorder("last", log)
        let late = Recorder("late", log, adds: last)
        let recorders = [Recorder("0", log, adds: late), Recorder("1", log), Recorder("2", log)]
        for recorder in recorders { graph.addObserver(recorder) }
        #expect(graph.add(Self.dependency(0, 1)))
        #expect(graph.add(Self.dependency(1, 2)))
        #expect(graph.add(Self.dependency(2, 3)))
        #expect(log.calls == [
            "0 add 0->1", "1 add 0->1", "2 add 0->1",
            "0 add 1->2", "1 add 1->2", "2 add 1->2", "late add 1->2",
            "0 add 2->3", "1 add 2->3", "2 add 2->3", "late add 2->3", "last add 2->3",
        ])
    }
}
