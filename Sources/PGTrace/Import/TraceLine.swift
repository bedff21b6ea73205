/// One event line of a kernel text trace, split into its columns.
///
/// Every variant the kernel and its tools print is one grammar read from the timestamp
/// outwards: `[TASK-PID] [(TGID)] [CPU] [FLAGS] TIMESTAMP: BODY` (ftrace `trace` and
/// `trace_pipe`, `trace-cmd report`), `TASK-PID CPUFLAGS TIMESTAMP: BODY` (`trace-cmd report
/// -l`, the latency format, `ftrace_dump_on_oops` after its printk prefix) and `COMM PID [CPU]
/// TIMESTAMP: [PERIOD] BODY` (`perf script`). The cpu is the column just before the
/// timestamp (or its flags), never a bracket found earlier in a command name. trace-cmd's
/// count of a clock not in seconds may follow that column with no blank (`LineColumns.Glued`).
public struct TraceLine: Sendable, Equatable {
    public var command: String
    /// Nil where the line has no task column (a capture edited to cut it).
    public var pid: Int?
    public var cpu: Int
    /// The latency flags column (`d..2.`), where the format has one.
    public var flags: String?
    /// Nanoseconds.
    public var timestamp: Int64
    /// The event name without its system (`lock_acquire`); `function` for a function-tracer
    /// line, `stack_trace` for `<stack trace>`, `sys_enter`/`sys_exit` for syscall lines.
    public var event: String
    /// The system, where the line names it (`lock` in perf's `lock:lock_acquire`).
    public var system: String?
    public var info: String

    public init(
        command: String, pid: Int?, cpu: Int, flags: String?, timestamp: Int64, event: String, system: String?,
        info: String
    ) {
        self.command = command
        self.pid = pid
        self.cpu = cpu
        self.flags = flags
        self.timestamp = timestamp
        self.event = event
        self.system = system
        self.info = info
    }

    /// Splits `line`; nil if it is not an event line (a comment, a header, a lost-events line).
    public static func parse(_ line: Substring) -> TraceLine? {
        var text = String(line)
        return text.withUTF8 { bytes -> TraceLine? in
            guard let columns = LineColumns(bytes) else { return nil }
            func string(_ range: Range<Int>?) -> String? {
                range.map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
            }
            return TraceLine(
                command: string(columns.command) ?? "", pid: columns.pid, cpu: columns.cpu,
                flags: string(columns.flags), timestamp: columns.timestamp,
                event: columns.synthetic?.rawValue ?? string(columns.event)!, system: string(columns.system),
                info: string(columns.info) ?? "")
        }
    }
}

/// The columns of an event line as ranges of its bytes: no string is made while splitting.
struct LineColumns {
    /// Event lines whose body is not `EVENT: INFO`.
    enum Synthetic: String {
        /// The function tracer's `func <-parent`.
        case function
        /// `<stack trace>` and `<user stack trace>`, whose frames follow as ` => ` lines.
        case stackTrace = "stack_trace"
        /// The syscalls tracer's `sys_x(args)` and `sys_x -> 0x0`.
        case syscallEnter = "sys_enter"
        case syscallExit = "sys_exit"
    }

    // Offsets into the line as Int32 pairs (-1: absent), so that the columns stay small
    // enough to pass around by value at every line.
    private var commandBounds: (Int32, Int32) = (-1, -1)
    private var flagsBounds: (Int32, Int32) = (-1, -1)
    private var systemBounds: (Int32, Int32) = (-1, -1)
    private var eventBounds: (Int32, Int32) = (-1, -1)
    private var infoBounds: (Int32, Int32) = (-1, -1)
    private var pidValue: Int32 = -1
    private var cpuValue: Int32 = 0
    var timestamp: Int64 = 0
    var synthetic: Synthetic?
    /// Whether the line is perf's `COMM PID [CPU]` (the pid after a blank, not a dash).
    var pidAfterBlank = false

    private static func range(_ bounds: (Int32, Int32)) -> Range<Int>? {
        bounds.0 < 0 ? nil : Int(bounds.0)..<Int(bounds.1)
    }

    private static func bounds(_ range: Range<Int>?) -> (Int32, Int32) {
        range.map { (Int32($0.lowerBound), Int32($0.upperBound)) } ?? (-1, -1)
    }

