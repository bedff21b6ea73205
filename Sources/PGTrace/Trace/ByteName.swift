import Glibc

/// Class names compared by their UTF-8 bytes, as the analysis tells classes apart (a symbol
/// is its bytes): where a report finds a class by the name it prints, two classes whose
/// names are canonically equivalent (`é` written as one scalar or as `e` and an accent) are
/// two. Swift's own comparison of strings takes such names for equal, and is no order a
/// binary search can trust among them (helper-145: with `가` written precomposed as `p` and
/// as two jamo as `d`, `p == d` and yet `p < s < d` for `s` = `가/2`).
protocol ByteOrder {
    /// Whether this key comes before `other`, byte by byte.
    func precedes(_ other: Self) -> Bool
    /// Whether this key is `other`'s bytes.
    func isSame(as other: Self) -> Bool
}

extension String: ByteOrder {
    /// Whether this string's UTF-8 bytes come before `other`'s (code-point order).
    func precedes(_ other: String) -> Bool { compareBytes(self, other) < 0 }

    /// Whether this string is `other`'s bytes (`FindingSet` tells keys apart so too).
    func isSame(as other: String) -> Bool { utf8.count == other.utf8.count && compareBytes(self, other) == 0 }
}

/// The order of `a`'s and `b`'s UTF-8 bytes, as memcmp gives it (negative, 0, positive):
/// memcmp where both are contiguous, as a native String is (through the UTF-8 views, a byte
/// at a time, the comparisons were 6% of drawing a million dependencies: helper-146).
private func compareBytes(_ a: String, _ b: String) -> Int {
    let order = a.utf8.withContiguousStorageIfAvailable { a in
        b.utf8.withContiguousStorageIfAvailable { b -> Int in
            let common = min(a.count, b.count)
            let compared = common == 0 ? 0 : Int(memcmp(a.baseAddress!, b.baseAddress!, common))
            return compared != 0 ? compared : a.count - b.count
        }
    }
    if let order = order ?? nil { return order }
    if a.utf8.elementsEqual(b.utf8) { return 0 }
    return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
}

/// A name as a key of a set or a dictionary, equal to another of the same bytes only.
struct ByteName: Hashable {
    let name: String

    init(_ name: String) { self.name = name }

    static func == (lhs: ByteName, rhs: ByteName) -> Bool { lhs.name.isSame(as: rhs.name) }

    func hash(into hasher: inout Hasher) {
        var name = name
        name.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
