// rnnc-bench: times rnnc on the benchmark workloads and prints one JSON line per result.
//   rnnc-bench [--data DIR] [--quick] [--cell gru|lstm] [--batch B] [GEMM W1 W2 W3 W4 W5 WA]
// Weights come from DIR (bench/.data, written by bench/peers/make_weights.py) so the peers
// run the same models. Every timing is the best of several runs, compute only (inputs are
// generated before the clock starts).
import Dispatch
import Foundation
import RNNCompiler
import RNNRuntime

struct Options {
    var data = "bench/.data"
    var quick = false
    var workloads: [String] = []
    var cells = ["gru", "lstm"]  // W3's cells and batch sizes, narrowed to profile one
    var batches = [1, 8]
}

func parseOptions() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        switch a {
        case "--data": o.data = args.popFirst() ?? o.data
        case "--quick": o.quick = true
        case "--cell": o.cells = [args.popFirst() ?? ""]
        case "--batch": o.batches = [Int(args.popFirst() ?? "") ?? 1]
        case "GEMM", "W1", "W2", "W3", "W4", "W5", "W6", "W7", "WA", "THRESHOLD": o.workloads.append(a)
        default:
            FileHandle.standardError.write(Data("usage: rnnc-bench [--data DIR] [--quick] [--cell gru|lstm] [--batch B] [GEMM W1 W2 W3 W4 W5 W6 W7 WA THRESHOLD]\n".utf8))
            exit(a == "--help" || a == "-h" ? 0 : 64)
        }
    }
    if o.workloads.isEmpty { o.workloads = ["GEMM", "W1", "W2", "W3", "W4", "W5", "W6", "W7", "WA"] }
    return o
}

let options = parseOptions()
let benchDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let stdlib = benchDir + "/../stdlib"

func compileModel(_ workload: String, weights: String? = nil, settings: [(name: String, value: String)] = [],
                  diagonalize: Bool = true, path: String? = nil) -> Artifact.Model {
    var compiler = Compiler(stdlibPath: stdlib, options: ElaborationOptions(settings: settings))
    if let weights {
        guard (try? compiler.loadWeights(path: "\(options.data)/\(weights)")) == true else {
            fatalError("cannot load \(options.data)/\(weights); run bench/peers/make_weights.py first\n\(compiler.diagnostics.render())")
        }
    }
    guard let source = try? Compiler.readSource(path: path ?? "\(benchDir)/workloads/\(workload).rnn") else { fatalError("cannot read \(workload)") }
    do {
        guard let compiled = try compiler.compile(source, options: PipelineOptions(diagonalize: diagonalize)) else {
            fatalError("cannot compile \(workload): \(compiler.diagnostics.render())")
        }
        return compiled.model
    } catch {
        fatalError("optimizer failed on \(workload): \(error)")
    }
}

/// Deterministic pseudo-random Floats in [lo, hi).
func randomFloats(_ n: Int, seed: UInt64, lo: Float = -1, hi: Float = 1) -> [Float] {
    var s = seed
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return lo + (hi - lo) * Float(s >> 40) / Float(1 << 24)
    }
}

/// Best wall time of `repeats` runs of `body`, in seconds.
func best(_ repeats: Int, _ body: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.min()!
}

func report(_ workload: String, _ impl: String, tokens: Int, seconds: Double, extra: String = "") {
    let line = "{\"workload\": \"\(workload)\", \"impl\": \"\(impl)\", \"tokens\": \(tokens), \"seconds\": \(seconds), \"tokens_per_s\": \(Double(tokens) / seconds)\(extra)}"
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Runs `batch` sequences of `steps` tokens through the scan program, one sequence per core.
func scanThroughput(_ model: Artifact.Model, steps: Int, batch: Int, repeats: Int) -> Double {
    let runner = try! ScanRunner<Float>(program: model.program, plan: model.plan)
    let inputs = (0..<batch).map { randomFloats(steps * model.program.inputWidth, seed: UInt64($0 + 1)) }
    // As runModel does: equal-length sequences in lockstep, one group per core.
    let cores = min(batch, ProcessInfo.processInfo.activeProcessorCount)
    let group = (batch + cores - 1) / cores
    let groups = (0..<cores).map { Array(inputs[($0 * group)..<min(batch, ($0 + 1) * group)]) }
    let workspaces = (0..<cores).map { _ in ScanRunner<Float>.Workspace(threads: ProcessInfo.processInfo.activeProcessorCount / cores) }
    // Outputs go to buffers kept between runs, as a serving loop would keep them.
    nonisolated(unsafe) let outputs = groups.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $0.count * steps * model.program.outputWidth) }
    defer { outputs.forEach { $0.deallocate() } }
    return best(repeats) {
        DispatchQueue.concurrentPerform(iterations: cores) { k in
            runner.run(flat: groups[k], steps: steps, into: outputs[k], workspace: workspaces[k])
        }
    }
}

