import PGTrace
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

    /// A hierarchy of a thousand classes, on one line or one step a line: every ordering is
    /// known (the closure was cubic in the names, and a 4.5 KB policy took seconds).
    @Test func aLongHierarchyIsClosedWhicheverWayItIsWritten() throws {
        let names = (1...1000).map { "lock\($0)" }
        let oneLine = try LockPolicy(text: names.joined(separator: " < ") + "\n", file: "one.txt")
        let steps = try LockPolicy(text: zip(names, names.dropFirst()).map { "\($0) < \($1)\n" }.joined(), file: "steps.txt")
        #expect(oneLine.declaration("lock1", before: "lock1000")?.line == 1)
        #expect(steps.declaration("lock1", before: "lock1000")?.line == 999)
        #expect(steps.declaration("lock500", before: "lock501")?.line == 500)
        #expect(steps.declaration("lock1000", before: "lock1") == nil)
        // Closing the ring back to the start is a contradiction, cited where it closes.
        let ring = zip(names, names.dropFirst()).map { "\($0) < \($1)\n" }.joined() + "lock1000 < lock1\n"
        #expect {
            try LockPolicy(text: ring, file: "ring.txt")
        } throws: { error in
            (error as? TraceInputError)?.description.contains("the policy orders 'lock1' before itself") == true
        }
    }
}