    var command: Range<Int>? {
        get { Self.range(commandBounds) }
        set { commandBounds = Self.bounds(newValue) }
    }
    var flags: Range<Int>? {
        get { Self.range(flagsBounds) }
        set { flagsBounds = Self.bounds(newValue) }
    }
    /// Where the line carries a system (perf `lock:lock_acquire`).
    var system: Range<Int>? {
        get { Self.range(systemBounds) }
        set { systemBounds = Self.bounds(newValue) }
    }
    var event: Range<Int>? {
        get { Self.range(eventBounds) }
        set { eventBounds = Self.bounds(newValue) }
    }
    var info: Range<Int>? {
        get { Self.range(infoBounds) }
        set { infoBounds = Self.bounds(newValue) }
    }
    var pid: Int? {
        get { pidValue < 0 ? nil : Int(pidValue) }
        set { pidValue = newValue.map { Int32(clamping: $0) } ?? -1 }
    }
    var cpu: Int {
        get { Int(cpuValue) }
        set { cpuValue = Int32(clamping: newValue) }
    }

    /// The prefixes of a console log, where the capture is one: a log level (`<4>`, from
    /// /dev/kmsg), the printk time (`[ 1295.168495]`) and the printk caller (`[ T1234]`,
    /// CONFIG_PRINTK_CALLER, as syzbot's logs have it). Returns where the line proper begins.
    static func printkPrefixEnd(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        // "<4>"
        if index < b.count, b[index] == UInt8(ascii: "<") {
            var close = index + 1
            while close < b.count, isDigit(b[close]) { close += 1 }
            if close > index + 1, close < b.count, b[close] == UInt8(ascii: ">") { index = close + 1 }
        }
        // "[ 1295.168495]": only then is the line a console log.
        guard let afterTime = bracketed(b, from: index, time: true) else { return start }
        index = afterTime
        // "[ T1234]" or "[ C3]"
        if let afterCaller = bracketed(b, from: index, time: false) { index = afterCaller }
        return index
    }

    /// The end of `[ 12.345]` (time) or `[ T123]`/`[ C3]` (caller) at `start`, if there is one.
    private static func bracketed(_ b: UnsafeBufferPointer<UInt8>, from start: Int, time: Bool) -> Int? {
        guard start < b.count, b[start] == UInt8(ascii: "["),
            let close = b[start...].firstIndex(of: UInt8(ascii: "]"))
        else { return nil }
        var index = start + 1
        while index < close, b[index] == UInt8(ascii: " ") { index += 1 }
        if time {
            var digits = 0
            var dot = false
            while index < close {
                if isDigit(b[index]) {
                    digits += 1
                } else if b[index] == UInt8(ascii: "."), !dot, digits > 0 {
                    dot = true
                } else {
                    return nil
                }
                index += 1
            }
            return dot && digits > 1 ? close + 1 : nil
        }
        guard index < close, b[index] == UInt8(ascii: "T") || b[index] == UInt8(ascii: "C") else { return nil }
        index += 1
        guard index < close, b[index..<close].allSatisfy(isDigit) else { return nil }
        return close + 1
    }

