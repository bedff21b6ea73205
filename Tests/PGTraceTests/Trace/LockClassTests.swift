@testable import PGTrace
import Testing

/// A lock class as the analysis keeps one: its key, type and what a trace declared of it, one
/// entry a class (100k classes, two million in a million cycles).
@Suite struct LockClassTests {
    /// 40 bytes as it is read: whether a trace (or pgtrace itself) declared the class, not
    /// where (the declarations keep that, once a name), where the position made an entry 80.
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

    /// The table keeps a class in 12 bytes, where an `Entry` is 40: a subclass past 254 (a
    /// library's: the readers allow 0 to 7) and a pool's size are kept beside, and every
    /// entry reads back as it was made, declared and made a pseudo-lock.
    @Test func aClassIsKeptInTwelveBytesAndReadBackWhole() {
        #expect(LockClassTable.bytesPerClass == 12)
        let symbols = SymbolTable()
        let classes = LockClassTable()
        let (pool, lock) = (symbols.intern("kmap:pool"), symbols.intern("lock"))
        let subclasses = [0, 1, 7, 254, 255, 256, 300, -1, Int.max, Int.min]
        let made = subclasses.map { classes.id(for: LockClassKey(name: lock, subclass: $0)) }
        let early = classes.id(for: LockClassKey(name: pool))
        let declared = LockClassTable.Declared(type: .kmapPool, slots: 1 << 40, wait: .sleep, waitOuter: .spin, novalidate: true)
        #expect(classes.declare(name: pool, declared, at: TracePosition(file: 0, line: 3, column: 1, event: 0), file: "t.xml") == nil)
        let late = classes.id(for: LockClassKey(name: pool, subclass: 300))
        let pseudo = classes.pseudoClass(named: symbols.intern("(hardirqs off)"))
        for (id, subclass) in zip(made, subclasses) {
            let entry = classes[id]
            #expect(entry.key == LockClassKey(name: lock, subclass: subclass) && entry.slots == nil && entry.type == .spinlock)
            #expect(!entry.isDeclared && !entry.isPseudo && !entry.novalidate && entry.declaredWait == nil)
        }
        for (id, subclass) in [(early, 0), (late, 300)] {
            let entry = classes[id]
            #expect(entry.key == LockClassKey(name: pool, subclass: subclass))
            #expect(entry.type == .kmapPool && entry.slots == 1 << 40 && entry.isDeclared && entry.novalidate)
            #expect(entry.declaredWait == .sleep && entry.declaredWaitOuter == .spin && !entry.isPseudo)
            #expect(classes.traits(of: id).novalidate && classes.traits(of: id).waitInner == .sleep)
        }
        #expect(classes[pseudo].isPseudo && classes.traits(of: pseudo).isPseudo && classes[pseudo].slots == nil)
        #expect(classes.entries.map(\.key) == (0..<ClassID(classes.count)).map { classes[$0].key })
        #expect(Set(subclasses.map { classes.existingID(for: LockClassKey(name: lock, subclass: $0)) }) == Set(made))
    }
}
