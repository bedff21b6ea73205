import FoundationEssentials

/// Writes `LockStatistics` as /proc/lock_stat does (lock_stat version 0.4: its columns, times
/// in microseconds, each class's contention points under it) or as JSON (times in ns).
public struct LockStatReporter {
    public init() {}

    static let columns = [
        "con-bounces", "contentions", "waittime-min", "waittime-max", "waittime-total", "waittime-avg",
        "acq-bounces", "acquisitions", "holdtime-min", "holdtime-max", "holdtime-total", "holdtime-avg",
    ]

    /// Nanoseconds as lock_stat's microseconds with two decimals; `-` where nothing was timed.
    /// In 128 bits: a total past Int64's nanoseconds prints whole, and rounding the longest
    /// interval up (`+ 5`) cannot overflow.
    static func micros(_ nanoseconds: Int128?) -> String {
        guard let nanoseconds else { return "-" }
        let hundredths = (nanoseconds + 5) / 10
        let whole = hundredths / 100, fraction = hundredths % 100
        return "\(whole)." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// lock_stat's min, max, total and avg columns of `durations`.
    private static func times(_ durations: LockStatistics.Durations) -> [String] {
        guard durations.timed > 0 else { return ["-", "-", "-", "-"] }
        return [micros(Int128(durations.min)), micros(Int128(durations.max)), micros(durations.total), micros(durations.total / Int128(durations.timed))]
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// `entries` in lock_stat's order (`LockStatistics.sortedEntries`); the first `top`
    /// (all when nil), then how many were left out; each with its `points` top contention points.
    public func render(_ entries: [LockStatistics.Entry], top: Int? = nil, points: Int = 4, traces: Int, events: Int) -> String {
        let rule = String(repeating: "-", count: 40 + 15 * Self.columns.count) + "\n"
        var out = "lock_stat version 0.4 (pgtrace: \(traces) trace\(traces == 1 ? "" : "s"), \(events) event\(events == 1 ? "" : "s"); times in us)\n"
        out += rule + Self.pad("class name", 40) + " " + Self.columns.map { Self.pad($0, 14) }.joined(separator: " ") + "\n" + rule
        let shown = top.map { Array(entries.prefix($0)) } ?? entries
        for entry in shown {
            // lock_stat's rows (seq_stats): the write side when it has holds, `-W` if the read
            // side has some too, then `-R` for the read side's; an address (perf lock, waits
            // only) its one row.
            // A capture's names are shown, never obeyed by the terminal (`TerminalText`).
            let safeName = TerminalText.escaped(entry.name)
            let name = entry.isAddress ? "\(safeName) (address)" : safeName
            var rows: [(String, LockStatistics.Side)] = []
            if entry.write.hold.count > 0 { rows.append((entry.read.hold.count > 0 ? name + "-W" : name, entry.write)) }
            if entry.read.hold.count > 0 { rows.append((name + "-R", entry.read)) }
            if rows.isEmpty { rows.append((name, entry.total)) }
            out += "\n"
            for (label, side) in rows {
                let values = [String(side.contentionBounces), String(side.wait.count)] + Self.times(side.wait)
                    + [String(side.acquisitionBounces), String(side.hold.count)] + Self.times(side.hold)
                out += Self.pad(label + ":", 41) + " " + values.map { Self.pad($0, 14) }.joined(separator: " ") + "\n"
            }
            let mostContended = entry.contentionPoints.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(points)
            if !mostContended.isEmpty {
                out += Self.pad(String(repeating: "-", count: min(40, safeName.count)), 41) + "\n"
                for (point, count) in mostContended {
                    out += Self.pad(safeName, 41) + " " + Self.pad(String(count), 14) + "          " + TerminalText.escaped(point) + "\n"
                }
            }
        }
        if shown.count < entries.count {
            out += "\n... \(entries.count - shown.count) more classes (--top 0 shows every class)\n"
        }
        out += rule
        return out
    }

    private struct DurationsJSON: Encodable {
        var count: Int
        var timed: Int
        var min: Int64?
        var max: Int64?
        /// The exact sum, which may exceed Int64 (`LockStatistics.Durations`): a JSON integer
        /// of up to 39 digits.
        var total: Int128
        var mean: Int64?
        init(_ d: LockStatistics.Durations) {
            count = d.count
            timed = d.timed
            min = d.timed > 0 ? d.min : nil
            max = d.timed > 0 ? d.max : nil
            total = d.total
            mean = d.mean
        }
    }

    private struct PointJSON: Encodable {
        var site: String
        var count: Int
    }

    private struct SideJSON: Encodable {
        var acquisitions: Int
        var acquisitionBounces: Int
        var contentions: Int
        var contentionBounces: Int
        var waitNanoseconds: DurationsJSON
        var holdNanoseconds: DurationsJSON
        init(_ side: LockStatistics.Side) {
            acquisitions = side.hold.count
            acquisitionBounces = side.acquisitionBounces
            contentions = side.wait.count
            contentionBounces = side.contentionBounces
            waitNanoseconds = DurationsJSON(side.wait)
            holdNanoseconds = DurationsJSON(side.hold)
        }
    }

    /// A class: both sides together (their keys beside the class's own), then the two sides
    /// apart where the class was also taken for read (lock_stat's -W/-R).
    private struct EntryJSON: Encodable {
        var name: String
        var address: Bool?
        var total: SideJSON
        var write: SideJSON?
        var read: SideJSON?
        var contentionPoints: [PointJSON]

        private enum CodingKeys: String, CodingKey {
            case name, address, write, read, contentionPoints
        }

        func encode(to encoder: Encoder) throws {
            try total.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encodeIfPresent(address, forKey: .address)
            try container.encodeIfPresent(write, forKey: .write)
            try container.encodeIfPresent(read, forKey: .read)
            try container.encode(contentionPoints, forKey: .contentionPoints)
        }
    }

    private struct Document: Encodable {
        var classes: [EntryJSON]
        var summary: Summary
    }

    private struct Summary: Encodable {
        var traces: [String]
        var events: Int
    }

    /// Every entry, as JSON: `classes` in lock_stat's order, durations in nanoseconds.
    public func renderJSON(_ entries: [LockStatistics.Entry], traces: [String], events: Int) -> String {
        let document = Document(
            classes: entries.map { entry in
                let split = entry.read.hold.count > 0 || entry.read.wait.count > 0
                return EntryJSON(
                    name: entry.name, address: entry.isAddress ? true : nil, total: SideJSON(entry.total),
                    write: split ? SideJSON(entry.write) : nil, read: split ? SideJSON(entry.read) : nil,
                    contentionPoints: entry.contentionPoints.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                        .map { PointJSON(site: $0.key, count: $0.value) })
            },
            summary: Summary(traces: traces, events: events))
        return prettyJSON(document)
    }
}
