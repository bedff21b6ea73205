// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "pgtrace",
    products: [
        .library(name: "PGTrace", targets: ["PGTrace"]),
        .executable(name: "pgtrace", targets: ["pgtrace"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // trace-cmd's libtracecmd reads trace.dat files; libtraceevent parses the event
        // formats each file carries (libtracecmd.pc requires libtracefs too).
        .systemLibrary(
            name: "CLibTraceCmd",
            pkgConfig: "libtracecmd",
            providers: [.apt(["libtracecmd-dev", "libtraceevent-dev", "libtracefs-dev"])]
        ),
        // The compiler's prefetch, which Swift cannot spell (a header, no library).
        .systemLibrary(name: "CPrefetch"),
        .target(
            name: "PGTrace",
            dependencies: ["CLibXML2", "CLibTraceCmd", "CPrefetch"]
        ),
        .executableTarget(
            name: "pgtrace",
            dependencies: [
                "PGTrace",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "PGTraceTests",
            dependencies: ["PGTrace", "pgtrace"],
            exclude: ["Golden", "Fixtures"]
        ),
    ]
)
