import Foundation
import RNNCommands
@testable import RNNCompiler
import RNNExport
import RNNOps
import RNNRuntime
import Testing

/// ONNX exports run in onnxruntime (Tests/Python/check_onnx.py) and agree with rnnc: every
/// example, every stdlib cell fixture, and 200 random programs drawing every op of the table,
/// in both forms and both precisions, over batches, from initial and from given states.
@Suite(.serialized) struct ONNXExportTests {
    static let modules = ["numpy", "onnx", "onnxruntime"]

    @Test func exportsAgreeInONNXRuntime() throws {
        guard pythonHas(Self.modules) else {
            #expect(!pythonChecksRequired, "python3 with \(Self.modules) is required (RNNC_REQUIRE_PYTHON_CHECKS=1)")
            return
        }
        var cases = try ExportCases()
        var rng = SplitMix64(seed: 20261201)
        try addExamples(&cases, &rng)
        try addCellFixtures(&cases, &rng)
        try addSpecs(&cases, &rng)
        try addRandomPrograms(&cases, &rng, count: 200)
        let (status, output) = try cases.check()
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(cases.count) cases"), "\(output)")
        try? FileManager.default.removeItem(at: cases.directory)
    }

    /// Each example on its own input file, twice over as a batch of two.
    func addExamples(_ cases: inout ExportCases, _ rng: inout SplitMix64) throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: repoRoot + "/examples").filter { $0.hasSuffix(".rnn") }.sorted()
        for file in examples {
            let base = repoRoot + "/examples/" + (file as NSString).deletingPathExtension
            var compiler = Compiler(stdlibPath: stdlibPath)
            if FileManager.default.fileExists(atPath: base + ".safetensors") { _ = try compiler.loadWeights(path: base + ".safetensors") }
            let compiled = try #require(try compiler.compile(try Compiler.readSource(path: base + ".rnn")), "\(file)")
            let data = try SequenceData.read(path: base + ".json", format: .json)
            let sequence = try #require(data.sequences.first)
            try cases.add("example \(file)", model: compiled.model, batch: [sequence, sequence], rng: &rng) { interpret(compiled.ir, $0) }
            let ir = compiled.ir
            if !ir.cells.isEmpty, ir.cells.flatMap(\.states).count == ir.states.count {
                try cases.add("example \(file) native", model: ScanLowering.lowerModel(ir), batch: [sequence, sequence], rng: &rng,
                              nativeCells: ir) { interpret(ir, $0) }
            }
        }
    }

    /// The cells on their torch-made inputs; those that are stdlib GRUs, LSTMs and Elman RNNs
    /// also with ONNX's own ops.
    func addCellFixtures(_ cases: inout ExportCases, _ rng: inout SplitMix64) throws {
        var nativeCells = 0
        for fixture in cellFixtures {
            let (ir, xs, _) = try CellFixtureTests.load(fixture.name)
            let model = ScanLowering.lowerModel(try Optimizer.optimize(ir))
            try cases.add("cell \(fixture.name)", model: model, batch: Array(xs.prefix(3)), rng: &rng) { interpret(ir, $0) }
            if !ir.cells.isEmpty, ir.cells.flatMap(\.states).count == ir.states.count {
                try cases.add("cell \(fixture.name) native", model: ScanLowering.lowerModel(ir), batch: Array(xs.prefix(3)), rng: &rng,
                              nativeCells: ir) { interpret(ir, $0) }
                nativeCells += 1
            }
        }
        #expect(nativeCells == 6, "the GRU, LSTM and Elman fixtures export with ONNX's own ops")
    }

    /// The stdlib logic specs and the example specs: their programs on their inputs.
    func addSpecs(_ cases: inout ExportCases, _ rng: inout SplitMix64) throws {
        var added = 0
        for file in ["stdlib_logic.yaml", "examples.yaml"] {
            for spec in try Spec.load(path: repoRoot + "/specs/" + file) where spec.expectedOutputs != nil && spec.weights == nil {
                let compiler = Compiler(stdlibPath: stdlibPath, options: ElaborationOptions(modelName: spec.model, settings: spec.settings))
                guard let compiled = try compiler.compile(SourceFile(path: spec.sourcePath, text: spec.source)) else { continue }
                let lengths = Set(spec.inputs.map(\.count))
                for (k, length) in lengths.sorted().enumerated() {
                    let batch = spec.inputs.filter { $0.count == length }
                    try cases.add("spec \(spec.name) \(k)", model: compiled.model, batch: batch, rng: &rng) { interpret(compiled.ir, $0) }
                    added += 1
                }
            }
        }
        #expect(added >= 23, "the logic specs are all there")
    }

    func addRandomPrograms(_ cases: inout ExportCases, _ rng: inout SplitMix64, count: Int) throws {
        var opsSeen = Set<ElementwiseKind>()
        for k in 0..<count {
            let seed = 7_000 + UInt64(k)
            var gen = RandomProgramGenerator(seed: seed)
            let (source, _, _) = gen.model()
            let ir = try #require(compileOK(source), "seed \(seed)")
            for case .elementwise(let op, _) in ir.nodes.map(\.op) { opsSeen.insert(op.kind) }
            let model = ScanLowering.lowerModel(try Optimizer.optimize(ir))
            let steps = gen.int(0...8)
            let batch = (0..<gen.int(1...3)).map { _ in (0..<steps).map { _ in gen.token() } }
            try cases.add("random \(seed)", model: model, batch: batch, rng: &rng) { interpret(ir, $0) }
        }
        #expect(opsSeen == Set(ElementwiseKind.allCases), "ops never drawn: \(Set(ElementwiseKind.allCases).subtracting(opsSeen))")
    }
}

