import PGTrace

/// What the fuzz targets share: libFuzzer's driver, the rule that only input errors may end
/// an input, and every report rendered from an analysis.

/// Runs `body`; an input error is what bad input should give, anything else is a bug. Returns
/// whether `body` finished without an error.
@discardableResult
public func expectingOnlyInputErrors(_ body: () throws -> Void) -> Bool {
    do {
        try body()
        return true
    } catch is TraceInputError {
        return false
    } catch {
        fatalError("not an input error: \(error)")
    }
}

/// Renders `analysis` in every report and graph format.
public func renderEveryFormat(_ analysis: Analysis) {
    let report = AnalysisReport(analysis)
    _ = TextReporter().render(report)
    _ = JSONReporter().render(report)
    _ = SARIFReporter().render(report)
    _ = JUnitReporter().render(report)
    _ = GraphMLWriter().render(LockGraphView(report))
    _ = DOTWriter().render(LockGraphView(report, cyclesOnly: true))
}

// SwiftPM links an executable's entry point as `<module>_main`; hand it to libFuzzer's driver
// (libFuzzer's own main is not the one the linker keeps).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// Runs libFuzzer with `callback` as LLVMFuzzerTestOneInput, from a target's `_main`.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, callback)
}
