import Testing

@testable import PGTrace

/// A finding's identity drops the trace places its key names (`t.xml:12`): found by a byte
/// search of an ASCII key, as cheap as the key is short, and by characters otherwise.
@Suite struct FingerprintTests {
    @Test func aKeyIsSearchedByteForByte() {
        let key = "pgd_lock ./traces/t.xml:12 mm->page_table_lock é"
        for part in ["", "pgd_lock", "./traces/t.xml:", "t.xml:12", "lock é", "é", key] {
            #expect(Finding.bytes(of: key, contain: part), "\(part)")
        }
        // é as e and a combining accent is the same character as é (as `replacing` finds it).
        #expect(Finding.bytes(of: key, contain: "e\u{301}"))
        #expect(Finding.bytes(of: "e\u{301}.xml:5", contain: "\u{e9}.xml:"))
        for part in ["t.xml:13", "./traces/u.xml:", key + " ", "pgd_lock  "] {
            #expect(!Finding.bytes(of: key, contain: part), "\(part)")
        }
        #expect(!Finding.bytes(of: "", contain: "a"))
        #expect(Finding.bytes(of: "aab", contain: "ab"))
    }
}
