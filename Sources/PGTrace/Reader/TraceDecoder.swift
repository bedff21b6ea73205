/// Turns the elements of one trace document, in order, into its header, its class
/// declarations and typed events. It knows the document's structure and every element's
/// attributes; it knows nothing of XML syntax (that is `TraceReader`'s) nor of what the
/// events mean (that is the replay's).
struct TraceDecoder {
    enum Section { case document, trace, meta, classes, events, event, extensionElement }

    let fileIndex: Int
    let fileName: String
    let symbols: SymbolTable
    /// This file's class declarations so far, to refuse a conflicting second one.
    private var declared: [Symbol: TraceHeader.ClassDeclaration] = [:]

    private(set) var header = TraceHeader()
    private var stack: [Section] = [.document]
    private var seenSections: Set<ElementName> = []
    private var attributes = AttributeValues()
    private var eventCount = 0
    private var lastTime: Int64?
    private var extensionDepth = 0
    /// The list lock of a pgd-list event that names none.
    private let defaultListLock: Symbol
    /// The pool class of each kmap series seen ("kmap:" + series), interned once.
    private var kmapPools: [Symbol: Symbol] = [:]

    init(fileIndex: Int, fileName: String, symbols: SymbolTable) {
        self.fileIndex = fileIndex
        self.fileName = fileName
        self.symbols = symbols
        defaultListLock = symbols.intern("pgd_lock")
    }

    private mutating func kmapPool(_ series: Symbol) -> Symbol {
        if let pool = kmapPools[series] { return pool }
        let pool = symbols.intern("kmap:" + symbols[series])
        kmapPools[series] = pool
        return pool
    }

    /// What a start tag produced.
    enum Output {
        case none
        case header(TraceHeader)
        case event(Event)
    }

    /// Whether the document has been closed (its `</trace>` seen).
    var isComplete: Bool { !inEmptyElement && stack == [.document] && seenSections.contains(.trace) }

    /// Inside an empty element (an event, a config, a class), which pushes nothing.
    private var inEmptyElement = false

    /// Where the decoder stands.
    private var current: Section { inEmptyElement ? .event : stack.last! }

    /// Whether the decoder is inside an `x-` extension element, where anything goes.
    var isInExtension: Bool { extensionDepth > 0 }

    /// The most cpus a trace may name (x86's largest NR_CPUS): a bigger number is not a
    /// machine but a way to make the replay allocate without end.
    static let maximumCPUs = 8192

    /// How deep `x-` extension elements may nest: deeper is a nesting bomb, not a trace.
    static let maximumExtensionDepth = 256

    /// Enters an `x-` extension element, whose subtree is ignored.
    mutating func enterExtension() throws(DecodeFailure) {
        extensionDepth += 1
        if extensionDepth > Self.maximumExtensionDepth {
            throw DecodeFailure("x- extension elements nested more than \(Self.maximumExtensionDepth) deep")
        }
    }

    func unknownElement(_ name: String) -> DecodeFailure {
        DecodeFailure("unknown element <\(name)>; expected \(expectedChildren(of: current))")
    }

    /// Starts a known element; its attributes follow through `attribute(…)`, then `finish`.
    mutating func begin(_ element: ElementName, allowed: UInt64) {
        attributes.reset(for: element, allowed: allowed)
    }

    mutating func attribute(
        _ name: AttributeName?, rawName: () -> String, start: UnsafePointer<UInt8>, count: Int,
        mayHoldReference: Bool = true
    ) throws(DecodeFailure) {
        try attributes.set(name, rawName: rawName, start: start, count: count, mayHoldReference: mayHoldReference)
    }

