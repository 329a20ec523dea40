import Foundation
import RNNRuntime
import Testing
import RNNCompiler

/// The README's Swift snippet, run as written (from the repository root).
@Suite struct ReadmeTests {
    @Test func swiftSnippetRunsAsWritten() throws {
        let readme = try String(contentsOfFile: repoRoot + "/README.md", encoding: .utf8)
        let snippet = [
            #"let compiler = Compiler()"#,
            #"let source = try Compiler.readSource(path: "examples/more_ones.rnn")"#,
            #"guard let compiled = try compiler.compile(source) else { fatalError(compiler.diagnostics.render()) }"#,
            #"let model = compiled.model"#,
            #"let session = try StepSession<Float>(program: model.program)"#,
            #"let first = try session.step([0])"#,
            #"let outputs = try ScanRunner<Float>(program: model.program, plan: model.plan).run([[0], [1], [1]])"#,
        ]
        for line in snippet { #expect(readme.contains(line), "README.md no longer has: \(line)") }
        // The same statements (the path made absolute, the stdlib given: tests run elsewhere).
        let compiler = Compiler(stdlibPath: stdlibPath)
        let source = try Compiler.readSource(path: repoRoot + "/examples/more_ones.rnn")
        let compiled = try #require(try compiler.compile(source), "\(compiler.diagnostics.render())")
        let model = compiled.model
        let session = try StepSession<Float>(program: model.program)
        let first = try session.step([0])
        let outputs = try ScanRunner<Float>(program: model.program, plan: model.plan).run([[0], [1], [1]])
        #expect(first == [0])
        #expect(outputs == [[0], [0], [1]])
    }
}
