import FuzzSupport
import Foundation
@_spi(Fuzzing) import RNNCompiler
import RNNRuntime

/// Structure-aware source fuzzing (issue #14): the bytes choose a shape that stresses one
/// limit of the compiler — long operator and subscript chains, deep nesting, many chained
/// states, wide states and identities, matrix products to fuse, many stateful calls, wide
/// matrix states and many small ones (heads) — and its size; the rest of the bytes is a
/// `--set n=...` value (which can ask for far more). Each input must end in a located error
/// or a compiled model that runs, within the time and memory limits (a budget must refuse
/// what is too big before it allocates or loops).
///
/// Two builds share this file. Under AddressSanitizer (`Tests/Fuzz/run.sh`) sizes stay small
/// and the resource limits are lowered (`fuzzingLimits`), so that the fuzzer runs hundreds of
/// inputs a second and explores shapes, sizes and `--set` values together: up to 127
/// repetitions, and `n x n` shapes up to 31 or past the element limit (the refusal). The
/// release sweep (`-D SHAPE_SWEEP`, `Tests/Fuzz/sweep.sh`) runs every shape at every power of
/// two up to 2^20 under the default limits, with the same checks: large sizes are legitimate
/// linear or cubic work that AddressSanitizer slows past any timeout.
/// At most 16 shapes: the sweep runs shapes 0 ..< 16.
private enum Shape: UInt8, CaseIterable {
    case sumChain, subscriptChain, negationChain, parentheses, stateChain, wideAffine, eye, fusedProducts, statefulCalls
    case matrixState, heads

    /// Whether the program holds `n x n` values: its size is `n`, never a `--set` value.
    var isQuadratic: Bool { [.wideAffine, .eye, .fusedProducts, .matrixState].contains(self) }

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

#if SHAPE_SWEEP
private let limits = ResourceLimits()
#else
/// The limits' refusals at sizes AddressSanitizer runs in milliseconds (the defaults let a
/// `--set` value make elaboration build 2^28 constants: 20 s and gigabytes here).
private let limits = {
    var limits = ResourceLimits()
    limits.tensorElements = 1 << 16
    limits.vectorWidth = 1 << 16
    limits.iterations = 1 << 16
    limits.irNodes = 1 << 16
    limits.storedWeights = 1 << 20
    limits.constantValues = 1 << 22
    return limits
}()
#endif

/// The shape's size from two bytes: a power of two and a fraction of the next one.
private func repetitions(of shape: Shape, exponent: UInt8, fraction: UInt8) -> Int {
    #if SHAPE_SWEEP
    let power = 1 << Int(exponent % 21)
    #else
    // n = 257 and more: n^2 passes the element limit.
    if shape.isQuadratic, exponent & 0x80 != 0 { return 257 + Int(fraction) * 64 }
    let power = 1 << Int(exponent % (shape.isQuadratic ? 5 : 7))
    #endif
    return power + power * Int(fraction) / 256
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShape(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 3 else { return 0 }
    #if SHAPE_SWEEP
    // The sweep names shapes 0 ..< 16 (Tests/Fuzz/sweep.sh), more than there are.
    guard Int(bytes[0]) < Shape.allCases.count else { return 0 }
    #endif
    let shape = Shape.allCases[Int(bytes[0]) % Shape.allCases.count]
    let size = repetitions(of: shape, exponent: bytes[1], fraction: bytes[2])
    let setting = bytes.count > 3 && !shape.isQuadratic ? String(decoding: bytes[3...], as: UTF8.self) : nil
    var options = ElaborationOptions(settings: setting.map { [(name: "n", value: $0)] } ?? [])
    options.limits = limits
    let compiler = Compiler(stdlibPath: nil, options: options)
    let text = shape.source(size)
    // `rnnc fmt` and `compile --emit ast` walk the syntax tree on the main thread's stack.
    _ = Compiler(stdlibPath: nil, options: options).formattedAndDumped(SourceFile(path: "shape.rnn", text: text))
    guard let values = compiler.elaboratedValueCount(SourceFile(path: "shape.rnn", text: text)) else {
        precondition(compiler.diagnostics.hasErrors, "rejected without an error")
        return 0
    }
    #if SHAPE_SWEEP
    _ = values  // the sweep compiles and runs every size
    #else
    // A `--set` value can make a small shape hold millions of values: optimizing and lowering
    // those is legitimate linear work that AddressSanitizer slows to seconds and gigabytes a
    // run (64 states 65,536 wide: 4M values), which would hold the fuzzer to a few runs a
    // second. The budgets that refuse before allocating are all in elaboration, which ran
    // above; the sweep and Tests/Stress/run.sh compile millions of values in release.
    guard values <= 1 << 16 else { return 0 }
    #endif
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
