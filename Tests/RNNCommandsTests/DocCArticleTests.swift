import Foundation
import RNNCompiler
import RNNExport
import RNNRuntime
import Testing

/// The DocC catalogs' code, run as written: every `sh` block's `rnnc` commands run
/// in-process, and every `swift` block of a page, in order, must be the body of the function
/// below that names the page between its markers, which the test then runs. A block that is
/// a fragment of a package manifest (it starts with `.`) must instead appear verbatim in the
/// example package's manifest, which CI builds and runs (examples/swiftpm-app).
@Suite struct DocCArticleTests {
    struct Page: Sendable {
        var path: String
        var run: @Sendable () throws -> Void
    }

    static let pages: [Page] = [
        Page(path: "Sources/RNNRuntime/RNNRuntime.docc/RNNRuntime.md", run: runtimeLanding),
        Page(path: "Sources/RNNRuntime/RNNRuntime.docc/GettingStarted.md", run: runtimeGettingStarted),
        Page(path: "Sources/RNNRuntime/RNNRuntime.docc/EmbeddingACompiledModel.md", run: embedding),
        Page(path: "Sources/RNNRuntime/RNNRuntime.docc/StreamingTokens.md", run: streaming),
        Page(path: "Sources/RNNCompiler/RNNCompiler.docc/RNNCompiler.md", run: compilerLanding),
        Page(path: "Sources/RNNCompiler/RNNCompiler.docc/GettingStarted.md", run: compilerGettingStarted),
        Page(path: "Sources/RNNExport/RNNExport.docc/RNNExport.md", run: exportLanding),
    ]

    static func runtimeLanding() throws {
        // docs begin
        let model = try Artifact.Model(contentsOf: "/tmp/gru2.rnnc")
        let outputs = try model.run([[0.5, -1, 0], [1, 0, 0]], as: Float.self)
        // docs end
        #expect(outputs.count == 2 && outputs[0].count == 4)
    }

    static func runtimeGettingStarted() throws {
        // docs begin
        let model = try Artifact.Model(contentsOf: "/tmp/gru2.rnnc")
        print(model.program.inputWidth, model.program.outputWidth)   // 3 4
        let one = try model.run([[0.5, -1, 0], [1, 0, 0]], as: Float.self)
        let batch = try model.run(batch: [[[0.5, -1, 0]], [[1, 0, 0], [0, 1, 0]]], as: Double.self)
        try model.write(to: "/tmp/gru2-copy.rnnc")
        // docs end
        #expect(model.program.inputWidth == 3 && model.program.outputWidth == 4)
        #expect(zip(one[0], batch[0][0]).allSatisfy { abs(Double($0) - $1) <= 1e-5 })
        #expect(try Artifact.Model(contentsOf: "/tmp/gru2-copy.rnnc") == model)
    }

    static func embedding() throws {
        // docs begin
        /// A session over the app's model, made once.
        final class Recognizer {
            let session: StepSession<Float>

            init(model: Artifact.Model) throws {
                session = try StepSession<Float>(model, threads: 1)
            }

            /// The model's outputs after each token of a sequence, from the initial states.
            func outputs(for tokens: [[Float]]) throws -> [[Float]] {
                try session.run(tokens)
            }
        }
        // docs end
        let model = try Artifact.Model(contentsOf: "/tmp/gru2.rnnc")
        let recognizer = try Recognizer(model: model)
        #expect(try recognizer.outputs(for: [[1, 0, 0]]) == (try model.run([[1, 0, 0]], as: Float.self, mode: .step)))
    }

    static func streaming() throws {
        // docs begin
        let model = try Artifact.Model(contentsOf: "/tmp/gru2.rnnc")   // compiled as in "Getting started"
        let session = try StepSession<Float>(model)
        for token in [[0.5, -1, 0], [1, 0, 0]] as [[Float]] {
            let outputs = try session.step(token)
            print(outputs)
        }
        var token: [Float] = [0.5, -1, 0]
        var outputs = [Float](repeating: 0, count: model.program.outputWidth)
        try token.withUnsafeBufferPointer { token in
            try outputs.withUnsafeMutableBufferPointer { try session.step(token, into: $0) }
        }
        let saved = try session.stateNames.map { try session.state($0) }
        session.reset()
        for (name, value) in zip(session.stateNames, saved) { try session.setState(name, to: value) }
        let lm = try Artifact.Model(contentsOf: "/tmp/lstm_lm.rnnc")
        let generator = try Generator<Float>(model: lm, sampler: Sampler(temperature: 0.8, topK: 20, seed: 1))
        try generator.prefill([1, 2, 3])
        let next = try (0..<8).map { _ in try generator.next() }
        // docs end
        token[0] = 0
        #expect(try session.stateNames.map { try session.state($0) } == saved)
        #expect(next.count == 8 && next.allSatisfy { (0..<64).contains($0) })
    }

