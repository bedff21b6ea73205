import Testing

@testable import PGTrace

/// The moments' and the fact log's arrays grow in chunks: every element is read back at its
/// index, across the chunks' edges, as many as were appended; a copy is a value; and the
/// elements the chunks hold are released with them.
@Suite struct ChunkedArrayTests {
    private static func site(_ index: Int) -> EventSite {
        EventSite(position: TracePosition(file: 0, line: index, column: 1, event: index), cpu: index % 7, task: nil, at: nil, function: nil)
    }

    @Test func everyElementReadsBackAcrossChunks() {
        var array = ChunkedArray<EventSite>()
        #expect(array.count == 0 && Array(array).isEmpty)
        let count = 3 * 4_096 + 5
        for index in 0..<count { array.append(Self.site(index)) }
        #expect(array.count == count)
        for index in [0, 1, 4_095, 4_096, 4_097, 8_191, 8_192, 12_287, 12_288, count - 1] {
            #expect(array[index].position.line == index && array[index].position.event == index && array[index].cpu == index % 7)
        }
        #expect((0..<count).allSatisfy { array[$0].position.line == $0 })
        #expect(array.map(\.position.line) == Array(0..<count))
    }

    /// Past the table's first room for four chunks, and copies taken at many sizes, each
    /// still as it was when taken.
    @Test func theTableOfChunksGrowsAndCopiesStayAsTaken() {
        var array = ChunkedArray<Int>()
        var copies: [ChunkedArray<Int>] = []
        for index in 0..<(9 * 4_096 + 1) {
            array.append(index)
            if index % 4_000 == 0 { copies.append(array) }
        }
        #expect(array.elementsEqual(0..<(9 * 4_096 + 1)))
        for (number, copy) in copies.enumerated() {
            #expect(copy.elementsEqual(0...(number * 4_000)))
        }
    }

    /// Walked to its end whatever its count (a chunk's edge, one past it), and a walk goes on
    /// over what it began on while the array it came from is changed.
    @Test(arguments: [0, 1, 4_095, 4_096, 4_097, 8_192, 12_288 + 1])
    func aWalkStopsAtTheEndAndKeepsWhatItBeganOn(count: Int) {
        var array = ChunkedArray<Int>()
        for index in 0..<count { array.append(index) }
        #expect(array.elementsEqual(0..<count))
        var walk = array.makeIterator()
        if count > 0 { array[0] = -1 }
        array.append(-2)
        var walked: [Int] = []
        while let next = walk.next() { walked.append(next) }
        #expect(walked == Array(0..<count))
        #expect(walk.next() == nil)
        #expect(array.count == count + 1 && array.last == -2 && (count == 0 || array[0] == -1))
    }

    @Test func anElementIsReplacedInPlace() {
        var array = ChunkedArray<Int>()
        for index in 0..<5_000 { array.append(index) }
        array[4_096] = -1
        array[0] = -2
        #expect(array[4_096] == -1 && array[0] == -2 && array[4_095] == 4_095 && array[4_097] == 4_097)
        #expect(array.count == 5_000)
    }

    @Test func aCopyIsAValue() {
        var array = ChunkedArray<Int>()
        for index in 0..<4_100 { array.append(index) }
        let copy = array
        array[4_099] = -1
        array.append(4_100)
        #expect(copy.count == 4_100 && copy[4_099] == 4_099 && copy.last == 4_099)
        #expect(array.count == 4_101 && array[4_099] == -1 && array[4_100] == 4_100)
        var other = copy
        other[0] = -3
        #expect(copy[0] == 0 && other[0] == -3 && array[0] == 0)
    }

    private final class Counted {
        static nonisolated(unsafe) var alive = 0
        init() { Self.alive += 1 }
        deinit { Self.alive -= 1 }
    }

    @Test func elementsAreReleasedWithTheArray() {
        do {
            var array = ChunkedArray<Counted>()
            for _ in 0..<4_097 { array.append(Counted()) }
            var copy = array
            copy[1] = Counted()
            // The copy shares the elements it did not replace.
            #expect(Counted.alive == 4_098)
            #expect(copy[1] !== array[1] && copy[0] === array[0] && copy[4_096] === array[4_096])
        }
        #expect(Counted.alive == 0)
    }

    private final class Tracked {
        static nonisolated(unsafe) var alive = 0
        let value: Int
        init(_ value: Int) {
            self.value = value
            Self.alive += 1
        }
        deinit { Self.alive -= 1 }
    }

    /// Removed from the end across a chunk's edge (its chunk freed), each element released as
    /// it goes; appends after fill the places again, read back at their indexes; a copy taken
    /// before keeps its elements.
    @Test func theLastIsRemovedAcrossAChunksEdgeAndAppendsFollowOn() {
        do {
            var array = ChunkedArray<Tracked>()
            for index in 0..<(4_096 + 2) { array.append(Tracked(index)) }
            let copy = array
            for _ in 0..<3 { array.removeLast() }
            #expect(array.count == 4_095 && array[4_094].value == 4_094)
            #expect(Tracked.alive == 4_098)
            array.append(Tracked(-1))
            array.append(Tracked(-2))
            #expect(array.count == 4_097 && array[4_095].value == -1 && array[4_096].value == -2)
            #expect(copy.count == 4_098 && copy[4_096].value == 4_096 && copy[4_097].value == 4_097)
            #expect(Tracked.alive == 4_100)
            while !array.isEmpty { array.removeLast() }
            #expect(Tracked.alive == 4_098)
            array.append(Tracked(7))
            #expect(array.count == 1 && array[0].value == 7 && Array(array.map(\.value)) == [7])
        }
        #expect(Tracked.alive == 0)
    }
}
