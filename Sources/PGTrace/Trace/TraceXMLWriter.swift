/// Writes typed events as trace format v1, the inverse of `TraceDecoder`: what `pgtrace
/// import` does with the events a kernel capture was read into, so that the XML it writes
/// analyses exactly as the capture does.
public struct TraceXMLWriter {
    private let symbols: SymbolTable
    /// Names escaped once, by symbol: the same tasks and locks recur at every event.
    private let escapedNames = EscapedNames()

    public init(symbols: SymbolTable) { self.symbols = symbols }

    private final class EscapedNames {
        var byRawValue: [String?] = []
    }

    /// The XML declaration, `<trace>` with its attributes, `<meta>` and `<classes>`, and
    /// `<events>`.
    public func prolog(_ header: TraceHeader) -> String {
        var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><trace version=\"1\""
        if let source = header.source { text += " source=\"\(XMLText.escaped(source, attribute: true))\"" }
        if let cpus = header.cpus { text += " cpus=\"\(cpus)\"" }
        if header.partial { text += " partial=\"true\"" }
        text += ">"
        if !header.configs.isEmpty || !header.notes.isEmpty {
            text += "<meta>"
            for config in header.configs {
                text += "<config name=\"\(XMLText.escaped(config.name, attribute: true))\" value=\"\(XMLText.escaped(config.value, attribute: true))\"/>"
            }
            for note in header.notes { text += "<note text=\"\(XMLText.escaped(note, attribute: true))\"/>" }
            text += "</meta>"
        }
        if !header.classes.isEmpty {
            text += "<classes>"
            for declaration in header.classes {
                text += "<class name=\"\(name(declaration.name))\" type=\"\(declaration.type.rawValue)\""
                if let slots = declaration.slots { text += " slots=\"\(slots)\"" }
                if let wait = declaration.declared.wait { text += " wait=\"\(wait.rawValue)\"" }
                if let outer = declaration.declared.waitOuter { text += " wait-outer=\"\(outer.rawValue)\"" }
                if declaration.declared.novalidate { text += " novalidate=\"true\"" }
                text += "/>"
            }
            text += "</classes>"
        }
        return text + "<events>"
    }

    /// Closes what `prolog` opened.
    public static let epilog = "</events></trace>\n"

    /// One event as an element.
    public func element(_ event: Event) -> String {
        var attributes: [(AttributeName, String)] = []
        func add(_ name: AttributeName, _ value: String) { attributes.append((name, value)) }
        func add(_ name: AttributeName, _ symbol: Symbol?) { if let symbol { add(name, self.name(symbol)) } }
        func flag(_ name: AttributeName, _ value: Bool) { if value { add(name, "true") } }
        func lock(_ ref: LockRef) {
            add(.lock, ref.name)
            add(.instance, ref.instance)
            if ref.subclass != 0 { add(.subclass, String(ref.subclass)) }
        }
        func targets(_ targets: CPUTargets) {
            switch targets {
            case .all: add(.targets, "all")
            case .others: add(.targets, "others")
            case .local: add(.targets, "local")
            case .list(let list): add(.targets, list.cpus.map(String.init).joined(separator: ","))
            }
        }
        func level(_ level: PageTableLevel?) { if let level { add(.level, level.rawValue) } }

        let element = ElementName(of: event.kind)
        switch event.kind {
        case .rcuReadLock(let flavor), .rcuReadUnlock(let flavor):
            if flavor != .rcu { add(.flavor, flavor.rawValue) }
        case .hardirqEnter(let irq, let threaded):
            if let irq { add(.irq, String(irq)) }
            if threaded { add(.threaded, "true") }
        case .softirqEnter(let vector):
            add(.vec, vector)
        case .bhState(let disabled):
            add(.disabled, disabled ? "true" : "false")
        case .acquire(let ref, let mode, let isTry, let irq, let bh, let nest):
            lock(ref)
            if mode != .write { add(.mode, mode.rawValue) }
            flag(.try, isTry)
            if let irq { add(.irq, irq.rawValue) }
            flag(.bh, bh)
            add(.nest, nest)
        case .release(let ref, let irq, let bh):
            lock(ref)
            if let irq { add(.irq, irq.rawValue) }
            flag(.bh, bh)
        case .contended(let ref), .acquired(let ref):
            lock(ref)
        case .contentionBegin(let instance), .contentionEnd(let instance):
            add(.instance, instance)
        case .ipiSend(let to, let wait, let reason):
            targets(to)
            flag(.wait, wait)
            add(.reason, reason)
        case .ipiHandle(let from):
            add(.from, String(from))
        case .pgdAlloc(let pgd), .pgdFree(let pgd), .listWalkVisit(let pgd):
            add(.pgd, pgd)
        case .pgdPopulate(let pgd, let index), .pgdClear(let pgd, let index):
            add(.pgd, pgd)
            add(.index, String(index))
        case .pgdListAdd(let pgd, let lock), .pgdListDel(let pgd, let lock):
            add(.pgd, pgd)
            add(.lock, lock)
        case .listWalkBegin(let walker):
            add(.walker, walker)
        case .setReadOnly(let page, let pageLevel, let ptl), .setReadWrite(let page, let pageLevel, let ptl):
            add(.page, page)
            level(pageLevel)
            add(.ptl, ptl)
        case .pin(let page, let pageLevel), .unpin(let page, let pageLevel):
            add(.page, page)
            level(pageLevel)
        case .ptWrite(let page), .pageFree(let page):
            add(.page, page)
        case .tlbFlush(let to, let mode, let wait):
            targets(to)
            if mode != .ipi { add(.mode, mode.rawValue) }
            flag(.wait, wait)
        case .walkAccess(let table), .tableUnlink(let table), .tableFree(let table):
            add(.table, table)
        case .kmap(let page, let series, let atomic, _):
            add(.page, page)
            add(.series, series)
            flag(.atomic, atomic)
        case .kunmap(let page, let series):
            add(.page, page)
            add(.series, series)
        case .eventsLost(let cpu, let count):
            var text = "<\(ElementName.eventsLost.rawValue)"
            if let cpu { text += " cpu=\"\(cpu)\"" }
            if let time = event.time { text += " t=\"\(time)\"" }
            if let count { text += " count=\"\(count)\"" }
            return text + "/>"
        default:
            break
        }
        var text = "<\(element.rawValue) cpu=\"\(event.cpu)\""
        if let task = event.task { text += " task=\"\(name(task))\"" }
        if let time = event.time { text += " t=\"\(time)\"" }
        for (attribute, value) in attributes { text += " \(attribute.name)=\"\(value)\"" }
        if let at = event.at { text += " at=\"\(name(at))\"" }
        if let function = event.function { text += " fn=\"\(name(function))\"" }
        if let count = event.preemptCount { text += " pc=\"\(count)\"" }
        return text + "/>"
    }

    private func name(_ symbol: Symbol) -> String {
        let index = Int(symbol.rawValue)
        if index < escapedNames.byRawValue.count, let name = escapedNames.byRawValue[index] { return name }
        let name = XMLText.escaped(symbols[symbol], attribute: true)
        // Up to 65,536 names are kept; past that (a capture of distinct addresses) each is
        // escaped again when it recurs.
        if index < 1 << 16 {
            while escapedNames.byRawValue.count <= index { escapedNames.byRawValue.append(nil) }
            escapedNames.byRawValue[index] = name
        }
        return name
    }
}
