import ArgumentParser
import Foundation
import RNNCompiler
import RNNRuntime

extension RNNCommand {
    /// `rnnc compile FILE -o OUT.rnnc`, or `--emit` a stage's dump.
    package struct Compile: ParsableCommand {
        package static let configuration = CommandConfiguration(
            abstract: "Compile a .rnn file to a .rnnc artifact, or print one stage of compilation.",
            discussion: """
                Without --emit, writes the artifact (a safetensors file holding the step program and \
                its weights; see docs/artifact.md) to -o, by default FILE with the extension .rnnc. \
                The write is atomic. With --emit, prints the stage to standard output instead \
                (or to -o when given).
                """)

        package enum Stage: String, ExpressibleByArgument, CaseIterable {
            case ast, ir, irOpt = "ir-opt", step, layers
        }

        package enum Target: String, ExpressibleByArgument, CaseIterable {
            case rnnc, layers
        }

        @Argument(help: "The .rnn source file.")
        package var file: String

        @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the artifact (or the --emit text).", valueName: "path"))
        package var output: String?

        @Option(help: "Print a stage instead of writing an artifact: ast, ir (as elaborated), ir-opt (after the optimizer), step (the step program's instructions and the scan plan) or layers (the layer chain's report).")
        package var emit: Stage?

        @Option(help: "What to write: rnnc (the .rnnc artifact) or layers (the program as one chain of standard layers, its weights as safetensors; docs/layers.md).")
        package var target: Target = .rnnc

        @OptionGroup package var compile: CompileOptions

        package init() {}

        package func run() throws {
            let text: String
            switch emit {
            case .ast:
                let compiler = try compile.makeCompiler()
                let source: SourceFile
                do { source = try Compiler.readSource(path: file) } catch { throw ExitStatus.report(error) }
                let ast = compiler.parse(source)
                compile.printDiagnostics(compiler)
                if compiler.diagnostics.hasErrors { throw ExitStatus.dataError }
                text = Dump.ast(ast)
            case .ir:
                text = Dump.ir(try compile.compileModel(file).ir)
            case .irOpt:
                text = Dump.ir(try compile.compileModel(file).optimized)
            case .layers:
                text = try compile.compileLayerChain(file).chain.report
            case .step:
                let model = try compile.compileModel(file).model
                var lines = model.program.instructions.enumerated().map { "\($0): \($1)" }
                lines.append("scan plan:")
                lines += model.plan.stages.map { "  \($0)" }
                text = lines.joined(separator: "\n") + "\n"
            case nil where target == .layers:
                let chain = try compile.compileLayerChain(file).chain
                let path = output ?? ((file as NSString).deletingPathExtension + ".layers.safetensors")
                try writeWeights(of: chain, to: path)
                Console.out("wrote \(path): \(chain.layers.count) layers, widest \(chain.width), \(chain.parameters) parameters\n")
                return
            case nil:
                let model = try compile.compileModel(file).model
                let path = output ?? ((file as NSString).deletingPathExtension + ".rnnc")
                do {
                    try writeAtomically(Artifact.encode(model, metadata: ["source": (file as NSString).lastPathComponent]), to: path)
                } catch {
                    throw ExitStatus.report(error)
                }
                Console.out("wrote \(path)\n")
                return
            }
            if let output {
                do { try writeAtomically(Array(text.utf8), to: output) } catch { throw ExitStatus.report(error) }
            } else {
                Console.out(text)
            }
        }
    }
}

/// Writes a layer chain's weights file (atomically), with the exit status of each failure.
func writeWeights(of chain: LayerChain, to path: String, then more: () throws(RuntimeError) -> Void = {}) throws {
    do {
        try writeAtomically(SafeTensors.encode(try chain.weightsFile()), to: path)
        try more()
    } catch let error as LayerChainError {
        Console.err("error: \(error)\n")
        throw ExitStatus.dataError
    } catch let error as RuntimeError {
        throw ExitStatus.report(error)
    }
}
