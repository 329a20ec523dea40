// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// The entries of the package root that the RNNStdlib target does not own. The target is rooted
/// at the package root because stdlib/ lives there; without these exclusions SwiftPM would
/// warn about every other file as an unhandled resource.
func outsideRNNStdlib() -> [String] {
    let files = FileManager.default
    let root = Context.packageDirectory
    let top = (try? files.contentsOfDirectory(atPath: root)) ?? []
    let sources = (try? files.contentsOfDirectory(atPath: root + "/Sources")) ?? []
    return top.filter { !$0.hasPrefix(".") && $0 != "stdlib" && $0 != "Sources" }
        + sources.filter { !$0.hasPrefix(".") && $0 != "RNNStdlib" }.map { "Sources/" + $0 }
}

let package = Package(
    name: "rnnc",
    products: [
        .executable(name: "rnnc", targets: ["rnnc"]),
        .library(name: "RNNCompiler", targets: ["RNNCompiler"]),
        .library(name: "RNNRuntime", targets: ["RNNRuntime"]),
        .library(name: "RNNExport", targets: ["RNNExport"]),
        .plugin(name: "RNNCPlugin", targets: ["RNNCPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        // `swift package generate-documentation`: the DocC catalogs of the library targets.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Dense matrix, activation and element-wise kernels in C (AVX-512 or AVX2/FMA chosen at run time).
        .target(name: "RNNKernels"),
        // The op table: every element-wise op described once (semantics, kernels, linearity, export spellings).
        .target(name: "RNNOps", dependencies: ["RNNKernels"]),
        // Runs compiled artifacts; knows nothing about the compiler.
        .target(name: "RNNRuntime", dependencies: ["RNNOps", "RNNKernels"]),
        // The standard library's .rnn files as a resource, so an app that embeds RNNCompiler
        // needs no copy of its own. Its path is the package root because stdlib/ lives there.
        .target(
            name: "RNNStdlib", path: ".", exclude: outsideRNNStdlib(), sources: ["Sources/RNNStdlib"], resources: [.copy("stdlib")]
        ),
        // Front end, semantic analysis, IR, reference interpreter, lowering, artifact writer.
        .target(
            name: "RNNCompiler",
            dependencies: [
                "RNNOps", "RNNRuntime", "RNNStdlib", .product(name: "ComplexModule", package: "swift-numerics"), .product(name: "BigInt", package: "BigInt"),
            ]
        ),
        // Exporters: ONNX (protobuf messages generated from onnx.proto, see ONNX/generate.sh) and PyTorch.
        .target(
            name: "RNNExport",
            dependencies: ["RNNOps", "RNNRuntime", "RNNCompiler", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["ONNX/onnx.proto", "ONNX/generate.sh"]
        ),
        // Reads grammar/rnn.ebnf: recognizer, sentence generator and coverage (tests, `rnnc test --coverage`).
        .target(name: "RNNGrammar"),
        // The CLI's commands, as a library so tests run them in-process.
        .target(
            name: "RNNCommands",
            dependencies: [
                "RNNCompiler", "RNNRuntime", "RNNGrammar", "RNNExport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            plugins: ["VersionStamp"]
        ),
        .executableTarget(name: "rnnc", dependencies: ["RNNCommands"]),
        // Compiles the .rnn files of an app's target at build time (docs/swiftpm.md).
        .plugin(name: "RNNCPlugin", capability: .buildTool(), dependencies: ["RNNCBuildTool"], path: "Sources/Plugins/RNNCPlugin"),
        // The plugin's tool: one .rnn file to an artifact and its Swift accessor.
        .executableTarget(name: "RNNCBuildTool", dependencies: ["RNNCompiler", "RNNRuntime"]),
        // Stamps RNNCommands with the commit it is built from (`rnnc --version`).
        .plugin(name: "VersionStamp", capability: .buildTool(), path: "Sources/Plugins/VersionStamp"),
        .testTarget(name: "RNNRuntimeTests", dependencies: ["RNNOps", "RNNRuntime", "RNNKernels"]),
        .testTarget(
            name: "RNNCompilerTests",
            dependencies: ["RNNOps", "RNNCompiler", "RNNRuntime", "RNNStdlib", "RNNGrammar", "RNNExport", "RNNCommands", .product(name: "BigInt", package: "BigInt")]
        ),
        .testTarget(
            name: "RNNCommandsTests", dependencies: ["RNNCommands", "RNNCompiler", "RNNRuntime", "RNNGrammar", "RNNExport"], exclude: ["Help"]
        ),
    ]
)
