/// A report's findings in their order (`Finding.canonical`), each made when it is read and let
/// go of after: a reporter that writes them one at a time holds one. Cycles' reports, all made
/// before the first was printed, took some 3 KB each (125k cycles: 543 MB for the text report,
/// 175 MB for the analysis; now 203 MB). What each entry keeps to be placed, counted and
/// selected without its text is its rule, severity, base fingerprint and occurrence (24 bytes).
///
/// Its findings come from made findings (`init(_:)`), or from an analysis's findings with
/// those of the graph not made yet (`CheckerContext.findingList`), whose makers it keeps.
public struct FindingList: RandomAccessCollection, Sendable {
    /// Where findings come from: made ones, and one analysis's pending graph findings with
    /// what lockdep's usage strings its lock lines print.
    final class Source: @unchecked Sendable {
        // @unchecked: nothing here is written once made. Its pending findings' makers are
        // handed out (`PendingFindingMaker.handOut`) and change no more, but they read their
        // analysis's names and moments when they make a finding, which that analysis may
        // still add to: such a list is read on the analysis's thread, or once the analysis is
        // over (`AnalysisReport.init(_:includingGraph:includingUsage:makingFindingsWhenRead:)`),
        // which this type cannot check.
        let made: [Finding]
        let pending: PendingFindings
        /// What the pending findings' makers read and do not keep (their analysis's context).
        let keeping: AnyObject?
        /// Each class's usage string, for a finding's lock lines (`AnalysisReport`); nil:
        /// none is attached.
        let usage: ClassUsageStrings?

        init(made: [Finding], pending: PendingFindings = PendingFindings(), keeping: AnyObject? = nil, usage: ClassUsageStrings? = nil) {
            self.made = made
            self.pending = pending
            self.keeping = keeping
            self.usage = usage
        }

    }

    /// A finding: its source and place there, and what it is placed, counted and chosen by.
    struct Entry {
        var print: UInt64
        /// Its place among its source's made findings, or its pending entries.
        var position: Int32
        var source: UInt32
        var occurrence: Int32
        var isPending: Bool
        var rule: Rule
        var severity: Severity
    }

    private var sources: [Source]
    private var entries: [Entry]

    /// `findings` as they are, in their order, with their own occurrences.
    public init(_ findings: [Finding] = []) {
        precondition(findings.count < Int(Int32.max), "more than 2^31 - 1 findings")
        sources = [Source(made: findings)]
        entries = findings.indices.map { index in
            let finding = findings[index]
            return Entry(
                print: finding.baseFingerprintValue, position: Int32(index), source: 0, occurrence: Int32(clamping: finding.occurrence),
                isPending: false, rule: finding.rule, severity: finding.severity)
        }
    }

    private init(sources: [Source], entries: [Entry]) {
        self.sources = sources
        self.entries = entries
    }

    /// The findings of `source`, its made ones (`made`, in the order they were met) and its
    /// pending ones (at `pendingAfter`: each pending entry's position and the number of made
    /// findings it goes after), put in their order and numbered by occurrence as
    /// `Finding.canonical` does.
    init(_ source: Source, pendingAfter: [(position: Int, after: Int)]) {
        precondition(source.made.count + pendingAfter.count < Int(Int32.max), "more than 2^31 - 1 findings")
        var entries: [Entry] = []
        entries.reserveCapacity(source.made.count + pendingAfter.count)
        func addPending(_ position: Int) {
            precondition(position < Int(Int32.max), "more than 2^31 - 1 pending findings")
            let entry = source.pending.entries[position]
            entries.append(Entry(
                print: source.pending.baseFingerprint(at: position), position: Int32(position), source: 0, occurrence: 1,
                isPending: true, rule: entry.rule, severity: entry.severity))
        }
        var next = 0
        for (index, finding) in source.made.enumerated() {
            while next < pendingAfter.count, pendingAfter[next].after <= index {
                addPending(pendingAfter[next].position)
                next += 1
            }
            entries.append(Entry(
                print: finding.baseFingerprintValue, position: Int32(index), source: 0, occurrence: 1,
                isPending: false, rule: finding.rule, severity: finding.severity))
        }
        for rest in pendingAfter[next...] { addPending(rest.position) }
        var list = FindingList(sources: [source], entries: entries)
        list.sortEntries()
        var occurrences: [UInt64: Int32] = [:]
        for index in list.entries.indices {
            let print = list.entries[index].print
            occurrences[print, default: 0] += 1
            list.entries[index].occurrence = occurrences[print]!
        }
        self = list
    }

    /// The findings of `lists` together, in their order; each keeps its occurrence (counted
    /// within its own list, as each analysis of a report counts its own).
    init(merging lists: [FindingList]) {
        self = lists.dropFirst().reduce(lists.first ?? FindingList(sources: [], entries: []), +)
        sortEntries()
    }

    /// Puts the entries in the findings' order (`Finding.precedes`), ties in the order they
    /// are in.
    private mutating func sortEntries() {
        let order = entries.indices.sorted { precedes(entries[$0], entries[$1]) }
        entries = order.map { entries[$0] }
    }

    /// `Finding.precedes` for two entries, reading a pending finding's places from its maker
    /// and making its text only to compare messages (two findings of one rule, fingerprint and
    /// places).
    private func precedes(_ a: Entry, _ b: Entry) -> Bool {
        Finding.precedes(locationCount(a), { element($0, of: a) }, locationCount(b), { element($0, of: b) })
    }

