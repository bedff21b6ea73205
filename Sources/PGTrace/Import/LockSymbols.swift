/// The symbols of a capture's locks: each lock address (by value) with its instance symbol
/// and the class name last seen at it. The same lock recurs at every event, so the symbols
/// tried first are the last ones: one compare each, no hash. The bytes are always compared,
/// so another spelling of a value, a table collision or an address reused by another lock
/// costs a lookup, never a wrong symbol. Shared by the text and the trace.dat readers.
struct LockSymbols {
    let symbols: SymbolTable
    /// Keep lockdep's `&(&X)->rlock` names as printed.
    let rawNames: Bool
    private var byAddress = IntegerTable<(instance: Symbol, name: Symbol?)>()

    init(symbols: SymbolTable, rawNames: Bool) {
        self.symbols = symbols
        self.rawNames = rawNames
    }

    /// The lock named `name` at the address `key` (nil: not a number), whose instance symbol
    /// `instance` gives, trying the symbol last given for the address (the hint) first.
    mutating func lock(
        name: UnsafeBufferPointer<UInt8>, at key: UInt64?, instance: (inout Symbol?) -> Symbol
    ) -> LockRef {
        let known = key.flatMap { byAddress[$0] }
        var instanceHint = known?.instance
        let instance = instance(&instanceHint)
        var nameHint = known?.name
        let lockName = KernelRecord.lockName(name, raw: rawNames, symbols: symbols, hint: &nameHint)
        if let key, known?.instance != instance || known?.name != lockName { byAddress[key] = (instance, lockName) }
        return LockRef(name: lockName, instance: instance)
    }

    /// The instance symbol of a lock known by its address only (perf lock's contention
    /// events), as `lock` gives it.
    mutating func instance(at key: UInt64, _ instance: (inout Symbol?) -> Symbol) -> Symbol {
        let known = byAddress[key]
        var hint = known?.instance
        let symbol = instance(&hint)
        if known?.instance != symbol { byAddress[key] = (symbol, known?.name) }
        return symbol
    }
}
