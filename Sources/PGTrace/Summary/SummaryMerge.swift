/// Merges one summary's lines into an analysis, on the replay's side: its traces become the
/// analysis's files, its classes the analysis's classes (a class declared another way than
/// the analysis's traces declare it is an input error, as between traces), its facts join
/// the graph's log keeping the least evidence, its findings join the traces' findings.
final class SummaryMerge {
    private let analysis: Analysis
    private let name: String
    private var files: [Int] = []
    private var classes: [ClassID] = []
    /// The summary's moments as read, and each one's place in the analysis's store once a
    /// fact that cites it is kept: a moment of a fact another summary shows with lesser
    /// evidence is never stored (a flat merge of 1,000 summaries kept them all: 503 MB).
    private var moments: [ReplayMoment] = []
    private var stored: [MomentID?] = []

    init(into analysis: Analysis, name: String) {
        self.analysis = analysis
        self.name = name
    }

    /// Lockdep's MAX_LOCKDEP_SUBCLASSES, as the trace reader holds it.
    static let subclasses = LockClassKey.subclasses
    /// The most events a trace, or meetings a finding, a summary may claim: more than any
    /// machine records, and far from overflowing a sum of a million of them.
    static let maximumCount = 1 << 48

    private func fail(_ line: Int, _ message: String) -> TraceInputError {
        TraceInputError(file: name, line: line, column: 1, message: message)
    }

    func apply(_ line: SummaryLine, at number: Int) throws {
        if line.header != nil {
            // The trace checks first: a merge adopts the first summary's, which it can only
            // while nothing has joined the analysis (the configuration counts as joined).
            guard let maxDepth = line.maxDepth, maxDepth >= 1 else { throw fail(number, "a summary header without its maxDepth") }
            try analysis.joinTraceChecks(.init(maxDepth: maxDepth, policy: line.policy), from: "\(name):\(number):1")
            try analysis.joinSummaryConfiguration(proveRawLockNesting: line.proveRawLockNesting, from: "\(name):\(number):1")
        } else if line.fact != nil {
            try applyFact(line, at: number)
        } else if let file = line.file, let traceName = line.name {
            guard file == files.count else { throw fail(number, "trace \(file) out of order") }
            guard let events = line.events, (0...Self.maximumCount).contains(events) else {
                throw fail(number, "a trace's event count must be 0 to 2^48")
            }
            files.append(try analysis.addSummarizedTrace(traceName, events: events, from: "\(name):\(number):1"))
        } else if let classNumber = line.class {
            try applyClass(line, number: classNumber, at: number)
        } else if line.declaration == true {
            try declare(line, at: number)
        } else if let moment = line.moment {
            guard moment == moments.count else { throw fail(number, "moment \(moment) out of order") }
            moments.append(try makeMoment(line, at: number))
            stored.append(nil)
        } else if var finding = line.finding {
            guard (1...Self.maximumCount).contains(finding.count) else { throw fail(number, "a finding's count must be 1 to 2^48") }
            guard finding.heldLocksNotListed == nil || finding.heldLocks != nil else {
                throw fail(number, "a finding's heldLocksNotListed without its heldLocks")
            }
            // A summary written before lists stopped at --max-depth lists every lock held. The
            // count is checked with what the cut adds, as a summary made of this one says it.
            if let (listed, cut) = finding.heldLocks?.listed(upTo: maxDepth), cut > 0 {
                finding.heldLocks = listed
                finding.heldLocksNotListed = (finding.heldLocksNotListed ?? 0) &+ cut
            }
            if let more = finding.heldLocksNotListed, !(1...Self.maximumCount).contains(more) {
                throw fail(number, "a finding's heldLocksNotListed must be 1 to 2^48")
            }
            let cited = finding.locations + finding.chain.flatMap { [$0.holderEvidence, $0.evidence] }
                + (finding.heldLocks ?? []).map(\.evidence)
            for evidence in cited { try check(evidence, of: "a finding", needsCPU: true, at: number) }
            analysis.context.mergeTraceFinding(finding)
        } else if let note = line.note {
            if let evidence = line.evidence { try check(evidence, of: "a note", needsCPU: false, at: number) }
            analysis.context.note(note, evidence: line.evidence)
        } else {
            throw fail(number, "a line of no known kind")
        }
    }

