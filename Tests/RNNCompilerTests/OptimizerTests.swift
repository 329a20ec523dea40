import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// Every optimizer pass, alone and in the pipeline, preserves what programs compute
/// (checked against the reference interpreter) and keeps the IR well formed.
@Suite struct OptimizerTests {
    /// The programs to check: every example, every cell fixture, and random programs.
    static func corpus() throws -> [(name: String, ir: IRProgram, inputs: [[Double]])] {
        var out: [(String, IRProgram, [[Double]])] = []
        for name in ExamplesTests.names {
            var compiler = Compiler(stdlibPath: stdlibPath)
            let weights = "\(repoRoot)/examples/\(name).safetensors"
            if FileManager.default.fileExists(atPath: weights) { _ = try compiler.loadWeights(path: weights) }
            let ir = try #require(compiler.compileToIR(try Compiler.readSource(path: "\(repoRoot)/examples/\(name).rnn")))
            out.append((name, ir, try SequenceData.read(path: "\(repoRoot)/examples/\(name).json", format: .json).sequences[0]))
        }
        for fixture in cellFixtures {
            let (ir, xs, _) = try CellFixtureTests.load(fixture.name)
            out.append((fixture.name, ir, xs[0]))
        }
        for k in 0..<300 {
            let seed = 777 + UInt64(k)
            var gen = RandomProgramGenerator(seed: seed)
            let (source, _, _) = gen.model()
            let ir = try #require(compile(source).ir, "seed \(seed)")
            let tokens = (0..<gen.int(1...12)).map { _ in gen.token() }
            out.append(("random seed \(seed)", ir, tokens))
        }
        return out
    }

    func check(_ passes: [Pass], label: String) throws {
        for (name, ir, inputs) in try Self.corpus() {
            let want = interpret(ir, inputs)
            let optimized = try Optimizer.optimize(ir, verifyEach: true, passes: passes)
            #expect(IRVerifier.verify(optimized).isEmpty)
            let got = interpret(optimized, inputs)
            #expect(close(got, want, tolerance: 1e-9), "\(label) changed \(name)")
            #expect(optimized.nodes.count <= ir.nodes.count + ir.nodes.count / 2, "\(label) grew \(name)")
        }
    }

    @Test(arguments: Optimizer.pipeline.map(\.name).uniqued())
    func passPreservesSemantics(_ passName: String) throws {
        try check(Optimizer.pipeline.filter { $0.name == passName }.prefix(1).map { $0 }, label: passName)
    }

    @Test func pipelinePreservesSemantics() throws {
        try check(Optimizer.pipeline, label: "pipeline")
    }

    @Test func pipelineShrinksLSRLSugar() throws {
        let ir = try #require(compileOK("use logic\nmodel M {\n  input x: [1]\n  state a: [1] = 0\n  state unused: [3] = 0\n  unused <- unused + 1\n  a <- a + x\n  output larger(a, 2) + 0 * x\n}"))
        let optimized = try Optimizer.optimize(ir, verifyEach: true)
        #expect(optimized.states.map(\.name) == ["a"], "the unused state is removed")
        #expect(optimized.nodes.count < ir.nodes.count)
        #expect(close(interpret(optimized, [[1], [1], [1]]), interpret(ir, [[1], [1], [1]]), tolerance: 0))
    }

    @Test func fusesAffineChains() throws {
        let ir = try #require(compileOK("model M {\n  input x: [4]\n  output 2 * (eye(4) @ (3 * x + 1)) - 5\n}"))
        let optimized = try Optimizer.optimize(ir)
        let affines = optimized.nodes.filter { if case .affine = $0.op { return true } else { return false } }
        #expect(affines.count == 1)
        #expect(interpret(optimized, [[1, 2, 3, 4]]) == [[3, 9, 15, 21]])
    }

    /// A factor of 1000 or more scales a value computed on its own, as written: composed,
    /// `1e10 * (1 - c) + t` rounds t away in Float32 (issue #16's `ifelse(c, 5.25, -3)`),
    /// and a step function's two ReLUs stop differing by exactly 1.
    @Test func largeFactorsScaleExactValues() throws {
        let ir = try #require(compileOK("use logic\nmodel M {\n  input x: [2]\n  output [ifelse(x[0], x[1], -3), ifelse(x[0], 5.25, -3)]\n}"))
        let optimized = try Optimizer.optimize(ir, verifyEach: true)
        let tokens: [[Double]] = [[1, 5.25], [0, 5.25], [1, -2], [0, 7], [1, 0.1]]
        let want: [[Double]] = [[5.25, 5.25], [-3, -3], [-2, 5.25], [-3, -3], [0.1, 5.25]]
        let (program, plan) = ScanLowering.lower(optimized)
        #expect(try StepSession<Float>(program: program).run(doubles: tokens) == want.map { $0.map { Double(Float($0)) } })
        #expect(try ScanRunner<Float>(program: program, plan: plan).run(doubles: tokens) == want.map { $0.map { Double(Float($0)) } })
        #expect(try StepSession<Double>(program: program).run(tokens) == want)
        // The fusion rule itself: 1000 x (a sum) stays two maps; 1000 x (a copy) composes.
        let sum = WeightMatrix(rows: 1, cols: 2, dense: [1, -1]), copy = WeightMatrix(rows: 1, cols: 2, dense: [0, 1])
        let large = WeightMatrix(rows: 1, cols: 1, dense: [1000]), small = WeightMatrix(rows: 1, cols: 1, dense: [999])
        #expect(Exactness.fusionLosesExactness(outer: large, inner: sum, innerBias: nil))
        #expect(Exactness.fusionLosesExactness(outer: large, inner: copy, innerBias: [1]))
        #expect(!Exactness.fusionLosesExactness(outer: large, inner: copy, innerBias: nil))
        #expect(!Exactness.fusionLosesExactness(outer: small, inner: sum, innerBias: [1]))
    }

    @Test func movesABiasOnASumIntoItsStateFreeAffineMap() throws {
        let source = """
        model M {
          input x: [3]
          state h: [2] = 0
          h <- tanh(([[1, 2, 3], [4, 5, 6]] @ x + [[0.5, -1], [2, 0.25]] @ h) + [0.1, -0.2])
          output h
        }
        """
        let ir = try #require(compileOK(source))
        let optimized = try Optimizer.optimize(ir, verifyEach: true)
        let readsState = optimized.readsState()
        var biased: [(index: Int, readsState: Bool)] = []
        for (i, node) in optimized.nodes.enumerated() {
            guard case .affine(let w, let bias, _) = node.op else { continue }
            #expect(!w.isIdentity, "no identity map is left to add the bias")
            if bias != nil { biased.append((i, readsState[i])) }
        }
        #expect(biased.count == 1 && biased.first?.readsState == false, "the bias sits on W x, which is time-batched")
        let inputs: [[Double]] = [[1, 0, -1], [0.5, 2, 0], [-1, -1, 3]]
        #expect(close(interpret(optimized, inputs), interpret(ir, inputs), tolerance: 1e-12))
    }

    @Test func verifierFindsBrokenPrograms() throws {
        var ir = try #require(compileOK("model M {\n  input x: [2]\n  output relu(x)\n}"))
        ir.nodes[1].size = 3
        #expect(!IRVerifier.verify(ir).isEmpty)
        ir.nodes[1].size = 2
        ir.nodes[1].op = .unary(.relu, ValueID(index: 5))
        #expect(!IRVerifier.verify(ir).isEmpty)
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
