/// Where a capture's events go as `EventTranslator` makes them: the header once, then each
/// event. `TranslatingSink` hands them to one (`ClosureSink`, for `TraceImporter.read`); the
/// analysis applies them to its replay as they are made (`ReplaySink`).
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

extension TracePipeline.Sink: RecordSink {}
