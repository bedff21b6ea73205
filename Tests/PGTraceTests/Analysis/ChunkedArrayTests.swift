import Testing

@testable import PGTrace

/// The moments' arrays grow in chunks: every element is read back at its index, across the
/// chunks' edges, as many as were appended.
@Suite struct ChunkedArrayTests {
    @Test func everyElementReadsBackAcrossChunks() {
        var array = ChunkedArray<EventSite>()
        #expect(array.count == 0)
        let count = 3 * 4_096 + 5
        for index in 0..<count {
            array.append(EventSite(position: TracePosition(file: 0, line: index, column: 1, event: index), cpu: index % 7, task: nil, at: nil, function: nil))
        }
        #expect(array.count == count)
        for index in [0, 1, 4_095, 4_096, 4_097, 8_191, 8_192, 12_287, 12_288, count - 1] {
            #expect(array[index].position.line == index && array[index].position.event == index && array[index].cpu == index % 7)
        }
        #expect((0..<count).allSatisfy { array[$0].position.line == $0 })
    }
}
