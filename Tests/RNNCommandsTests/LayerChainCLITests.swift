import Foundation
import Testing
@testable import RNNCommands
@testable import RNNCompiler
import RNNRuntime

/// `--target layers` and `--emit layers` as a user runs them (docs/layers.md).
@Suite struct LayerChainCLITests {
    static let keyValue = repoRoot + "/examples/lsrl/key_value"

    /// docs/layers.md shows the report of more_ones.rnn as rnnc prints it.
    @Test func theGuidesReportIsCurrent() throws {
        let guide = try String(contentsOfFile: repoRoot + "/docs/layers.md", encoding: .utf8)
        let shown = try #require(guide.components(separatedBy: "```\nlayer chain of model MoreOnes").dropFirst().first?.components(separatedBy: "```").first)
        let r = rnnc(["compile", repoRoot + "/examples/more_ones.rnn", "--emit", "layers"] + stdlibArgs)
        #expect(r.stdout == "layer chain of model MoreOnes" + shown)
    }

    @Test func emitPrintsTheReport() {
        let r = rnnc(["compile", Self.keyValue + ".rnn", "--emit", "layers"] + stdlibArgs)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("layer chain of model KeyValue: "), "\(r.stdout)")
        #expect(r.stdout.contains("state") && r.stdout.contains("relu ["))
    }

    /// The weights file holds each layer's tensors under its name and, in the metadata, the
    /// layers' kinds; read back, it is the chain rnnc built.
    @Test func targetWritesTheWeightsFile() throws {
        let path = tempPath("kv.layers.safetensors")
        let r = rnnc(["compile", Self.keyValue + ".rnn", "--target", "layers", "-o", path, "--set", "mode=direct"] + stdlibArgs)
        #expect(r.code == 0 && r.stdout.hasPrefix("wrote \(path): "), "\(r.stderr)")
        let file = try SafeTensors.read(path: path)
        let described = try #require(try JSONSerialization.jsonObject(with: Data((file.metadata["layers"] ?? "").utf8)) as? [[String: Any]])
        let compiler = Compiler(stdlibPath: repoRoot + "/stdlib", options: ElaborationOptions(settings: [("mode", "direct")]))
        let compiled = try #require(try compiler.compile(try Compiler.readSource(path: Self.keyValue + ".rnn")))
        let chain = try #require(compiler.layerChain(of: compiled))
        #expect(described.count == chain.layers.count)
        #expect(file.metadata["input_width"] == "1" && file.metadata["output_width"] == "1")
        for (k, layer) in chain.layers.enumerated() {
            #expect(described[k]["in"] as? Int == layer.inputWidth && described[k]["out"] as? Int == layer.outputWidth)
            switch layer {
            case .affine(let w, let bias):
                #expect(file["layers.\(k).weight"]?.shape == [w.rows, w.cols])
                #expect(file["layers.\(k).bias"]?.doubles() == bias)
            case .state(let a, let initial):
                #expect(file["layers.\(k).A"]?.doubles() == (try LayerChain.dense(a)))
                #expect(file["layers.\(k).initial"]?.doubles() == initial)
            case .elementwise(let op, let lanes, _), .binary(let op, let lanes, _):
                #expect(described[k]["op"] as? String == op.name && described[k]["lanes"] as? Int == lanes)
            }
        }
    }

    @Test func runRunsTheChain() {
        for extra in [[], ["--engine", "interpreter"], ["--mode", "scan", "--dtype", "float32"]] {
            let r = rnnc(["run", Self.keyValue + ".rnn", "--target", "layers", "--input", Self.keyValue + ".json"] + extra + stdlibArgs)
            #expect(r.code == 0, "\(extra): \(r.stderr)")
            #expect(r.stdout.split(separator: "\n").suffix(3) == ["4", "0", "6"], "\(extra)")
        }
    }

    @Test func programsWithoutAChainAreRefusedAtTheState() {
        let parity = repoRoot + "/examples/parity"
        let r = rnnc(["compile", parity + ".rnn", "--target", "layers", "-o", tempPath("p.safetensors")] + stdlibArgs)
        #expect(r.code == 65)
        #expect(r.stderr.contains("parity.rnn:8:9: error[E0603]: the program has no layer chain: state position is linear time-varying"), "\(r.stderr)")
        let artifact = rnnc(["run", parity + ".rnnc", "--target", "layers", "--input", parity + ".json"])
        #expect(artifact.code == 64)
    }
}
