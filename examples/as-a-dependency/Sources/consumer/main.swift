import PGTrace

// The AB-BA of traces/pgd-lock-abba.xml, held in memory: one circular dependency.
let trace = """
    <?xml version="1.0"?>
    <trace version="1">
      <events>
        <acquire cpu="0" lock="pgd_lock" fn="vmalloc_sync_all"/>
        <acquire cpu="0" lock="mm->page_table_lock" fn="vmalloc_sync_all"/>
        <release cpu="0" lock="mm->page_table_lock"/>
        <release cpu="0" lock="pgd_lock"/>
        <acquire cpu="1" lock="mm->page_table_lock" fn="pgd_free"/>
        <acquire cpu="1" lock="pgd_lock" fn="pgd_dtor"/>
        <release cpu="1" lock="pgd_lock"/>
        <release cpu="1" lock="mm->page_table_lock"/>
      </events>
    </trace>
    """
let analysis = Analysis()
try analysis.analyze(bytes: Array(trace.utf8), displayName: "abba.xml")
let rules = analysis.findings.map(\.rule.rawValue)
print("pgtrace \(pgtraceVersion) as a dependency: \(rules)")
guard rules == ["circular-dependency"] else { fatalError("expected one circular-dependency, got \(rules)") }
