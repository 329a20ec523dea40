import Foundation
@testable import RNNRuntime
import Testing
@testable import RNNCompiler

/// `rnnc check --precision`'s bounds: sound on random programs (every op of the op table, all
/// three recurrence classes) run in Float32 and Float64, exact where it says so, and sharp
/// enough to tell LSRL's folded constants from the same program unfolded.
@Suite struct PrecisionAnalysisTests {
    /// A random program whose vector inputs declare `in [-2, 2]`, or a set of values for some.
    private static func declared(_ gen: inout RandomProgramGenerator) -> (source: String, sets: [String: [Double]]) {
        let (source, _, _) = gen.model()
        var sets: [String: [Double]] = [:]
        var lines: [String] = []
        for line in source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard line.hasPrefix("  input x") else { lines.append(line); continue }
            if gen.int(0...2) == 0 {
                let values = [-1, 0, 0.5, 1.25].filter { _ in gen.int(0...1) == 0 } + [2]
                sets[String(line.dropFirst(8).prefix { $0 != ":" })] = values
                lines.append(line + " in {" + values.map { "\($0)" }.joined(separator: ", ") + "}")
            } else {
                lines.append(line + " in [-2, 2]")
            }
        }
        return (lines.joined(separator: "\n"), sets)
    }

    /// Tokens within the declared values, each a Float32 number (so every run sees the same).
    private static func tokens(_ ir: IRProgram, _ sets: [String: [Double]], steps: Int, _ gen: inout RandomProgramGenerator) -> [[Double]] {
        (0..<steps).map { _ in
            ir.inputs.flatMap { input -> [Double] in
                if let v = input.vocabulary { return [Double(gen.int(0...(v - 1)))] }
                if let values = sets[input.name] { return (0..<input.size).map { _ in values[gen.int(0...(values.count - 1))] } }
                return (0..<input.size).map { _ in Double(Float(max(-2, min(2, gen.rng.nextGaussian())))) }
            }
        }
    }

    @Test func boundsHoldOnRandomPrograms() throws {
        let base = UInt64(ProcessInfo.processInfo.environment["RNNC_TEST_SEED"] ?? "") ?? 20261202
        var exactOutputs = 0, finiteBounds = 0, everyStep = 0
        for k in 0..<200 {
            let seed = base &+ UInt64(k)
            var gen = RandomProgramGenerator(seed: seed)
            let (source, sets) = Self.declared(&gen)
            let r = compile(source)
            let ir = try #require(r.ir, "seed \(seed):\n\(source)\n\(r.diagnostics)")
            for program in [ir, try Optimizer.optimize(ir)] {
                let steps = gen.int(1...12)
                let analysis = PrecisionAnalysis(program: program, options: .init(steps: steps, maxCases: 16))
                let (b32, b64) = (analysis.run(.float32), analysis.run(.float64))
                #expect(b32.everyStep || b32.stepsAnalysed >= steps)
                if b32.everyStep { everyStep += 1 }
                let tokens = Self.tokens(program, sets, steps: steps, &gen)
                let want = interpret(program, tokens)
                let step = StepLowering.lower(program)
                let got32 = try StepSession<Float>(program: step).run(doubles: tokens)
                let got64 = try StepSession<Double>(program: step).run(tokens)
                for t in 0..<steps {
                    for i in want[t].indices {
                        let (e32, e64) = (b32.outputs[i].error, b64.outputs[i].error)
                        if e32.isFinite { finiteBounds += 1 }
                        if e32 == 0 && e64 == 0 { exactOutputs += 1 }
                        let context = "seed \(seed) step \(t) output \(i) (replay: RNNC_TEST_SEED=\(seed)):\n\(source)"
                        #expect(abs(got32[t][i] - want[t][i]) <= e32 + e64, "float32 \(got32[t][i]) vs \(want[t][i]), bounds \(e32) + \(e64); \(context)")
                        #expect(abs(got64[t][i] - want[t][i]) <= 2 * e64, "float64 \(got64[t][i]) vs \(want[t][i]), bound \(e64); \(context)")
                        let (lo, hi) = (b64.outputs[i].lo, b64.outputs[i].hi)
                        #expect(want[t][i] >= lo - e64 && want[t][i] <= hi + e64, "value \(want[t][i]) outside [\(lo), \(hi)]; \(context)")
                    }
                }
            }
        }
        #expect(finiteBounds > 7000, "only \(finiteBounds) finite bounds")
        #expect(exactOutputs > 1500, "only \(exactOutputs) outputs proved exact")
        #expect(everyStep > 100, "only \(everyStep) programs with bounds for every step")
    }
}

/// The cases of issue #16: LSRL's `ifelse` in Float32, folded by hand or by the optimizer,
/// and constants of 1e13.
@Suite struct PrecisionCasesTests {
    static let ifelse = "use logic\nmodel M {\n  input c: [1] in {0, 1}\n  output ifelse(c, 5.25, -3)\n}\n"
    /// The map the optimizer made of `ifelse` before it checked its folds (each bias one
    /// compile-time constant).
    static let folded = "model M {\n  input c: [1] in {0, 1}\n  output relu(1e10 * c + (5.25 - 1e10)) - relu(1e10 * c + (-5.25 - 1e10)) + relu(-1e10 * c - 3) - relu(-1e10 * c + 3)\n}\n"

