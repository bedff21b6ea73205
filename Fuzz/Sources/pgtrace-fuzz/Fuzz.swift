import FuzzSupport
import PGTrace

/// libFuzzer's entry point: every input goes through the reader, the schema validator and
/// the replay with all checkers; an input error is fine, a crash or a hang is a bug.
/// Built by scripts/fuzz.sh with `-sanitize=fuzzer,address`; not part of `swift test`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for validates in [false, true] {
        let analysis = Analysis(options: AnalysisOptions(maxDepth: 8, validatesSchema: validates))
        expectingOnlyInputErrors {
            try analysis.analyze(bytes: bytes, displayName: "fuzz.xml")
            renderEveryFormat(analysis)
        }
    }
    return 0
}

@_cdecl("pgtrace_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
