/// Sites kept in 24 bytes each, where an `EventSite` takes 32: the two stores that keep a site
/// for every dependency and for every lock a moment lists (`PackedFacts`, `MomentStore`).
///
/// A site keeps its line and file as `EventSite` does; its event number beside a cpu of 13
/// bits (readers refuse cpus from 8,192) and a column of 11; and its three symbols in 21 bits
/// each. A site whose cpu, column or symbols do not fit (a trace written on one long line, a
/// run past two million names) is kept whole beside the table, its place in the table
/// pointing there.
struct SiteTable: RandomAccessCollection {
    private struct Packed {
        /// As `EventSite` keeps it: the line over the file index.
        var lineAndFile: Int64
        /// The event number (high 40 bits, as `EventSite` keeps it), the cpu (13 bits) and
        /// the column (11 bits).
        var eventCPUAndColumn: Int64
        /// The task, `at` and function, each its symbol's number + 1 (0: none) in 21 bits;
        /// or, with the top bit set, the place of the site kept whole in `whole`.
        var symbols: UInt64
    }

    /// The bytes a site takes in the table (for tests).
    static var bytesPerSite: Int { MemoryLayout<Packed>.stride }

    private static let cpuBits = 13, columnBits = 11, symbolBits = 21
    private static let keptWhole: UInt64 = 1 << 63

    private var packed = ChunkedArray<Packed>()
    /// The sites that do not fit, in the order kept.
    private var whole: [EventSite] = []

    var startIndex: Int { 0 }
    var endIndex: Int { packed.count }

    /// How many sites are kept whole (for tests).
    var keptWholeCount: Int { whole.count }

    subscript(position: Int) -> EventSite {
        let entry = packed[position]
        if entry.symbols & Self.keptWhole != 0 { return whole[Int(truncatingIfNeeded: entry.symbols & ~Self.keptWhole)] }
        let low = entry.eventCPUAndColumn
        let cpu = low >> Self.columnBits & (1 << Self.cpuBits - 1)
        // A symbol's number + 1 in 21 bits, back to the number (-1 for none).
        func symbol(_ shift: UInt64) -> Int32 {
            Int32(truncatingIfNeeded: entry.symbols >> shift & (1 << UInt64(Self.symbolBits) - 1)) - 1
        }
        return EventSite(
            lineAndFile: entry.lineAndFile, eventAndCPU: low & ~0xFF_FFFF | cpu,
            columnValue: Int32(truncatingIfNeeded: low & (1 << Self.columnBits - 1)),
            taskValue: symbol(2 * UInt64(Self.symbolBits)), atValue: symbol(UInt64(Self.symbolBits)), functionValue: symbol(0))
    }

    mutating func append(_ site: EventSite) {
        let cpu = site.eventAndCPU & 0xFF_FFFF
        let column = site.columnValue
        // Symbols from -1 (none) to the largest whose number + 1 fits in 21 bits.
        let symbols = -1..<Int32(1 << Self.symbolBits - 1)
        if cpu < 1 << Self.cpuBits, column >= 0, column < 1 << Self.columnBits,
            symbols.contains(site.taskValue), symbols.contains(site.atValue), symbols.contains(site.functionValue)
        {
            func number(_ symbol: Int32) -> UInt64 { UInt64(symbol + 1) }
            packed.append(Packed(
                lineAndFile: site.lineAndFile,
                eventCPUAndColumn: site.eventAndCPU & ~0xFF_FFFF | cpu << Self.columnBits | Int64(column),
                symbols: number(site.taskValue) << (2 * UInt64(Self.symbolBits)) | number(site.atValue) << UInt64(Self.symbolBits)
                    | number(site.functionValue)))
        } else {
            packed.append(Packed(lineAndFile: 0, eventCPUAndColumn: 0, symbols: Self.keptWhole | UInt64(whole.count)))
            whole.append(site)
        }
    }
}