    init?(_ b: UnsafeBufferPointer<UInt8>) {
        var end = b.count
        while end > 0, Self.isBlank(b[end - 1]) || b[end - 1] == 0x0D { end -= 1 }
        let start = Self.printkPrefixEnd(b, from: 0)
        // The first tokens, up to and including the timestamp; the two before it are kept.
        var index = start
        var count = 0
        var previous: Range<Int>?
        var beforePrevious: Range<Int>?
        var stamp: (nanoseconds: Int64, bodyStart: Int)?
        var glued: Glued?
        while index < end, count < 24 {
            while index < end, Self.isBlank(b[index]) { index += 1 }
            guard index < end else { break }
            var tokenEnd = index
            while tokenEnd < end, !Self.isBlank(b[tokenEnd]) { tokenEnd += 1 }
            count += 1
            // A timestamp starts with a digit.
            if count >= 2, Self.isDigit(b[index]), let found = Self.timestamp(b, index..<tokenEnd, lineEnd: end) {
                stamp = found
                break
            }
            if count >= 2, let found = Self.gluedTimestamp(b, index..<tokenEnd) {
                stamp = (found.nanoseconds, tokenEnd)
                glued = found
                break
            }
            beforePrevious = previous
            previous = index..<tokenEnd
            index = tokenEnd
        }
        guard let stamp else { return nil }
        timestamp = stamp.nanoseconds
        // The cpu: "[003]" just before the timestamp, or before the flags; or the latency
        // format's "0d.h1." (cpu digits, then flags).
        var taskEnd: Int
        if let glued {
            cpu = glued.cpu
            flags = glued.flags
            taskEnd = glued.start
        } else if let before = previous, let number = Self.bracketedNumber(b, before) {
            cpu = number
            taskEnd = before.lowerBound
        } else if let before = previous, let cpuToken = beforePrevious, Self.isFlags(b, before),
            let number = Self.bracketedNumber(b, cpuToken)
        {
            cpu = number
            flags = before
            taskEnd = cpuToken.lowerBound
        } else {
            guard let before = previous else { return nil }
            var digitsEnd = before.lowerBound
            while digitsEnd < before.upperBound, Self.isDigit(b[digitsEnd]) { digitsEnd += 1 }
            guard digitsEnd > before.lowerBound, digitsEnd - before.lowerBound <= 5, digitsEnd < before.upperBound,
                Self.isFlags(b, digitsEnd..<before.upperBound),
                let number = Self.integer(b, before.lowerBound..<digitsEnd)
            else { return nil }
            cpu = number
            flags = digitsEnd..<before.upperBound
            taskEnd = before.lowerBound
        }
        guard splitTask(b, start..<taskEnd) else { return nil }
        guard parseBody(b, stamp.bodyStart..<end) else { return nil }
    }

    /// "bash-1040", "<idle>-0", "kworker/0:1-22", "Web Content-7", "bash 1040", "perf 3409/3409",
    /// "bash-1040 ( 1040)", "<...>-19161 (-----)", or nothing.
    private mutating func splitTask(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var range = Self.trimmed(b, range)
        if range.isEmpty { return true }
        if b[range.upperBound - 1] == UInt8(ascii: ")"), let open = b[range].lastIndex(of: UInt8(ascii: "(")) {
            range = Self.trimmed(b, range.lowerBound..<open)  // the TGID column
            if range.isEmpty { return false }
        }
        // perf: "COMM PID" or "COMM PID/TID".
        if let blank = b[range].lastIndex(where: Self.isBlank) {
            var pidStart = blank + 1
            if let slash = b[pidStart..<range.upperBound].lastIndex(of: UInt8(ascii: "/")) { pidStart = slash + 1 }
            if let number = Self.integer(b, pidStart..<range.upperBound) {
                let command = Self.trimmed(b, range.lowerBound..<blank)
                if !command.isEmpty {
                    pid = number
                    self.command = command
                    pidAfterBlank = true
                    return true
                }
            }
        }
        guard let dash = b[range].lastIndex(of: UInt8(ascii: "-")),
            let number = Self.integer(b, (dash + 1)..<range.upperBound)
        else { return false }
        pid = number
        command = range.lowerBound..<dash
        return true
    }