    private func locationCount(_ entry: Entry) -> Int {
        let source = sources[Int(entry.source)]
        return entry.isPending ? source.pending.locationCount(at: Int(entry.position)) : source.made[Int(entry.position)].locations.count
    }

    private func element(_ index: Int, of entry: Entry) -> OrderElement {
        let source = sources[Int(entry.source)]
        let position = Int(entry.position)
        guard entry.isPending else { return source.made[position].orderElement(index, { entry.print }) }
        return Finding.orderElement(
            index, locations: source.pending.locationCount(at: position),
            location: { source.pending.place($0, at: position) },
            rule: entry.rule, fingerprint: { entry.print }, message: { source.pending.finding(at: position).message })
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    /// Finding `index`, made now if it was pending.
    public subscript(index: Int) -> Finding {
        let entry = entries[index]
        let source = sources[Int(entry.source)]
        var finding: Finding
        if entry.isPending {
            finding = source.pending.madeFinding(at: Int(entry.position))
            // In a debug build, its fingerprint and places are the ones it was put in order by.
            assert(finding.baseFingerprintValue == entry.print, "a finding made with another's fingerprint")
            assert(
                finding.locations.count == source.pending.locationCount(at: Int(entry.position))
                    && finding.locations.indices.allSatisfy { index in
                        let (given, made) = (source.pending.place(index, at: Int(entry.position)), finding.locations[index].orderPlace)
                        return given.file == made.file && given.line == made.line && given.column == made.column && given.event == made.event
                    },
                "a finding made citing other places than its maker placed it by")
        } else {
            finding = source.made[Int(entry.position)]
        }
        finding.occurrence = Int(entry.occurrence)
        if let usage = source.usage { Self.attach(usage, to: &finding) }
        return finding
    }

    /// Gives each class `finding` names on a lock line (a dependency chain's, a held-lock
    /// list's, its body's) its usage string in `usage` (none, where `usage` has none).
    static func attach(_ usage: ClassUsageStrings, to finding: inout Finding) {
        // The names read in place: a link or held-lock line copied whole retains its
        // evidence's strings, a dozen each.
        let (chain, heldLocks, body) = (finding.chain, finding.heldLocks ?? [], finding.body)
        guard !chain.isEmpty || !heldLocks.isEmpty || !body.isEmpty else { return }
        var named = finding.usage
        finding.usage = [:]
        // Each name once: a cycle's lines name each of its classes two or three times, and
        // a string may be made for each asking (a set: a cycle of 60k classes names 60k).
        var given: Set<String> = []
        func give(_ name: String) {
            guard given.insert(name).inserted else { return }
            named[name] = usage.usage(named: name)
        }
        for link in chain.indices {
            give(chain[link].holder)
            give(chain[link].acquired)
        }
        for line in heldLocks.indices { give(heldLocks[line].lock) }
        for line in body { for name in line.locks { give(name) } }
        finding.usage = named
    }

    /// The findings at `positions` (in that order), made when read as these are.
    public func selecting(_ positions: some Sequence<Int>) -> FindingList {
        FindingList(sources: sources, entries: positions.map { entries[$0] })
    }

    /// The findings of `rules`.
    public func filter(rules: Set<Rule>) -> FindingList { selecting(indices.filter { rules.contains(entries[$0].rule) }) }

    /// These findings, then `other`'s.
    public static func + (list: FindingList, other: FindingList) -> FindingList {
        var joined = list
        let offset = UInt32(list.sources.count)
        joined.sources += other.sources
        joined.entries += other.entries.lazy.map { entry in
            var entry = entry
            entry.source += offset
            return entry
        }
        return joined
    }

    /// These findings, each class their lock lines name given its usage string in `usage`
    /// when they are read (the findings of one analysis: `AnalysisReport`).
    func giving(usage: ClassUsageStrings) -> FindingList {
        FindingList(
            sources: sources.map { Source(made: $0.made, pending: $0.pending, keeping: $0.keeping, usage: usage) }, entries: entries)
    }

    /// Whether a finding may print lock lines (a dependency chain, a held-lock list, a body
    /// naming locks), for which a report names each class's usage: a made one that has them,
    /// or one not made yet (a cycle).
    var mayNameLocks: Bool {
        entries.contains { entry in
            guard !entry.isPending else { return true }
            let finding = sources[Int(entry.source)].made[Int(entry.position)]
            return !finding.chain.isEmpty || !(finding.heldLocks ?? []).isEmpty || !finding.body.isEmpty
        }
    }

    /// Finding `index`'s rule, severity and fingerprint, read without making it.
    public func rule(at index: Int) -> Rule { entries[index].rule }
    public func severity(at index: Int) -> Severity { entries[index].severity }
    public func fingerprint(at index: Int) -> String {
        let entry = entries[index]
        let base = FNV1a64.hex(entry.print)
        return entry.occurrence > 1 ? "\(base)-\(entry.occurrence)" : base
    }

    /// The trace of finding `index`'s first place, read without making it.
    public func firstFile(at index: Int) -> String? {
        let entry = entries[index]
        let source = sources[Int(entry.source)]
        guard entry.isPending else { return source.made[Int(entry.position)].locations.first?.file }
        return source.pending.locationCount(at: Int(entry.position)) > 0 ? source.pending.place(0, at: Int(entry.position)).file : nil
    }

    /// How many of the findings are of `severity`.
    public func count(of severity: Severity) -> Int { entries.count { $0.severity == severity } }

    /// Whether a finding is at or above `threshold` (nil: none counts).
    public func contains(atLeast threshold: Severity?) -> Bool {
        guard let threshold else { return false }
        return entries.contains { $0.severity >= threshold }
    }
}
