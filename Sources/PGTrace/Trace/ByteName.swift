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
    /// Compared in place, with memcmp: through the UTF-8 views, a byte at a time, the
    /// comparisons were 6% of drawing a million dependencies (helper-146).
    func precedes(_ other: String) -> Bool {
        var (left, right) = (self, other)
        return left.withUTF8 { left in
            right.withUTF8 { right in
                let common = min(left.count, right.count)
                let order = common == 0 ? 0 : memcmp(left.baseAddress!, right.baseAddress!, common)
                return order != 0 ? order < 0 : left.count < right.count
            }
        }
    }

    func isSame(as other: String) -> Bool {
        var (left, right) = (self, other)
        return left.withUTF8 { left in
            right.withUTF8 { right in
                left.count == right.count && (left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
            }
        }
    }
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
