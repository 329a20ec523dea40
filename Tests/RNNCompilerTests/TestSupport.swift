import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// The repository root, found from this file's path.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let stdlibPath = repoRoot + "/stdlib"
let fixtures = repoRoot + "/Tests/Fixtures"

struct CompileResult {
    var ir: IRProgram?
    var diagnostics: [Diagnostic]
    var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
}

/// Compiles source text named `path` (imports resolve relative to it, and to the stdlib).
func compile(_ source: String, path: String = "/virtual/test.rnn", options: ElaborationOptions = ElaborationOptions()) -> CompileResult {
    let compiler = Compiler(stdlibPath: stdlibPath, options: options)
    let ir = compiler.compileToIR(SourceFile(path: path, text: source))
    return CompileResult(ir: ir, diagnostics: compiler.diagnostics.diagnostics)
}

/// Compiles and fails the test (at the caller) with the diagnostics when it does not compile.
func compileOK(_ source: String, options: ElaborationOptions = ElaborationOptions(), sourceLocation: SourceLocation = #_sourceLocation) -> IRProgram? {
    let r = compile(source, options: options)
    #expect(r.ir != nil, "\(r.diagnostics.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
    return r.ir
}

/// Runs the whole pipeline (`Compiler.compile`) on source text; fails the test (at the
/// caller) with the diagnostics when it does not compile.
func compileModel(_ source: String, options: ElaborationOptions = ElaborationOptions(), pipeline: PipelineOptions = PipelineOptions(verifyEach: true),
                  sourceLocation: SourceLocation = #_sourceLocation) throws -> CompiledModel? {
    let compiler = Compiler(stdlibPath: stdlibPath, options: options)
    let compiled = try compiler.compile(SourceFile(path: "/virtual/test.rnn", text: source), options: pipeline)
    #expect(compiled != nil, "\(compiler.diagnostics.render())", sourceLocation: sourceLocation)
    return compiled
}

/// Runs a program in the reference interpreter on one sequence.
func interpret(_ ir: IRProgram, _ tokens: [[Double]]) -> [[Double]] {
    var interpreter = Interpreter(program: ir)
    return interpreter.run(tokens)
}

/// Runs `model M { input x: [n] ... output EXPR }` on tokens and returns the outputs.
func evalModel(_ body: String, inputs: [[Double]], sourceLocation: SourceLocation = #_sourceLocation) -> [[Double]]? {
    guard let ir = compileOK("use logic\nmodel M {\n\(body)\n}\n", sourceLocation: sourceLocation) else { return nil }
    return interpret(ir, inputs)
}

func close(_ a: [[Double]], _ b: [[Double]], tolerance: Double) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) {
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where !(abs(p - q) <= tolerance * max(1, abs(q))) { return false }
    }
    return true
}
