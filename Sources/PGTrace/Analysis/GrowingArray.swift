extension Array {
    /// Makes `index` a valid index, the new places holding `filler`: for the tables indexed
    /// by class, symbol or table that grow one entry at a time as the replay meets them.
    ///
    /// Appends in place: `array += Array(repeating:count:)` made and freed a temporary array
    /// each time, with a lookup of its generic type's metadata (some 600 instructions, so
    /// about a microsecond a new class over the five tables that grew so).
    @inline(__always)
    mutating func grow(toInclude index: Int, filling filler: Element) {
        guard index >= count else { return }
        append(contentsOf: repeatElement(filler, count: index + 1 - count))
    }
}
