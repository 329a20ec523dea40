import FuzzSupport
import RNNRuntime

/// Decodes the bytes as a compiled artifact. Whatever decodes has passed validation, so it
/// must run a few tokens in both modes without crashing (errors are fine).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArtifact(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let model = try? Artifact.decode(bytes, path: "fuzz.rnnc") else { return 0 }
    runBriefly(model)
    return 0
}

// SwiftPM links an executable with main=fuzz_artifact_main; hand that entry point to libFuzzer.
@_cdecl("fuzz_artifact_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzArtifact)
}
