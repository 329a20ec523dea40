// swift-tools-version: 6.0
// An app that compiles its models at build time with RNNCPlugin and runs them with
// RNNRuntime alone (docs/swiftpm.md). Build and run it from this folder: `swift run App`.
import PackageDescription

let package = Package(
    name: "swiftpm-app",
    dependencies: [.package(name: "rnnc", path: "../..")],
    targets: [
        .executableTarget(
            name: "App",
            dependencies: [.product(name: "RNNRuntime", package: "rnnc")],
            plugins: [.plugin(name: "RNNCPlugin", package: "rnnc")]
        ),
    ]
)
