// swift-tools-version:6.0
// The libFuzzer targets over pgtrace's readers and replay. A package of its own, so that the
// main package's `swift build` and `swift test` never link them without the fuzzer runtime;
// scripts/fuzz.sh builds them with -sanitize=fuzzer,address.
//
//   pgtrace-fuzz       trace format v1 (XML): the reader, the schema validator, the replay
//   pgtrace-fuzz-text  kernel text traces (ftrace, trace-cmd report, perf script): the importer,
//                      then the reader and the replay over what it produced
//   pgtrace-fuzz-summary  summaries: the reader, the merge, the graph checks, the writer
//                      (what merges writes a summary that reads back to the same bytes)
import PackageDescription

let package = Package(
    name: "pgtrace-fuzz",
    products: [
        .executable(name: "pgtrace-fuzz", targets: ["pgtrace-fuzz"]),
        .executable(name: "pgtrace-fuzz-text", targets: ["pgtrace-fuzz-text"]),
        .executable(name: "pgtrace-fuzz-summary", targets: ["pgtrace-fuzz-summary"]),
    ],
    dependencies: [.package(name: "pgtrace", path: "..")],
    targets: [
        // libFuzzer's driver, the input-error rule and the report rendering both targets use.
        .target(name: "FuzzSupport", dependencies: [.product(name: "PGTrace", package: "pgtrace")]),
        .executableTarget(
            name: "pgtrace-fuzz",
            dependencies: ["FuzzSupport", .product(name: "PGTrace", package: "pgtrace")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "pgtrace-fuzz-text",
            dependencies: ["FuzzSupport", .product(name: "PGTrace", package: "pgtrace")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "pgtrace-fuzz-summary",
            dependencies: ["FuzzSupport", .product(name: "PGTrace", package: "pgtrace")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
