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
        var text = Substring(text)
        if text.first == "\u{FEFF}" { text = text.dropFirst() }
        /// The orderings as written: each name's next on a line (`a < b < c` gives a < b and
        /// b < c), the first line that says it; the rest follows by closure.
        var direct: [String: [String: Declaration]] = [:]
        var lineNumber = 0
        // Lines end in \n or \r\n (a Character each), whatever wrote the file.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            var line = Substring(rawLine)
            // '#' starts a comment at the start of a line or after a blank; lockdep's class
            // names (key#3) keep theirs.
            if let hash = line.indices.first(where: { line[$0] == "#" && ($0 == line.startIndex || line[line.index(before: $0)].isWhitespace) }) {
                line = line[..<hash]
            }
            let trimmed = line.trimmingWhitespace
            if trimmed.isEmpty { continue }
            let names = trimmed.split(separator: "<", omittingEmptySubsequences: false).map { String($0.trimmingWhitespace) }
            let column = (rawLine.firstIndex { !$0.isWhitespace }).map { rawLine.distance(from: rawLine.startIndex, to: $0) + 1 } ?? 1
            if names.count < 2 || names.contains(where: \.isEmpty) {
                throw TraceInputError(
                    file: file, line: lineNumber, column: column,
                    message: "expected an ordering like 'mm->page_table_lock < ptlock', got '\(trimmed)'")
            }
            var seen: Set<String> = []
            for name in names where !seen.insert(name).inserted {
                throw TraceInputError(file: file, line: lineNumber, column: column, message: "'\(name)' cannot come before itself")
            }
            for (earlier, later) in zip(names, names.dropFirst()) where direct[earlier]?[later] == nil {
                direct[earlier, default: [:]][later] = Declaration(file: file, line: lineNumber)
            }
        }
        // Close transitively, a breadth-first search from each name: a < b and b < c give
        // a < c, cited at the line of b < c, b the last step of the shortest way from a (the
        // least name first among equals), so the same policy cites the same lines every run.
        // A chain of n names costs n searches of n steps, not n^3.
        let successors = direct.mapValues { $0.keys.sorted() }
        for earlier in direct.keys.sorted() {
            var reached: [String: Declaration] = [:]
            var frontier = [earlier]
            while !frontier.isEmpty {
                var next: [String] = []
                for middle in frontier {
                    for later in successors[middle] ?? [] where reached[later] == nil {
                        let declaration = direct[middle]![later]!
                        if later == earlier {
                            throw TraceInputError(
                                file: file, line: declaration.line, column: 1,
                                message: "the policy orders '\(earlier)' before itself: '\(earlier)' and '\(middle)' are each declared before the other")
                        }
                        reached[later] = declaration
                        next.append(later)
                    }
                }
                frontier = next
            }
            after[earlier] = reached
        }
    }

    public var isEmpty: Bool { after.isEmpty }

    /// What the policy says, as one short string (its orderings and where each was said):
    /// a summary records the policy its traces were checked against.
    public var digest: String {
        var text = ""
        for earlier in after.keys.sorted() {
            for (later, declaration) in after[earlier]!.sorted(by: { $0.key < $1.key }) {
                text += "\(earlier) < \(later) @ \(declaration.file):\(declaration.line)\n"
            }
        }
        return Finding.fnv1a64(text)
    }

    /// Where the policy says `first` is taken before `second`, if it does.
    public func declaration(_ first: String, before second: String) -> Declaration? {
        after[first]?[second]
    }
}

extension Substring {
    fileprivate var trimmingWhitespace: Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result.removeFirst() }
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}
