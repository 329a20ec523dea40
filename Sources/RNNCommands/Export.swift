import ArgumentParser
import Foundation
import RNNCompiler
import RNNExport
import RNNRuntime

extension RNNCommand {
    /// `rnnc export FILE --format onnx -o OUT.onnx`.
    package struct Export: ParsableCommand {
        package static let configuration = CommandConfiguration(
            abstract: "Export a model (.rnn source or .rnnc artifact) for another engine.",
            discussion: """
                --format onnx writes an ONNX model (opset 17) that onnxruntime and other ONNX \
                engines run. --form step exports one time step (inputs x [B, n] and each state \
                [B, k]; outputs y [B, m] and each state's next value, NAME.next) for streaming; \
                --form sequence exports whole sequences (input x [B, T, n] and optional initial \
                states; outputs y [B, T, m] and each state's final value, NAME.final), with the \
                recurrences as ONNX Loop operators and state-independent work batched over time. \
                Weights keep the artifact's tensor names. \
                --format torch writes a PyTorch module (one Python file that needs only torch) \
                whose parameters are the source's params, by name and shape, with its tensors in \
                a safetensors file of the same name beside it; it needs the .rnn source. See \
                docs/export.md.
                """)

        package enum Format: String, ExpressibleByArgument, CaseIterable {
            case onnx, torch
        }

        package enum DType: String, ExpressibleByArgument, CaseIterable {
            case auto, float32, float64
        }

        @Argument(help: "A .rnn source file or a .rnnc artifact.")
        package var file: String

        @Option(help: "The target format: onnx, or torch (a PyTorch module: OUT.py and its weights, OUT.safetensors).")
        package var format: Format = .onnx

        @Option(help: "What the ONNX graph computes: step (one time step) or sequence (whole sequences).")
        package var form: ONNXExporter.Form = .sequence

        @Flag(help: "ONNX: emit ONNX's own GRU, LSTM and RNN ops for calls of the stdlib's gru, lstm, elman and elman_relu (every state must belong to one).")
        package var onnxNativeCells = false

        @Option(help: "Element type of the exported tensors: float32, float64, or auto (the model's own precision).")
        package var dtype: DType = .auto

        @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the model (default: FILE with the extension .onnx, or .py for torch).", valueName: "path"))
        package var output: String?

        @Option(help: "What to export: rnnc (the program, its params as parameters) or layers (its layer chain as a stack of standard layers, docs/layers.md; torch only).")
        package var target: Compile.Target = .rnnc

        @OptionGroup package var compile: CompileOptions

        package init() {}

        package func validate() throws {
            try compile.refuseSourceOnlyOptions(for: file)
            if target == .layers && (format != .torch || file.hasSuffix(".rnnc")) {
                throw ValidationError("--target layers exports a .rnn source's layer chain with --format torch")
            }
            if format == .torch && file.hasSuffix(".rnnc") {
                throw ValidationError("--format torch needs the .rnn source: an artifact holds the fused step program, not the params")
            }
            if onnxNativeCells && (format != .onnx || file.hasSuffix(".rnnc")) {
                throw ValidationError("--onnx-native-cells needs --format onnx and the .rnn source (an artifact does not record the cells)")
            }
        }

        package func run() throws {
            switch format {
            case .onnx: try exportONNX()
            case .torch: try exportTorch()
            }
        }

        private func precision(_ model: Precision) -> Precision {
            switch dtype {
            case .auto: model
            case .float32: .float32
            case .float64: .float64
            }
        }

        private func exportONNX() throws {
            if onnxNativeCells { return try exportNativeCells() }
            let model: Artifact.Model
            if file.hasSuffix(".rnnc") {
                do { model = try Artifact.load(path: file) } catch { throw ExitStatus.report(error) }
            } else {
                model = try compile.compileModel(file).model
            }
            let bytes: Data
            do {
                bytes = try ONNXExporter.export(model, form: form, precision: precision(model.precision))
            } catch {
                Console.err("\(error)\n")
                throw ExitStatus.dataError
            }
            try write(bytes)
        }

        private func exportNativeCells() throws {
            let compiled = try compile.compileModel(file)
            let bytes: Data
            do {
                bytes = try ONNXExporter.exportNativeCells(compiled.ir, form: form, precision: precision(compiled.model.precision))
            } catch {
                Console.err("\(error)\n")
                throw ExitStatus.dataError
            }
            try write(bytes)
        }

        /// Writes an ONNX model to -o, or beside the input.
        private func write(_ bytes: Data) throws {
            let path = output ?? ((file as NSString).deletingPathExtension + ".onnx")
            do { try writeAtomically(Array(bytes), to: path) } catch { throw ExitStatus.report(error) }
            Console.out("wrote \(path)\n")
        }

        /// The chain's module, and its weights file (the one `compile --target layers` writes).
        private func exportLayerChainTorch() throws {
            let (compiled, chain) = try compile.compileLayerChain(file)
            let path = output ?? ((file as NSString).deletingPathExtension + ".py")
            let weightsPath = (path as NSString).deletingPathExtension + ".safetensors"
            let className = TorchExporter.className(compiled.ir.modelName) + "Layers"
            let python = LayerChainTorch.python(chain, className: className, weightsFile: (weightsPath as NSString).lastPathComponent,
                                                dtype: precision(compiled.model.precision))
            try writeWeights(of: chain, to: weightsPath) { () throws(RuntimeError) in try writeAtomically(Array(python.utf8), to: path) }
            Console.out("wrote \(path) and \(weightsPath)\n")
        }

        private func exportTorch() throws {
            if target == .layers { return try exportLayerChainTorch() }
            let compiled = try compile.compileModel(file)
            let path = output ?? ((file as NSString).deletingPathExtension + ".py")
            let stem = (path as NSString).deletingPathExtension
            let weightsPath = stem + ".safetensors"
            let exported: TorchExporter.Output
            do {
                exported = try TorchExporter.export(compiled.ir, className: TorchExporter.className(compiled.ir.modelName),
                                                    weightsFile: (weightsPath as NSString).lastPathComponent,
                                                    dtype: precision(compiled.model.precision))
            } catch {
                Console.err("\(error)\n")
                throw ExitStatus.dataError
            }
            do {
                try writeAtomically(SafeTensors.encode(exported.tensors), to: weightsPath)
                try writeAtomically(Array(exported.python.utf8), to: path)
            } catch {
                throw ExitStatus.report(error)
            }
            Console.out("wrote \(path) and \(weightsPath)\n")
        }
    }
}

extension ONNXExporter.Form: ExpressibleByArgument {}
