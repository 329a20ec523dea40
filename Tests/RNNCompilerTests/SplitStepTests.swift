import Foundation
@testable import RNNRuntime
import Testing
@testable import RNNCompiler

/// Sequential recurrences split over the cores (`ScanRunner+SplitSteps.swift`): cells large
/// enough to split give the step program's outputs, and each core computes the values it
/// uses itself, so the cores meet only where a product needs the whole state.
@Suite struct SplitStepTests {
    static let lstm = """
    model M(d = 96) {
      input x: [d]
      param W: [4 * d, d] = normal(seed: 1, std: 0.1)
      param U: [4 * d, d] = normal(seed: 2, std: 0.1)
      param bias: [4 * d] = normal(seed: 3, std: 0.1)
      state h: [d] = 0
      state c: [d] = 0
      g = W @ x + U @ h + bias
      c <- sigmoid(g[d:2 * d]) * c + sigmoid(g[0:d]) * tanh(g[2 * d:3 * d])
      h <- sigmoid(g[3 * d:4 * d]) * tanh(c)
      output h
    }
    """
    static let gru = """
    model M(d = 112) {
      input x: [d]
      param W: [3 * d, d] = normal(seed: 4, std: 0.1)
      param U: [3 * d, d] = normal(seed: 5, std: 0.1)
      state h: [d] = 0
      a = W @ x
      b = U @ h
      r = sigmoid(a[0:d] + b[0:d])
      z = sigmoid(a[d:2 * d] + b[d:2 * d])
      n = tanh(a[2 * d:3 * d] + r * b[2 * d:3 * d])
      h <- (1 - z) * n + z * h
      output [h, z]
    }
    """
    /// Two products in one step: the second needs every column of the first's result.
    static let deep = """
    model M(d = 128) {
      input x: [d]
      param U: [2 * d, d] = normal(seed: 6, std: 0.1)
      param V: [d, 2 * d] = normal(seed: 7, std: 0.1)
      state h: [d] = 0
      m = tanh(U @ h)
      h <- tanh(V @ [m[d:2 * d], m[0:d]] + x)
      output h
    }
    """

    static func lowered(_ source: String) throws -> (ScanRunner<Float>, StepProgram) {
        let ir = try #require(compileOK(source))
        let model = ScanLowering.lowerModel(try Optimizer.optimize(ir))
        return (try ScanRunner<Float>(program: model.program, plan: model.plan), model.program)
    }

    @Test(arguments: [lstm, gru, deep], [1, 3])
    func splitCellsMatchTheStepProgram(_ source: String, batch: Int) throws {
        let (runner, program) = try Self.lowered(source)
        var rng = SplitMix64(seed: 11)
        let steps = 37
        let sequences = (0..<batch).map { _ in (0..<steps).map { _ in (0..<program.inputWidth).map { _ in Double(rng.next() % 2000) / 1000 - 1 } } }
        let workspace = ScanRunner<Float>.Workspace(threads: 2)
        workspace.waitsForTeam = true
        let scanned = try runner.run(batchOfDoubles: sequences, workspace: workspace)
        #expect(Parallel.cores < 2 || workspace.splitRecurrences == 1, "the recurrence ran split")
        for (sequence, got) in zip(sequences, scanned) {
            let want = try StepSession<Float>(program: program, threads: 1).run(doubles: sequence)
            #expect(zip(got, want).allSatisfy { zip($0, $1).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) } })
        }
    }

    /// Counts the barriers inside a step of each core's schedule (the step's end has one more).
    static func barriers(_ source: String, batch: Int) throws -> [Int] {
        let (runner, _) = try lowered(source)
        let schedules = runner.splitSchedules(steps: 4, batch: batch, parts: 2)
        #expect(schedules.count == 1)
        let schedule = try #require(schedules.first ?? nil, "the recurrence can be split")
        return schedule.map { ops in ops.filter(\.barrierBefore).count }
    }

    @Test func gatesAreMadeWhereTheyAreUsed() throws {
        for batch in [1, 2] {
            #expect(try Self.barriers(Self.lstm, batch: batch) == [0, 0], "LSTM, batch \(batch)")
            #expect(try Self.barriers(Self.gru, batch: batch) == [0, 0], "GRU, batch \(batch)")
        }
        #expect(try Self.barriers(Self.deep, batch: 1) == [1, 1], "the second product waits for the first")
    }

    /// A step session runs a chain of wide element-wise ops as one job of the team a step
    /// (`StepSession+Split.swift`), with the values of one session on one core.
    @Test func wideElementwiseChainsRunAsOneJobAStep() throws {
        let source = """
        model M(n = 20000) {
          input x: [n]
          state s: [n] = 0
          s <- sigmoid(x) * s + tanh(x)
          output s
        }
        """
        let program = StepLowering.lower(try #require(compileOK(source)))
        var rng = SplitMix64(seed: 5)
        let tokens = (0..<3).map { _ in (0..<20000).map { _ in Double(rng.next() % 2000) / 1000 - 1 } }
        let session = try StepSession<Float>(program: program)
        session.waitsForTeam = true
        let got = try session.run(doubles: tokens)
        #expect(got == (try StepSession<Float>(program: program, threads: 1).run(doubles: tokens)))
        #expect(Parallel.cores < 2 || session.splitRuns == tokens.count, "\(session.splitRuns) split runs")
    }
}
