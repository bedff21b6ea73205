import PGTrace

/// libFuzzer's entry point: every input goes through the reader, the schema validator and
/// the replay with all checkers; an input error is fine, a crash or a hang is a bug.
/// Built by scripts/fuzz.sh with `-sanitize=fuzzer,address`; not part of `swift test`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for validates in [false, true] {
        let analysis = Analysis(options: AnalysisOptions(maxDepth: 8, validatesSchema: validates))
        do {
            try analysis.analyze(bytes: bytes, displayName: "fuzz.xml")
            let report = AnalysisReport(analysis)
            _ = TextReporter().render(report)
            _ = JSONReporter().render(report)
            _ = SARIFReporter().render(report)
            _ = DOTWriter().render(LockGraphView(report, cyclesOnly: true))
        } catch is TraceInputError {
        } catch {
            fatalError("not an input error: \(error)")
        }
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; hand it to libFuzzer's driver
// (libFuzzer's own main is not the one the linker keeps).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("pgtrace_fuzz_main")
public func fuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