    static func compilerLanding() throws {
        // docs begin
        let compiled = try Compiler.compile(path: "examples/more_ones.rnn")
        let outputs = try compiled.model.run([[0], [1], [1]], as: Double.self)
        // docs end
        #expect(outputs == [[0], [0], [1]])
    }

    static func compilerGettingStarted() throws {
        // docs begin
        let compiled = try Compiler.compile(path: "examples/more_ones.rnn")
        let outputs = try compiled.model.run([[0], [1], [1]], as: Double.self)   // [[0], [0], [1]]
        let options = CompileOptions(weights: ["examples/gru2.safetensors"])
        let gru = try Compiler.compile(path: "examples/gru2.rnn", options: options)
        for param in gru.weights { print(param.name, param.shape, param.origin) }
        try gru.model.write(to: "/tmp/gru2.rnnc")
        let scaled = try Compiler.compile(source: "model Scale(k = 2) {\n  input x: [1]\n  output k * x\n}",
                                          options: CompileOptions(settings: ["k": "3"]))
        do {
            _ = try Compiler.compile(source: "model M {\n  input x: [2]\n  output y\n}", path: "m.rnn")
        } catch let error as CompileError {
            for diagnostic in error.diagnostics {
                print(diagnostic.code, diagnostic.range?.line ?? 0, diagnostic.message)   // E0202 3 ...
            }
        }
        // docs end
        #expect(outputs == [[0], [0], [1]])
        #expect(gru.weights.count == 8)
        #expect(try scaled.model.run([[2.0]]) == [[6.0]])
    }

    static func exportLanding() throws {
        // docs begin
        let compiled = try Compiler.compile(path: "examples/gru2.rnn", options: CompileOptions(weights: ["examples/gru2.safetensors"]))
        let onnx = try ONNXExporter.export(compiled.model, form: .sequence, precision: .float32)
        let torch = try TorchExporter.export(compiled, className: "GRU2", weightsFile: "gru2_weights.safetensors", dtype: .float32)
        // docs end
        #expect(onnx.count > 1000)
        #expect(torch.python.contains("class GRU2"))
    }

    /// The page's fenced blocks of one language, each as its lines.
    static func blocks(_ text: String, language: String) -> [[String]] {
        text.components(separatedBy: "```\(language)\n").dropFirst().map { part in
            part.components(separatedBy: "```").first!.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        }
    }

    /// The lines between `// docs begin` and `// docs end` in the function named `name`,
    /// without the function body's indentation and without blank lines.
    static func region(_ name: String, in source: String) throws -> [String] {
        let function = try #require(source.components(separatedBy: "static func \(name)() throws {").dropFirst().first)
        let marked = try #require(function.components(separatedBy: "// docs begin\n").dropFirst().first?.components(separatedBy: "// docs end").first)
        return marked.split(separator: "\n").map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    @Test(arguments: pages.map(\.path))
    func pageRunsAsWritten(path: String) throws {
        try #require(FileManager.default.currentDirectoryPath == repoRoot, "swift test runs from the repository root")
        let page = try #require(Self.pages.first { $0.path == path })
        let text = try String(contentsOfFile: repoRoot + "/" + path, encoding: .utf8)
        // Every page's code reads what the commands of the articles make.
        for command in ["rnnc compile examples/gru2.rnn --weights examples/gru2.safetensors -o /tmp/gru2.rnnc",
                        "rnnc compile examples/lm/lstm_lm.rnn --weights examples/lm/lstm_lm.safetensors -o /tmp/lstm_lm.rnnc"] {
            let r = rnnc(Array(command.split(separator: " ").dropFirst().map(String.init)))
            #expect(r.code == 0, "\(command): \(r.stderr)")
        }
        for line in Self.blocks(text, language: "sh").joined() {
            #expect(line.hasPrefix("rnnc "), "\(path): an sh block that is not an rnnc command: \(line)")
            let r = rnnc(Array(line.split(separator: " ").dropFirst().map(String.init)))
            #expect(r.code == 0, "\(path): \(line): \(r.stderr)")
        }
        let swift = Self.blocks(text, language: "swift")
        let manifest = (try? String(contentsOfFile: repoRoot + "/examples/swiftpm-app/Package.swift", encoding: .utf8)) ?? ""
        func unindented(_ lines: [String]) -> String { lines.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n") }
        let manifestLines = unindented(manifest.split(separator: "\n").map(String.init))
        for fragment in swift where fragment.first?.hasPrefix(".") == true {
            #expect(manifestLines.contains(unindented(fragment)), "\(path): a manifest fragment examples/swiftpm-app/Package.swift lacks")
        }
        let code = swift.filter { $0.first?.hasPrefix(".") != true }.joined().filter { !$0.hasPrefix("import ") }
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let name = source.components(separatedBy: "path: \"\(path)\", run: ").dropFirst().first?.prefix { $0 != ")" }
        #expect(code == (try Self.region(String(try #require(name)), in: source)), "\(path) and DocCArticleTests differ")
        try page.run()
    }
}
