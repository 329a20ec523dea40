import Foundation
@testable import RNNRuntime
import Testing
@testable import RNNCompiler

/// The scan program's memory layout: slices read their source in place, a single sequence's
/// inputs are read from the caller's tokens and its outputs written into the result, and
/// the direct diagonal scan skips rows nothing reads. Each layout must give the
/// interpreter's outputs, alone and in lockstep batches, optimized or not.
@Suite struct ScanLayoutTests {
    static let programs: [String] = [
        // W1's shape: slices of the input as coefficient and offset; the output is the next value.
        "model M {\n  input ab: [6]\n  state h: [3] = [1, 2, 3]\n  h <- ab[0:3] * h + ab[3:6]\n  output h\n}",
        // The state before its update, the product and the next value are all read.
        "model M {\n  input ab: [4]\n  state h: [2] = 0.5\n  old = h\n  p = ab[0:2] * h\n  h <- p + ab[2:4]\n  output [old, p, h, h]\n}",
        // Slices of slices, of a state, of a constant; an input as an output; outputs repeated.
        "model M {\n  input x: [5]\n  input y: [2]\n  state s: [4] = [1, 0, -1, 2]\n  w = x[1:5][1:3]\n  s <- s[0:4] * 0.5 + [x[0], w[1], y[0], y[1]]\n  output [x, s[1:3], w, w, y]\n}",
        // A nonlinear recurrence (sequential) reading views, and a dense affine one.
        "model M {\n  input x: [3]\n  state a: [3] = 0\n  state b: [2] = [1, 1]\n  a <- tanh([[0.5, 0, 0.1], [0.2, 0.3, 0], [0, 0, 0.9]] @ a + x[0:3])\n  b <- [[0.9, 0.1], [-0.2, 0.8]] @ b + x[1:3]\n  output [a[1:3], b]\n}",
        // An LSTM-like cycle: the gates and slices nothing outside reads keep one row per
        // sequence; a constant keeps one row always.
        "model M {\n  input x: [2]\n  state h: [2] = 0\n  state c: [2] = 0.5\n  g = [[0.5, -0.2], [0.1, 0.3], [0.7, 0], [0, -0.4], [0.2, 0.2], [-0.3, 0.6]] @ h + [x, x, x] + [1, 2, 3, 4, 5, 6]\n  c <- sigmoid(g[0:2]) * c + tanh(g[2:4])\n  h <- sigmoid(g[4:6]) * tanh(c)\n  output [h, [7, 8]]\n}",
    ]

    @Test func sequentialRecurrencesKeepOneRowOfTheirLocalValues() throws {
        let ir = try #require(compileOK(Self.programs[4]))
        let model = ScanLowering.lowerModel(try Optimizer.optimize(ir))
        let runner = try ScanRunner<Double>(program: model.program, plan: model.plan)
        let cSlot = model.program.states[1].slot
        let gates = try #require(model.program.instructions.first { if case .affine = $0 { true } else { false } }?.destination)
        #expect(runner.recurrenceLocalSlots.contains(gates), "the gates are read only inside their cycle")
        #expect(!runner.recurrenceLocalSlots.contains(cSlot), "states keep every row (the next is written while the step may still read this one)")
        #expect(!runner.recurrenceLocalSlots.contains { model.program.outputSlots.contains($0) }, "outputs keep every row")
    }

    /// Wide and long enough that the direct scan splits channels over the cores.
    @Test func directScanOverCoresMatchesALoop() throws {
        let (d, steps) = (160, 600)
        let ir = try #require(compileOK("model M(d = \(d)) {\n  input ab: [2 * d]\n  state h: [d] = 0.25\n  h <- ab[0:d] * h + ab[d:2 * d]\n  output [h, ab[0:3]]\n}"))
        var rng = SplitMix64(seed: 5)
        let tokens = (0..<(steps * 2 * d)).map { _ in Float(rng.next() % 1000) / 1000 - 0.5 }
        let model = ScanLowering.lowerModel(try Optimizer.optimize(ir))
        let out = try ScanRunner<Float>(program: model.program, plan: model.plan).run(flat: tokens, steps: steps)
        var h = [Float](repeating: 0.25, count: d), want: [Float] = []
        for t in 0..<steps {
            for i in 0..<d { h[i] = tokens[t * 2 * d + i] * h[i] + tokens[t * 2 * d + d + i] }
            want += h + tokens[(t * 2 * d)..<(t * 2 * d + 3)]
        }
        #expect(out.count == want.count)
        #expect(zip(out, want).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    /// Long enough that batched products run in blocks with their bias and activation over
    /// the cores, and element-wise passes split over the cores: the same outputs as steps.
    @Test func largeBatchedWorkSplitOverCoresMatchesTheStepProgram() throws {
        let (d, steps) = (121, 1100)  // d x steps is over 2^17 and not a multiple of the chunk rounding
        let source = """
        model M(d = \(d)) {
          input x: [d]
          param W: [d, d] = normal(seed: 3, std: 0.1)
          param U: [d, d] = normal(seed: 4, std: 0.1)
          param c: [d] = normal(seed: 5, std: 0.1)
          state h: [d] = 0
          z = sigmoid(W @ x + c)
          v = tanh(U @ x) * x
          h <- z * h + (1 - z) * v
          output [h, v + z]
        }
        """
        let ir = try #require(compileOK(source))
        let model = ScanLowering.lowerModel(try Optimizer.optimize(ir))
        var rng = SplitMix64(seed: 9)
        let tokens = (0..<steps).map { _ in (0..<d).map { _ in Double(rng.next() % 2000) / 1000 - 1 } }
        let scan = try ScanRunner<Double>(program: model.program, plan: model.plan).run(tokens, workspace: .init(threads: 2))
        let session = try StepSession<Double>(program: model.program, threads: 1)
        let stepped = try tokens.map { try session.step($0) }
        #expect(scan.count == steps)
        #expect(zip(scan, stepped).allSatisfy { zip($0, $1).allSatisfy { abs($0 - $1) <= 1e-10 } })
    }

    @Test(arguments: programs.indices)
    func layoutsMatchTheInterpreter(_ k: Int) throws {
        let ir = try #require(compileOK(Self.programs[k]))
        var rng = SplitMix64(seed: UInt64(k + 1))
        let width = ir.inputs.reduce(0) { $0 + $1.size }
        let sequences = (0..<3).map { _ in (0..<7).map { _ in (0..<width).map { _ in Double(rng.next() % 2001) / 1000 - 1 } } }
        let want = sequences.map { interpret(ir, $0) }
        for program in [ir, try Optimizer.optimize(ir, verifyEach: true)] {
            let model = ScanLowering.lowerModel(program)
            let runner = try ScanRunner<Double>(program: model.program, plan: model.plan)
            for (s, w) in zip(sequences, want) { #expect(close(try runner.run(s), w, tolerance: 1e-12), "program \(k) alone") }
            #expect(close(try runner.run(batch: sequences).flatMap { $0 }, want.flatMap { $0 }, tolerance: 1e-12), "program \(k) lockstep")
            let workspace = ScanRunner<Double>.Workspace()
            for _ in 0..<2 {  // a reused workspace holds no stale views
                let flat = sequences[0].flatMap { $0 }
                let out = runner.run(flat: flat, steps: 7, workspace: workspace)
                #expect(close([out], [want[0].flatMap { $0 }], tolerance: 1e-12), "program \(k) flat")
                _ = runner.run(flat: [flat, flat], steps: 7, workspace: workspace)
            }
        }
    }
}
