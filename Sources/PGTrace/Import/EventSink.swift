/// Where a capture's reader hands what it reads: the header once, then each event. The
/// analysis's pipeline is one (events go straight into its batches, no closure between);
/// `ClosureSink` adapts a pair of closures.
protocol EventSink: AnyObject {
    func header(_ header: TraceHeader) throws
    func event(_ event: Event) throws
}

/// An `EventSink` that calls closures (for `TraceImporter.read(header:event:)`).
final class ClosureSink: EventSink {
    private let onHeader: (TraceHeader) throws -> Void
    private let onEvent: (Event) throws -> Void

    init(header: @escaping (TraceHeader) throws -> Void, event: @escaping (Event) throws -> Void) {
        onHeader = header
        onEvent = event
    }

    func header(_ header: TraceHeader) throws { try onHeader(header) }
    func event(_ event: Event) throws { try onEvent(event) }
}

extension TracePipeline.Sink: EventSink, RecordSink {}