    /// After the timestamp: `[PERIOD] [SYSTEM:]EVENT: INFO`, `func <-parent`, `<stack trace>`,
    /// `sys_x(args)` or `sys_x -> 0x0`.
    private mutating func parseBody(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var index = range.lowerBound
        let end = range.upperBound
        while index < end, Self.isBlank(b[index]) { index += 1 }
        // trace-cmd report --ts-diff: "(+0.000001)" before the event.
        if index + 1 < end, b[index] == UInt8(ascii: "("), b[index + 1] == UInt8(ascii: "+"),
            let close = b[index..<end].firstIndex(of: UInt8(ascii: ")"))
        {
            index = close + 1
            while index < end, Self.isBlank(b[index]) { index += 1 }
        }
        guard index < end else { return false }
        if b[index] == UInt8(ascii: "<") {
            let rest = UnsafeBufferPointer(rebasing: b[index..<end])
            if rest.hasPrefix("<stack trace>") || rest.hasPrefix("<user stack trace>") {
                synthetic = .stackTrace
                info = end..<end
                return true
            }
        }
        // perf's period column: digits, then the event.
        var digits = index
        while digits < end, Self.isDigit(b[digits]) { digits += 1 }
        if digits > index, digits < end, Self.isBlank(b[digits]) {
            index = digits
            while index < end, Self.isBlank(b[index]) { index += 1 }
        }
        // The event name ends at the first ':' before any blank or '('.
        var nameEnd = index
        while nameEnd < end, b[nameEnd] != UInt8(ascii: ":"), b[nameEnd] != UInt8(ascii: "("), !Self.isBlank(b[nameEnd]) {
            nameEnd += 1
        }
        guard nameEnd > index else { return false }
        if nameEnd < end, b[nameEnd] == UInt8(ascii: ":") {
            var event = index..<nameEnd
            var after = nameEnd + 1
            // perf: "lock:lock_acquire:" names the system first.
            var next = after
            while next < end, b[next] != UInt8(ascii: ":"), b[next] != UInt8(ascii: "("), !Self.isBlank(b[next]) { next += 1 }
            if next > after, next < end, b[next] == UInt8(ascii: ":") {
                system = event
                event = after..<next
                after = next + 1
            }
            while after < end, Self.isBlank(b[after]) { after += 1 }
            self.event = event
            info = after..<end
            return true
        }
        if nameEnd < end, b[nameEnd] == UInt8(ascii: "(") {
            synthetic = .syscallEnter
            event = index..<nameEnd
            info = nameEnd..<end
            return true
        }
        // A blank: "sys_x -> 0x0" or "func <-parent".
        var after = nameEnd
        while after < end, Self.isBlank(b[after]) { after += 1 }
        let rest = UnsafeBufferPointer(rebasing: b[after..<end])
        if rest.hasPrefix("-> ") {
            synthetic = .syscallExit
        } else if rest.hasPrefix("<-") {
            synthetic = .function
            event = index..<nameEnd
            info = index..<end
            return true
        } else {
            return false
        }
        event = index..<nameEnd
        info = after..<end
        return true
    }

    /// "49.339890:" (or "49.339890" then ":"), and the latency format's "382171111us :".
    /// Returns the nanoseconds and where the body begins (after the colon).
    private static func timestamp(_ b: UnsafeBufferPointer<UInt8>, _ token: Range<Int>, lineEnd: Int) -> (Int64, Int)? {
        var index = token.lowerBound
        var seconds: Int64 = 0
        var digits = 0
        while index < token.upperBound, isDigit(b[index]) {
            guard digits < 18 else { return nil }
            seconds = seconds * 10 + Int64(b[index] - 0x30)
            digits += 1
            index += 1
        }
        guard digits > 0, index < token.upperBound else { return nil }
        var nanoseconds: Int64
        if b[index] == UInt8(ascii: ".") {
            index += 1
            var fraction: Int64 = 0
            var places = 0
            while index < token.upperBound, isDigit(b[index]) {
                if places < 9 {
                    fraction = fraction * 10 + Int64(b[index] - 0x30)
                    places += 1
                }
                index += 1
            }
            guard places > 0 else { return nil }
            for _ in places..<9 { fraction *= 10 }
            // Past Int64's 292 years of nanoseconds: not a timestamp pgtrace can keep.
            let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            guard !overflow, whole <= Int64.max - fraction else { return nil }
            nanoseconds = whole + fraction
        } else if b[index] == UInt8(ascii: ":"), index + 1 == token.upperBound {
            // A counter clock (x86-tsc, counter): no unit, kept as it is.
            nanoseconds = seconds
        } else if b[index] == UInt8(ascii: "u"), index + 1 < token.upperBound, b[index + 1] == UInt8(ascii: "s") {
            // The latency format: microseconds since the trace began, then a delay mark.
            index += 2
            while index < token.upperBound, "+!#*@$".utf8.contains(b[index]) { index += 1 }
            let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
            guard !overflow else { return nil }
            nanoseconds = whole
        } else {
            return nil
        }
        if index < token.upperBound {
            guard b[index] == UInt8(ascii: ":"), index + 1 == token.upperBound else { return nil }
            return (nanoseconds, index + 1)
        }
        // The colon as the next token: "382171111us : event".
        var next = token.upperBound
        while next < lineEnd, isBlank(b[next]) { next += 1 }
        guard next < lineEnd, b[next] == UInt8(ascii: ":") else { return nil }
        return (nanoseconds, next + 1)
    }

