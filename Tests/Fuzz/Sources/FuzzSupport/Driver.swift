import RNNRuntime

/// libFuzzer's driver for programs that bring their own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// Runs libFuzzer with the command line and the target's test function.
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ test: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, test)
}

/// Runs a model on five small tokens in step mode (Float64) and scan mode (Float32), when
/// it is small enough to stay well inside the fuzzer's memory limit (inputs up to 256
/// values, slots up to 1M values in all); errors are fine, crashes are not.
public func runBriefly(_ model: Artifact.Model) {
    let width = model.program.inputWidth
    guard width <= 256, model.program.workingValueCount <= 1 << 20 else { return }
    let tokens = (0..<5).map { t in (0..<width).map { Double(($0 + t) % 3) - 1 } }
    _ = try? model.run(tokens, as: Double.self, mode: .step)
    _ = try? model.run(tokens.map { $0.map(Float.init) }, as: Float.self, mode: .scan)
}
