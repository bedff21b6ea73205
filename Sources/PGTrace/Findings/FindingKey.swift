/// The key of a finding made of class names (a cycle's, a kmap order's): the names sorted by
/// their UTF-8 bytes and joined by spaces, so that one problem met from any of its edges has
/// one key. Bytes, not Strings, as `FindingSet` compares keys and the symbol table names: two
/// names alike but for their Unicode normalization are two classes, and two names in a key.
enum FindingKey {
    /// `names` sorted by their bytes, joined by spaces: sorted by index in a temporary buffer,
    /// and the bytes copied once into the key's storage, with no sorted copy of the names and
    /// no joined intermediate.
    static func of(_ names: [String]) -> String {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: names.count) { buffer in
            var order = buffer
            for index in names.indices { order.initializeElement(at: index, to: index) }
            if order.count <= 8 {
                // A cycle's few names, by insertion.
                for next in order.indices.dropFirst() {
                    let index = order[next]
                    var at = next
                    while at > 0, names[index].precedes(names[order[at - 1]]) {
                        order[at] = order[at - 1]
                        at -= 1
                    }
                    order[at] = index
                }
            } else {
                order.sort { names[$0].precedes(names[$1]) }
            }
            let length = order.reduce(max(0, order.count - 1)) { $0 + names[$1].utf8.count }
            return String(unsafeUninitializedCapacity: length) { key in
                var at = 0
                for (place, index) in order.enumerated() {
                    if place > 0 {
                        key[at] = UInt8(ascii: " ")
                        at += 1
                    }
                    let name = names[index].utf8
                    let copied: Void? = name.withContiguousStorageIfAvailable { bytes in
                        _ = UnsafeMutableBufferPointer(rebasing: key[at...]).initialize(from: bytes)
                    }
                    if copied == nil { _ = UnsafeMutableBufferPointer(rebasing: key[at...]).initialize(from: name) }
                    at += name.count
                }
                return at
            }
        }
    }
}
