import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// The stdlib cells against reference outputs written by Tests/Fixtures/cells/make_cell_fixtures.py
/// (torch.nn modules, or the papers' equations), in every execution mode.
struct CellFixture: CustomTestStringConvertible, Sendable {
    let name: String
    /// The class of every state group, or of each group in order.
    let expectedClasses: [RecurrenceClass]
    var testDescription: String { name }

    init(name: String, expectedClass: RecurrenceClass) {
        self.init(name: name, expectedClasses: [expectedClass])
    }

    init(name: String, expectedClasses: [RecurrenceClass]) {
        self.name = name
        self.expectedClasses = expectedClasses
    }
}

let cellFixtures: [CellFixture] = [
    CellFixture(name: "rnn_tanh_1", expectedClass: .nonlinear),
    CellFixture(name: "rnn_relu_2", expectedClass: .nonlinear),
    CellFixture(name: "gru_1", expectedClass: .nonlinear),
    CellFixture(name: "gru_2", expectedClass: .nonlinear),
    CellFixture(name: "lstm_1", expectedClass: .nonlinear),
    CellFixture(name: "lstm_2", expectedClass: .nonlinear),
    CellFixture(name: "mingru", expectedClass: .diagonal),
    CellFixture(name: "minlstm", expectedClass: .diagonal),
    CellFixture(name: "lru", expectedClass: .affine),
    CellFixture(name: "s4d", expectedClass: .affine),
    CellFixture(name: "s6", expectedClass: .diagonal),
    CellFixture(name: "rglru", expectedClass: .diagonal),
    CellFixture(name: "norms", expectedClass: .affine),
    // Two heads each of retention, gla, delta_rule and gated_delta_rule (matrix states).
    CellFixture(name: "linear_attention_cells", expectedClasses: [.affine, .affine, .diagonal, .diagonal] + Array(repeating: .linear, count: 4)),
]

/// Largest absolute error divided by the largest absolute reference value.
func relativeError(_ got: [[[Double]]], _ want: [[[Double]]]) -> Double {
    var scale = 0.0, err = 0.0
    for (g, w) in zip(got.joined(), want.joined()) {
        for (a, b) in zip(g, w) {
            scale = max(scale, abs(b))
            err = max(err, abs(a - b))
        }
    }
    return err / max(scale, .leastNormalMagnitude)
}

func batch(_ t: NamedTensor) -> [[[Double]]] {
    let (b, steps, n) = (t.shape[0], t.shape[1], t.shape[2])
    let v = t.doubles()
    return (0..<b).map { i in (0..<steps).map { s in Array(v[((i * steps + s) * n)..<((i * steps + s + 1) * n)]) } }
}

@Suite struct CellFixtureTests {
    static let dir = fixtures + "/cells"

