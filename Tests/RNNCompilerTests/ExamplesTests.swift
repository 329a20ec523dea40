import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// Every program in examples/ against its recorded output, in the interpreter and the step
/// program (Float64 and Float32).
@Suite struct ExamplesTests {
    static let names = ["more_ones", "counter", "position_mod3", "parity", "running_max", "sample_hold", "gru2", "mamba_block"]

    static func expected(_ name: String) throws -> [[Double]] {
        let text = try String(contentsOfFile: "\(repoRoot)/examples/\(name).expected", encoding: .utf8)
        return text.split(separator: "\n").map { $0.split(separator: " ").map { Double($0)! } }
    }

    @Test(arguments: names)
    func example(_ name: String) throws {
        let source = try Compiler.readSource(path: "\(repoRoot)/examples/\(name).rnn")
        var compiler = Compiler(stdlibPath: stdlibPath)
        let weights = "\(repoRoot)/examples/\(name).safetensors"
        if FileManager.default.fileExists(atPath: weights) { #expect(try compiler.loadWeights(path: weights)) }
        let ir = try #require(compiler.compileToIR(source), "\(compiler.diagnostics.render())")
        let input = try SequenceData.read(path: "\(repoRoot)/examples/\(name).json", format: .json).sequences[0]
        let want = try Self.expected(name)
        #expect(close(interpret(ir, input), want, tolerance: 1e-12))
        let program = StepLowering.lower(ir)
        #expect(close(try StepSession<Double>(program: program).run(input), want, tolerance: 1e-12))
        #expect(close(try StepSession<Float>(program: program).run(doubles: input), want, tolerance: 1e-4))
        let (scanProgram, plan) = ScanLowering.lower(try Optimizer.optimize(ir, verifyEach: true))
        #expect(close(try ScanRunner<Double>(program: scanProgram, plan: plan).run(input), want, tolerance: 1e-9))
        #expect(close(try ScanRunner<Float>(program: scanProgram, plan: plan).run(doubles: input), want, tolerance: 1e-4))
    }

    @Test func moreOnesMatchesTheIssueExample() throws {
        let ir = try #require(compileOK(try String(contentsOfFile: "\(repoRoot)/examples/more_ones.rnn", encoding: .utf8)))
        let bits: [Double] = [0, 1, 1, 0, 0, 0, 1, 1, 0, 0]
        #expect(interpret(ir, bits.map { [$0] }).map { $0[0] } == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    }
}
