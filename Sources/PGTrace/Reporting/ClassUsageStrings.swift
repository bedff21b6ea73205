/// Lockdep's usage string of each class a finding's lock lines name (`{+.-.}`, and
/// `-{outer:inner}` for a class whose wait types a trace declares), by the name the lines
/// print (`AnalysisReport`, `FindingList.attach`): a snapshot of the analysis when the report
/// was made, however it goes on. A name is the class's of those bytes (`ByteName`): two
/// classes whose names are only canonically equivalent keep their own strings.
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
    private enum Strings {
        /// Each class's string by its printed name.
        case byName([ByteName: String])
        /// Each class's string by id, for the classes made when the report was (empty for a
        /// pseudo-lock, which has none), and where a name's class is found.
        case byClass([String], symbols: SymbolTable, classes: LockClassTable)
    }

    private let strings: Strings

    /// The strings of `analysis`'s classes now: by class where the report is read only where
    /// the analysis goes on (`readingNames`), else by name.
    init(_ analysis: Analysis, readingNames: Bool) {
        let proveRaw = analysis.proveRawLockNesting
        let byClass = (0..<ClassID(analysis.classes.count)).map { id in
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
        guard !readingNames else {
            strings = .byClass(byClass, symbols: analysis.symbols, classes: analysis.classes)
            return
        }
        var table: [ByteName: String] = [:]
        table.reserveCapacity(byClass.count)
        for id in byClass.indices where !byClass[id].isEmpty { table[ByteName(analysis.context.name(of: ClassID(id)))] = byClass[id] }
        strings = .byName(table)
    }

    /// The string of the class printed as `name` (`CheckerContext.name(of:)`): where two
    /// classes print the same (a class named `a/1`, and `a`'s subclass 1), the later made's,
    /// as the table by name, filled in class order, keeps it; nil for a name no class of the
    /// snapshot but a pseudo-lock prints.
    func usage(named name: String) -> String? {
        switch strings {
        case .byName(let table): return table[ByteName(name)]
        case .byClass(let strings, let symbols, let classes):
            var found: ClassID?
            func consider(_ key: LockClassKey) {
                guard let id = classes.existingID(for: key), Int(id) < strings.count, !strings[Int(id)].isEmpty else { return }
                found = max(found ?? id, id)
            }
            if let symbol = symbols.lookup(name) { consider(LockClassKey(name: symbol)) }
            // A subclass is printed `/N` after its name: the last '/' byte (no '/' is in N;
            // as a character, a '/' may be one with a prepended mark before it, U+0600).
            let bytes = name.utf8
            if let slash = bytes.lastIndex(of: UInt8(ascii: "/")) {
                let digits = String(decoding: bytes[bytes.index(after: slash)...], as: UTF8.self)
                if let subclass = Int(digits), subclass != 0, String(subclass) == digits,
                    let symbol = symbols.lookup(String(decoding: bytes[..<slash], as: UTF8.self))
                {
                    consider(LockClassKey(name: symbol, subclass: subclass))
                }
            }
            return found.map { strings[Int($0)] }
        }
    }
}
