@testable import PGTrace
import Testing

/// A site is packed small (the graph keeps two per dependency); it gives back what it took.
@Suite struct EventSiteTests {
    @Test func aSiteGivesBackWhatItTook() {
        let position = TracePosition(file: 3, line: 5_000_000_000, column: 140_000, event: 9_000_000_000)
        var site = EventSite(Event(kind: .irqEnable, cpu: 8191, task: Symbol(rawValue: 0), at: nil, function: Symbol(rawValue: 7), position: position))
        #expect(site.position == position)
        #expect(site.cpu == 8191)
        #expect(site.task == Symbol(rawValue: 0))
        #expect(site.at == nil)
        #expect(site.function == Symbol(rawValue: 7))
        site.task = nil
        site.at = Symbol(rawValue: 1)
        #expect(site.task == nil && site.at == Symbol(rawValue: 1))
        #expect(MemoryLayout<EventSite>.size <= 40)
    }
}

/// Events cross from the reading thread to the replay in batches of thousands: they are plain
/// values (an IPI's cpu list is an interned handle), copied bit for bit, never retained.
@Suite struct EventLayoutTests {
    @Test func anEventIsAPlainValue() {
        #expect(_isPOD(Event.self))
        #expect(CPUList([2, 0, 5]).cpus == [2, 0, 5])
        #expect(CPUList([2, 0, 5]) == CPUList([2, 0, 5]))
        #expect(CPUList([0, 2, 5]) != CPUList([2, 0, 5]))
    }

    /// A capture's records cross the same way (their names interned by the reader), and a
    /// batch of them weighs no more than a batch of events.
    @Test func aCapturedRecordIsAPlainValueNoLargerThanAnEvent() {
        #expect(_isPOD(KernelRecord.self))
        #expect(_isPOD(CapturedRecord.self))
        #expect(MemoryLayout<CapturedRecord>.stride <= MemoryLayout<Event>.stride)
    }
}