    private func run32(_ compiled: CompiledModel, _ tokens: [[Double]]) throws -> [[Double]] {
        try StepSession<Float>(program: compiled.program).run(doubles: tokens)
    }

    @Test func optimizerKeepsIfelseExactInFloat32() throws {
        var trace: [String] = []
        let compiled = try #require(try compileModel(Self.ifelse, pipeline: PipelineOptions(trace: { trace.append($0) })))
        #expect(try run32(compiled, [[1], [0]]) == [[5.25], [-3]])
        #expect(trace.contains { $0.hasPrefix("precision: every fold refused: the float32 error bound") }, "\(trace)")
        for r in RunPrecision.allCases.map(PrecisionAnalysis(program: compiled.optimized).run) {
            #expect(r.outputs.map(\.error) == [0], "\(r.precision) \(r.outputs)")
            #expect(r.everyStep)
        }
    }

    @Test func handFoldedIfelseIsFlaggedAndIsWrong() throws {
        let compiled = try #require(try compileModel(Self.folded))
        let r32 = PrecisionAnalysis(program: compiled.optimized).run(.float32)
        #expect(r32.outputs[0].error > 1000, "\(r32.outputs)")
        #expect(!r32.absorptions.isEmpty)
        #expect(PrecisionAnalysis(program: compiled.optimized).run(.float64).outputs[0].error == 0)
        // The flag is real: Float32 loses 5.25 beside 1e10.
        #expect(try run32(compiled, [[1]]) != [[5.25]])
    }

    @Test func constantsOf1e13AreFlaggedInFloat64() throws {
        let source = "model M {\n  input x: [1] in {0.5, 0.6, 0.7, 0.8}\n  output relu(1e13 * x - 7e12 + 1) - relu(1e13 * x - 7e12)\n}\n"
        let compiled = try #require(try compileModel(source))
        let r = PrecisionAnalysis(program: compiled.optimized).run(.float64)
        #expect(r.outputs[0].error > 1e-3 * r.outputs[0].hi, "\(r.outputs)")
    }

    /// With declared values the optimizer makes the folds its bounds allow, also those the
    /// rule by factors alone refuses.
    @Test func declaredValuesAllowSafeFolds() throws {
        var trace: [String] = []
        let source = "model M {\n  input x: [1] in [0, 1]\n  output 1000 * (x + 1)\n}\n"
        let compiled = try #require(try compileModel(source, pipeline: PipelineOptions(trace: { trace.append($0) })))
        #expect(trace.contains("precision: every fold keeps every output's error bound"), "\(trace)")
        #expect(compiled.optimized.nodes.filter { if case .affine = $0.op { true } else { false } }.count == 1)
        let undeclared = try #require(try compileModel("model M {\n  input x: [1]\n  output 1000 * (x + 1)\n}\n"))
        #expect(undeclared.optimized.nodes.filter { if case .affine = $0.op { true } else { false } }.count == 2)
    }

    @Test func setsAreExactOnTheirValuesAndIntervalsAreNot() throws {
        let ir = try #require(compileOK("model M {\n  input c: [2] in {0, 1}\n  input x: [1] in [0, 1]\n  output [1 - c, 3 * x]\n}\n"))
        let r = PrecisionAnalysis(program: ir).run(.float32)
        #expect(r.cases == 4)
        #expect(r.outputs.map(\.error)[0..<2] == [0, 0])
        #expect(r.outputs[2].error > 0 && r.outputs[2].error < 1e-6)
        #expect((r.outputs[2].lo, r.outputs[2].hi) == (0, 3) || (r.outputs[2].lo <= 0 && r.outputs[2].hi >= 3 && r.outputs[2].hi < 3.0001))
    }

    /// A counter's state grows without bound: the bounds hold for the steps analysed; a
    /// contracting state's hold for every step.
    @Test func statesGetBoundsForEveryStepWhenTheyStayBounded() throws {
        let counter = try #require(compileOK("model M {\n  input x: [1] in {0, 1}\n  state n: [1] = 0\n  n <- n + x\n  output n\n}\n"))
        let r = PrecisionAnalysis(program: counter, options: .init(steps: 50)).run(.float32)
        #expect(!r.everyStep && r.stepsAnalysed == 50)
        #expect(r.outputs[0].error == 0 && r.outputs[0].hi >= 50 && r.outputs[0].hi < 50.001)
        let decaying = try #require(compileOK("model M {\n  input x: [1] in [0, 1]\n  state s: [1] = 0\n  s <- 0.5 * s + x\n  output s\n}\n"))
        let d = PrecisionAnalysis(program: decaying).run(.float64)
        #expect(d.everyStep)
        #expect(d.outputs[0].hi >= 2 && d.outputs[0].hi < 3 && d.outputs[0].error < 1e-14)
    }
}
