/// Reads a trace-cmd `trace.dat` through libtracecmd: the records of every cpu in timestamp
/// order, each record's fields read by name from the event formats the file carries (the
/// lock name, trylock and read flags, the lockdep_map address; `common_flags` for irq state
/// and context), never printed and parsed back. A record's number in that order stands for
/// its line in reports.
final class TraceDatReader {
    private let input: TraceInput
    private let symbols: SymbolTable
    private let fileIndex: Int
    private let options: TraceImporter.Options
    // The reading thread's own state (see TracePipeline): no other thread touches it.
    @exclusivity(unchecked) private(set) var summary = TraceImporter.Summary()
    @exclusivity(unchecked) private var tasks: TaskNames

    init(input: TraceInput, symbols: SymbolTable, fileIndex: Int, options: TraceImporter.Options) {
        self.input = input
        self.symbols = symbols
        self.fileIndex = fileIndex
        self.options = options
        tasks = TaskNames(symbols: symbols)
        summary.format = .traceDat
    }

    /// `progress` hears the number of records read so far, every 4096 records (a trace.dat
    /// is read by sections, so there is no byte offset to tell).
    func read(progress: ((_ records: Int) -> Void)? = nil, into sink: some RecordSink) throws {
        // A trace.dat is read by sections: a stream is copied (unnamed) before it is opened.
        let file = try TraceDatFile(descriptor: try input.seekableDescriptor())
        let cpus = file.cpuCount
        guard cpus >= 1, cpus <= TraceDecoder.maximumCPUs else {
            throw TraceInputError(
                file: input.displayName, line: 1, column: 1,
                message: CPULimit.declaredBeyondModel("the trace.dat", cpus))
        }
        var traceHeader = TraceHeader()
        traceHeader.partial = true
        traceHeader.fileIndex = fileIndex
        traceHeader.cpus = cpus
        traceHeader.source = "pgtrace import (trace.dat) of \(input.displayName)"
        try sink.header(traceHeader)
        var records = TraceDatRecords(file: file, symbols: symbols, rawNames: options.rawNames)
        records.declaredCPUs = cpus
        var count = 0
        try file.forEachRecord { record in
            try self.handle(record, of: file, cpus: cpus, records: &records, into: sink)
            count += 1
            if count & 4095 == 0 { progress?(count) }
        }
    }

    private func handle(
        _ record: TraceDatFile.Record, of file: TraceDatFile, cpus: Int, records: inout TraceDatRecords,
        into sink: some RecordSink
    ) throws {
        // A record's number in time order is its line.
        summary.lines += 1
        let number = summary.lines
        guard record.cpu >= 0, record.cpu < cpus else {
            throw TraceInputError(
                file: input.displayName, line: number, column: 1,
                message: "record on cpu \(record.cpu), past the \(cpus) cpus the file declares")
        }
        if record.missedEvents != 0 {
            let count = record.missedEvents > 0 ? Int(record.missedEvents) : nil
            summary.lostEvents.append((record.cpu, count, number))
            try sink.lost(cpu: record.cpu, count: count, line: number)
        }
        let pid = file.pid(record)
        let place = EventTranslator.Place(
            cpu: record.cpu, pid: pid, task: tasks.task(pid: pid, cpu: record.cpu) { file.command(pid: pid) },
            timestamp: Int64(clamping: record.timestamp),
            flags: TraceDatRecords.flagCharacters(file.flags(record)), line: number,
            preemptCount: UInt8(file.preemptCount(record) & 0xf))
        do {
            let reading = try records.reading(of: record).reading
            let kernelRecord = try reading.flatMap { try records.record($0, record) }
            try sink.record(kernelRecord, name: reading?.name, at: place)
            if kernelRecord == nil { summary.skipped[records.eventName(of: record), default: 0] += 1 }
        } catch let failure as DecodeFailure {
            throw TraceInputError(file: input.displayName, line: number, column: 1, message: failure.message)
        }
    }
}