    /// The summary's --max-depth (its header's, which the analysis has joined): where the
    /// held-lock lists it reads stop.
    private var maxDepth: Int { analysis.traceChecks.maxDepth }

    private func symbol(_ raw: Int?, at line: Int) throws -> Symbol {
        guard let raw, raw >= 0 else { throw fail(line, "a name is missing") }
        return Symbol(rawValue: Int32(raw))
    }

    private func declared(_ line: SummaryLine, type: LockType, at number: Int) throws -> (LockClassTable.Declared, TracePosition)? {
        guard let declaration = line.declared else { return nil }
        func wait(_ text: String?) throws -> WaitType? {
            guard let text else { return nil }
            guard let wait = WaitType(rawValue: text) else { throw fail(number, "unknown wait type '\(text)'") }
            return wait
        }
        guard declaration.at.count == 3 else { throw fail(number, "a declaration's place has \(declaration.at.count) numbers; it has 3") }
        let declared = LockClassTable.Declared(
            type: type, slots: declaration.slots, wait: try wait(declaration.wait), waitOuter: try wait(declaration.waitOuter),
            novalidate: declaration.novalidate ?? false)
        let position = TracePosition(file: try file(declaration.at[0], at: number), line: declaration.at[1], column: declaration.at[2], event: -1)
        return (declared, position)
    }

    private func lockType(_ line: SummaryLine, at number: Int) throws -> LockType {
        guard let text = line.type, let type = LockType(rawValue: text) else {
            throw fail(number, "unknown lock type '\(line.type ?? "")'")
        }
        return type
    }

    private func declare(_ line: SummaryLine, at number: Int) throws {
        let name = try symbol(line.nameSym, at: number)
        guard let (declared, position) = try declared(line, type: try lockType(line, at: number), at: number) else { return }
        try analysis.declare(name: name, declared, at: position, from: "\(self.name):\(number):1")
    }

    private func applyClass(_ line: SummaryLine, number classNumber: Int, at number: Int) throws {
        guard classNumber == classes.count else { throw fail(number, "class \(classNumber) out of order") }
        let name = try symbol(line.nameSym, at: number)
        let type = try lockType(line, at: number)
        let id: ClassID
        if line.pseudo == true {
            id = analysis.classes.pseudoClass(named: name)
        } else {
            if let (declared, position) = try declared(line, type: type, at: number) {
                try analysis.declare(name: name, declared, at: position, from: "\(self.name):\(number):1")
            }
            let subclass = line.subclass ?? 0
            guard (0..<Self.subclasses).contains(subclass) else { throw fail(number, "a subclass must be \(LockClassKey.subclassRule), not \(subclass)") }
            id = analysis.classes.id(for: LockClassKey(name: name, subclass: subclass), defaultType: type)
        }
        // Two lines of one summary for one class (its name and subclass, or a pseudo-lock's
        // name): a summary written by pgtrace has one line a class.
        guard classSeen.insert(id).inserted else {
            throw fail(number, "class \(classNumber) is a class the summary has already (\(analysis.context.name(of: id)))")
        }
        classes.append(id)
    }

    private var classSeen: Set<ClassID> = []

    /// Evidence a finding or note cites is an event of one of the summary's traces, at a place
    /// a site may have (a forged one cited /etc/passwd:22, or line -22, which SARIF made 1).
    /// Only a note's may name no cpu (lost events of every cpu); every event a finding cites
    /// ran on one.
    private func check(_ evidence: Evidence, of what: String, needsCPU: Bool, at line: Int) throws {
        if needsCPU, evidence.cpu == nil { throw fail(line, "\(what)'s evidence names no cpu") }
        guard files.contains(where: { analysis.context.files[$0] == evidence.file }) else {
            throw fail(line, "\(what) cites \(evidence.file), which is not a trace of this summary")
        }
        let place = 0...EventSite.maximumPlace
        guard place.contains(evidence.line), place.contains(evidence.event), (0...Int(Int32.max)).contains(evidence.column),
            evidence.cpu.map({ (0..<8192).contains($0) }) ?? true
        else {
            throw fail(line, "\(what)'s evidence must be at a line and event of 0 to 2^39 - 1, a column of 0 to 2^31 - 1, a cpu of 0 to 8191")
        }
    }

