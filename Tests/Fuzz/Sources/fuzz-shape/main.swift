import FuzzSupport
import Foundation
@_spi(Fuzzing) import RNNCompiler
import RNNRuntime

/// Structure-aware source fuzzing (issue #14): the bytes choose a shape that stresses one
/// limit of the compiler — long operator and subscript chains, deep nesting, many chained
/// states, wide states and identities, matrix products to fuse, many stateful calls, wide
/// matrix states and many small ones (heads) — and its
/// size, up to about 65,000 terms or elements; the rest of the bytes is a `--set n=...` value
/// (which can ask for far more).
/// Each input must end in a located error or a compiled model, within the fuzzer's time and
/// memory limits (a budget must refuse what is too big before it allocates or loops).
private enum Shape: UInt8, CaseIterable {
    case sumChain, subscriptChain, negationChain, parentheses, stateChain, wideAffine, eye, fusedProducts, statefulCalls
    case matrixState, heads

    /// A program of this shape with `size` repetitions, reading the model parameter `n`.
    func source(_ size: Int) -> String {
        func repeated(_ s: String, _ k: Int, separator: String = "") -> String { Array(repeating: s, count: k).joined(separator: separator) }
        switch self {
        case .sumChain:
            return "model M(n = 2) {\n  input x: [n]\n  output " + repeated("x", size, separator: " + ") + "\n}\n"
        case .subscriptChain:
            return "model M(n = 2) {\n  input x: [n]\n  output [x" + repeated("[0:1]", size) + "]\n}\n"
        case .negationChain:
            return "model M(n = 2) {\n  input x: [n]\n  output " + repeated("-", size) + "x\n}\n"
        case .parentheses:
            return "model M(n = 2) {\n  input x: [n]\n  output " + repeated("(", size) + "x" + repeated(")", size) + "\n}\n"
        case .stateChain:
            let states = (0..<size).map { "  state s\($0): [n] = 0\n" }.joined()
            let updates = (0..<size).map { "  s\($0) <- " + ($0 == 0 ? "x" : "s\($0 - 1)") + " * 0.5\n" }.joined()
            return "model M(n = 1) {\n  input x: [n]\n" + states + updates + "  output s\(size - 1)\n}\n"
        case .wideAffine:
            return "model M(n = \(size)) {\n  input x: [n]\n  state h: [n] = 0\n  h <- (eye(n) * 0.5 + 0.01) @ h + x\n  output h\n}\n"
        case .eye:
            return "model M(n = \(size)) {\n  input x: [n]\n  output eye(n) @ x\n}\n"
        case .fusedProducts:
            return "model M(n = \(size)) {\n  input x: [n]\n  output (eye(n) * 2 + 1) @ ((eye(n) + 0.5) @ x)\n}\n"
        case .statefulCalls:
            let calls = (0..<size).map { "  y\($0) = counter(x)\n" }.joined()
            return "fn counter(v: [1]) -> [1] {\n  state c: [1] = 0\n  c <- c + v\n  return c\n}\nmodel M(n = 1) {\n  input x: [1]\n"
                + calls + "  output y\(size - 1)\n}\n"
        case .matrixState:
            return "model M(n = \(size)) {\n  input x: [n]\n  state S: [n, n] = 0\n  S <- transpose(sigmoid(x)) * S + outer(x, x)\n  output S @ x\n}\n"
        case .heads:
            return "fn head(x: [2]) {\n  state S: [2, 2] = 0\n  S <- 0.5 * S + outer(x, x)\n  return x @ S\n}\n"
                + "model M(n = \(size)) {\n  input x: [2]\n  output [for h in 0..<n: head(x)]\n}\n"
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShape(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 3 else { return 0 }
    let shape = Shape.allCases[Int(bytes[0]) % Shape.allCases.count]
    // 1 ... about 2^16: a power of two and a fraction of the next one. Larger inputs are
    // linear work that AddressSanitizer slows past any timeout (1.4 million chained states:
    // 20 s to parse and dump in a release build); Tests/Stress/run.sh runs those sizes in
    // release, with time limits.
    let power = 1 << Int(bytes[1] % 16)
    let repetitions = power + power * Int(bytes[2]) / 256
    // The n x n shapes: matrices between about 4M values and the compiler's budget (2^26
    // elements, CompilerLimits.maxTensorElements) are legit work that AddressSanitizer slows
    // past any timeout and past the fuzzer's memory limit (n = 7,152: 51M-element constants,
    // over 2 GB); Tests/Stress/run.sh runs such sizes in release. Past the budget they still
    // test the refusal. Their n comes from the size alone, not from a `--set` the bytes spell.
    let quadratic = [.wideAffine, .eye, .fusedProducts, .matrixState].contains(shape)
    if quadratic, repetitions > 2048, repetitions * repetitions <= 1 << 26 { return 0 }
    let setting = bytes.count > 3 && !quadratic ? String(decoding: bytes[3...], as: UTF8.self) : nil
    let options = ElaborationOptions(settings: setting.map { [(name: "n", value: $0)] } ?? [])
    let compiler = Compiler(stdlibPath: nil, options: options)
    let text = shape.source(repetitions)
    // `rnnc fmt` and `compile --emit ast` walk the syntax tree on the main thread's stack.
    _ = Compiler(stdlibPath: nil).formattedAndDumped(SourceFile(path: "shape.rnn", text: text))
    guard let values = compiler.elaboratedValueCount(SourceFile(path: "shape.rnn", text: text)) else {
        precondition(compiler.diagnostics.hasErrors, "rejected without an error")
        return 0
    }
    // Past about 4M values in all, optimizing and lowering is legitimate linear work that
    // AddressSanitizer slows past any timeout (304 chained states 100,000 wide: 6 s in a
    // release build, 2 minutes here); Tests/Stress/run.sh runs such sizes in release. The
    // budgets that refuse before allocating are all in elaboration, which ran above.
    guard values <= 1 << 22 else { return 0 }
    let pipeline = Compiler(stdlibPath: nil, options: options)
    guard let model = try? pipeline.compile(SourceFile(path: "shape.rnn", text: text))?.model else {
        precondition(pipeline.diagnostics.hasErrors, "rejected without an error")
        return 0
    }
    runBriefly(model)
    return 0
}

// SwiftPM links an executable with main=fuzz_shape_main; hand that entry point to libFuzzer.
@_cdecl("fuzz_shape_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzShape)
}
