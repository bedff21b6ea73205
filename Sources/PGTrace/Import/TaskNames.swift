/// The task of each record, as a symbol: by pid, named as the capture first named it
/// (`comm-pid`; a later `<...>` or exec'd comm does not rename it), the idle task of each cpu
/// `swapper/N` as the kernel names it. Kept by the reader, whose lines or file give the names.
struct TaskNames {
    private let symbols: SymbolTable
    private var tasks = IntegerTable<Symbol>()
    private var idleTasks = IntegerTable<Symbol>()

    init(symbols: SymbolTable) { self.symbols = symbols }

    /// The task `pid` on `cpu` (nil: the record names none); `command` is asked only for a
    /// pid not seen before.
    mutating func task(pid: Int?, cpu: Int, command: () -> String) -> Symbol? {
        guard let pid else { return nil }
        if pid == 0 {
            if let symbol = idleTasks[UInt64(cpu)] { return symbol }
            let symbol = symbols.intern("swapper/\(cpu)")
            idleTasks[UInt64(cpu)] = symbol
            return symbol
        }
        if let symbol = tasks[UInt64(bitPattern: Int64(pid))] { return symbol }
        let symbol = symbols.intern("\(command())-\(pid)")
        tasks[UInt64(bitPattern: Int64(pid))] = symbol
        return symbol
    }
}
