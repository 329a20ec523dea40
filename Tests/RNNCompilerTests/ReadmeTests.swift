import Foundation
import RNNCompiler
import RNNRuntime
import Testing

/// The README's Swift snippet, compiled and run as written: the body of `snippet()` between
/// its markers must be the README's code block, line for line.
@Suite struct ReadmeTests {
    /// The statements of README.md's "Using rnnc from Swift" block; paths are relative to the
    /// repository root, where `swift test` runs.
    static func snippet() throws -> (outputs: [[[Float]]], y: [Float], h: [Float], doubled: CompiledModel) {
        // README begin
        // Compile a source with its weights (as `rnnc compile` does), save the artifact, load it back.
        let compiled = try Compiler.compile(path: "examples/gru2.rnn", options: CompileOptions(weights: ["examples/gru2.safetensors"]))
        try compiled.model.write(to: "/tmp/gru2.rnnc")
        let model = try Artifact.Model(contentsOf: "/tmp/gru2.rnnc")

        // Whole sequences: a batch of two, one output vector per token, in Float32.
        let outputs = try model.run(batch: [[[0.5, -1, 0]], [[1, 0, 0], [0, 1, 0]]], as: Float.self)

        // Streaming: one token at a time, with the states read and set by name.
        let session = try StepSession<Float>(model)
        let y = try session.step([0.5, -1, 0])
        let h = try session.state(session.stateNames[0])

        // A program given as text; errors are thrown as a CompileError with the diagnostics.
        let doubled = try Compiler.compile(source: "model Twice {\n  input x: [1]\n  output 2 * x\n}")
        // README end
        return (outputs, y, h, doubled)
    }

    @Test func readmeShowsTheSnippet() throws {
        let readme = try String(contentsOfFile: repoRoot + "/README.md", encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Using rnnc from Swift").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first)
        let code = block.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("import ") }
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let marked = try #require(source.components(separatedBy: "// README begin\n").dropFirst().first?.components(separatedBy: "        // README end").first)
        let test = marked.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("        ") ? $0.dropFirst(8) : $0 }.joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(code == test, "README.md's Swift block and ReadmeTests.snippet() differ")
    }

    @Test func snippetRunsFromTheRepositoryRoot() throws {
        try #require(FileManager.default.currentDirectoryPath == repoRoot, "swift test runs from the repository root")
        let (outputs, y, h, doubled) = try Self.snippet()
        #expect(outputs.count == 2 && outputs[0].count == 1 && outputs[1].count == 2 && outputs[1][1].count == 4)
        // The step session's first token is the batch's first sequence.
        #expect(zip(y, outputs[0][0]).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(h.count == 4)
        #expect(try doubled.model.run([[3.0]]) == [[6.0]])
    }
}
