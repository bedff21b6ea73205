/// Where a kernel capture's reader hands what it reads, in order: the header once, then each
/// record (with where it happened) and each mark of lost events. `TranslatingSink` makes
/// events of them at once (`import`, `TraceImporter.read`); the analysis's pipeline carries
/// them to the replay's thread and makes events of them there, so that the reading thread,
/// the busier of the two, only reads.
protocol RecordSink: AnyObject {
    func header(_ header: TraceHeader) throws
    /// A record at `place` (nil: one pgtrace does not read, whose flags still count).
    func record(_ record: KernelRecord?, name: KernelRecord.Name?, at place: EventTranslator.Place) throws
    /// Events lost on `cpu` (nil: on any), `count` of them if the kernel counted.
    func lost(cpu: Int?, count: Int?, line: Int) throws
}

/// A capture's record or mark of lost events, as it travels to the thread that translates it.
enum CapturedRecord {
    case record(KernelRecord?, name: KernelRecord.Name?, place: EventTranslator.Place)
    case lost(cpu: Int?, count: Int?, line: Int)

    /// Makes the events of this record with `translator`, into `sink`.
    func translate(with translator: inout EventTranslator, into sink: some EventSink) throws {
        switch self {
        case .record(let record, let name, let place): try translator.translate(record, name: name, at: place, into: sink)
        case .lost(let cpu, let count, let line): try translator.lost(cpu: cpu, count: count, line: line, into: sink)
        }
    }
}

/// A `RecordSink` that makes events of each record at once, into an `EventSink`.
final class TranslatingSink<Events: EventSink>: RecordSink {
    private let events: Events
    @exclusivity(unchecked) private var translator: EventTranslator

    init(fileIndex: Int, into events: Events) {
        self.events = events
        translator = EventTranslator(fileIndex: fileIndex)
    }

    /// How many events were made.
    var eventCount: Int { translator.eventCount }

    func header(_ header: TraceHeader) throws { try events.header(header) }

    func record(_ record: KernelRecord?, name: KernelRecord.Name?, at place: EventTranslator.Place) throws {
        try translator.translate(record, name: name, at: place, into: events)
    }

    func lost(cpu: Int?, count: Int?, line: Int) throws {
        try translator.lost(cpu: cpu, count: count, line: line, into: events)
    }
}
