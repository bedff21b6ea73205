// swift-tools-version:6.0
// A package that depends on PGTrace by version, as another project would: SwiftPM refuses a
// dependency by version whose targets carry unsafe build flags, so this builds only while
// PGTrace has none. scripts/check-dependency.sh points PGTRACE_GIT_URL at a tagged clone.
import PackageDescription

let url = Context.environment["PGTRACE_GIT_URL"] ?? "https://github.com/pgtrace/pgtrace"
let version = Context.environment["PGTRACE_VERSION"] ?? "0.3.0"

let package = Package(
    name: "consumer",
    dependencies: [.package(url: url, exact: Version(stringLiteral: version))],
    targets: [
        .executableTarget(name: "consumer", dependencies: [.product(name: "PGTrace", package: "pgtrace")])
    ]
)
