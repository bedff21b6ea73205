import CPrefetch

/// Asks the cpu for the cache line at `address` without waiting for it, so that a table's
/// cache miss overlaps other work before the line is read (`ChainKeySet`, `PositionIndex`,
/// `SymbolTable`: a new key's slot in a table of megabytes is a miss to memory, some 100 ns). A hint: it
/// changes no value, and an address the process cannot read is ignored, never a fault.
@inline(__always) func prefetch(_ address: UnsafeRawPointer) {
    pgtrace_prefetch(address)
}