    private func file(_ number: Int, at line: Int) throws -> Int {
        guard number >= 0, number < files.count else { throw fail(line, "trace \(number) is not in the summary") }
        return files[number]
    }

    private func classID(_ number: Int?, at line: Int) throws -> ClassID {
        guard let number, number >= 0, number < classes.count else { throw fail(line, "class \(number.map(String.init) ?? "?") is not in the summary") }
        return classes[number]
    }

    private func site(_ numbers: [Int]?, offset: Int = 0, at line: Int) throws -> EventSite {
        guard let numbers, numbers.count == offset + 8 else { throw fail(line, "a site is missing") }
        // A place in a trace, and a cpu as traces number them (fewer than 8192).
        // What a site keeps: a 40-bit line and event number, a 32-bit column.
        let (place, column) = (0...EventSite.maximumPlace, 0...Int(Int32.max))
        guard place.contains(numbers[offset + 1]), column.contains(numbers[offset + 2]), place.contains(numbers[offset + 3]),
            (0..<8192).contains(numbers[offset + 4])
        else {
            throw fail(line, "a site's line and event must be 0 to 2^39 - 1, its column 0 to 2^31 - 1, its cpu 0 to 8191")
        }
        func symbol(_ value: Int) -> Symbol? { value < 0 ? nil : Symbol(rawValue: Int32(value)) }
        return EventSite(
            position: TracePosition(
                file: try file(numbers[offset], at: line), line: numbers[offset + 1], column: numbers[offset + 2], event: numbers[offset + 3]),
            cpu: numbers[offset + 4], task: symbol(numbers[offset + 5]), at: symbol(numbers[offset + 6]), function: symbol(numbers[offset + 7]))
    }

    private func mode(_ text: String?, at line: Int) throws -> LockMode {
        guard let text, let mode = LockMode(rawValue: text) else { throw fail(line, "unknown lock mode '\(text ?? "")'") }
        return mode
    }

