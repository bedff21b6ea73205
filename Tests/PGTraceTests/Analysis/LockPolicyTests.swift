@testable import PGTrace
import Testing

/// A lock-order policy's closure: what `a < b` and `b < c` say of a and c, and where it was said.
@Suite struct LockPolicyTests {
    /// A derived ordering cites the line of its last step on the shortest way; an ordering
    /// said twice cites the first line that says it.
    @Test func eachOrderingCitesTheLineThatSaysItsLastStep() throws {
        let policy = try LockPolicy(text: "a < b\nb < c\nc < d\na < b < c\n", file: "p.txt")
        #expect(policy.declaration("a", before: "b")?.line == 1)
        #expect(policy.declaration("b", before: "c")?.line == 2)
        #expect(policy.declaration("a", before: "c")?.line == 2)
        #expect(policy.declaration("a", before: "d")?.line == 3)
        #expect(policy.declaration("d", before: "a") == nil)
        #expect(policy.declaration("a", before: "a") == nil)
    }

    /// A hierarchy of 10,000 classes, on one line or one step a line: every ordering is
    /// known. (The closure was cubic in the names, and a 4.5 KB policy took seconds; then it
    /// was made whole, 50 million orderings here, over 30 s and gigabytes: helper-138. Each
    /// is now searched for when asked.)
    @Test func aLongHierarchyIsClosedWhicheverWayItIsWritten() throws {
        let names = (1...10_000).map { "lock\($0)" }
        let oneLine = try LockPolicy(text: names.joined(separator: " < ") + "\n", file: "one.txt")
        let steps = try LockPolicy(text: zip(names, names.dropFirst()).map { "\($0) < \($1)\n" }.joined(), file: "steps.txt")
        #expect(oneLine.declaration("lock1", before: "lock10000")?.line == 1)
        #expect(steps.declaration("lock1", before: "lock10000")?.line == 9_999)
        #expect(steps.declaration("lock500", before: "lock501")?.line == 500)
        #expect(steps.declaration("lock10000", before: "lock1") == nil)
        #expect(steps.declaration("lock1", before: "lock1") == nil)
        #expect(steps.declaration("lock1", before: "nolock") == nil)
        // Closing the ring back to the start is a contradiction, cited where it closes.
        let ring = zip(names, names.dropFirst()).map { "\($0) < \($1)\n" }.joined() + "lock10000 < lock1\n"
        #expect {
            try LockPolicy(text: ring, file: "ring.txt")
        } throws: { error in
            (error as? TraceInputError)?.description == "ring.txt:10000:1: error: the policy orders 'lock1' before itself: 'lock1' and 'lock10000' are each declared before the other"
        }
    }

    /// Of two ways from a to d, the shorter is cited; of two as short, the one through the
    /// lesser name. A name the search passes over (ranked after d) changes nothing.
    @Test func aDerivedOrderingCitesTheShortestWayThroughTheLeastName() throws {
        let policy = try LockPolicy(text: "a < z\nz < d\na < m\nm < d\na < b < c < d\nz < q\n", file: "p.txt")
        #expect(policy.declaration("a", before: "d")?.line == 4)
        #expect(policy.declaration("b", before: "d")?.line == 5)
        #expect(policy.declaration("z", before: "q")?.line == 6)
        #expect(policy.declaration("a", before: "q")?.line == 6)
        #expect(policy.declaration("m", before: "q") == nil)
    }

    /// What a summary records of a policy (`digest`): each ordering of its closure, `a < b @
    /// file:line`, cited as `declaration(_:before:)` cites it, the names in order. Random
    /// policies of up to 30 names, their lines chains of two to four names in one hidden
    /// order, some said twice.
    @Test func theDigestHashesEveryOrderingOfTheClosureAsCited() throws {
        var random = SplitMix(state: 75)
        var orderings = 0
        for round in 0..<150 {
            let names = (0..<(2 + random.next(29))).map { "l\($0)\(["", "_a", "->b"][random.next(3)])" }.shuffled(using: &random)
            var lines: [String] = []
            for _ in 0..<(1 + random.next(2 * names.count)) {
                let ranks = Set((0..<(2 + random.next(3))).map { _ in random.next(names.count) }).sorted()
                guard ranks.count > 1 else { continue }
                lines.append(ranks.map { names[$0] }.joined(separator: " < "))
                if random.next(5) == 0 { lines.append(lines[random.next(lines.count)]) }
            }
            if lines.isEmpty { lines = [names[0] + " < " + names[1]] }
            let file = "policy\(round).txt"
            let policy = try LockPolicy(text: lines.joined(separator: "\n") + "\n", file: file)
            var expected = FNV1a64()
            for earlier in names.sorted() {
                for later in names.sorted() {
                    guard let declaration = policy.declaration(earlier, before: later) else { continue }
                    expected.add("\(earlier) < \(later) @ \(declaration.file):\(declaration.line)\n")
                    orderings += 1
                }
            }
            #expect(policy.digest == FNV1a64.hex(expected.value), "\(lines)")
        }
        #expect(orderings > 5_000)
        // Pinned: the digest a summary of this policy recorded before.
        #expect(try LockPolicy(text: "a < b\nb < c\nc < d\na < b < c\n", file: "p.txt").digest == "dba5c9d3ff65694f")
    }

    /// A name is its bytes, as a class's is: `é` as one scalar and as `e` and an accent are
    /// two names (a dictionary by Swift strings kept one of them, which one by the process's
    /// hash seed, and the digest changed from run to run: helper-146).
    @Test func aNameIsItsBytes() throws {
        let (composed, decomposed) = ("\u{E9}", "e\u{301}")
        let policy = try LockPolicy(text: "a < \(composed)\nb < \(decomposed)\n\(composed) < \(decomposed)\n", file: "p.txt")
        #expect(policy.declaration("a", before: composed)?.line == 1)
        #expect(policy.declaration("a", before: decomposed)?.line == 3)
        #expect(policy.declaration("b", before: decomposed)?.line == 2)
        #expect(policy.declaration("b", before: composed) == nil)
        #expect(policy.declaration(decomposed, before: composed) == nil)
        var expected = FNV1a64()
        // The names in Swift's order, and by their bytes where it takes them for equal: a, b,
        // then e and the accent (0x65) before é (0xC3).
        for line in ["a < \(decomposed) @ p.txt:3", "a < \(composed) @ p.txt:1", "b < \(decomposed) @ p.txt:2", "\(composed) < \(decomposed) @ p.txt:3"] {
            expected.add(line + "\n")
        }
        #expect(policy.digest == FNV1a64.hex(expected.value))
    }
}
