import FuzzSupport
import PGTrace

/// libFuzzer's entry point for summaries: each input that starts as a summary is merged into
/// an analysis (read, its symbols, classes, moments and facts mapped, the graph checked from
/// its facts) and every report rendered; an input error is fine, a crash or a hang is a bug.
/// What merges is written as a summary again, and that summary must read back and write the
/// same bytes: a summary pgtrace writes is always one it reads. Built by
/// `scripts/fuzz.sh --target summary`; not part of `swift test`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSummary(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard TraceInput.content(ofStart: Array(bytes.prefix(512))) == .summary else { return -1 }
    let analysis = Analysis(options: AnalysisOptions(maxDepth: 8))
    let merged = expectingOnlyInputErrors {
        try analysis.analyze([.bytes(bytes, displayName: "fuzz.sum")])
        renderEveryFormat(analysis)
    }
    guard merged else { return 0 }
    let written = summary(of: analysis)
    let again = Analysis(options: AnalysisOptions(maxDepth: 8))
    do {
        try again.analyze([.bytes(Array(written.utf8), displayName: "fuzz-again.sum")])
    } catch {
        fatalError("a summary pgtrace wrote does not read back: \(error)\n\(written)")
    }
    guard summary(of: again) == written else { fatalError("a summary read back writes other bytes:\n\(written)") }
    return 0
}

private func summary(of analysis: Analysis) -> String {
    var text = ""
    do {
        try SummaryWriter.write(analysis) { text += $0 }
    } catch {
        fatalError("writing a summary failed: \(error)")
    }
    return text
}

@_cdecl("pgtrace_fuzz_summary_main")
public func fuzzSummaryMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzSummary(data, size) }
}
