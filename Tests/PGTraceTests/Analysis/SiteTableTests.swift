import Testing

@testable import PGTrace

/// The table of sites that every dependency and every lock a moment lists are kept in: each
/// site reads back as it was kept, in 24 bytes where it fits and whole where it does not.
@Suite struct SiteTableTests {
    func site(
        file: Int = 3, line: Int = 120, column: Int = 5, event: Int = 4_000, cpu: Int = 2,
        task: Int32? = 7, at: Int32? = nil, function: Int32? = 11
    ) -> EventSite {
        EventSite(
            position: TracePosition(file: file, line: line, column: column, event: event), cpu: cpu,
            task: task.map(Symbol.init), at: at.map(Symbol.init), function: function.map(Symbol.init))
    }

    @Test func aSiteTakesTwentyFourBytes() {
        #expect(SiteTable.bytesPerSite == 24)
    }

    /// The edges of each field: what fits is packed, one past it is kept whole.
    @Test func everySiteReadsBackAsKept() {
        let top = EventSite.maximumPlace
        let biggest = Int32(1 << 21 - 2)  // its number + 1 is the largest 21 bits hold
        let packed = [
            site(),
            site(file: 0, line: 0, column: 0, event: 0, cpu: 0, task: nil, at: nil, function: nil),
            site(file: EventSite.maximumFiles - 1, line: top, column: 2_047, event: top, cpu: 8_191),
            site(line: -top - 1, event: -top - 1),
            site(line: -1, event: -1, cpu: 8_191),
            site(task: 0, at: 0, function: 0),
            site(task: biggest, at: biggest, function: biggest),
        ]
        let whole = [
            site(column: 2_048),
            site(column: -1),
            site(cpu: 8_192),
            site(cpu: EventSite.maximumFiles - 1),
            site(task: biggest + 1),
            site(at: biggest + 1),
            site(function: Int32.max),
            site(task: -2),  // no symbol the table makes, but a site can hold it
        ]
        var table = SiteTable()
        for site in packed { table.append(site) }
        #expect(table.keptWholeCount == 0)
        // Interleaved, so that a site kept whole between packed ones finds its own.
        let interleaved = whole.indices.flatMap { [whole[$0], packed[$0 % packed.count]] }
        for site in interleaved { table.append(site) }
        #expect(table.keptWholeCount == whole.count)
        let expected = packed + interleaved
        #expect(Array(table) == expected)
        #expect(table.count == expected.count)
    }
}
