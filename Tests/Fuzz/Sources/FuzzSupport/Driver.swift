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
    guard width <= 256, model.program.slotSizes.reduce(0, &+) <= 1 << 20 else { return }
    let tokens = SequenceData(sequence: (0..<5).map { t in (0..<width).map { Double(($0 + t) % 3) - 1 } }, width: width)
    _ = try? runModel(model, on: tokens, mode: .step, float32: false)
    _ = try? runModel(model, on: tokens, mode: .scan, float32: true)
}
