// swift-tools-version: 6.0
// libFuzzer targets for rnnc, a package of its own because every target here is built with
// `-sanitize=fuzzer,address -parse-as-library`. Run them with `bash Tests/Fuzz/run.sh`
// (docs/testing.md).
import PackageDescription

let rnnc: [Target.Dependency] = [
    "FuzzSupport",
    .product(name: "RNNCompiler", package: "rnnc"),
    .product(name: "RNNRuntime", package: "rnnc"),
]

let package = Package(
    name: "rnnc-fuzz",
    dependencies: [.package(name: "rnnc", path: "../..")],
    targets: [
        // Hands each target's entry point to libFuzzer's driver; shared checks.
        .target(name: "FuzzSupport", dependencies: [.product(name: "RNNRuntime", package: "rnnc")]),
        // Source text -> check -> optimize (verified) -> lower -> artifact round trip.
        .executableTarget(name: "fuzz-source", dependencies: rnnc),
        // Artifact bytes -> decode -> run a few tokens in both modes.
        .executableTarget(name: "fuzz-artifact", dependencies: rnnc),
        // Input and weights files: JSON, CSV, text, .npy and .safetensors decoders.
        .executableTarget(name: "fuzz-input", dependencies: rnnc),
        // Scan plans of compiled models with fields mutated against their programs.
        .executableTarget(name: "fuzz-plan", dependencies: rnnc),
        // Generated sources of one stressed shape (chains, nesting, wide and many states,
        // products to fuse) at sizes up to millions, with a `--set` value from the bytes.
        .executableTarget(name: "fuzz-shape", dependencies: rnnc),
    ]
)