func stepThroughput(_ program: StepProgram, steps: Int, repeats: Int) -> Double {
    let session = try! StepSession<Float>(program: program)
    let tokens = (0..<steps).map { t in randomFloats(program.inputWidth, seed: UInt64(t)) }
    return best(repeats) {
        session.reset()
        for token in tokens { _ = try! session.step(token) }
    }
}

let q = options.quick
for w in options.workloads {
    switch w {
    case "W1":
        let (steps, d) = (q ? 4096 : 65536, 1024)
        let model = compileModel("w1_diagonal_scan")
        // a_t in (0.5, 1) keeps the state bounded; b_t in (-1, 1).
        var input = [Float](repeating: 0, count: steps * 2 * d)
        let a = randomFloats(steps * d, seed: 1, lo: 0.5, hi: 1), b = randomFloats(steps * d, seed: 2)
        for t in 0..<steps { for i in 0..<d { input[t * 2 * d + i] = a[t * d + i]; input[t * 2 * d + d + i] = b[t * d + i] } }
        let runner = try! ScanRunner<Float>(program: model.program, plan: model.plan)
        let workspace = ScanRunner<Float>.Workspace()
        // Like the C loop, the output buffer is allocated once and reused.
        var output = [Float](repeating: 0, count: steps * d)
        report(w, "rnnc scan", tokens: steps, seconds: best(3) {
            output.withUnsafeMutableBufferPointer { runner.run(flat: input, steps: steps, into: $0, workspace: workspace) }
        })
    case "W2":
        let model = compileModel("w2_mingru", weights: "w2_mingru.safetensors")
        let steps = q ? 512 : 4096
        report(w, "rnnc scan", tokens: steps, seconds: scanThroughput(model, steps: steps, batch: 1, repeats: 3))
        report(w, "rnnc step", tokens: steps, seconds: stepThroughput(model.program, steps: steps, repeats: 1))
    case "W3":
        for cell in ["gru", "lstm"] where options.cells.contains(cell) {
            let model = compileModel("w3_\(cell)", weights: "w3_\(cell).safetensors")
            let steps = q ? 1024 : 16384
            for batch in options.batches {
                report("W3 \(cell.uppercased()) B=\(batch)", "rnnc scan", tokens: steps * batch,
                       seconds: scanThroughput(model, steps: steps, batch: batch, repeats: 2))
            }
        }
    case "W4":
        let model = compileModel("w3_gru", weights: "w3_gru.safetensors")
        let steps = q ? 200 : 2000
        let seconds = stepThroughput(model.program, steps: steps, repeats: 3)
        report(w, "rnnc step", tokens: steps, seconds: seconds, extra: ", \"us_per_token\": \(seconds / Double(steps) * 1e6)")
    case "WA":
        let steps = q ? 2048 : 16384
        for diagonalize in [true, false] {
            let model = compileModel("wa_dense_affine", diagonalize: diagonalize)
            report(w, diagonalize ? "rnnc scan, A diagonalized" : "rnnc scan, matrix recurrence", tokens: steps,
                   seconds: scanThroughput(model, steps: steps, batch: 1, repeats: 3))
        }
    case "W5":
        let model = compileModel("w5_wide_lsrl")
        let steps = q ? 200 : 2000
        report(w, "rnnc step sparse", tokens: steps, seconds: stepThroughput(model.program, steps: steps, repeats: 3))
        report(w, "rnnc step dense", tokens: steps, seconds: stepThroughput(model.program.withDenseMatrices(), steps: steps, repeats: 1))
    case "W6":
        // examples/lm/mamba_lm.rnn at mamba-130m's shape: prefill of a 512-token prompt by the
        // scan program, then decode of 128 tokens by the step program (Generator, greedy).
        let settings = [("V", "50280"), ("d", "768"), ("L", "24"), ("E", "1536"), ("N", "16"), ("k", "4"), ("R", "48")]
        let model = compileModel("W6", weights: "w6_mamba.safetensors", settings: settings, path: benchDir + "/../examples/lm/mamba_lm.rnn")
        let (promptLength, newTokens) = q ? (64, 16) : (512, 128)
        let prompt = (0..<promptLength).map { ($0 * 7919) % 50280 }
        let generator = try! Generator<Float>(model: model, sampler: Sampler())
        if let c = ProcessInfo.processInfo.environment["RNNC_CHUNK"] { generator.preferredChunk = Int(c)! }
        report("W6 prefill", "rnnc", tokens: promptLength, seconds: best(2) { try! generator.prefill(prompt) })
        // Bytes of weights a step reads: dense entries as Float32, sparse ones with their column index.
        let weightBytes = model.program.weightBytes(as: Float.self)
        let decode = best(2) {
            try! generator.prefill([prompt[0]])
            for _ in 0..<newTokens { _ = try! generator.next() }
        }
        report("W6 decode", "rnnc", tokens: newTokens, seconds: decode, extra: ", \"weight_bytes\": \(weightBytes)")
    case "W7":
        // One GLA and one DeltaNet layer (8 heads of 128 x 128 matrix states) over T tokens, B = 1:
        // the step program, and the scan program where its plan runs the heads chunkwise (GLA;
        // DeltaNet's Householder transitions run token by token in a scan program too).
        let steps = q ? 512 : 8192
        for (name, label) in [("w7_gla", "W7 GLA"), ("w7_deltanet", "W7 DeltaNet")] {
            let model = compileModel(name, weights: "\(name).safetensors")
            report(label, "rnnc step", tokens: steps, seconds: stepThroughput(model.program, steps: steps, repeats: 1))
            // Both plans run every head chunkwise (`rnnc compile --emit step`).
            let runner = try! ScanRunner<Float>(program: model.program, plan: model.plan)
            let input = randomFloats(steps * model.program.inputWidth, seed: 7)
            let workspace = ScanRunner<Float>.Workspace()
            let seconds = best(2) { _ = runner.run(flat: input, steps: steps, workspace: workspace) }
            // Matrix-product work a token: the projections, and per head the chunk's products
            // (GLA: Q K^T and A V within the chunk, K^T V and Q S_0 with the state; DeltaNet:
            // K K^T, T B and T K for U and W, Q K^T, A U, and W S_0, K^T U, Q S_0).
            let (d, heads, dk, dv, chunk) = (1024.0, 8.0, 128.0, 128.0, 64.0)
            let flops = name == "w7_gla"
                ? 2 * d * heads * (3 * dk + 2 * dv) + heads * 2 * (chunk * (dk + dv) + 2 * dk * dv)
                : 2 * d * heads * (2 * dk + 2 * dv + 1) + heads * 2 * (chunk * (3 * dk + 2 * dv) + 3 * dk * dv)
            report(label, "rnnc chunked scan", tokens: steps, seconds: seconds, extra: ", \"gflops\": \(flops * Double(steps) / seconds / 1e9)")
        }
    case "GEMM":
        // The dense kernel on a batched affine map: [T, n] x [n, n]^T with T = n = 2048.
        let n = q ? 512 : 2048
        let model = compileModel("gemm", settings: [("n", String(n))])
        let runner = try! ScanRunner<Float>(program: model.program, plan: model.plan)
        let input = randomFloats(n * n, seed: 3)
        let workspace = ScanRunner<Float>.Workspace()
        let seconds = best(3) { _ = runner.run(flat: input, steps: n, workspace: workspace) }
        report(w, "rnnc scan", tokens: n, seconds: seconds, extra: ", \"gflops\": \(2 * Double(n) * Double(n) * Double(n) / seconds / 1e9)")
    case "THRESHOLD":
        // Where the scan program overtakes the step program (ExecutionMode.scanThreshold).
        for (name, weights) in [("w3_gru", "w3_gru.safetensors"), ("w2_mingru", "w2_mingru.safetensors")] {
            let model = compileModel(name, weights: weights)
            let runner = try! ScanRunner<Float>(program: model.program, plan: model.plan)
            let session = try! StepSession<Float>(program: model.program)
            let workspace = ScanRunner<Float>.Workspace()
            for steps in [1, 2, 4, 8, 16, 32, 64, 128] {
                let flat = randomFloats(steps * model.program.inputWidth, seed: 9)
                let tokens = (0..<steps).map { t in Array(flat[(t * model.program.inputWidth)..<((t + 1) * model.program.inputWidth)]) }
                let scan = best(20) { _ = runner.run(flat: flat, steps: steps, workspace: workspace) }
                let step = best(20) { session.reset(); for token in tokens { _ = try! session.step(token) } }
                report("THRESHOLD \(name) T=\(steps)", "scan/step time", tokens: steps, seconds: scan, extra: ", \"step_seconds\": \(step), \"scan_over_step\": \(scan / step)")
            }
        }
    default:
        fatalError("unknown workload \(w)")
    }
}
