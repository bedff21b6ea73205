import Foundation
@testable import PGTrace
import Testing

/// The timeline export against the Trace Event Format's documented fields (the JSON Object
/// Format: `traceEvents`, `displayTimeUnit`, `otherData`; each event's `name`, `ph`, `ts` in
/// microseconds, `pid`, `tid`; `B`/`E` duration events nested per thread, `b`/`e` async
/// events matched by `cat` and `id`, `i` instants with scope `s` of `g`, `p` or `t`, `M`
/// metadata `process_name`/`thread_name` with `args.name` and `thread_sort_index` with an
/// integer `args.sort_index`).
@Suite struct TimelineWriterTests {
    private func timeline(_ xml: String...) throws -> [String: Any] {
        var options = AnalysisOptions()
        options.graphChecks = .inPlace  // as `pgtrace timeline` runs it
        let analysis = Analysis(options: options)
        var text = ""
        let writer = TimelineWriter(context: analysis.context) { text += $0 }
        analysis.addObserver(writer)
        for (index, trace) in xml.enumerated() {
            try analysis.analyze(bytes: Array(trace.utf8), displayName: "t\(index).xml")
        }
        writer.finish()
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static let timedABBA = """
        <?xml version="1.0"?>
        <trace version="1" cpus="2"><events>
        <acquire cpu="0" task="insmod" t="1000" lock="A" fn="path_a"/>
        <acquire cpu="0" task="insmod" t="2000" lock="B" fn="path_a"/>
        <release cpu="0" task="insmod" t="3000" lock="A"/>
        <release cpu="0" task="insmod" t="4000" lock="B"/>
        <hardirq-enter cpu="1" task="bash" t="4500" irq="9"/>
        <hardirq-exit cpu="1" task="bash" t="4700"/>
        <acquire cpu="1" task="bash" t="5000" lock="B" fn="path_b"/>
        <acquire cpu="1" task="bash" t="6000" lock="A" fn="path_b"/>
        </events></trace>
        """

    @Test func everyEventHasTheFormatsFields() throws {
        let document = try timeline(Self.timedABBA)
        #expect(document["displayTimeUnit"] as? String == "ns")
        #expect((document["otherData"] as? [String: Any])?["timestamps"] as? String == "the trace's, in us")
        let events = try #require(document["traceEvents"] as? [[String: Any]])
        var depth: [Int: Int] = [:]
        var open: [String: Int] = [:]
        for event in events {
            let ph = try #require(event["ph"] as? String)
            #expect(["B", "E", "b", "e", "i", "M"].contains(ph), "\(event)")
            #expect(event["name"] is String && event["pid"] is Int, "\(event)")
            if ph == "M" {
                let args = try #require(event["args"] as? [String: Any])
                switch event["name"] as? String {
                case "process_name", "thread_name": #expect(args["name"] is String)
                case "thread_sort_index", "process_sort_index": #expect(args["sort_index"] is Int)
                default: Issue.record("unknown metadata \(event)")
                }
                continue
            }
            let ts = try #require((event["ts"] as? NSNumber)?.doubleValue)
            #expect(ts >= 0)
            switch ph {
            case "B", "E":
                let tid = try #require(event["tid"] as? Int)
                depth[tid, default: 0] += ph == "B" ? 1 : -1
                #expect(depth[tid]! >= 0)
            case "b", "e":
                // Scoped to the process (Perfetto draws a bare `id`'s spans on global tracks).
                let local = (event["id2"] as? [String: Any])?["local"] as? String
                let key = "\(event["pid"] as? Int ?? -1)/\(event["cat"] as? String ?? "")/\(local ?? "")"
                #expect(event["cat"] is String && local?.hasPrefix("0x") == true && event["id"] == nil)
                open[key, default: 0] += ph == "b" ? 1 : -1
                #expect(open[key]! >= 0 && open[key]! <= 1)
            default:
                #expect(["g", "p", "t"].contains(event["s"] as? String ?? ""), "\(event)")
                #expect(event["tid"] is Int)
            }
        }
        #expect(depth.values.allSatisfy { $0 == 0 })
        // The times are the trace's, in microseconds.
        let hardirq = try #require(events.first { $0["ph"] as? String == "B" })
        #expect(hardirq["name"] as? String == "hardirq 9")
        #expect(hardirq["ts"] as? Double == 4.5)
        // Thread ids are cpu + 1: Perfetto takes tid 0 for the process's main thread.
        #expect(hardirq["tid"] as? Int == 2)
        // A's hold on cpu 0 is an async span from 1 to 3 us.
        let holds = events.filter { $0["cat"] as? String == "lock" && $0["name"] as? String == "A" }
        #expect(holds.prefix(2).map { $0["ph"] as? String } == ["b", "e"])
        #expect(holds.prefix(2).map { $0["ts"] as? Double } == [1, 3])
        #expect((holds.first?["id2"] as? [String: String])?["local"] == (holds.dropFirst().first?["id2"] as? [String: String])?["local"])
        // The cycle is an instant at 6 us on cpu 1; the events it cites are flagged in place.
        let finding = try #require(events.first { ($0["name"] as? String)?.hasPrefix("circular-dependency:") == true })
        #expect(finding["ts"] as? Double == 6 && finding["tid"] as? Int == 2 && finding["s"] as? String == "g")
        #expect((finding["args"] as? [String: Any])?["rule"] as? String == "circular-dependency")
        let cited = events.filter { $0["name"] as? String == "cited by circular-dependency" }
            .map { "\($0["tid"] as? Int ?? -1)@\($0["ts"] as? Double ?? -1)" }
        #expect(Set(cited) == ["2@6.0", "2@5.0", "1@2.0"])
    }

    @Test func anUntimedTraceGetsOneMicrosecondPerEvent() throws {
        let document = try timeline("""
            <?xml version="1.0"?>
            <trace version="1"><events><acquire cpu="0" lock="A"/><release cpu="0" lock="A"/></events></trace>
            """)
        let events = try #require(document["traceEvents"] as? [[String: Any]])
        #expect(events.filter { $0["cat"] as? String == "lock" }.map { $0["ts"] as? Double } == [1, 2])
        #expect((document["otherData"] as? [String: Any])?["timestamps"] as? String == "the trace has no timestamps: one event per us")
    }

    private func events(_ document: [String: Any]) -> [[String: Any]] { document["traceEvents"] as? [[String: Any]] ?? [] }

    /// A finding that only the end of a trace shows (a pgd_list window still open) is
    /// flagged at the trace's last time; spans and holds still open end there too.
    @Test func whatTheEndShowsIsFlagged() throws {
        let shipped = try String(contentsOfFile: Repository.path("traces/seed000-pgd-ctor-lists-before-prepopulate.xml"), encoding: .utf8)
        let all = events(try timeline(shipped))
        let last = all.compactMap { ($0["ts"] as? NSNumber)?.doubleValue }.max()
        let finding = try #require(all.first { ($0["name"] as? String)?.hasPrefix("pgd-list-gap:") == true })
        #expect((finding["ts"] as? NSNumber)?.doubleValue == last)
        // A lock and an irq still open at the end end with the trace.
        let open = events(try timeline("""
            <?xml version="1.0"?>
            <trace version="1"><events><acquire cpu="1" lock="L" t="3000"/><hardirq-enter cpu="1" irq="5" t="4000"/></events></trace>
            """))
        #expect(open.filter { $0["ph"] as? String == "E" }.map { ($0["ts"] as? NSNumber)?.doubleValue } == [4])
        #expect(open.filter { $0["ph"] as? String == "e" }.map { ($0["ts"] as? NSNumber)?.doubleValue } == [4])
    }

    /// Each trace is its own pair of processes: two traces' times never overlay.
    @Test func eachTraceHasItsOwnProcesses() throws {
        let trace = """
            <?xml version="1.0"?>
            <trace version="1"><events><hardirq-enter cpu="0" irq="1" t="100"/><hardirq-exit cpu="0" t="300"/></events></trace>
            """
        let all = events(try timeline(trace, trace))
        let spans = all.filter { $0["ph"] as? String == "B" }.map { $0["pid"] as? Int }
        #expect(spans == [1, 3])
        let names = all.filter { $0["name"] as? String == "process_name" }.compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        #expect(names == ["t0.xml: cpus", "t0.xml: locks held", "t1.xml: cpus", "t1.xml: locks held"])
    }

    /// Lost events end an NMI in the replay; its span ends there too. An untimed event of a
    /// timed trace is placed at the time before it.
    @Test func lostEventsEndAnNMISpan() throws {
        let all = events(try timeline("""
            <?xml version="1.0"?>
            <trace version="1" partial="true"><events>
            <nmi-enter cpu="0" t="1000"/><events-lost cpu="0"/><hardirq-enter cpu="0" irq="3" t="5000"/>
            </events></trace>
            """))
        let phases = all.filter { ["B", "E"].contains($0["ph"] as? String) }.map { "\($0["ph"]!)@\(($0["ts"] as? NSNumber)?.doubleValue ?? -1)" }
        #expect(phases == ["B@1.0", "E@1.0", "B@5.0", "E@5.0"])
    }

    /// The binary writes the same document, to a file with -o.
    @Test func theCommandWritesATimeline() throws {
        let directory = try CommandRunner.temporaryDirectory("timeline")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try CommandRunner.run(["timeline", "-o", directory + "/t.json", "traces/thp-flush-under-page-table-lock.xml"])
        #expect(run.status == 0, "\(run.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/t.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let names = ((document["traceEvents"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
        #expect(names.contains { $0.hasPrefix("ipi-deadlock:") })
        #expect(names.contains("tlb-flush"))
    }
}
