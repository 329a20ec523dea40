import FuzzSupport
import Foundation
import RNNCompiler
import RNNRuntime

/// Scan plans mutated against their programs (issue #14): a compiled model's plan, as JSON,
/// has integer fields changed, array elements dropped or duplicated as the bytes say; a
/// plan that still validates must run in both modes without a crash or a bad read.
private let models: [Artifact.Model] = [
    // Direct diagonal scan, general diagonal terms, modal, matrix recurrence, sequential
    // with local slots, a state read before and after its update, and chunked matrix states.
    "model M {\n  input ab: [6]\n  state h: [3] = [1, 2, 3]\n  h <- ab[0:3] * h + ab[3:6]\n  output h\n}",
    "model M {\n  input x: [2]\n  state h: [2] = 1\n  u = x * (h + x)\n  h <- u + x\n  output [u, h]\n}",
    "model M {\n  input x: [2]\n  state b: [2] = [1, 1]\n  b <- [[0.9, 0.1], [-0.2, 0.8]] @ b + x\n  output b\n}",
    "model M {\n  input x: [2]\n  state b: [2] = [1, 1]\n  b <- [[0, 1], [1, 0]] @ b + x\n  output b\n}",
    "model M {\n  input x: [2]\n  state h: [2] = 0\n  state c: [2] = 0.5\n  g = [[0.5, -0.2], [0.1, 0.3], [0.7, 0], [0, -0.4]] @ h + [x, x]\n  c <- sigmoid(g[0:2]) * c + tanh(g[2:4])\n  h <- sigmoid(g[0:2]) * tanh(c)\n  output [h, [7, 8]]\n}",
    "model M {\n  input ab: [4]\n  state h: [2] = 0.5\n  old = h\n  p = ab[0:2] * h\n  h <- p + ab[2:4]\n  output [old, p, h, h]\n}",
    // Chunked matrix states: a decay per row read before and after the update; the gated delta rule.
    "model M {\n  input x: [7]\n  state S: [2, 3] = 0.5\n  before = x[1:3] @ S\n  S <- transpose(sigmoid(x[0:2])) * S + outer(x[2:4], x[4:7])\n  output [before, x[0:2] @ S]\n}",
    "model M {\n  input x: [6]\n  state S: [3, 2] = 0.5\n  k = tanh(x[0:3]) * 0.5\n  D = sigmoid(x[5]) * S\n  S <- D + outer(k, sigmoid(x[4]) * (x[3:5] - k @ D))\n  output x[1:4] @ S\n}",
    // Many keys and few values: the chunk's scratch must hold the keys' packed panels.
    "model M {\n  input x: [22]\n  state S: [20, 2] = 0.1\n  k = tanh(x[0:20]) * 0.2\n  S <- S + outer(k, 0.5 * (x[20:22] - k @ S))\n  output x[1:21] @ S\n}",
].compactMap { source in
    try? Compiler(stdlibPath: nil).compile(SourceFile(path: "seed.rnn", text: source))?.model
}

/// Every integer in the JSON, as a path of keys and indices.
private func integerPaths(_ value: Any, _ path: [Any] = []) -> [[Any]] {
    if let d = value as? [String: Any] { return d.keys.sorted().flatMap { integerPaths(d[$0]!, path + [$0]) } }
    if let a = value as? [Any] { return a.indices.flatMap { integerPaths(a[$0], path + [$0]) } }
    if value is Int, !(value is Bool) { return [path] }
    return []
}

/// `value` with the element at `path` replaced by `transform(old)` (nil removes it from its array).
private func updating(_ value: Any, at path: ArraySlice<Any>, _ transform: (Any) -> Any?) -> Any? {
    guard let first = path.first else { return transform(value) }
    if var d = value as? [String: Any], let key = first as? String, let inner = d[key] {
        d[key] = updating(inner, at: path.dropFirst(), transform)
        return d
    }
    if var a = value as? [Any], let i = first as? Int, a.indices.contains(i) {
        if let new = updating(a[i], at: path.dropFirst(), transform) { a[i] = new } else { a.remove(at: i) }
        return a
    }
    return value
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlan(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first, !models.isEmpty else { return 0 }
    let model = models[Int(first) % models.count]
    guard let json = try? JSONEncoder().encode(model.plan), var plan = try? JSONSerialization.jsonObject(with: json) else { return 0 }
    var k = 1
    while k + 1 < bytes.count {
        let paths = integerPaths(plan)
        guard !paths.isEmpty else { break }
        let path = paths[Int(bytes[k]) % paths.count]
        let action = bytes[k + 1]
        plan = updating(plan, at: path[...]) { old in
            switch action % 4 {
            case 0: return nil  // drop it from its array
            case 1: return (old as? Int ?? 0) + 1
            case 2: return (old as? Int ?? 0) - 1
            default: return Int(action / 4) - 4  // -4 ... 59
            }
        } ?? plan
        k += 2
    }
    guard let mutated = try? JSONSerialization.data(withJSONObject: plan),
          let decoded = try? JSONDecoder().decode(ScanPlan.self, from: mutated) else { return 0 }
    // Loading an artifact validates the plan against the program and checks that they agree;
    // a plan that passes must compute what the program computes, on other tokens than the check's.
    let candidate = Artifact.encode(Artifact.Model(program: model.program, plan: decoded, precision: model.precision))
    guard let loaded = try? Artifact.decode(candidate, path: "fuzz.rnnc") else { return 0 }
    let width = model.program.inputWidth
    func value(_ t: Int, _ i: Int) -> Double { Double((i * 7 + t * 3) % 5) / 2 - 1 }
    let tokens: [[Double]] = (0..<6).map { t in (0..<width).map { i in value(t, i) } }
    guard let scanned = try? ScanRunner<Double>(program: loaded.program, plan: loaded.plan).run(tokens),
          let stepped = try? StepSession<Double>(program: model.program, threads: 1).run(tokens) else { return 0 }
    for (g, w) in zip(scanned.joined(), stepped.joined()) where w.isFinite && !(abs(g - w) <= 1e-4 * max(1, abs(w))) {
        fatalError("a plan that passed the agreement check computes \(g) where the program computes \(w)")
    }
    runBriefly(loaded)
    return 0
}

// SwiftPM links an executable with main=fuzz_plan_main; hand that entry point to libFuzzer.
@_cdecl("fuzz_plan_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzPlan)
}
