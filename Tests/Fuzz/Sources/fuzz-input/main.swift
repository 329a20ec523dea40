import FuzzSupport
import RNNRuntime

/// Feeds the bytes to every input-file decoder (JSON, CSV, text, .npy) and to the
/// safetensors weights decoder; each must return data or throw, never crash. What decodes
/// must encode again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for format in DataFormat.allCases {
        if let decoded = try? SequenceData.decode(bytes, path: "fuzz.\(format.rawValue)", format: format) {
            _ = try? decoded.encode(format: format)
        }
    }
    if let weights = try? SafeTensors.decode(bytes, path: "fuzz.safetensors") {
        _ = SafeTensors.encode(weights)
        for tensor in weights.tensors { _ = tensor.doubles() }
    }
    return 0
}

// SwiftPM links an executable with main=fuzz_input_main; hand that entry point to libFuzzer.
@_cdecl("fuzz_input_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzInput)
}
