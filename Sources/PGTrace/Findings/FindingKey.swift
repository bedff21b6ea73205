import Glibc

/// The key of a finding made of class names (a cycle's, a kmap order's): the names sorted by
/// their UTF-8 bytes and joined by spaces, so that one problem met from any of its edges has
/// one key. Bytes, not Strings, as `FindingSet` compares keys and the symbol table names: two
/// names alike but for their Unicode normalization are two classes, and two names in a key.
enum FindingKey {
    /// `names` sorted by their bytes, joined by spaces; a name given twice (the same bytes)
    /// is in it once when `droppingRepeats`. Made in one allocation: sorted by index in a
    /// temporary buffer, the bytes copied into the key's storage (a cycle's report made its
    /// key through a sorted copy and `joined`, some 1.8k instructions for two names).
    static func of(_ names: [String], droppingRepeats: Bool = false) -> String {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: names.count) { buffer in
            var order = buffer
            for index in names.indices { order.initializeElement(at: index, to: index) }
            if order.count <= 8 {
                // A cycle's few names by insertion: the library's sort is some 370 instructions for two.
                for next in order.indices.dropFirst() {
                    let index = order[next]
                    var at = next
                    while at > 0, precedes(names[index], names[order[at - 1]]) {
                        order[at] = order[at - 1]
                        at -= 1
                    }
                    order[at] = index
                }
            } else {
                order.sort { precedes(names[$0], names[$1]) }
            }
            var kept = 0
            var length = 0
            for index in order {
                if droppingRepeats, kept > 0, !precedes(names[order[kept - 1]], names[index]) { continue }
                order[kept] = index
                kept += 1
                length += names[index].utf8.count
            }
            length += max(0, kept - 1)
            return String(unsafeUninitializedCapacity: length) { key in
                var at = 0
                for (place, index) in order[..<kept].enumerated() {
                    if place > 0 {
                        key[at] = UInt8(ascii: " ")
                        at += 1
                    }
                    let name = names[index].utf8
                    let copied = name.withContiguousStorageIfAvailable { bytes in
                        _ = UnsafeMutableBufferPointer(rebasing: key[at...]).initialize(from: bytes)
                    }
                    if copied == nil { _ = UnsafeMutableBufferPointer(rebasing: key[at...]).initialize(from: name) }
                    at += name.count
                }
                return at
            }
        }
    }

    /// Whether `a`'s UTF-8 bytes come before `b`'s (code-point order): memcmp where both are
    /// contiguous, as a native String is.
    static func precedes(_ a: String, _ b: String) -> Bool {
        let order = a.utf8.withContiguousStorageIfAvailable { a in
            b.utf8.withContiguousStorageIfAvailable { b -> Bool in
                let common = min(a.count, b.count)
                let compared = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
                return compared == 0 ? a.count < b.count : compared < 0
            }
        }
        return (order ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