    /// Decodes the element begun, now that its attributes are known.
    mutating func finish(line: Int, column: Int) throws(DecodeFailure) -> Output {
        let section = current
        let element = attributes.element
        switch (section, element) {
        case (.document, .trace):
            guard !seenSections.contains(.trace) else { throw DecodeFailure("a second <trace> root") }
            seenSections.insert(.trace)
            let version = try attributes.required(.version)
            guard version == "1" else {
                throw DecodeFailure("unsupported trace format version '\(version)'; this pgtrace reads version 1")
            }
            header.version = version
            header.source = attributes[.source]
            header.cpus = try attributes.integer(.cpus, minimum: 1)
            header.partial = try attributes.boolean(.partial)
            if let cpus = header.cpus, cpus > Self.maximumCPUs {
                throw DecodeFailure("cpus=\"\(cpus)\" is more than the \(Self.maximumCPUs) cpus pgtrace models (x86's largest NR_CPUS)")
            }
            stack.append(.trace)
            return .none
        case (.trace, .meta), (.trace, .classes), (.trace, .events):
            guard !seenSections.contains(element) else {
                throw DecodeFailure("a second <\(element.rawValue)> in <trace>")
            }
            if element != .events, seenSections.contains(.events) {
                throw DecodeFailure("<\(element.rawValue)> must come before <events>")
            }
            if element == .meta, seenSections.contains(.classes) {
                throw DecodeFailure("<meta> must come before <classes>")
            }
            seenSections.insert(element)
            stack.append(element == .meta ? .meta : element == .classes ? .classes : .events)
            return element == .events ? .header(header) : .none
        case (.meta, .config):
            header.configs.append((try attributes.required(.name), attributes[.value] ?? ""))
            inEmptyElement = true
            return .none
        case (.meta, .note):
            header.notes.append(try attributes.required(.text))
            inEmptyElement = true
            return .none
        case (.classes, .class):
            try declareClass(line: line, column: column)
            inEmptyElement = true
            return .none
        case (.events, _) where element.isEvent:
            let event = try decodeEvent(element, line: line, column: column)
            eventCount += 1
            inEmptyElement = true
            return .event(event)
        default:
            if section == .event {
                throw DecodeFailure("<\(element.rawValue)> inside an event; events are empty elements")
            }
            throw DecodeFailure("unexpected <\(element.rawValue)> here; expected \(expectedChildren(of: section))")
        }
    }

    mutating func endElement() -> Output {
        if extensionDepth > 0 {
            extensionDepth -= 1
            return .none
        }
        // The common case, an event: empty, so it never went on the stack.
        if inEmptyElement {
            inEmptyElement = false
            return .none
        }
        let closed = stack.removeLast()
        // A trace without <events> still has a header to report.
        if closed == .trace, !seenSections.contains(.events) { return .header(header) }
        return .none
    }

    /// What may stand at the current place, for error messages.
    func expectedChildren(of section: Section) -> String {
        switch section {
        case .document: return "<trace version=\"1\"> as the root element"
        case .trace: return "<meta>, <classes> or <events>"
        case .meta: return "<config name=… value=…/>"
        case .classes: return "<class name=… type=…/>"
        case .events: return "an event element such as <acquire>, <release>, <irq-disable>"
        case .event, .extensionElement: return "nothing (events are empty elements)"
        }
    }

    var expectedNow: String { expectedChildren(of: current) }

    /// Whether the root element has been seen.
    var hasStarted: Bool { seenSections.contains(.trace) }

    /// The elements still open, innermost last, for messages about a truncated trace.
    var openElements: String {
        (stack.dropFirst() + (inEmptyElement ? [.event] : [])).map { section -> String in
            switch section {
            case .trace: return "</trace>"
            case .meta: return "</meta>"
            case .classes: return "</classes>"
            case .events: return "</events>"
            case .event, .extensionElement, .document: return "the open element"
            }
        }.reversed().joined(separator: ", ")
    }

    private mutating func declareClass(line: Int, column: Int) throws(DecodeFailure) {
        let name = try symbol(.name)
        let type = try attributes.choice(.type, as: LockType.self) ?? .spinlock
        let slots = try attributes.integer(.slots, minimum: 1)
        let wait = try attributes.choice(.wait, as: WaitType.self)
        let waitOuter = try attributes.choice(.waitOuter, as: WaitType.self)
        let novalidate = try attributes.boolean(.novalidate)
        let position = TracePosition(file: fileIndex, line: line, column: column, event: -1)
        let declaration = TraceHeader.ClassDeclaration(
            name: name, declared: LockClassTable.Declared(type: type, slots: slots, wait: wait, waitOuter: waitOuter, novalidate: novalidate),
            position: position)
        if let earlier = declared[name] {
            guard earlier.declared == declaration.declared else {
                throw DecodeFailure(
                    "class '\(symbols[name])' declared again with another type, size or wait type (first at line \(earlier.position.line))")
            }
            return
        }
        declared[name] = declaration
        header.classes.append(declaration)
    }

