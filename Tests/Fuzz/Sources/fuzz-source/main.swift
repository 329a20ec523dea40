import FuzzSupport
import Foundation
import RNNCompiler
import RNNRuntime

/// The repository's stdlib, found from this file's path (Tests/Fuzz/Sources/fuzz-source/).
private let stdlib = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../../stdlib").standardized.path

/// Compiles the bytes as a .rnn file. A rejection must carry located errors; an accepted
/// program must survive the verified optimizer, both lowerings, an artifact round trip and
/// a short run in each mode.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSource(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let compiler = Compiler(stdlibPath: stdlib)
    let compiled: CompiledModel?
    do {
        compiled = try compiler.compile(SourceFile(path: "fuzz.rnn", bytes: bytes), options: PipelineOptions(verifyEach: true))
    } catch {
        preconditionFailure("optimizer: \(error)")
    }
    guard let model = compiled?.model else {
        precondition(compiler.diagnostics.hasErrors, "rejected without an error")
        for d in compiler.diagnostics.diagnostics where d.range == nil && d.code != .modelSelection {
            preconditionFailure("unlocated diagnostic: \(d)")
        }
        return 0
    }
    let decoded: Artifact.Model
    do { decoded = try Artifact.decode(Artifact.encode(model), path: "fuzz") } catch { preconditionFailure("artifact round trip: \(error)") }
    precondition(decoded == model, "artifact round trip changed the model")
    runBriefly(decoded)
    return 0
}

// SwiftPM links an executable with main=fuzz_source_main; hand that entry point to libFuzzer.
@_cdecl("fuzz_source_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSource)
}
