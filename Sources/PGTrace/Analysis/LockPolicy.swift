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

    /// The names the policy orders, sorted (the order its searches and its digest go in),
    /// and each one's place there.
    private var names: [String] = []
    /// A name is its bytes (`ByteName`), as a class's is: two names only canonically
    /// equivalent are two, where a dictionary by Swift strings kept one of them, which one by
    /// the process's hash seed, and so the digest changed from run to run (helper-146).
    private var places: [ByteName: Int] = [:]
    /// Per name, the names written right after it on some line (`a < b`), in the order of
    /// `names`, each with the first line that says it. The rest follows by closure, which is
    /// not made: a hierarchy of 10,000 names has 50 million orderings (a 139 KB policy took
    /// over 30 s and gigabytes to close).
    private var successors: [[(name: Int, declaration: Declaration)]] = []
    /// A topological order of the names: every ordering goes from a lesser rank to a
    /// greater, so a search for `second` passes over names ranked after it.
    private var ranks: [Int] = []

    public init() {}

    /// Parses a policy; errors name file:line:column.
    public init(text: String, file: String) throws {
        var text = Substring(text)
        if text.first == "\u{FEFF}" { text = text.dropFirst() }
        /// The orderings as written: each name's next on a line (`a < b < c` gives a < b and
        /// b < c), the first line that says it.
        var direct: [ByteName: [ByteName: Declaration]] = [:]
        /// Each name, where first written.
        var written: [String] = []
        var known: Set<ByteName> = []
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
            var seen: Set<ByteName> = []
            for name in names where !seen.insert(ByteName(name)).inserted {
                throw TraceInputError(file: file, line: lineNumber, column: column, message: "'\(name)' cannot come before itself")
            }
            for name in names where known.insert(ByteName(name)).inserted { written.append(name) }
            for (earlier, later) in zip(names.map(ByteName.init), names.dropFirst().map(ByteName.init)) where direct[earlier]?[later] == nil {
                direct[earlier, default: [:]][later] = Declaration(file: file, line: lineNumber)
            }
        }
        // In Swift's order of strings, and of their bytes between two it takes for equal; from
        // the order they were written in, so that the sort is the same every run.
        names = written.sorted { $0 < $1 || (!($1 < $0) && $0.precedes($1)) }
        places = Dictionary(uniqueKeysWithValues: names.enumerated().map { (ByteName($1), $0) })
        successors = names.map { name in
            (direct[ByteName(name)] ?? [:]).map { (name: places[$0.key]!, declaration: $0.value) }.sorted { $0.name < $1.name }
        }
        // Kahn's algorithm: what it cannot rank lies on a cycle, or after one.
        var inDegrees = [Int](repeating: 0, count: names.count)
        for next in successors.joined() { inDegrees[next.name] += 1 }
        var ready = names.indices.filter { inDegrees[$0] == 0 }
        ranks = [Int](repeating: -1, count: names.count)
        var ranked = 0
        while let name = ready.popLast() {
            ranks[name] = ranked
            ranked += 1
            for next in successors[name] {
                inDegrees[next.name] -= 1
                if inDegrees[next.name] == 0 { ready.append(next.name) }
            }
        }
        guard ranked < names.count else { return }
        // A contradiction, told for the least name on a cycle, as a search from each name in
        // order would meet it: the cycle through it and the name before it on its shortest way
        // back (the least name first among equals).
        let edges = successors.indices.flatMap { from in successors[from].map { (from: Int32(from), to: Int32($0.name)) } }
        let components = StrongComponents.of(outDegrees: successors.map { Int32($0.count) }, edges: edges)
        var sizes: [Int32: Int] = [:]
        for component in components where component >= 0 { sizes[component, default: 0] += 1 }
        let first = names.indices.first { components[$0] >= 0 && sizes[components[$0]]! > 1 }!
        _ = try search(from: first) { middle, later, slot in
            guard later == first else { return false }
            throw TraceInputError(
                file: file, line: successors[middle][slot].declaration.line, column: 1,
                message: "the policy orders '\(names[first])' before itself: '\(names[first])' and '\(names[middle])' are each declared before the other")
        }
        preconditionFailure("a cycle through \(names[first]) that the search from it did not meet")
    }

    /// A breadth-first search from `start`, level by level, each level's names in the order
    /// they were reached and each one's successors in name order: `reached(middle, later,
    /// slot)` is called at each name first reached (where `later` is first reached from
    /// `middle`, as its successor number `slot` says, at that ordering's declaration), and the
    /// search stops when it returns true. `skipping` names are passed over. The order the
    /// closure's citations are defined by.
    private func search(
        from start: Int, skipping: (Int) -> Bool = { _ in false },
        _ reached: (_ middle: Int, _ later: Int, _ slot: Int) throws -> Bool
    ) rethrows -> Bool {
        var seen: Set<Int> = []
        return try search(from: start, skipping: skipping, isNew: { seen.insert($0).inserted }, reached)
    }

    /// `search(from:skipping:_:)`, where `isNew` marks a name reached and says whether it was
    /// not before (the digest keeps marks of its own across its searches).
    private func search(
        from start: Int, skipping: (Int) -> Bool, isNew: (Int) -> Bool,
        _ reached: (_ middle: Int, _ later: Int, _ slot: Int) throws -> Bool
    ) rethrows -> Bool {
        var frontier = [start]
        var next: [Int] = []
        while !frontier.isEmpty {
            next.removeAll(keepingCapacity: true)
            for middle in frontier {
                for (slot, later) in successors[middle].enumerated() where !skipping(later.name) && isNew(later.name) {
                    if try reached(middle, later.name, slot) { return true }
                    next.append(later.name)
                }
            }
            swap(&frontier, &next)
        }
        return false
    }

    public var isEmpty: Bool { names.isEmpty }

    /// What the policy says, as one short string (its orderings, closed, and where each was
    /// said): a summary records the policy its traces were checked against. Made when asked
    /// for, a search from each name (a summary's; `lint` never asks): the FNV-1a hash of
    /// `a < b @ file:line` and a newline for each ordering, the names in order, each cited as
    /// `search` first reaches it (as `declaration(_:before:)` cites it).
    ///
    /// The bytes are hashed as they are, not made into a line each: a line interpolated, a
    /// set of the names seen and the names reached sorted with their citations took 450 ns
    /// an ordering (5,000 names in one hierarchy: 12.5M orderings, 5.7 s).
    public var digest: String {
        var hash = FNV1a64()
        let nameBytes = names.map { Array($0.utf8) }
        // Each written ordering's citation, ` @ file:line` and the newline, as bytes.
        let citations = successors.map { $0.map { Array(" @ \($0.declaration.file):\($0.declaration.line)\n".utf8) } }
        let lessThan = Array(" < ".utf8)
        // Which search last reached each name (the name it began from), and from which
        // written ordering: marks kept across the searches, where a set of the names each
        // search reached was made anew for each.
        var reachedFrom = [Int](repeating: -1, count: names.count)
        var citation = [(middle: Int32, slot: Int32)](repeating: (0, 0), count: names.count)
        var reached: [Int] = []
        for earlier in names.indices where !successors[earlier].isEmpty {
            reached.removeAll(keepingCapacity: true)
            _ = search(
                from: earlier, skipping: { _ in false },
                isNew: { name in
                    guard reachedFrom[name] != earlier else { return false }
                    reachedFrom[name] = earlier
                    return true
                }
            ) { middle, later, slot in
                citation[later] = (Int32(middle), Int32(slot))
                reached.append(later)
                return false
            }
            // In name order: the marks read in order where the search reached many names, a
            // sort of the few it reached otherwise.
            if reached.count * 16 > names.count {
                reached = names.indices.filter { reachedFrom[$0] == earlier }
            } else {
                reached.sort()
            }
            for later in reached {
                let (middle, slot) = citation[later]
                hash.add(nameBytes[earlier])
                hash.add(lessThan)
                hash.add(nameBytes[later])
                hash.add(citations[Int(middle)][Int(slot)])
            }
        }
        return FNV1a64.hex(hash.value)
    }

    /// Where the policy says `first` is taken before `second`, if it does: a < b and b < c
    /// give a < c, cited at the line of b < c, b the last step of the shortest way from a (the
    /// least name first among equals), so the same policy cites the same lines every run. A
    /// search from `first` that passes over names ranked after `second`, which cannot lead
    /// to it (and is none where `first` is ranked after `second`).
    public func declaration(_ first: String, before second: String) -> Declaration? {
        guard let from = places[ByteName(first)], let to = places[ByteName(second)], ranks[from] < ranks[to] else { return nil }
        var found: Declaration?
        _ = search(from: from, skipping: { ranks[$0] > ranks[to] }) { middle, later, slot in
            guard later == to else { return false }
            found = successors[middle][slot].declaration
            return true
        }
        return found
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