    /// Compiles the fixture's model with its weights; returns the IR, inputs and reference outputs.
    static func load(_ name: String) throws -> (IRProgram, [[[Double]]], [[[Double]]]) {
        var compiler = Compiler(stdlibPath: stdlibPath)
        #expect(try compiler.loadWeights(path: "\(dir)/\(name).safetensors"))
        let ir = try #require(compiler.compileToIR(try Compiler.readSource(path: "\(dir)/\(name).rnn")), "\(compiler.diagnostics.render())")
        let io = try SafeTensors.read(path: "\(dir)/\(name)_io.safetensors")
        return (ir, batch(try #require(io["x"])), batch(try #require(io["y"])))
    }

    @Test(arguments: cellFixtures)
    func matchesReference(_ fixture: CellFixture) throws {
        let (ir, xs, want) = try Self.load(fixture.name)
        let interpreted = xs.map { interpret(ir, $0) }
        let program = StepLowering.lower(ir)
        let step64 = try xs.map { try StepSession<Double>(program: program).run($0) }
        let step32 = try xs.map { try StepSession<Float>(program: program).run(doubles: $0) }
        let (scanProgram, plan) = ScanLowering.lower(try Optimizer.optimize(ir, verifyEach: true))
        let scan64 = try xs.map { try ScanRunner<Double>(program: scanProgram, plan: plan).run($0) }
        let scan32 = try xs.map { try ScanRunner<Float>(program: scanProgram, plan: plan).run(doubles: $0) }
        #expect(relativeError(scan64, want) <= 1e-9, "scan float64: \(relativeError(scan64, want))")
        #expect(relativeError(scan32, want) <= 1e-5, "scan float32: \(relativeError(scan32, want))")
        let errors = [relativeError(interpreted, want), relativeError(step64, want), relativeError(step32, want)]
        #expect(errors[0] <= 1e-9, "interpreter: \(errors[0])")
        #expect(errors[1] <= 1e-9, "step float64: \(errors[1])")
        #expect(errors[2] <= 1e-5, "step float32: \(errors[2])")
        print("cell fixture \(fixture.name): relative error interpreter \(errors[0]), step64 \(errors[1]), step32 \(errors[2]), scan64 \(relativeError(scan64, want)), scan32 \(relativeError(scan32, want))")
    }

    @Test(arguments: cellFixtures)
    func stateClass(_ fixture: CellFixture) throws {
        let (ir, _, _) = try Self.load(fixture.name)
        let groups = RecurrenceAnalysis.analyze(ir)
        if fixture.name == "norms" {
            #expect(groups.isEmpty)
            return
        }
        #expect(!groups.isEmpty)
        if fixture.expectedClasses.count > 1 {
            #expect(groups.map(\.kind) == fixture.expectedClasses, "\(groups.map(\.reason))")
            return
        }
        for g in groups { #expect(g.kind == fixture.expectedClasses[0], "\(g.reason)") }
    }

    /// A PyTorch module nested in a bigger model saves prefixed, dotted names.
    @Test func prefixedWeightsMapToParams() throws {
        var compiler = Compiler(stdlibPath: stdlibPath)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-prefix-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var file = try SafeTensors.read(path: "\(Self.dir)/gru_1.safetensors")
        file.tensors = file.tensors.map { var t = $0; t.name = "encoder.rnn." + t.name; return t }
            + [NamedTensor(name: "decoder.weight", shape: [1], float64: [0])]
        try writeAtomically(SafeTensors.encode(file), to: tmp)
        #expect(try compiler.loadWeights(path: tmp, prefix: "encoder."))
        let source = "use cells.gru\nmodel M(n = 3, d = 4) {\n  input x: [n]\n  param rnn_weight_ih_l0: [3 * d, n], rnn_weight_hh_l0: [3 * d, d], rnn_bias_ih_l0: [3 * d], rnn_bias_hh_l0: [3 * d]\n  output gru(x, rnn_weight_ih_l0, rnn_weight_hh_l0, rnn_bias_ih_l0, rnn_bias_hh_l0)\n}"
        let ir = try #require(compiler.compileToIR(SourceFile(path: "m.rnn", text: source)), "\(compiler.diagnostics.render())")
        let (_, xs, want) = try Self.load("gru_1")
        #expect(relativeError(xs.map { interpret(ir, $0) }, want) <= 1e-9)
    }
}

@Suite struct ScanPlanTests {
    static func kinds(_ name: String) throws -> [ScanPlan.Recurrence.Kind] {
        let (ir, _, _) = try CellFixtureTests.load(name)
        let (_, plan) = ScanLowering.lower(try Optimizer.optimize(ir))
        return plan.stages.compactMap { if case .recurrence(let r) = $0 { return r.kind } else { return nil } }
    }

    @Test func cellsGetTheirScanKind() throws {
        #expect(try Self.kinds("mingru") == [.diagonal])
        #expect(try Self.kinds("s6") == [.diagonal])
        #expect(try Self.kinds("s4d") == [.diagonal])
        #expect(try Self.kinds("lru") == [.modal])
        #expect(try Self.kinds("gru_2") == [.sequential, .sequential])
        #expect(try Self.kinds("lstm_1") == [.sequential])
    }

    /// A dense constant `A` runs as a scan over its eigenvalues unless the rule refuses it
    /// (integer entries, a defective or ill-conditioned eigenvector matrix); every path agrees
    /// with the interpreter, alone and in lockstep batches.
    @Test func denseAffineStatesAreDiagonalizedUnlessRefused() throws {
        let cases: [(a: String, kind: ScanPlan.Recurrence.Kind)] = [
            ("[[0.48, -0.64, 0.08], [0.64, 0.48, 0.16], [0.04, -0.08, 0.72]]", .modal),  // a complex pair and a real mode
            ("normal(48, 48, seed: 3, std: 0.14)", .modal),  // wide enough to split modes over cores
            ("[[0, 1, 0], [0, 0, 1], [1, 0, 0]]", .affine),  // integer: kept exact
            ("[[0.5, 0.25], [0, 0.5]]", .affine),  // a Jordan block: defective
        ]
        var rng = SplitMix64(seed: 11)
        for (a, want) in cases {
            let n = a.hasPrefix("normal") ? 48 : a.filter { $0 == "[" }.count - 1
            let source = "model M {\n  input x: [\(n)]\n  state s: [\(n)] = 0.5\n  s <- \(a) @ s + tanh(x)\n  output [s]\n}\n"
            let ir = try #require(compile(source).ir, "\(a)")
            let (program, plan) = ScanLowering.lower(ir)
            let kinds = plan.stages.compactMap { if case .recurrence(let r) = $0 { return r.kind } else { return nil } }
            #expect(kinds == [want], "\(a)")
            if want == .modal { try expectBrokenModesRejected(program, plan) }
            let sequences = (0..<3).map { _ in (0..<2000).map { _ in (0..<n).map { _ in rng.nextGaussian() } } }
            let runner = try ScanRunner<Double>(program: program, plan: plan)
            let together = try runner.run(batch: sequences)
            for (tokens, got) in zip(sequences, together) {
                let want = interpret(ir, tokens)
                #expect(close(try runner.run(tokens), want, tolerance: 1e-9), "\(a)")
                #expect(close(got, want, tolerance: 1e-9), "\(a) in lockstep")
                #expect(close(try ScanRunner<Float>(program: program, plan: plan).run(doubles: tokens), want, tolerance: 1e-3), "\(a) float32")
            }
        }
    }

    /// A plan whose modes are not in pairs, or whose basis is missing, does not load.
    func expectBrokenModesRejected(_ program: StepProgram, _ plan: ScanPlan) throws {
        guard let at = plan.stages.firstIndex(where: { if case .recurrence = $0 { true } else { false } }),
              case .recurrence(let r) = plan.stages[at], let modes = r.modes else { return }
        var breakages: [(inout ScanPlan.Modes) -> Void] = [
            { $0.basis = program.matrices.count },
            { $0.real.removeLast() },
            { $0.real[0] = .nan },
        ]
        if let k = modes.imaginary.firstIndex(where: { $0 > 0 }) {
            breakages += [{ $0.imaginary[k] = -$0.imaginary[k] }, { $0.imaginary[k + 1] = 0 }, { $0.real[k + 1] += 1 }]
        }
        for breakage in breakages {
            var broken = r
            breakage(&broken.modes!)
            var bad = plan
            bad.stages[at] = .recurrence(broken)
            #expect(throws: RuntimeError.self) { try ScanRunner<Double>(program: program, plan: bad) }
        }
    }

    /// State-independent work is planned before and after the recurrences, batched.
    @Test func inputProjectionsAreBatched() throws {
        let (ir, _, _) = try CellFixtureTests.load("gru_1")
        let (program, plan) = ScanLowering.lower(try Optimizer.optimize(ir))
        guard case .batched(let first) = plan.stages.first else { Issue.record("no batched stage first"); return }
        let batchedAffines = first.filter { if case .affine = program.instructions[$0] { return true } else { return false } }
        #expect(!batchedAffines.isEmpty, "W_ih x + b_ih runs over all steps at once")
    }

    @Test func emptyAndSingleStepSequences() throws {
        let (ir, xs, want) = try CellFixtureTests.load("mingru")
        let (program, plan) = ScanLowering.lower(ir)
        let runner = try ScanRunner<Double>(program: program, plan: plan)
        #expect(try runner.run([]) == [])
        #expect(close(try runner.run([xs[0][0]]), [want[0][0]], tolerance: 1e-12))
    }
}

@Suite struct ParallelScanTests {
    /// Long diagonal scans take the two-pass chunked path; they must match the step program.
    @Test(arguments: [
        "  state s: [8] = 1\n  s <- 0.9 * s + x",
        "  state s: [8] = 0\n  s <- sigmoid(x) * (0.5 * s) + tanh(x)",
        "  state s: [8] = 0.5\n  s <- (0.99 * s) * [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5] + x",
    ])
    func longDiagonalScansMatchTheStepProgram(_ body: String) throws {
        let ir = try #require(compileOK("model M {\n  input x: [8]\n\(body)\n  output s\n}"))
        let groups = RecurrenceAnalysis.analyze(ir)
        #expect(groups.allSatisfy { $0.kind != .nonlinear })
        var rng = SplitMix64(seed: 5)
        let tokens = (0..<5000).map { _ in (0..<8).map { _ in rng.nextGaussian() } }
        let model = ScanLowering.lowerModel(try Optimizer.optimize(ir))
        let want = try StepSession<Double>(program: model.program).run(tokens)
        let got = try ScanRunner<Double>(program: model.program, plan: model.plan).run(tokens)
        #expect(close(got, want, tolerance: 1e-9))
    }
}
