// swift-tools-version: 6.0
// The benchmark runner, a package of its own so the main build and CI stay lean.
// Build and run everything with `bash bench/run.sh` from the repository root.
import PackageDescription

let package = Package(
    name: "rnnc-bench",
    dependencies: [.package(name: "rnnc", path: "..")],
    targets: [
        .executableTarget(
            name: "rnnc-bench",
            dependencies: [
                .product(name: "RNNCompiler", package: "rnnc"),
                .product(name: "RNNRuntime", package: "rnnc"),
            ]
        ),
    ]
)
