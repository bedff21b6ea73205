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

    /// Baselines hold fingerprints: the same finding keeps the same one from release to
    /// release. These are what pgtrace gave these shipped traces when they were written
    /// (rules with no objects, one, and two; several findings of a trace).
    @Test(arguments: [
        ("traces/pgd-lock-abba.xml", ["b11047c989883da2"]),
        ("traces/pgd-free-in-irq.xml", ["2b9380065f7d6515", "a45d11374f778805"]),
        ("traces/seed000-pgd-list-after-prepopulate.xml", ["b42307f76da7a3f3"]),
        ("traces/seed003-mremap-double-pagetable-kmap.xml", ["eff2eed673fb0d8a"]),
        ("traces/seed004-pin-pgd-first.xml", ["79e0d15d8b4a81ee"]),
        ("traces/sleep-in-rcu-sched-read-side.xml", ["a264434a8fee13d5", "82330e4b6e68e186"]),
        ("traces/workqueue-flush-under-rtnl.xml", ["2bd58289c03c9c6a"]),
    ])
    func fingerprintsStayWhatBaselinesHold(_ trace: String, _ fingerprints: [String]) throws {
        let analysis = Analysis()
        try analysis.analyze([.file(path: Repository.path(trace), displayName: trace)])
        #expect(analysis.findings.map(\.fingerprint).sorted() == fingerprints.sorted())
    }
}