    private mutating func decodeEvent(
        _ element: ElementName, line: Int, column: Int
    ) throws(DecodeFailure) -> Event {
        // A lost-events marker may name no cpu (a console that lost messages of every cpu).
        let cpu = element == .eventsLost ? try attributes.integer(.cpu) ?? 0 : try attributes.requiredInteger(.cpu)
        if cpu >= Self.maximumCPUs {
            throw DecodeFailure("cpu \(cpu) is out of range: pgtrace models at most \(Self.maximumCPUs) cpus (x86's largest NR_CPUS)")
        }
        if let cpus = header.cpus, cpu >= cpus {
            throw DecodeFailure("cpu \(cpu) is out of range: the trace declares cpus=\"\(cpus)\"")
        }
        let time = try attributes.integer(.t).map(Int64.init)
        if let time {
            if let lastTime, time < lastTime {
                throw DecodeFailure("t=\(time) goes back in time (an earlier event has t=\(lastTime))")
            }
            lastTime = time
        }
        return Event(
            kind: try decodeKind(element, cpu: cpu),
            cpu: cpu,
            task: attributes.symbol(.task, in: symbols, hint: attributes.taskHint(cpu: cpu)),
            time: time,
            at: attributes.symbol(.at, in: symbols),
            function: attributes.symbol(.fn, in: symbols),
            preemptCount: try preemptCount(),
            position: TracePosition(file: fileIndex, line: line, column: column, event: eventCount))
    }

    /// `pc`: a sampled preempt count, 0 to 255.
    @inline(__always)
    private func preemptCount() throws(DecodeFailure) -> UInt8? {
        guard let value = try attributes.integer(.pc) else { return nil }
        guard value <= 255 else {
            throw DecodeFailure("attribute 'pc' of <\(attributes.element.rawValue)> is \(value); a preempt count is 0 to 255")
        }
        return UInt8(value)
    }

    private func symbol(_ name: AttributeName) throws(DecodeFailure) -> Symbol {
        let symbols = self.symbols
        let element = attributes.element
        let hint = attributes.hint(name)
        guard let symbol = try attributes.withBytes(name, { (bytes) throws(DecodeFailure) -> Symbol in
            guard !bytes.isEmpty else {
                throw Self.empty(name, of: element)
            }
            return symbols.intern(bytes: bytes, recent: hint)
        }) else { throw attributes.missing(name) }
        return symbol
    }

    /// An optional name: absent is fine, empty is not (the schema's `name` type).
    @inline(__always)
    private func optionalSymbol(_ name: AttributeName) throws(DecodeFailure) -> Symbol? {
        guard attributes.has(name) else { return nil }
        guard !attributes.isEmpty(name) else {
            throw Self.empty(name, of: attributes.element)
        }
        return attributes.symbol(name, in: symbols)
    }

    private static func empty(_ name: AttributeName, of element: ElementName) -> DecodeFailure {
        DecodeFailure("attribute '\(name.name)' of <\(element.rawValue)> is empty")
    }

    private func lockRef() throws(DecodeFailure) -> LockRef {
        LockRef(
            name: try symbol(.lock),
            subclass: try subclass(),
            instance: try optionalSymbol(.instance))
    }

    /// A release's lock, as `lockRef` decodes it (its lock, subclass and instance, checked in
    /// that order), looked for first among the locks the trace took on `cpu` (`HeldNames`)
    /// and taken out of them. Kept beside `lockRef` rather than folded into it: one function
    /// for both, with the list optional, cost every acquisition's decoding some 70 more
    /// instructions (callgrind, kernel row at 250k events: +0.7% in all).
    private func releasedLockRef(cpu: Int) throws(DecodeFailure) -> LockRef {
        let symbols = self.symbols
        let held = attributes.held(cpu: cpu)
        let hint = attributes.hint(.lock)
        guard let (name, position) = try attributes.withBytes(.lock, { (bytes) throws(DecodeFailure) -> (Symbol, Int?) in
            guard !bytes.isEmpty else { throw Self.empty(.lock, of: .release) }
            let key = NameKey(bytes)
            if let position = held.position(of: bytes, key: key, in: symbols) { return (held.lock(at: position), position) }
            return (symbols.intern(bytes: bytes, key: key, recent: hint), nil)
        }) else { throw attributes.missing(.lock) }
        let subclass = try subclass()
        guard let position else {
            return LockRef(name: name, subclass: subclass, instance: try optionalSymbol(.instance))
        }
        var instance: Symbol?
        if let kept = held.instance(at: position), attributes.has(.instance), !attributes.isEmpty(.instance) {
            instance = try attributes.withBytes(.instance) { (bytes) throws(DecodeFailure) -> Symbol? in
                symbols.matches(kept, NameKey(bytes), bytes) ? kept : nil
            } ?? nil
        }
        if instance == nil { instance = try optionalSymbol(.instance) }
        held.remove(at: position)
        return LockRef(name: name, subclass: subclass, instance: instance)
    }

