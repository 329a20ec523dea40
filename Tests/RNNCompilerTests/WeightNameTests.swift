import Foundation
@testable import RNNRuntime
import Testing
@testable import RNNCompiler

/// Weights keep the names of the params they come from: in the IR's weights table, in the
/// artifact's tensor names, stored once however often they are used, and in Float32 when
/// the model runs in Float32.
@Suite struct WeightNameTests {
    private func lowered(_ source: String, weights: SafeTensors.File? = nil, optimize: Bool = true) throws -> Artifact.Model {
        var options = ElaborationOptions()
        options.weights = weights
        return try #require(try compileModel(source, options: options, pipeline: PipelineOptions(optimize: optimize, verifyEach: true))).model
    }

    private func tensorNames(_ model: Artifact.Model) throws -> [String] {
        try SafeTensors.decode(Artifact.encode(model), path: "mem.rnnc").tensors.map(\.name)
    }

    @Test func artifactTensorsAreNamedAfterParams() throws {
        let source = """
            model M {
              input x: [3]
              param W: [4, 3] = normal(4, 3, seed: 1), U: [4, 4] = normal(4, 4, seed: 2)
              state h: [4] = 0
              h <- tanh(W @ x + U @ h)
              output W[0:2] @ x
            }
            """
        let names = try tensorNames(try lowered(source, optimize: false))
        #expect(names.contains("W") && names.contains("U") && names.contains("W[0:2]"), "\(names)")
        #expect(!names.contains { $0.hasPrefix("matrix.") }, "\(names)")
    }

    /// A state declared in a function is named `rot#1.p`: the `#` in its plan matrices' names
    /// survives an artifact round trip (found by fuzz-source on `modulo_counter`).
    @Test func namesWithHashesRoundTrip() throws {
        let source = """
            fn rot(v) {
              state p: [2] = [1, 0]
              p <- [[0.6, -0.8], [0.8, 0.6]] @ p + v
              return p
            }
            model M {
              input x: [2]
              output rot(x)
            }
            """
        let model = try lowered(source)
        #expect(model.program.matrices.contains { $0.name == "rot#1.p.modes.basis" }, "\(model.program.matrices.map(\.name))")
        #expect(try Artifact.decode(Artifact.encode(model), path: "mem.rnnc") == model)
    }

    /// Vectors are named after what uses them, and the scan plan's matrices after their states.
    @Test func vectorsAndPlanMatricesAreNamed() throws {
        let source = """
            model M {
              input x: [2]
              param W: [2, 2] = [[1, 2], [3, 4]]
              state h: [2] = [1, -1]
              state r: [2] = 0
              h <- [[0.5, 0.1], [-0.2, 0.3]] @ h + x
              r <- sigmoid(W @ x + [1, 2]) * r + x
              output [h, r, W @ x + 3]
            }
            """
        let model = try lowered(source)
        let names = try tensorNames(model)
        #expect(names.contains("h.initial") && names.contains("r.initial"), "\(names)")
        #expect(names.contains { $0.hasPrefix("W") && $0.hasSuffix(".bias") }, "\(names)")
        #expect(names.contains("h.modes.basis") && names.contains("h.modes.inverse"), "\(names)")
        #expect(!names.contains { $0.hasPrefix("vector.") }, "\(names)")
        #expect(names.filter { $0.hasPrefix("matrix.") } == ["matrix.0"], "only the literal matrix is unnamed: \(names)")
        let back = try Artifact.decode(Artifact.encode(model), path: "mem.rnnc")
        #expect(back.program.vectors == model.program.vectors)
    }

    @Test func aWeightUsedTwiceIsStoredOnce() throws {
        let source = """
            model M {
              input x: [3]
              param W: [3, 3] = normal(3, 3, seed: 1)
              state h: [3] = 0
              h <- tanh(W @ x + W @ h)
              output h
            }
            """
        let model = try lowered(source, optimize: false)
        #expect(model.program.matrices.filter { $0.name == "W" }.count == 1)
        #expect(try tensorNames(model).filter { $0 == "W" }.count == 1)
        let tokens = [[1.0, 2, 3], [0.5, -1, 0]]
        let ir = try #require(compileOK(source))
        #expect(close(try StepSession<Double>(program: model.program).run(tokens), interpret(ir, tokens), tolerance: 1e-12))
    }

    @Test func fusedWeightsNameWhatTheyWereMadeFrom() throws {
        let source = """
            model M {
              input x: [3]
              param A: [3, 3] = normal(3, 3, seed: 1), B: [3, 3] = normal(3, 3, seed: 2)
              output A @ x + B @ x
            }
            """
        let names = try tensorNames(try lowered(source))
        #expect(names.contains("A|B"), "\(names)")
    }

    /// `--dtype auto` runs a model in Float32 only when its weights come from a weights file:
    /// a param initialized in the source keeps the program exact in Float64.
    @Test func precisionFollowsWhereTheWeightsCameFrom() throws {
        let inSource = try lowered("model M {\n  input x: [1]\n  param W: [1, 1] = ones()\n  output 16777217 + W @ x\n}")
        #expect(inSource.precision == .float64)
        let outputs = try runModel(inSource, on: SequenceData(sequences: [[[0]]], width: 1, isBatch: false), float32: inSource.precision == .float32)
        #expect(outputs.sequences == [[[16777217]]])
        let file = try SafeTensors.read(path: fixtures + "/affine.safetensors")
        let trained = try lowered("model M {\n  input x: [3]\n  param W: [2, 3], b: [2]\n  output W @ x + b\n}", weights: file)
        #expect(trained.precision == .float32)
        // Stored as Float32, and read back as the same model.
        let decoded = try SafeTensors.decode(Artifact.encode(trained), path: "mem.rnnc")
        #expect(decoded.tensors.filter { $0.dtype != .i64 }.allSatisfy { $0.dtype == .f32 })
        let back = try Artifact.decode(Artifact.encode(trained), path: "mem.rnnc")
        #expect(back.program.matrices.map(\.name) == trained.program.matrices.map(\.name))
        #expect(try runModel(back, on: SequenceData(sequences: [[[1, 1, 1]]], width: 3, isBatch: false), float32: true).sequences == [[[6.5, 14.5]]])
    }

    /// A version-2 artifact gets a message that says to compile again.
    @Test func olderArtifactsAreRefusedClearly() {
        let v2 = SafeTensors.encode(SafeTensors.File(tensors: [], metadata: ["format": "rnnc", "format_version": "2", "program": "{}"]))
        #expect {
            try Artifact.decode(v2, path: "old.rnnc")
        } throws: { error in
            "\(error)".contains("format version 2 was written by an earlier rnnc") && "\(error)".contains("compile the source again")
        }
    }
}
