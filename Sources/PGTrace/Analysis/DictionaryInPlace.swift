extension Dictionary {
    /// Calls `body` with each key and its value, the value changed where it lies, in the
    /// table's order (for changes that do not depend on it).
    ///
    /// Walks the table by index: `for key in keys` (or a sorted copy of them) with a
    /// `self[key]` change in the loop copies the table or looks each key up again (8191
    /// lockless walks under 20,000 broadcast IPIs: 30 s); an index stays valid while values,
    /// not keys, change.
    mutating func updateEach(_ body: (Key, inout Value) -> Void) {
        var index = startIndex
        while index != endIndex {
            body(keys[index], &values[index])
            formIndex(after: &index)
        }
    }
}