    /// A timestamp with the column before it, unparted: `trace-cmd report` prints a clock it
    /// does not know in seconds (x86-tsc, counter, `--raw-ts`; seen also from trace-cmd 3.1.6
    /// on a file that names the local clock, in some runs) as `%12d:` straight after the cpu or
    /// the flags, so a count of 12 digits or more leaves no blank: `[003]7615709442088:`, and
    /// with `-l` `3dN.2.7615709442088:`.
    struct Glued {
        var start: Int
        var cpu: Int
        var flags: Range<Int>?
        /// The count, kept as it is (as a counter clock's own token is): nanoseconds where
        /// the clock counts them, else its own units.
        var nanoseconds: Int64
    }

    /// The unparted token at `token`, if it is one. The latency flags run to the last
    /// character that is not a digit and hold at least the four columns pgtrace reads (irqs,
    /// need-resched, irq context, preempt count): a migrate-disable or lock-depth column
    /// printed as a digit cannot be told from the count's first digit in this text, and is
    /// read as part of the count (the trace.dat itself, or the report in seconds, is exact).
    private static func gluedTimestamp(_ b: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> Glued? {
        let colon = token.upperBound - 1
        guard token.count >= 15, b[colon] == UInt8(ascii: ":") else { return nil }
        var digitsStart = colon
        while digitsStart > token.lowerBound, isDigit(b[digitsStart - 1]) { digitsStart -= 1 }
        let cpu: Int
        var flags: Range<Int>?
        if b[token.lowerBound] == UInt8(ascii: "[") {
            guard digitsStart > token.lowerBound, b[digitsStart - 1] == UInt8(ascii: "]"),
                let number = bracketedNumber(b, token.lowerBound..<digitsStart)
            else { return nil }
            cpu = number
        } else {
            var cpuEnd = token.lowerBound
            while cpuEnd < colon, isDigit(b[cpuEnd]) { cpuEnd += 1 }
            guard cpuEnd > token.lowerBound, cpuEnd - token.lowerBound <= 5,
                let number = integer(b, token.lowerBound..<cpuEnd)
            else { return nil }
            let flagsEnd = max(digitsStart, cpuEnd + 4)
            guard flagsEnd <= colon, isFlags(b, cpuEnd..<flagsEnd) else { return nil }
            cpu = number
            flags = cpuEnd..<flagsEnd
            digitsStart = flagsEnd
        }
        // %12d pads a shorter count with blanks, which parts it; Int64 holds 18 digits.
        guard (12...18).contains(colon - digitsStart) else { return nil }
        var count: Int64 = 0
        for byte in b[digitsStart..<colon] { count = count * 10 + Int64(byte - 0x30) }
        return Glued(start: token.lowerBound, cpu: cpu, flags: flags, nanoseconds: count)
    }

    /// "[003]".
    private static func bracketedNumber(_ b: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> Int? {
        guard token.count >= 3, b[token.lowerBound] == UInt8(ascii: "["), b[token.upperBound - 1] == UInt8(ascii: "]") else {
            return nil
        }
        return integer(b, (token.lowerBound + 1)..<(token.upperBound - 1))
    }

    /// The latency flags: irqs-off, need-resched, hardirq/softirq, preempt depth, and on newer
    /// kernels migrate-disable (`d..2.`, `dNh1`, `.ns1`, `D.Hz.`).
    private static func isFlags(_ b: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> Bool {
        guard (3...6).contains(token.count) else { return false }
        for byte in b[token] where !isFlagCharacter(byte) { return false }
        return true
    }

    /// The characters a latency flags column holds (`.dDbX`, `nNpPLB`: 6.13's lazy
    /// preemption prints `L` and `B`, `hHsSzZ`, hex digits).
    @inline(__always) private static func isFlagCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "."),
            UInt8(ascii: "D"), UInt8(ascii: "X"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "p"), UInt8(ascii: "B"),
            UInt8(ascii: "P"), UInt8(ascii: "L"), UInt8(ascii: "l"), UInt8(ascii: "h"), UInt8(ascii: "H"),
            UInt8(ascii: "s"), UInt8(ascii: "S"), UInt8(ascii: "z"), UInt8(ascii: "Z"):
            return true
        default:
            return false
        }
    }

    static func integer(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 9 else { return nil }
        var value = 0
        for byte in b[range] {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    static func trimmed(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isBlank(b[lower]) { lower += 1 }
        while upper > lower, isBlank(b[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    @inline(__always) static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
