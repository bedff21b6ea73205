import CLibTraceCmd

/// A trace.dat's event formats as the header walk read them (`TraceDatLayout`), for
/// libtraceevent to parse in a process of its own before libtracecmd parses them in
/// pgtrace's: libtraceevent trips on more corrupt formats than `EventFormatChecks` looks
/// for (a stray brace after a `?:`), and a crash in the other process ends it alone. Only the
/// formats are parsed there, in libtracecmd's order and with its settings, not the rest of
/// the headers: `analyze` of lisa's trace.dat took 20-40 ms more so, and 50-80 ms more with
/// libtracecmd's whole opening (kallsyms and all) tried apart.
struct EventFormatTexts {
    /// Every format's text, one after another.
    private var bytes: [UInt8] = []
    private var starts: [Int64] = []
    private var sizes: [Int64] = []
    /// Where each format's text is in the file, and the header_page's.
    private var places: [Int] = []
    private var headerPagePlace = 0
    /// The event systems' names, each ending in a NUL, and where each format's is.
    private var systemNames: [UInt8] = []
    private var systems: [Int64] = []
    private var system: Int64 = -1
    private var headerPage: [UInt8]?
    /// Where each section of formats begins (its first format's place), and whether
    /// libtracecmd reads the sections last first, as it does a version 7 file's (it puts each
    /// section it meets at the head of its list), header_page last.
    private var sections: [Int] = [0]
    private(set) var lastSectionFirst = false
    /// False when some formats were not read (a compressed section of a version 7 file):
    /// libtracecmd's whole opening is then tried apart instead.
    private(set) var complete = true

    /// The formats that follow are of `name`'s events (`ftrace` for the ftrace formats).
    mutating func beginSystem(_ name: some Collection<UInt8>) {
        system = Int64(systemNames.count)
        systemNames += name
        systemNames.append(0)
    }

    /// Adds the format `text`, which is at byte `place` of the file.
    mutating func appendFormat(_ text: ArraySlice<UInt8>, at place: Int) {
        starts.append(Int64(bytes.count))
        sizes.append(Int64(text.count))
        systems.append(system)
        places.append(place)
        bytes += text
    }

    mutating func setHeaderPage(_ text: ArraySlice<UInt8>, at place: Int) {
        headerPage = Array(text)
        headerPagePlace = place
    }

    /// The formats that follow are a section of a version 7 file's, which libtracecmd reads
    /// before those of the sections before it.
    mutating func beginSection() {
        lastSectionFirst = true
        if starts.count > sections.last! { sections.append(starts.count) }
    }

    mutating func missSome() { complete = false }

    /// How the parse apart ended: the signal that ended the child (SIGALRM: still parsing
    /// after the seconds it was given), 0 when it ended, or -1 when there was no child; and
    /// for a signal, what the child was parsing then, where the file holds it.
    struct Ending {
        var signal: Int32
        var at: (byte: Int, what: String)?
    }

    /// Parses them in a child process, with the file's byte order and long size.
    func parseApart(bigEndian: Bool, longSize: Int, seconds: Int) -> Ending {
        // In libtracecmd's order: the sections last first where it reads them so.
        var order = Array(starts.indices)
        if lastSectionFirst {
            let bounds = sections + [starts.count]
            order = (0..<sections.count).reversed().flatMap { bounds[$0]..<bounds[$0 + 1] }
        }
        let ordered = (starts: order.map { starts[$0] }, sizes: order.map { sizes[$0] }, systems: order.map { systems[$0] })
        var reached: Int32 = -2
        let signal = bytes.withUnsafeBufferPointer { bytes in
            ordered.starts.withUnsafeBufferPointer { starts in
                ordered.sizes.withUnsafeBufferPointer { sizes in
                    systemNames.withUnsafeBufferPointer { names in
                        ordered.systems.withUnsafeBufferPointer { systems in
                            (headerPage ?? []).withUnsafeBufferPointer { header in
                                pgtrace_parse_formats_apart(
                                    bytes.baseAddress, starts.baseAddress, sizes.baseAddress, names.baseAddress, systems.baseAddress,
                                    Int32(starts.count), headerPage == nil ? nil : header.baseAddress, Int64(header.count),
                                    lastSectionFirst ? 1 : 0, bigEndian ? 1 : 0, Int32(longSize), UInt32(seconds), &reached)
                            }
                        }
                    }
                }
            }
        }
        guard signal > 0 else { return Ending(signal: signal) }
        if reached == -1, headerPage != nil { return Ending(signal: signal, at: (headerPagePlace, "the header_page section")) }
        // `reached` counts in the order the child was given.
        guard order.indices.contains(Int(reached)) else { return Ending(signal: signal) }
        let format = order[Int(reached)]
        let text = bytes[Int(starts[format])..<Int(starts[format] + sizes[format])]
        return Ending(signal: signal, at: (places[format], EventFormatChecks.describe(text, otherwise: "an event format")))
    }
}
