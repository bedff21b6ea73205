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
        #expect(MemoryLayout<EventSite>.size == 32)
    }

    /// Lines and event numbers are 40 bits, signed (a class declaration's event is -1); files
    /// and cpus 24 bits; a greater number is kept as the greatest, never wrapped into another.
    @Test func placesKeepTheirRange() {
        let declaration = TracePosition(file: EventSite.maximumFiles - 1, line: EventSite.maximumPlace, column: Int(Int32.max), event: -1)
        var site = EventSite(position: declaration, cpu: 8191, task: nil, at: nil, function: nil)
        #expect(site.position == declaration)
        #expect(site.cpu == 8191)
        site.cpu = 3
        #expect(site.position == declaration && site.cpu == 3)
        site.position = TracePosition(file: 0, line: 1, column: 1, event: EventSite.maximumPlace)
        #expect(site.position.event == EventSite.maximumPlace && site.cpu == 3)
        let beyond = EventSite(
            position: TracePosition(file: 1 << 30, line: 1 << 45, column: 1 << 40, event: -(1 << 45)), cpu: 1 << 30,
            task: nil, at: nil, function: nil)
        #expect(beyond.position == TracePosition(file: EventSite.maximumFiles - 1, line: EventSite.maximumPlace, column: Int(Int32.max), event: -EventSite.maximumPlace - 1))
        #expect(beyond.cpu == EventSite.maximumFiles - 1)
        // A negative file or cpu is kept as 0, and its line and event as they were.
        let below = EventSite(position: TracePosition(file: -1, line: 7, column: 2, event: -1), cpu: -3, task: nil, at: nil, function: nil)
        #expect(below.position == TracePosition(file: 0, line: 7, column: 2, event: -1) && below.cpu == 0)
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
