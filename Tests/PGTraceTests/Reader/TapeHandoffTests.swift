import Foundation
@testable import PGTrace
import Testing

/// A trace file of many chunks is scanned on the caller's thread and decoded on another
/// (`TapeHandoff`); what comes out, events and errors alike, is what reading its bytes on one
/// thread gives: the same events in the same order, the first failure in the file whichever
/// thread met it, a consumer's error rethrown with nothing delivered after it.
@Suite(.serialized) struct TapeHandoffTests {
    /// Some 3,000 events (about 190 KB, three chunks): `bad` replaces the event at that
    /// index, `tail` the document's end.
    private func trace(events count: Int = 3_000, bad: (index: Int, text: String)? = nil, tail: String = "</events>\n</trace>\n") -> String {
        var text = "<?xml version=\"1.0\"?>\n<trace version=\"1\" cpus=\"4\">\n<classes>\n"
        text += "  <class name=\"mm->page_table_lock\" type=\"spinlock\"/>\n  <class name=\"pgd_lock\" type=\"spinlock\"/>\n</classes>\n<events>\n"
        for index in 0..<count {
            let cpu = index % 4
            let line: String
            if let bad, bad.index == index {
                line = bad.text
            } else if index % 2 == 0 {
                line = "  <acquire cpu=\"\(cpu)\" task=\"task\(index % 7)\" lock=\"pgd_lock\" fn=\"pgd_alloc\" t=\"\(index * 10)\"/>"
            } else {
                line = "  <release cpu=\"\(cpu)\" task=\"task\((index - 1) % 7)\" lock=\"pgd_lock\" t=\"\(index * 10)\"/>"
            }
            text += line + "\n"
        }
        return text + tail
    }

    private struct Reading {
        var header: String?
        var events: [String] = []
        var error: String?
    }

    /// `text` as a file of more than one chunk, opened for `body`, removed after.
    private func withFile<Result>(_ text: String, _ body: (TraceInput) throws -> Result) throws -> Result {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tape-\(UUID().uuidString).xml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let input = try TraceInput(path: path, displayName: "t.xml")
        #expect((input.size ?? 0) > TraceReader.chunkSize)
        return try body(input)
    }

    private func readFile(_ text: String, stopAfter: Int? = nil) throws -> Reading {
        try withFile(text) { input in
            read({ reader, header, event in try reader.read(input: input, decodesOnSecondThread: true, header: header, event: event) }, stopAfter: stopAfter)
        }
    }

    /// Calls of a closure made on a thread other than the one that made this.
    private final class OtherThreadCalls {
        private let caller = pthread_self()
        private(set) var count = 0
        func note() { if pthread_equal(pthread_self(), caller) == 0 { count += 1 } }
    }

