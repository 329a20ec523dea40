// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "rnnc",
    products: [
        .executable(name: "rnnc", targets: ["rnnc"]),
        .library(name: "RNNCompiler", targets: ["RNNCompiler"]),
        .library(name: "RNNRuntime", targets: ["RNNRuntime"]),
        .library(name: "RNNExport", targets: ["RNNExport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
    ],
    targets: [
        // Dense matrix, activation and element-wise kernels in C (AVX-512 or AVX2/FMA chosen at run time).
        .target(name: "RNNKernels"),
        // The op table: every element-wise op described once (semantics, kernels, linearity, export spellings).
        .target(name: "RNNOps", dependencies: ["RNNKernels"]),
        // Runs compiled artifacts; knows nothing about the compiler.
        .target(name: "RNNRuntime", dependencies: ["RNNOps", "RNNKernels"]),
        // Front end, semantic analysis, IR, reference interpreter, lowering, artifact writer.
        .target(
            name: "RNNCompiler",
            dependencies: [
                "RNNOps", "RNNRuntime", .product(name: "ComplexModule", package: "swift-numerics"), .product(name: "BigInt", package: "BigInt"),
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
            ]
        ),
        .executableTarget(name: "rnnc", dependencies: ["RNNCommands"]),
        .testTarget(name: "RNNRuntimeTests", dependencies: ["RNNOps", "RNNRuntime", "RNNKernels"]),
        .testTarget(
            name: "RNNCompilerTests",
            dependencies: ["RNNOps", "RNNCompiler", "RNNRuntime", "RNNGrammar", "RNNExport", "RNNCommands", .product(name: "BigInt", package: "BigInt")]
        ),
        .testTarget(name: "RNNCommandsTests", dependencies: ["RNNCommands", "RNNCompiler", "RNNRuntime", "RNNGrammar"]),
    ]
)
