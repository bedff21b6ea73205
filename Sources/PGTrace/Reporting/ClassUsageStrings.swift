/// Lockdep's usage string of each class a finding's lock lines name (`{+.-.}`, and
/// `-{outer:inner}` for a class whose wait types a trace declares), by the name the lines
/// print (`AnalysisReport`, `FindingList.attach`): a snapshot of the analysis when the report
/// was made, however it goes on.
///
/// Why by class: a table by name took 67 bytes a class (17 MB of the 143 MB a text report of
/// 125k two-class cycles held at its peak). A string by class id is 16 bytes (six to twelve
/// characters, kept inline), and a name is found as the analysis finds it, in its symbols and
/// classes, which only grow: the classes made before the snapshot are the ones looked at.
/// That reads the analysis, so it is for a report read where the analysis goes on, if it
/// does (`AnalysisReport`'s `makingFindingsWhenRead`); a report that may be read on any
/// thread keeps the table by name.
final class ClassUsageStrings: @unchecked Sendable {
    // @unchecked: nothing here is written once made; the symbols and classes are read only
    // on the thread where the analysis goes on (`init(_:readingNames:)`), which this type
    // cannot check.
    private let table: [String: String]?
    private let symbols: SymbolTable
    private let classes: LockClassTable
    /// Each class's string, by id, for the classes made when the report was; empty for a
    /// pseudo-lock, which has none. (Empty beside a table.)
    private let strings: [String]

    /// The strings of `analysis`'s classes now: by class where the report is read only where
    /// the analysis goes on (`readingNames`), else by name.
    init(_ analysis: Analysis, readingNames: Bool) {
        symbols = analysis.symbols
        classes = analysis.classes
        let proveRaw = analysis.proveRawLockNesting
        let strings = (0..<ClassID(analysis.classes.count)).map { id in
            let entry = analysis.classes[id]
            guard !entry.isPseudo else { return "" }
            var text = analysis.graph.usage(of: id).lockdepString
            // lockdep's -{outer:inner}, for a class whose wait types the trace declares. A map
            // without a wait type is LD_WAIT_INV (0); lockdep prints the outer type, or the
            // inner where no outer is set: `-{0:0}`, `-{2:0}`.
            if entry.isDeclared, entry.waitInner != nil || entry.type == .map {
                let inner = entry.waitInner?.lockdepNumber(proveRawLockNesting: proveRaw) ?? 0
                let outer = entry.waitOuter?.lockdepNumber(proveRawLockNesting: proveRaw) ?? inner
                text += "-{\(outer):\(inner)}"
            }
            return text
        }
        if readingNames {
            (self.strings, table) = (strings, nil)
        } else {
            var table: [String: String] = [:]
            table.reserveCapacity(strings.count)
            for id in strings.indices where !strings[id].isEmpty { table[analysis.context.name(of: ClassID(id))] = strings[id] }
            (self.strings, self.table) = ([], table)
        }
    }

    /// The string of the class printed as `name` (`CheckerContext.name(of:)`): where two
    /// classes print the same (a class named `a/1`, and `a`'s subclass 1), the later made's,
    /// as the table by name, filled in class order, keeps it; nil for a name no class of the
    /// snapshot but a pseudo-lock prints.
    func usage(named name: String) -> String? {
        if let table { return table[name] }
        var found: ClassID?
        func consider(_ key: LockClassKey) {
            guard let id = classes.existingID(for: key), Int(id) < strings.count, !strings[Int(id)].isEmpty else { return }
            found = max(found ?? id, id)
        }
        if let symbol = symbols.lookup(name) { consider(LockClassKey(name: symbol)) }
        // A subclass is printed `/N` after its name (no '/' is in N, so only the last one).
        if let slash = name.lastIndex(of: "/") {
            let digits = name[name.index(after: slash)...]
            if let subclass = Int(digits), subclass != 0, String(subclass) == digits,
                let symbol = symbols.lookup(String(name[..<slash]))
            {
                consider(LockClassKey(name: symbol, subclass: subclass))
            }
        }
        return found.map { strings[Int($0)] }
    }
}