    /// Reads `text` from a file: the events delivered, the calls of the read's closures
    /// (progress, header, event) made off the caller's thread, and the error it ended with.
    private func callsOfARead(_ text: String, decodesOnSecondThread: Bool) throws -> (events: Int, elsewhere: Int, error: Error?) {
        let elsewhere = OtherThreadCalls()
        var events = 0
        let error: Error? = try withFile(text) { input in
            do {
                try TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable()).read(
                    input: input, decodesOnSecondThread: decodesOnSecondThread, progress: { _, _ in elsewhere.note() },
                    header: { _ in elsewhere.note() },
                    event: { _ in
                        events += 1
                        elsewhere.note()
                    })
                return nil
            } catch {
                return error
            }
        }
        return (events, elsewhere.count, error)
    }

    private func readBytes(_ text: String, stopAfter: Int? = nil) -> Reading {
        read({ reader, header, event in try reader.read(bytes: Array(text.utf8), header: header, event: event) }, stopAfter: stopAfter)
    }

    private struct Stop: Error {}

    private func read(
        _ body: (TraceReader, (TraceHeader) throws -> Void, (Event) throws -> Void) throws -> Void, stopAfter: Int?
    ) -> Reading {
        let reader = TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable())
        var reading = Reading()
        do {
            try body(reader, { reading.header = "\($0)" }, { event in
                if let stopAfter, reading.events.count == stopAfter { throw Stop() }
                reading.events.append("\(event)")
            })
        } catch is Stop {
            reading.error = "stopped"
        } catch {
            reading.error = "\(error)"
        }
        return reading
    }

    @Test func aLongFileGivesTheEventsItsBytesGive() throws {
        let text = trace()
        let file = try readFile(text)
        let bytes = readBytes(text)
        #expect(file.error == nil)
        #expect(file.events.count == 3_000)
        #expect(file.events == bytes.events)
        #expect(file.header == bytes.header)
    }

    @Test(arguments: [
        // A bad attribute in the third chunk, then XML that is not well-formed at the end:
        // the decoder's failure is the first in the file, though libxml2 meets its own later.
        (2_500, "  <acquire cpu=\"x\" lock=\"pgd_lock\"/>", "</events>\n</trace"),
        (2_500, "  <acquire cpu=\"0\" lock=\"pgd_lock\" colour=\"red\"/>", "</events>\n</trace>\n"),
        (2_500, "  <frobnicate cpu=\"0\"/>", "</events>\n</trace>\n"),
        (2_500, "  text where none may stand", "</events>\n</trace>\n"),
        // libxml2's failure, in the second chunk, with nothing before it.
        (1_200, "  <acquire cpu=\"0\" lock=\"pgd_lock\"", "</events>\n</trace>\n"),
        // A trace cut short in the middle of <events>.
        (2_999, "  <release cpu=\"3\" lock=\"pgd_lock\"/>", ""),
    ])
    func theFirstFailureInTheFileIsTheOneReported(_ index: Int, _ bad: String, _ tail: String) throws {
        let text = trace(bad: (index, bad), tail: tail)
        let file = try readFile(text)
        let bytes = readBytes(text)
        #expect(file.error != nil)
        #expect(file.error == bytes.error)
        #expect(file.events == bytes.events)
    }

    /// Past a trace's first `TraceReader.oneChunkTapes` tapes a tape holds several chunks:
    /// 20,000 events (some 1.3 MB, 20 chunks) are eight tapes of one chunk, then tapes of
    /// four. Events, failures in a tape of four and a consumer's stop there are as reading
    /// the bytes on one thread gives them.
    @Test(arguments: [
        (nil, nil),
        (15_000, nil),
        (nil, 12_345),
    ] as [(Int?, Int?)])
    func aFileOfMoreChunksThanTapesGivesWhatItsBytesGive(_ badAt: Int?, _ stopAfter: Int?) throws {
        let text = trace(events: 20_000, bad: badAt.map { ($0, "  <acquire cpu=\"x\" lock=\"pgd_lock\"/>") })
        #expect(text.utf8.count > (TraceReader.oneChunkTapes + 2 * TraceReader.chunksPerTape) * TraceReader.chunkSize)
        let file = try readFile(text, stopAfter: stopAfter)
        let bytes = readBytes(text, stopAfter: stopAfter)
        #expect(file.events.count == stopAfter ?? badAt ?? 20_000)
        #expect(file.events == bytes.events)
        #expect(file.error == bytes.error)
        if let badAt { #expect(file.error?.hasPrefix("t.xml:\(8 + badAt):3: error: ") == true) }
    }

    @Test func aFailureNamesItsLineInALaterChunk() throws {
        let file = try readFile(trace(bad: (2_500, "  <acquire cpu=\"x\" lock=\"pgd_lock\"/>")))
        // Line 1 + 2 (root, <classes>) + 2 classes + </classes> + <events> = line 8 is event 0.
        #expect(file.error?.hasPrefix("t.xml:\(8 + 2_500):3: error: ") == true)
        #expect(file.events.count == 2_500)
    }

    @Test func aTagCutOffAtTheEndIsATraceCutShort() throws {
        // libxml2 hands the cut tag over as it finishes the document, without its lock: the
        // decoder's complaint about that is not what the user needs to hear.
        let text = trace(bad: (2_999, "  <acquire cpu=\"0\" task=\"t\" "), tail: "")
        let file = try readFile(text)
        #expect(file.error == readBytes(text).error)
        #expect(file.error?.contains("error: the trace ends early; expected an event element such as <acquire>, <release>, <irq-disable> or the end tags of </events>, </trace>") == true)
        #expect(file.events.count == 2_999)
    }

    @Test func aConsumersErrorStopsTheReadingAndNothingFollowsIt() throws {
        let file = try readFile(trace(), stopAfter: 1_700)
        #expect(file.error == "stopped")
        #expect(file.events.count == 1_700)
    }

    @Test func unlessAskedEveryCallIsMadeOnTheCallersThread() throws {
        let calls = try callsOfARead(trace(), decodesOnSecondThread: false)
        #expect(calls.error == nil)
        #expect(calls.events == 3_000)
        #expect(calls.elsewhere == 0)
    }

    @Test func withNoThreadToBeHadTheCallerDecodes() throws {
        // A process limit refuses the thread: the caller decodes, and nothing hangs.
        TapeHandoff.refusesThreads = true
        defer { TapeHandoff.refusesThreads = false }
        let calls = try callsOfARead(trace(bad: (2_500, "  <acquire cpu=\"x\" lock=\"pgd_lock\"/>")), decodesOnSecondThread: true)
        #expect(calls.error is TraceInputError)
        #expect(calls.events == 2_500)
        #expect(calls.elsewhere == 0)
    }

    @Test func theNamesOfTheLastTapesOutliveTheParser() throws {
        // The decoding lags: while the header's consumer sleeps, the scan reads all three
        // chunks (fewer than the tapes in circulation), ends the parse and frees the parser,
        // whose dictionary of names the tapes' attributes point into (`InternedNames` keeps
        // it). glibc fills what is freed with 0xA5 here (the whole process, for this read;
        // libxml2's first pool of names, some 1 KB, is past the per-thread cache, which
        // glibc does not fill), so a name read from a freed dictionary is no name pgtrace
        // knows. On a machine too slow to end the parse in 0.3 s the test proves nothing, and
        // still passes.
        let symbol = try #require(dlsym(dlopen(nil, RTLD_NOW), "mallopt"))
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        let perturb: Int32 = -6  // M_PERTURB, from <malloc.h>
        #expect(mallopt(perturb, 0xA5) == 1)
        defer { _ = mallopt(perturb, 0) }
        let text = trace(bad: (2_999, "  <release cpu=\"3\" lock=\"pgd_lock\" colour=\"red\"/>"))
        var events = 0
        var error: Error?
        try withFile(text) { input in
            do {
                try TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable()).read(
                    input: input, decodesOnSecondThread: true, header: { _ in usleep(300_000) }, event: { _ in events += 1 })
            } catch let failure {
                error = failure
            }
        }
        #expect(events == 2_999)
        #expect("\(error.map { "\($0)" } ?? "")".contains("t.xml:\(8 + 2_999):3: error: unknown attribute 'colour' on <release>"))
    }

    @Test func progressIsToldOfEveryChunkInOrder() throws {
        let text = trace()
        var told: [(read: Int, total: Int?, events: Int)] = []
        var events = 0
        try withFile(text) { input in
            try TraceReader(displayName: "t.xml", fileIndex: 0, symbols: SymbolTable()).read(
                input: input, decodesOnSecondThread: true, progress: { told.append(($0, $1, events)) },
                header: { _ in }, event: { _ in events += 1 })
        }
        #expect(told.map(\.read) == told.map(\.read).sorted())
        #expect(told.last?.read == text.utf8.count)
        #expect(told.allSatisfy { $0.total == text.utf8.count })
        // Told on the decoding side: the events of the chunks before each read.
        #expect(told.map(\.events) == told.map(\.events).sorted())
        #expect(told.last?.events == 3_000)
    }
}
