/// The intended lock hierarchy, as a kernel developer writes it by hand: one chain per line,
/// `a < b < c` meaning a is taken before b, and b before c. `#` starts a comment.
///
///     # pte locks nest inside the mm's page_table_lock
///     mm->page_table_lock < ptlock
///     # Andrea's kmap series order
///     kmap:PAGETABLE2 < kmap:PAGETABLE < kmap:DEFAULT
///
/// An acquisition that orders two classes against it is a `lock-order-policy` finding, cycle
/// or not.
public struct LockPolicy: Sendable {
    /// Where an ordering was declared.
    public struct Declaration: Sendable, Hashable {
        public var file: String
        public var line: Int
    }

    /// For each class, the classes that must be taken after it, with where that was said.
    private var after: [String: [String: Declaration]] = [:]

    public init() {}

    /// Parses a policy; errors name file:line:column.
    public init(text: String, file: String) throws {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingSpaces.trimmingCharacters(in: "\t\r")
            if trimmed.isEmpty { continue }
            let names = trimmed.split(separator: "<", omittingEmptySubsequences: false).map {
                String($0.trimmingSpaces.trimmingCharacters(in: "\t\r"))
            }
            if names.count < 2 || names.contains(where: \.isEmpty) {
                let column = (rawLine.firstIndex { $0 != " " && $0 != "\t" }).map { rawLine.distance(from: rawLine.startIndex, to: $0) + 1 } ?? 1
                throw TraceInputError(
                    file: file, line: lineNumber, column: column,
                    message: "expected an ordering like 'mm->page_table_lock < ptlock', got '\(trimmed)'")
            }
            for (index, earlier) in names.enumerated() {
                for later in names[(index + 1)...] {
                    after[earlier, default: [:]][later] = Declaration(file: file, line: lineNumber)
                }
            }
        }
        // Close transitively: a < b and b < c give a < c.
        var changed = true
        while changed {
            changed = false
            for (earlier, laters) in after {
                for (middle, declaration) in laters {
                    for (later, _) in after[middle] ?? [:] where after[earlier]?[later] == nil && later != earlier {
                        after[earlier, default: [:]][later] = declaration
                        changed = true
                    }
                }
            }
        }
    }

    public var isEmpty: Bool { after.isEmpty }

    /// Where the policy says `first` is taken before `second`, if it does.
    public func declaration(_ first: String, before second: String) -> Declaration? {
        after[first]?[second]
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var result = self
        while let first = result.first, set.contains(first) { result.removeFirst() }
        while let last = result.last, set.contains(last) { result.removeLast() }
        return result
    }
}
