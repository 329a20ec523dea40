import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler
@testable import RNNExport

/// Layer chains exported as PyTorch modules (`rnnc export --format torch --target layers`)
/// run in torch as rnnc runs the chain (Tests/Python/check_layers_torch.py): LSRL's programs
/// in every conditional mode, the examples that have a chain, and random programs.
@Suite struct LayerChainTorchTests {
    struct Cases {
        let directory: URL
        var manifest: [[String: Any]] = []

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-layers-torch-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        /// A chain's module and weights, a batch of inputs and what the chain gives for them.
        mutating func add(_ name: String, _ ir: IRProgram, batch: [[[Double]]], tolerance: Double = 1e-9, float32: Bool = false) throws {
            let chain = try LayerChainBuilder.build(ir)
            let file = "case\(manifest.count)"
            let className = TorchExporter.className(ir.modelName) + "Layers"
            let python = LayerChainTorch.python(chain, className: className, weightsFile: file + ".safetensors", dtype: .float64)
            try Data(python.utf8).write(to: directory.appendingPathComponent(file + ".py"))
            try Data(SafeTensors.encode(try chain.weightsFile())).write(to: directory.appendingPathComponent(file + ".safetensors"))
            let steps = batch[0].count
            let ys = batch.map { interpret(chain.asIR(), $0) }
            try Data(NumPy.encode(shape: [batch.count, steps, chain.inputWidth], values: batch.flatMap { $0.flatMap { $0 } }, float32: false))
                .write(to: directory.appendingPathComponent(file + ".x.npy"))
            try Data(NumPy.encode(shape: [batch.count, steps, chain.outputWidth], values: ys.flatMap { $0.flatMap { $0 } }, float32: false))
                .write(to: directory.appendingPathComponent(file + ".y.npy"))
            manifest.append(["name": name, "module": file + ".py", "class": className, "weights": file + ".safetensors",
                             "x": file + ".x.npy", "y": file + ".y.npy", "tolerance": tolerance, "float32": float32])
        }
    }

    /// docs/layers.md's commands and Python run as written, with the rnnc this suite built.
    @Test func guideRunsAsWritten() throws {
        guard pythonHas(["numpy", "torch"]) else {
            #expect(!pythonChecksRequired, "python3 with numpy and torch is required (RNNC_REQUIRE_PYTHON_CHECKS=1)")
            return
        }
        let rnnc = try builtRNNCFolder()
        let (status, output) = try python([repoRoot + "/Tests/Python/run_doc_blocks.py", repoRoot + "/docs/layers.md", rnnc])
        #expect(status == 0, "\(output)")
        #expect(output.contains("value: [4.0, 0.0, 6.0]"), "\(output)")
    }

    @Test func modulesAgreeInTorch() throws {
        guard pythonHas(["numpy", "torch"]) else {
            #expect(!pythonChecksRequired, "python3 with numpy and torch is required (RNNC_REQUIRE_PYTHON_CHECKS=1)")
            return
        }
        var cases = try Cases()
        for mode in LsrlExamplesTests.modes {
            let kv = try LsrlExamplesTests.program("lsrl/key_value.rnn", settings: ["mode": mode])
            let tokens = try SequenceData.read(path: repoRoot + "/examples/lsrl/key_value.json", format: .json).sequences[0]
            try cases.add("key_value \(mode)", kv, batch: [tokens, tokens], tolerance: 1e-6, float32: true)
            let ua = try LsrlExamplesTests.program("lsrl/universal_approximation.rnn", settings: ["mode": mode])
            let prompt = try SequenceData.read(path: repoRoot + "/examples/lsrl/universal_approximation.json", format: .json).sequences[0]
            try cases.add("universal_approximation \(mode)", ua, batch: [prompt], tolerance: 1e-6)
        }
        for name in ["more_ones", "counter", "position_mod3"] {
            let ir = try LsrlExamplesTests.program(name + ".rnn")
            let tokens = try SequenceData.read(path: repoRoot + "/examples/\(name).json", format: .json).sequences[0]
            try cases.add(name, ir, batch: [tokens], tolerance: 1e-9, float32: true)
        }
        for seed in 0..<60 as Range<UInt64> {
            var gen = LayerProgramGenerator(seed: 9_000 + seed)
            let (source, width) = gen.model()
            guard let ir = compile(source).ir else { continue }
            var rng = SplitMix64(seed: seed)
            let batch = (0..<2).map { _ in (0..<5).map { _ in (0..<width).map { _ in rng.nextGaussian() } } }
            try cases.add("random \(seed)", ir, batch: batch)
        }
        try JSONSerialization.data(withJSONObject: cases.manifest).write(to: cases.directory.appendingPathComponent("manifest.json"))
        let (status, output) = try python([repoRoot + "/Tests/Python/check_layers_torch.py", cases.directory.path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(cases.manifest.count) chain modules, 0 failures"), "\(output)")
        if status == 0 { try? FileManager.default.removeItem(at: cases.directory) }
    }
}
