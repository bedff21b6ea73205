@testable import PGTrace
import Testing

/// A lock class as the analysis keeps one: its key, type and what a trace declared of it, one
/// entry a class (100k classes, two million in a million cycles).
@Suite struct LockClassTests {
    /// 40 bytes: whether a trace (or pgtrace itself) declared the class, not where (the
    /// declarations keep that, once a name), where the position made an entry 80.
    @Test func aClassEntryIsFortyBytesAndSaysWhetherItWasDeclared() throws {
        #expect(MemoryLayout<LockClassTable.Entry>.stride == 40)
        var trace = TraceBuilder()
        trace.declare("declared", .mutex)
        trace.nest("declared", "plain", "&dev->mutex")
        let analysis = try analyze(trace)
        let classes = analysis.classes
        let declared = try #require(classes.existingID(for: LockClassKey(name: analysis.symbols.intern("declared"))))
        let plain = try #require(classes.existingID(for: LockClassKey(name: analysis.symbols.intern("plain"))))
        #expect(classes[declared].isDeclared)
        #expect(classes[declared].type == .mutex)
        #expect(!classes[plain].isDeclared)
        // pgtrace's own declaration (LockClassTable.kernelBuiltins) counts, and is no trace's.
        let builtin = try #require(classes.existingID(for: LockClassKey(name: analysis.symbols.intern("&dev->mutex"))))
        #expect(classes[builtin].isDeclared)
        #expect(classes[builtin].type == .mutex)
        #expect(classes.declarations.map { analysis.symbols[$0.name] } == ["declared"])
        #expect(classes.declarations.first?.at.line == 4)
    }

    /// A builtin declared again is declared as the last says (the builtins are a short list
    /// looked through in turn), and a class of another name is none of them.
    @Test func aBuiltinDeclaredAgainTakesTheLastDeclaration() {
        let symbols = SymbolTable()
        let classes = LockClassTable()
        let (builtin, other) = (symbols.intern("builtin"), symbols.intern("other"))
        classes.declareBuiltin(name: builtin, LockClassTable.Declared(type: .mutex))
        classes.declareBuiltin(name: symbols.intern("second"), LockClassTable.Declared(type: .rwlock))
        classes.declareBuiltin(name: builtin, LockClassTable.Declared(type: .map, novalidate: true))
        let id = classes.id(for: LockClassKey(name: builtin))
        #expect(classes[id].type == .map && classes[id].novalidate && classes[id].isDeclared)
        let plain = classes.id(for: LockClassKey(name: other))
        #expect(classes[plain].type == .spinlock && !classes[plain].isDeclared)
        #expect(classes[classes.id(for: LockClassKey(name: symbols.intern("second")))].type == .rwlock)
    }
}