    private func makeMoment(_ line: SummaryLine, at number: Int) throws -> ReplayMoment {
        let cpu = line.cpu ?? 0
        guard (0..<8192).contains(cpu) else { throw fail(number, "a moment's cpu must be 0 to 8191") }
        var irqState: ReplayMoment.IrqState?
        if let irq = line.irq {
            guard irq.count == 5 else { throw fail(number, "an irq state of \(irq.count) numbers; it has 5") }
            // The counts as a moment keeps them (16 bits each), the flags 0 or 1: anything else
            // was not written by an analysis, and would be read back as another state.
            guard irq[0...2].allSatisfy({ (0...0xFFFF).contains($0) }), irq[3...4].allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw fail(number, "an irq state \(irq) out of range (three counts 0 to 65535, then two flags 0 or 1)")
            }
            irqState = ReplayMoment.IrqState(
                hardirqCount: irq[0], softirqs: irq[1], softirqCount: irq[2], hardirqsEnabled: irq[3] != 0, softirqsEnabled: irq[4] != 0)
        }
        let held = try (line.held ?? []).map { numbers in
            ReplayMoment.Held(classID: try classID(numbers.first, at: number), site: try site(numbers, offset: 1, at: number))
        }
        let task: TaskKey = try line.task.map { .named(try symbol($0, at: number)) } ?? .anonymous(cpu: cpu)
        // A summary written before lists stopped at --max-depth keeps every lock held. The
        // count is checked with what the cut adds, as a summary made of this one says it.
        let (listed, cut) = held.listed(upTo: maxDepth)
        let more = (line.heldNotListed ?? 0) &+ cut
        guard (0...Self.maximumCount).contains(more) else { throw fail(number, "a moment's heldNotListed must be 0 to 2^48") }
        return ReplayMoment(
            cpu: cpu, task: task, irqState: irqState, held: listed, heldNotListed: more,
            mayMissHeldLocks: line.mayMissHeldLocks ?? false)
    }

    /// The moment a fact line cites, as a placeholder until the fact is kept (`store`).
    private func moment(_ line: SummaryLine, at number: Int) throws -> MomentID? {
        guard let reference = line.momentRef else { return nil }
        guard reference >= 0, reference < moments.count else { throw fail(number, "moment \(reference) is not in the summary") }
        return MomentID(index: Int32(reference))
    }

    /// The fact with its moment placed in the analysis's store.
    private func store(_ fact: GraphFact) -> GraphFact {
        func place(_ placeholder: MomentID) -> MomentID {
            let reference = Int(placeholder.index)
            if let id = stored[reference] { return id }
            let id = analysis.context.moments.add(moments[reference])
            stored[reference] = id
            return id
        }
        switch fact {
        case .usage(var usage):
            usage.moment = place(usage.moment)
            return .usage(usage)
        case .dependency(var dependency):
            dependency.moment = dependency.moment.map(place)
            return .dependency(dependency)
        case .nmiAcquire(var acquire):
            acquire.moment = place(acquire.moment)
            return .nmiAcquire(acquire)
        case .used:
            return fact
        }
    }

    private func applyFact(_ line: SummaryLine, at number: Int) throws {
        let fact: GraphFact
        switch line.fact {
        case "usage":
            // lockdep's enum lock_usage_bit: state * 4 + dir * 2 + read.
            guard let raw = line.bit, (0..<8).contains(raw), let moment = try moment(line, at: number)
            else { throw fail(number, "a usage fact without its bit (0 to 7) or moment") }
            let bit = LockUsage.Bit(index: raw)
            fact = .usage(UsageFact(
                classID: try classID(line.classID, at: number), bit: bit, site: try site(line.site, at: number),
                lockSite: try site(line.lockSite, at: number), lockMode: try mode(line.mode, at: number), moment: moment))
        case "dependency":
            // One of lockdep's four dependency types: 1 SR, 2 ER, 4 SN, 8 EN.
            guard let text = line.kind, let kind = DependencyKind(rawValue: text), let types = line.types, [1, 2, 4, 8].contains(types)
            else { throw fail(number, "a dependency fact without its kind or one type (1, 2, 4 or 8)") }
            // Lockdep adds no dependency of a class on itself (a second lock of a held class is
            // recursion, or read recursion or nesting, which add none): a summary saying one
            // was not written by an analysis, and would hide the cycles through the class.
            if kind == .lockOrder, line.from != nil, line.from == line.to {
                throw fail(number, "a lock-order dependency of class \(line.from!) on itself; an analysis writes none")
            }
            fact = .dependency(DependencyFact(
                dependency: LockDependency(
                    from: try classID(line.from, at: number), to: try classID(line.to, at: number), kind: kind,
                    types: DependencyTypes(rawValue: UInt8(types)), holderSite: try site(line.holderSite, at: number),
                    site: try site(line.site, at: number)),
                holderMode: try mode(line.holderMode, at: number), nextMode: try mode(line.nextMode, at: number),
                moment: try moment(line, at: number)))
        case "used":
            fact = .used(classID: try classID(line.classID, at: number), read: line.read ?? false, site: try site(line.site, at: number))
        case "nmi-acquire":
            guard let moment = try moment(line, at: number), let count = line.count, (1...Self.maximumCount).contains(count),
                let subclass = line.subclass, (0..<Self.subclasses).contains(subclass)
            else { throw fail(number, "an NMI fact without its moment, subclass (0 to 7) or count (1 to 2^48)") }
            fact = .nmiAcquire(NmiAcquireFact(
                key: LockClassKey(name: try symbol(line.nameSym, at: number), subclass: subclass), mode: try mode(line.mode, at: number),
                afterUse: line.afterUse ?? false, site: try site(line.site, at: number), moment: moment, count: count))
        default:
            throw fail(number, "unknown fact '\(line.fact ?? "")'")
        }
        guard let trace = line.file, let sequence = line.seq else { throw fail(number, "a fact without its trace and place") }
        // The log keeps a place in 32 bits (a trace of 2^31 facts would take some 77 GB).
        guard (0...Int(Int32.max)).contains(sequence) else { throw fail(number, "a fact's place \(sequence) is out of range (0 to 2^31 - 1)") }
        let traceFile = try file(trace, at: number)
        guard analysis.facts.wouldKeep(fact.key, file: traceFile, sequence: sequence) else {
            // Only its count, for a counted fact.
            analysis.facts.merge(fact, file: traceFile, sequence: sequence)
            return
        }
        analysis.facts.merge(store(fact), file: traceFile, sequence: sequence)
    }
}
