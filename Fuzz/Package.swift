// swift-tools-version:6.0
// The libFuzzer target over pgtrace's reader and replay. A package of its own, so that the
// main package's `swift build` and `swift test` never link it without the fuzzer runtime;
// scripts/fuzz.sh builds it with -sanitize=fuzzer,address.
import PackageDescription

let package = Package(
    name: "pgtrace-fuzz",
    dependencies: [.package(name: "pgtrace", path: "..")],
    targets: [
        .executableTarget(
            name: "pgtrace-fuzz",
            dependencies: [.product(name: "PGTrace", package: "pgtrace")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)
