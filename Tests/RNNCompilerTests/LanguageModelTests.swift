import Foundation
import Testing
@testable import RNNCompiler
@testable import RNNRuntime

/// The language models of examples/lm against their reference implementations — PyTorch's
/// modules, transformers' MambaForCausalLM, Mamba2ForCausalLM, RwkvForCausalLM and xLSTMForCausalLM — (Tests/Python/check_lm.py, float64): logits over a 64-token prompt, the states after it,
/// and 64 greedily generated ids; prefill by scan and by step agree.
@Suite struct LanguageModelTests {
    struct Reference: Decodable {
        var prompt: [Int]
        var logits: [[Double]]
        var greedy: [Int]
        var states: [String: [Double]]
    }

    static func reference(_ name: String) throws -> Reference? {
        let modules = ["torch", "safetensors", "numpy"] + (name == "lstm_lm" ? [] : ["transformers"])
        guard pythonHas(modules) else {
            #expect(!pythonChecksRequired, "python3 with \(modules) is required (RNNC_REQUIRE_PYTHON_CHECKS=1)")
            return nil
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-lm-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try python(["\(repoRoot)/Tests/Python/check_lm.py", name, out.path])
        try #require(run.status == 0, "check_lm.py \(name) failed:\n\(run.output)")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: out))
    }

    static func compiled(_ name: String) throws -> CompiledModel {
        var compiler = Compiler(stdlibPath: stdlibPath)
        let path = "\(repoRoot)/examples/lm/\(name)"
        try #require(try compiler.loadWeights(path: path + ".safetensors"))
        let source = try Compiler.readSource(path: path + ".rnn")
        return try #require(try compiler.compile(source), "\(compiler.diagnostics.render())")
    }

    /// Largest difference relative to max(1, |reference|).
    static func error(_ got: [[Double]], _ want: [[Double]]) -> Double {
        zip(got, want).flatMap { zip($0, $1).map { abs($0 - $1) / max(1, abs($1)) } }.max() ?? .infinity
    }

    @Test(arguments: ["lstm_lm", "mamba_lm", "mamba2_lm", "rwkv_lm", "xlstm_lm"])
    func agreesWithPyTorch(name: String) throws {
        guard let reference = try Self.reference(name) else { return }
        let compiled = try Self.compiled(name)
        let prompt = SequenceData(sequence: reference.prompt.map { [Double($0)] }, width: 1)
        for mode in [ExecutionMode.step, .scan] {
            let run64 = try runModelKeepingStates(compiled.model, on: prompt, mode: mode, float32: false)
            #expect(Self.error(run64.outputs.sequences[0], reference.logits) < 1e-9, "\(name) float64 \(mode)")
            let run32 = try runModel(compiled.model, on: prompt, mode: mode, float32: true)
            #expect(Self.error(run32.sequences[0], reference.logits) < 1e-4, "\(name) float32 \(mode)")
            // The states after the prompt, named as the source names them.
            let program = compiled.program
            for state in program.namedStates {
                let want = try #require(reference.states[state.name], "no reference state \(state.name)")
                let got = Array(run64.finalStates[0][state.state][state.offset..<(state.offset + state.size)])
                #expect(Self.error([got], [want]) < 1e-9, "\(name) state \(state.name) \(mode)")
            }
        }
        let generator = try Generator<Double>(model: compiled.model, sampler: Sampler())
        try generator.prefill(reference.prompt)
        #expect(try (0..<64).map { _ in try generator.next() } == reference.greedy, "\(name) greedy ids")
        let float = try Generator<Float>(model: compiled.model, sampler: Sampler())
        try float.prefill(reference.prompt)
        #expect(try (0..<64).map { _ in try float.next() } == reference.greedy, "\(name) greedy ids in float32")
    }
}
