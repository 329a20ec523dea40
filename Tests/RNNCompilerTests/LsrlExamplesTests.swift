import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// LSRL's programs as rnnc examples (examples/lsrl/, and the more-ones counter of the quick
/// start), each against answers computed from the task itself, in every engine: the
/// reference interpreter, the step program and the scan program, in Float64 and Float32,
/// and the program's layer chain (`--target layers`).
@Suite struct LsrlExamplesTests {
    static func program(_ name: String, settings: [String: String] = [:]) throws -> IRProgram {
        let path = repoRoot + "/examples/" + name
        let options = ElaborationOptions(settings: settings.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) })
        let r = compile(try String(contentsOfFile: path, encoding: .utf8), path: path, options: options)
        return try #require(r.ir, "\(name) \(settings): \(r.diagnostics.map(\.description).joined(separator: "\n"))")
    }

    /// The outputs of every engine, by name: the program's and its layer chain's.
    static func runEverywhere(_ ir: IRProgram, _ inputs: [[Double]]) throws -> [(engine: String, outputs: [[Double]])] {
        let step = StepLowering.lower(ir)
        let optimized = try Optimizer.optimize(ir, verifyEach: true)
        let (scan, plan) = ScanLowering.lower(optimized)
        let chain = try LayerChainBuilder.build(ir).asIR()
        return [
            ("layer chain", interpret(chain, inputs)),
            ("layer chain, step Float64", try StepSession<Double>(program: StepLowering.lower(chain)).run(inputs)),
            ("interpreter", interpret(ir, inputs)),
            ("step Float64", try StepSession<Double>(program: step).run(inputs)),
            ("step Float32", try StepSession<Float>(program: step).run(doubles: inputs)),
            ("scan Float64", try ScanRunner<Double>(program: scan, plan: plan).run(inputs)),
            ("scan Float32", try ScanRunner<Float>(program: scan, plan: plan).run(doubles: inputs)),
        ]
    }

    static let modes = ["optimized", "direct", "multiplicative"]

    @Test func moreOnesCountsThePrefix() throws {
        let ir = try Self.program("more_ones.rnn")
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20 {
            let bits = (0..<40).map { _ in Double(rng.next() % 2) }
            var ones = 0
            let want = bits.enumerated().map { t, b -> [Double] in
                ones += Int(b)
                return [ones > t + 1 - ones ? 1 : 0]
            }
            for (engine, outputs) in try Self.runEverywhere(ir, bits.map { [$0] }) {
                // The chain's affine layers fuse `relu(1000 d) - 1000 relu(d - 0.001)` into one
                // dot product, which the runtime's kernels compute with fused multiply-adds.
                #expect(engine.hasPrefix("layer chain") ? close(outputs, want, tolerance: 1e-12) : outputs == want, "\(engine)")
            }
        }
    }

    @Test(arguments: [2, 3, 5, 7, 12, 30])
    func moduloCounterCounts(divisor: Int) throws {
        let ir = try Self.program("lsrl/modulo_counter.rnn", settings: ["divisor": "\(divisor)"])
        let steps = 3 * divisor + 7
        let want = (0..<steps).map { [Double($0 % divisor)] }
        for (engine, outputs) in try Self.runEverywhere(ir, Array(repeating: [1], count: steps)) {
            #expect(close(outputs, want, tolerance: 1e-4), "\(engine)")
        }
    }

    /// A smooth test function from [0, 1]^2 to R^2, its coefficients drawn from a seed.
    static func target(_ seed: UInt64) -> ([Double]) -> [Double] {
        var rng = SplitMix64(seed: seed)
        let c = (0..<6).map { _ in Double(rng.next() % 1000) / 250 - 2 }
        return { x in [c[0] * x[0] * x[0] + c[1] * x[1] + c[2], sin(c[3] * x[0]) + c[4] * x[0] * x[1] + c[5]] }
    }

    @Test(arguments: modes)
    func universalApproximationReadsTheQuerysCell(mode: String) throws {
        let ir = try Self.program("lsrl/universal_approximation.rnn", settings: ["mode": mode])
        for (seed, n) in [(UInt64(1), 4), (2, 6)] {
            let f = Self.target(seed)
            let size = Double(n)
            var prompt: [[Double]] = []
            for i in 0..<n {
                for j in 0..<n {
                    let (low, centre) = ([Double(i) / size, Double(j) / size], [(Double(i) + 0.5) / size, (Double(j) + 0.5) / size])
                    prompt.append([1 / size] + low + f(centre))
                }
            }
            var rng = SplitMix64(seed: seed + 100)
            for _ in 0..<8 {
                // A query away from the cells' edges, where the bumps ramp (1/scale wide).
                let cell = [Int(rng.next() % UInt64(n)), Int(rng.next() % UInt64(n))]
                let x = cell.map { (Double($0) + 0.05 + 0.9 * Double(rng.next() % 1000) / 1000) / size }
                let want = f(cell.map { (Double($0) + 0.5) / size })
                for (engine, outputs) in try Self.runEverywhere(ir, [x + [0, 0, 0]] + prompt) {
                    #expect(close([outputs.last!], [want], tolerance: engine.hasSuffix("32") ? 1e-4 : 1e-9), "\(mode) \(engine) x = \(x)")
                }
            }
        }
    }

    @Test(arguments: modes)
    func keyValueMapAnswersEveryQuery(mode: String) throws {
        let (T, V) = (3, 10)
        let ir = try Self.program("lsrl/key_value.rnn", settings: ["mode": mode, "T": "\(T)"])
        var rng = SplitMix64(seed: 11)
        var keys: [[Int]] = [], table: [[Int]: [Int]] = [:]
        while keys.count < 20 {
            let key = (0..<T).map { _ in Int(rng.next() % UInt64(V)) }
            guard table[key] == nil else { continue }
            keys.append(key)
            table[key] = (0..<T).map { _ in Int(rng.next() % UInt64(V)) }
        }
        let prompt = keys.flatMap { $0 + table[$0]! }
        for query in keys.prefix(10) {
            let inputs = (query + prompt).map { [Double($0)] }
            let want = table[query]!.map { [Double($0)] }
            for (engine, outputs) in try Self.runEverywhere(ir, inputs) {
                #expect(close(Array(outputs.suffix(T)), want, tolerance: 1e-6), "\(mode) \(engine) query \(query)")
            }
        }
    }

    @Test func anUnknownModeIsTheProgramsOwnError() throws {
        let path = repoRoot + "/examples/lsrl/key_value.rnn"
        let r = compile(try String(contentsOfFile: path, encoding: .utf8), path: path, options: ElaborationOptions(settings: [(name: "mode", value: "fast")]))
        #expect(r.errors.count == 1)
        #expect(r.errors.first?.code == .compileError)
        #expect(r.errors.first?.message == "gate mode 'fast' is not one of direct, multiplicative, optimized")
        #expect(r.errors.first?.notes.first?.range.file.path == path)
    }
}