/// PyTorch exports run in torch (Tests/Python/check_torch.py) and agree with the reference
/// interpreter: every example, every stdlib cell fixture, the logic and example specs, and
/// 200 random programs drawing every op, in Float64 and Float32, through forward, step and
/// (examples and cells) TorchScript, from initial and from given states. Models with params
/// make the fine-tuning round trip: tuned in torch, saved, run back through rnnc --weights.
@Suite(.serialized) struct TorchExportTests {
    @Test func exportsAgreeInTorch() throws {
        guard pythonHas(["numpy", "torch"]) else {
            #expect(!pythonChecksRequired, "python3 with numpy and torch is required (RNNC_REQUIRE_PYTHON_CHECKS=1)")
            return
        }
        var cases = try TorchCases()
        var rng = SplitMix64(seed: 20261202)
        try addExamples(&cases, &rng)
        try addCells(&cases, &rng)
        try addSpecs(&cases, &rng)
        try addParamUses(&cases, &rng)
        try addRandomPrograms(&cases, &rng, count: 200)
        let (status, output) = try cases.check()
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(cases.count) modules"), "\(output)")
        if status == 0 {
            let problems = try cases.tunedAgree()
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }
        try? FileManager.default.removeItem(at: cases.directory)
    }

    /// torch.compile accepts the modules (`Tests/Python/check_torch_compile.py`): a GRU with
    /// trained weights and an LSRL program of ReLUs and linear states, through forward and
    /// step, agree with eager mode. Two models only: each takes inductor tens of seconds.
    @Test func torchCompileAcceptsTheModules() throws {
        guard pythonHas(["numpy", "torch"]) else {
            #expect(!pythonChecksRequired, "python3 with numpy and torch is required (RNNC_REQUIRE_PYTHON_CHECKS=1)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-torch-compile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var names: [String] = []
        for example in ["gru2", "more_ones"] {
            var compiler = Compiler(stdlibPath: stdlibPath)
            let weights = repoRoot + "/examples/\(example).safetensors"
            if FileManager.default.fileExists(atPath: weights) { _ = try compiler.loadWeights(path: weights) }
            let ir = try #require(compiler.compileToIR(try Compiler.readSource(path: repoRoot + "/examples/\(example).rnn")), "\(example)")
            let name = TorchExporter.className(ir.modelName)
            let output = try TorchExporter.export(ir, className: name, weightsFile: name + ".safetensors", dtype: .float64)
            try output.python.write(to: directory.appendingPathComponent(name + ".py"), atomically: true, encoding: .utf8)
            try Data(SafeTensors.encode(output.tensors)).write(to: directory.appendingPathComponent(name + ".safetensors"))
            names.append(name)
        }
        let (status, output) = try python(["\(repoRoot)/Tests/Python/check_torch_compile.py", directory.path, names.joined(separator: ",")])
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: "agree with eager mode").count == names.count + 1, "\(output)")
    }

    func addExamples(_ cases: inout TorchCases, _ rng: inout SplitMix64) throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: repoRoot + "/examples").filter { $0.hasSuffix(".rnn") }.sorted()
        for file in examples {
            let base = repoRoot + "/examples/" + (file as NSString).deletingPathExtension
            let hasWeights = FileManager.default.fileExists(atPath: base + ".safetensors")
            func compile(_ weights: String?) throws -> IRProgram {
                var compiler = Compiler(stdlibPath: stdlibPath)
                if let weights { _ = try compiler.loadWeights(path: weights) }
                return try #require(compiler.compileToIR(try Compiler.readSource(path: base + ".rnn")), "\(file)")
            }
            let data = try SequenceData.read(path: base + ".json", format: .json)
            let sequence = try #require(data.sequences.first)
            try cases.add("example \(file)", ir: try compile(hasWeights ? base + ".safetensors" : nil), batch: [sequence, sequence], rng: &rng,
                          float32: hasWeights, script: true, recompile: hasWeights ? { try compile($0) } : nil)
        }
    }

    /// The stdlib logic specs and the example specs: their programs on their inputs.
    func addSpecs(_ cases: inout TorchCases, _ rng: inout SplitMix64) throws {
        var added = 0
        for file in ["stdlib_logic.yaml", "examples.yaml"] {
            for spec in try Spec.load(path: repoRoot + "/specs/" + file) where spec.expectedOutputs != nil && spec.weights == nil {
                let compiler = Compiler(stdlibPath: stdlibPath, options: ElaborationOptions(modelName: spec.model, settings: spec.settings))
                guard let ir = compiler.compileToIR(SourceFile(path: spec.sourcePath, text: spec.source)) else { continue }
                for (k, length) in Set(spec.inputs.map(\.count)).sorted().enumerated() {
                    try cases.add("spec \(spec.name) \(k)", ir: ir, batch: spec.inputs.filter { $0.count == length }, rng: &rng, float32: false)
                    added += 1
                }
            }
        }
        #expect(added >= 23, "the logic specs are all there")
    }

    /// Params read every way the elaborator can keep them: a matrix and its blocks, a bias,
    /// a gate, an operand of an op, a slice, a vector times a one-element value. Tuning must
    /// reach each one (the round trip checks it).
    func addParamUses(_ cases: inout TorchCases, _ rng: inout SplitMix64) throws {
        let source = """
            model Uses {
              input x: [2]
              param W: [4, 2] = normal(4, 2, seed: 3, std: 0.5)
              param b: [4] = [0.1, -0.2, 0.3, 0.4]
              param g: [2] = [0.5, 1.5]
              param q: [3] = [1, 2, 3]
              state h: [2] = 0
              h <- tanh(W[0:2] @ x + b[0:2] + g * h)
              output [h, W @ x + b, max(x, g), q[1:3] + x, q * x[0], sigmoid(W[2:4, 1:2] @ x[1:2])]
            }
            """
        func compile(_ weights: String?) throws -> IRProgram {
            var compiler = Compiler(stdlibPath: stdlibPath)
            if let weights { _ = try compiler.loadWeights(path: weights) }
            return try #require(compiler.compileToIR(SourceFile(path: "uses.rnn", text: source)), "\(compiler.diagnostics.render())")
        }
        let batch = (0..<2).map { _ in (0..<5).map { _ in (0..<2).map { _ in 2 * rng.nextUnit() - 1 } } }
        try cases.add("param uses", ir: try compile(nil), batch: batch, rng: &rng, float32: true, script: true, recompile: { try compile($0) })
    }

    func addCells(_ cases: inout TorchCases, _ rng: inout SplitMix64) throws {
        for fixture in cellFixtures {
            let (ir, xs, _) = try CellFixtureTests.load(fixture.name)
            let recompile = { (weights: String) throws -> IRProgram in
                var compiler = Compiler(stdlibPath: stdlibPath)
                _ = try compiler.loadWeights(path: weights)
                return try #require(compiler.compileToIR(try Compiler.readSource(path: "\(CellFixtureTests.dir)/\(fixture.name).rnn")))
            }
            try cases.add("cell \(fixture.name)", ir: ir, batch: Array(xs.prefix(3)), rng: &rng, float32: true, script: true, recompile: recompile)
        }
    }

    func addRandomPrograms(_ cases: inout TorchCases, _ rng: inout SplitMix64, count: Int) throws {
        for k in 0..<count {
            let seed = 9_000 + UInt64(k)
            var gen = RandomProgramGenerator(seed: seed)
            let (source, _, _) = gen.model()
            let ir = try #require(compileOK(source), "seed \(seed)")
            let steps = gen.int(0...8)
            let batch = (0..<gen.int(1...3)).map { _ in (0..<steps).map { _ in gen.token() } }
            try cases.add("random \(seed)", ir: ir, batch: batch, rng: &rng, float32: true)
        }
    }
}
