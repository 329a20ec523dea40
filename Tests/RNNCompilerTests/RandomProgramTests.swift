import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// Generates well-formed random models as source text: inputs, states updated once,
/// bindings over affine maps, activations, gates, slices and concatenations.
struct RandomProgramGenerator {
    var rng: SplitMix64
    var values: [(name: String, size: Int)] = []
    var lines: [String] = []
    var counter = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }

    mutating func expression(size m: Int, depth: Int) -> String {
        let candidates = values.filter { $0.size == m }
        let choice = depth <= 0 ? (candidates.isEmpty ? 1 : 0) : int(0...7)
        switch choice {
        case 0 where !candidates.isEmpty:
            return candidates[int(0...(candidates.count - 1))].name
        case 2:
            return "\(["relu", "tanh", "sigmoid"][int(0...2)])(\(expression(size: m, depth: depth - 1)))"
        case 3:
            return "(\(expression(size: m, depth: depth - 1)) + \(expression(size: m, depth: depth - 1)))"
        case 4:
            return "(\(expression(size: m, depth: depth - 1)) * tanh(\(expression(size: m, depth: depth - 1))))"
        case 5:
            let wider = values.filter { $0.size > m }
            if let v = wider.first {
                let start = int(0...(v.size - m))
                return "\(v.name)[\(start):\(start + m)]"
            }
            return "relu(\(expression(size: m, depth: depth - 1)))"
        case 6 where m >= 2:
            let k = int(1...(m - 1))
            return "[\(expression(size: k, depth: depth - 1)), \(expression(size: m - k, depth: depth - 1))]"
        default:
            let source = values[int(0...(values.count - 1))]
            let bias = int(0...1) == 1 ? " + \(Double(int(-4...4)) / 4)" : ""
            return "normal(\(m), \(source.size), seed: \(int(0...1000)), std: \(0.8 / Double(source.size).squareRoot())) @ \(source.name)\(bias)"
        }
    }

    mutating func fresh() -> String {
        counter += 1
        return "v\(counter)"
    }

    /// A model and its input width.
    mutating func model() -> (source: String, width: Int) {
        let inputs = (0..<int(1...2)).map { ("x\($0)", int(1...6)) }
        lines = inputs.map { "  input \($0.0): [\($0.1)]" }
        values = inputs
        let states = (0..<int(0...3)).map { ("s\($0)", int(1...6)) }
        for (name, size) in states {
            lines.append("  state \(name): [\(size)] = \(Double(int(-2...2)) / 2)")
            values.append((name, size))
        }
        var pendingUpdates = states.shuffled(using: &rng)
        for _ in 0..<int(1...6) {
            if !pendingUpdates.isEmpty, int(0...2) == 0 {
                let (name, size) = pendingUpdates.removeLast()
                lines.append("  \(name) <- tanh(\(expression(size: size, depth: 2)))")
            }
            let m = int(1...6)
            let name = fresh()
            lines.append("  \(name) = \(expression(size: m, depth: 3))")
            values.append((name, m))
        }
        for (name, size) in pendingUpdates {
            lines.append("  \(name) <- 0.5 * \(name) + 0.5 * tanh(\(expression(size: size, depth: 2)))")
        }
        let outs = (0..<int(1...2)).map { _ in values[int(0...(values.count - 1))].name }
        lines.append("  output [\(outs.joined(separator: ", "))]")
        return ("model Random {\n" + lines.joined(separator: "\n") + "\n}\n", inputs.reduce(0) { $0 + $1.1 })
    }
}

extension SplitMix64: RandomNumberGenerator {}

@Suite struct RandomProgramTests {
    /// Step programs (Float64 and Float32) agree with the reference interpreter.
    @Test func stepProgramMatchesInterpreter() throws {
        let base = UInt64(ProcessInfo.processInfo.environment["RNNC_TEST_SEED"] ?? "") ?? 20261121
        for k in 0..<300 {
            let seed = base &+ UInt64(k)
            var gen = RandomProgramGenerator(seed: seed)
            let (source, width) = gen.model()
            let r = compile(source)
            let ir = try #require(r.ir, "seed \(seed): generated program does not compile:\n\(source)\n\(r.diagnostics)")
            let steps = gen.int(0...40)
            let tokens = (0..<steps).map { _ in (0..<width).map { _ in gen.rng.nextGaussian() } }
            let want = interpret(ir, tokens)
            let program = StepLowering.lower(ir)
            let got64 = try StepSession<Double>(program: program).run(tokens)
            #expect(close(got64, want, tolerance: 1e-12), "seed \(seed) (replay: RNNC_TEST_SEED=\(seed)):\n\(source)")
            let got32 = try StepSession<Float>(program: program).run(tokens)
            #expect(close(got32, want, tolerance: 1e-4), "seed \(seed) float32:\n\(source)")
            for optimized in [ir, try Optimizer.optimize(ir, verifyEach: true)] {
                let (scanProgram, plan) = ScanLowering.lower(optimized)
                let scan64 = try ScanRunner<Double>(program: scanProgram, plan: plan).run(tokens)
                #expect(close(scan64, want, tolerance: 1e-9), "seed \(seed) scan (replay: RNNC_TEST_SEED=\(seed)):\n\(source)")
                let scan32 = try ScanRunner<Float>(program: scanProgram, plan: plan).run(tokens)
                #expect(close(scan32, want, tolerance: 1e-3), "seed \(seed) scan float32:\n\(source)")
            }
            // The artifact round trip runs the same program.
            let model = ScanLowering.lowerModel(ir)
            let loaded = try Artifact.decode(Artifact.encode(model), path: "mem.rnnc")
            #expect(loaded == model, "seed \(seed)")
        }
    }

    /// Mutated versions of the examples never crash the compiler, and every rejection is located.
    @Test func mutatedSourcesGetLocatedDiagnostics() throws {
        var rng = SplitMix64(seed: 99)
        let sources = try ExamplesTests.names.map { try String(contentsOfFile: "\(repoRoot)/examples/\($0).rnn", encoding: .utf8) }
        let tokens = ["(", ")", "[", "]", "{", "}", ",", "=", "<-", "@", "*", "state", "x", "0", "1e400", "..<", ":", "#", "\"", "-"]
        for k in 0..<400 {
            var bytes = Array(sources[k % sources.count].utf8)
            for _ in 0..<Int(1 + rng.next() % 4) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(contentsOf: Array(tokens[Int(rng.next() % UInt64(tokens.count))].utf8), at: at)
                default: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            let compiler = Compiler(stdlibPath: stdlibPath)
            let ir = compiler.compileToIR(SourceFile(path: "mutant.rnn", bytes: bytes))
            if ir == nil {
                #expect(compiler.diagnostics.hasErrors)
                for d in compiler.diagnostics.diagnostics where d.code != .modelSelection && d.code != .extraWeight {
                    #expect(d.range != nil, "unlocated: \(d)")
                }
            }
        }
    }
}
