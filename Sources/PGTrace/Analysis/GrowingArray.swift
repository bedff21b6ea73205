extension Array {
    /// Makes `index` a valid index, the new places holding `filler`: for the tables that grow
    /// one entry at a time as the replay meets what they are indexed by (classes, symbols,
    /// files, the words of a bitmap).
    ///
    /// Appends in place: `array += Array(repeating:count:)` made and freed a temporary array
    /// each time, with a lookup of its generic type's metadata (some 600 instructions: about
    /// a microsecond a new class, over the tables that grew so per class). One place, as the
    /// tables mostly grow, by a plain append: appending a repetition of one cost some 100.
    @inline(__always)
    mutating func grow(toInclude index: Int, filling filler: Element) {
        guard index >= count else { return }
        if index == count {
            append(filler)
        } else {
            append(contentsOf: repeatElement(filler, count: index + 1 - count))
        }
    }
}

extension Array {
    /// Empties a scratch array for its next use, keeping its room, and does nothing when it
    /// is empty already, as the order's stacks mostly are when a search begins (the last
    /// one's loop popped them empty, unless it stopped early): `removeAll(keepingCapacity:)`
    /// goes through `replaceSubrange` whatever the count, some 50 instructions, once per
    /// dependency the order places in the graph checks.
    @inline(__always)
    mutating func removeAllKeepingRoom() {
        if !isEmpty { removeAll(keepingCapacity: true) }
    }
}