    /// `subclass`: lockdep's nesting subclass, 0 to 7 (MAX_LOCKDEP_SUBCLASSES is 8). Lockdep
    /// refuses a larger one, and a summary cannot hold one: a trace that has one is refused
    /// here, where it is written, not after it was analysed.
    private func subclass() throws(DecodeFailure) -> Int {
        guard attributes.has(.subclass) else { return 0 }
        let element = attributes.element
        return try attributes.withBytes(.subclass) { (bytes) throws(DecodeFailure) -> Int in
            guard let value = AttributeValues.parseInteger(bytes), (0..<LockClassKey.subclasses).contains(value) else {
                throw DecodeFailure(
                    "attribute 'subclass' of <\(element.rawValue)> must be \(LockClassKey.subclassRule), not '\(String(decoding: bytes, as: UTF8.self))'")
            }
            return value
        } ?? 0
    }

    private func targets() throws(DecodeFailure) -> CPUTargets {
        let text = try attributes.required(.targets)
        switch text {
        case "all": return .all
        case "others": return .others
        case "local": return .local
        default:
            var cpus: [Int] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = part.trimmingSpaces
                guard trimmed.allSatisfy(\.isNumber), let cpu = Int(trimmed) else {
                    throw DecodeFailure(
                        "attribute 'targets' of <\(attributes.element.rawValue)> must be all, others, local or a list of cpus like 0,2,5, not '\(text)'"
                    )
                }
                if cpu >= Self.maximumCPUs || header.cpus.map({ cpu >= $0 }) == true {
                    let count = header.cpus ?? Self.maximumCPUs
                    throw DecodeFailure("target cpu \(cpu) is out of range: the trace declares cpus=\"\(count)\"")
                }
                cpus.append(cpu)
            }
            return .list(CPUList(cpus))
        }
    }

    private mutating func decodeKind(_ element: ElementName, cpu: Int) throws(DecodeFailure) -> EventKind {
        switch element {
        case .irqDisable: return .irqDisable
        case .nmiEnter: return .nmiEnter
        case .rcuReadLock: return .rcuReadLock(flavor: try attributes.choice(.flavor, as: RcuFlavor.self) ?? .rcu)
        case .rcuReadUnlock: return .rcuReadUnlock(flavor: try attributes.choice(.flavor, as: RcuFlavor.self) ?? .rcu)
        case .nmiExit: return .nmiExit
        case .irqEnable: return .irqEnable
        case .hardirqEnter: return .hardirqEnter(irq: try attributes.integer(.irq), threaded: try attributes.boolean(.threaded))
        case .hardirqExit: return .hardirqExit
        case .softirqEnter: return .softirqEnter(vector: try optionalSymbol(.vec))
        case .softirqExit: return .softirqExit
        case .bhDisable: return .bhDisable
        case .bhEnable: return .bhEnable
        case .bhState: return .bhState(disabled: try attributes.boolean(.disabled))
        case .mightSleep: return .mightSleep
        case .preemptDisable: return .preemptDisable
        case .preemptEnable: return .preemptEnable
        case .acquire:
            let lock = try lockRef()
            attributes.held(cpu: cpu).push(lock.name, instance: lock.instance)
            let mode = try attributes.choice(.mode, as: LockMode.self) ?? .write
            return .acquire(
                lock, mode: mode, isTry: try attributes.boolean(.try),
                irq: try attributes.choice(.irq, as: IrqAcquireAction.self),
                bh: try attributes.boolean(.bh), nest: try optionalSymbol(.nest))
        case .release:
            return .release(
                try releasedLockRef(cpu: cpu), irq: try attributes.choice(.irq, as: IrqReleaseAction.self),
                bh: try attributes.boolean(.bh))
        case .contended: return .contended(try lockRef())
        case .acquired: return .acquired(try lockRef())
        case .contentionBegin: return .contentionBegin(instance: try symbol(.instance))
        case .contentionEnd: return .contentionEnd(instance: try symbol(.instance))
        case .eventsLost:
            return .eventsLost(cpu: try attributes.integer(.cpu), count: try attributes.integer(.count, minimum: 0))
        case .ipiSend:
            return .ipiSend(
                targets: try targets(), wait: try attributes.boolean(.wait),
                reason: try optionalSymbol(.reason))
        case .ipiHandle:
            // A cpu, as `cpu` and `targets` are: within the trace's cpus.
            let from = try attributes.requiredInteger(.from)
            if from >= Self.maximumCPUs {
                throw DecodeFailure("sending cpu \(from) is out of range: pgtrace models at most \(Self.maximumCPUs) cpus (x86's largest NR_CPUS)")
            }
            if let cpus = header.cpus, from >= cpus {
                throw DecodeFailure("sending cpu \(from) is out of range: the trace declares cpus=\"\(cpus)\"")
            }
            return .ipiHandle(from: from)
        case .pgdAlloc: return .pgdAlloc(pgd: try symbol(.pgd))
        case .pgdFree: return .pgdFree(pgd: try symbol(.pgd))
        case .pgdPopulate:
            return .pgdPopulate(pgd: try symbol(.pgd), index: try attributes.requiredInteger(.index))
        case .pgdClear:
            return .pgdClear(pgd: try symbol(.pgd), index: try attributes.requiredInteger(.index))
        case .pgdListAdd:
            return .pgdListAdd(pgd: try symbol(.pgd), lock: try optionalSymbol(.lock) ?? defaultListLock)
        case .pgdListDel:
            return .pgdListDel(pgd: try symbol(.pgd), lock: try optionalSymbol(.lock) ?? defaultListLock)
        case .listWalkBegin: return .listWalkBegin(walker: try optionalSymbol(.walker))
        case .listWalkVisit: return .listWalkVisit(pgd: try symbol(.pgd))
        case .listWalkEnd: return .listWalkEnd
        case .setReadOnly:
            return .setReadOnly(
                page: try symbol(.page), level: try attributes.choice(.level, as: PageTableLevel.self),
                ptl: try optionalSymbol(.ptl))
        case .setReadWrite:
            return .setReadWrite(
                page: try symbol(.page), level: try attributes.choice(.level, as: PageTableLevel.self),
                ptl: try optionalSymbol(.ptl))
        case .pin:
            return .pin(page: try symbol(.page), level: try attributes.choice(.level, as: PageTableLevel.self))
        case .unpin:
            return .unpin(page: try symbol(.page), level: try attributes.choice(.level, as: PageTableLevel.self))
        case .ptWrite: return .ptWrite(page: try symbol(.page))
        case .tlbFlush:
            let mode = try attributes.choice(.mode, as: FlushMode.self) ?? .ipi
            return .tlbFlush(targets: try targets(), mode: mode, wait: try attributes.boolean(.wait))
        case .locklessWalkBegin: return .locklessWalkBegin
        case .locklessWalkEnd: return .locklessWalkEnd
        case .walkAccess: return .walkAccess(table: try symbol(.table))
        case .tableUnlink: return .tableUnlink(table: try symbol(.table))
        case .rcuGracePeriod: return .rcuGracePeriod
        case .tableFree: return .tableFree(table: try symbol(.table))
        case .kmap:
            let series = try symbol(.series)
            return .kmap(
                page: try symbol(.page), series: series, atomic: try attributes.boolean(.atomic),
                pool: kmapPool(series))
        case .kunmap: return .kunmap(page: try symbol(.page), series: try symbol(.series))
        case .pageFree: return .pageFree(page: try symbol(.page))
        case .trace, .meta, .config, .note, .classes, .class, .events:
            preconditionFailure("not an event element: \(element)")
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var result = self
        while result.first == " " { result.removeFirst() }
        while result.last == " " { result.removeLast() }
        return result
    }
}
