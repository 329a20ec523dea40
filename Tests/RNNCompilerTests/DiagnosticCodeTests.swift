import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// One program per diagnostic code, with the location where the error must point.
struct DiagnosticCase: CustomTestStringConvertible, Sendable {
    let code: DiagnosticCode
    let source: String
    let line: Int?
    let column: Int?
    var weights: String? = nil
    var settings: [String: String] = [:]
    var testDescription: String { code.rawValue }
}

func model(_ body: String) -> String { "model M {\n  input x: [3]\n\(body)\n}\n" }

let diagnosticCases: [DiagnosticCase] = [
    DiagnosticCase(code: .unexpectedCharacter, source: model("  output x $"), line: 3, column: 12),
    DiagnosticCase(code: .unterminatedString, source: "use \"logic\nmodel M {}", line: 1, column: 5),
    DiagnosticCase(code: .invalidNumber, source: model("  output x * 12abc"), line: 3, column: 14),
    DiagnosticCase(code: .expectedToken, source: "model M {\n  input x [1]\n}", line: 2, column: 11),
    DiagnosticCase(code: .expectedExpression, source: model("  output x + )"), line: 3, column: 14),
    DiagnosticCase(code: .expectedDeclaration, source: "x = 1\n", line: 1, column: 1),
    DiagnosticCase(code: .expectedStatement, source: model("  + x"), line: 3, column: 3),
    DiagnosticCase(code: .nestingTooDeep, source: model("  output " + String(repeating: "(", count: 300) + "x" + String(repeating: ")", count: 300)), line: 3, column: nil),
    DiagnosticCase(code: .statementNotAllowed, source: "fn f(x) {\n  input y: [1]\n  return x\n}\n", line: 2, column: 3),
    DiagnosticCase(code: .undefinedName, source: model("  output y"), line: 3, column: 10),
    DiagnosticCase(code: .undefinedFunction, source: model("  output foo(x)"), line: 3, column: 10),
    DiagnosticCase(code: .redefinition, source: model("  a = x\n  a = x\n  output a"), line: 4, column: 3),
    DiagnosticCase(code: .importNotFound, source: "use no_such_module\n" + model("  output x"), line: 1, column: 1),
    DiagnosticCase(code: .badArguments, source: model("  output relu(x, x)"), line: 3, column: 10),
    DiagnosticCase(code: .recursiveCall, source: "fn f(v) = f(v)\n" + model("  output f(x)"), line: 1, column: 11),
    DiagnosticCase(code: .modelSelection, source: "fn f(v) = v\n", line: 1, column: 1),
    DiagnosticCase(code: .badSetting, source: "model M(n = 1) {\n  input x: [n]\n  output x\n}", line: 1, column: 7, settings: ["m": "2"]),
    DiagnosticCase(code: .missingReturn, source: "fn f(v) {\n  y = v\n}\n", line: 3, column: 1),
    DiagnosticCase(code: .unusedBinding, source: "model M {\n  input x: [1]\n  y = 2 * x\n  output x\n}\n", line: 3, column: 3),
    DiagnosticCase(code: .unusedInput, source: "model M {\n  input x: [1]\n  input u: [2]\n  output x\n}\n", line: 3, column: 9),
    DiagnosticCase(code: .unusedFunction, source: "fn twice(v) = 2 * v\nmodel M {\n  input x: [1]\n  output x\n}\n", line: 1, column: 4),
    DiagnosticCase(code: .unusedParam, source: "model M {\n  input x: [1]\n  param W: [2] = 1\n  output x\n}\n", line: 3, column: 9),
    DiagnosticCase(code: .stateNeverRead, source: "model M {\n  input x: [1]\n  state s: [1] = 0\n  s <- x\n  output s\n}\n", line: 3, column: 9),
    DiagnosticCase(code: .valueCount, source: "fn two(x) {\n  return x, x\n}\nmodel M {\n  input x: [1]\n  output two(x)\n}\n", line: 6, column: 10),
    DiagnosticCase(code: .shapeMismatch, source: model("  output x + [1, 2]"), line: 3, column: 10),
    DiagnosticCase(code: .matmulMismatch, source: model("  output eye(2) @ x"), line: 3, column: 10),
    DiagnosticCase(code: .notConstant, source: model("  state s: [3] = x\n  s <- s\n  output s"), line: 3, column: 18),
    DiagnosticCase(code: .notInteger, source: "model M {\n  input x: [1.5]\n  output x\n}", line: 2, column: 13),
    DiagnosticCase(code: .indexOutOfRange, source: model("  output x[5]"), line: 3, column: 12),
    DiagnosticCase(code: .unsupportedRuntimeOp, source: model("  output x ^ 2"), line: 3, column: 10),
    DiagnosticCase(code: .annotationMismatch, source: "fn f(v: [2]) = v\n" + model("  output f(x)"), line: 1, column: 10),
    DiagnosticCase(code: .invalidValue, source: "model M {\n  input x: [0]\n  output x\n}", line: 2, column: 13),
    DiagnosticCase(code: .raggedLiteral, source: model("  m = [[1, 2], [3]]\n  output x"), line: 3, column: 16),
    DiagnosticCase(code: .wrongKind, source: model("  output x * \"fast\""), line: 3, column: 14),
    DiagnosticCase(code: .compileError, source: model("  output compile_error(\"no\")"), line: 3, column: 10),
    DiagnosticCase(code: .stateUpdatedTwice, source: model("  state s: [3] = 0\n  s <- x\n  s <- x\n  output s"), line: 5, column: 3),
    DiagnosticCase(code: .stateNeverUpdated, source: model("  state s: [3] = 0\n  output s"), line: 3, column: 9),
    DiagnosticCase(code: .updateOfNonState, source: model("  y = x\n  y <- x\n  output y"), line: 4, column: 3),
    DiagnosticCase(code: .stateInitMismatch, source: model("  state s: [2] = [1, 2, 3]\n  s <- s\n  output s"), line: 3, column: 18),
    DiagnosticCase(code: .paramUnbound, source: model("  param W: [2, 3]\n  output W @ x"), line: 3, column: 9),
    DiagnosticCase(code: .weightShapeMismatch, source: model("  param W: [3, 2], b: [2]\n  output W @ x"), line: 3, column: 12, weights: "affine.safetensors"),
    DiagnosticCase(code: .weightDtype, source: model("  param W: [2, 3], b: [2]\n  output W @ x + b"), line: 3, column: 9, weights: "int_weights.safetensors"),
    DiagnosticCase(code: .extraWeight, source: model("  param W: [2, 3]\n  output W @ x"), line: nil, column: nil, weights: "affine.safetensors"),
    DiagnosticCase(code: .weightsFile, source: model("  output x"), line: nil, column: nil, weights: "seq_f4.npy"),
    DiagnosticCase(code: .paramInitMismatch, source: model("  param W: [2, 2] = [1, 2, 3]\n  output x"), line: 3, column: 21),
    DiagnosticCase(code: .nonFiniteWeights, source: model("  param W: [3]\n  output W * x"), line: 3, column: 9, weights: "nonfinite.safetensors"),
    DiagnosticCase(code: .tooLarge, source: model("  param W: [100000000, 100000000] = 0\n  output x"), line: 3, column: 13),
    DiagnosticCase(code: .modelStructure, source: "model M {\n  input x: [1]\n}", line: 1, column: 7),
]

@Suite struct DiagnosticCodeTests {
    @Test(arguments: diagnosticCases)
    func codeIsReportedAtItsLocation(_ c: DiagnosticCase) throws {
        var options = ElaborationOptions(settings: c.settings.map { ($0.key, $0.value) })
        var compiler = Compiler(stdlibPath: stdlibPath, options: options)
        if let w = c.weights {
            _ = try compiler.loadWeights(path: fixtures + "/" + w)
            options = compiler.options
        }
        let ir = compiler.diagnostics.hasErrors ? nil : compiler.compileToIR(SourceFile(path: "case.rnn", text: c.source))
        #expect((ir != nil) == c.code.isWarning, "an error stops compilation; a warning does not")
        let found = compiler.diagnostics.diagnostics.first { $0.code == c.code }
        let all = compiler.diagnostics.render()
        let d = try #require(found, "expected \(c.code.rawValue), got:\n\(all)")
        if let line = c.line {
            #expect(d.range?.line == line, "\(d)")
            if let column = c.column { #expect(d.range?.column == column, "\(d)") }
            // The rendered form names file:line:col and draws a caret.
            #expect(d.description.hasPrefix("case.rnn:\(line):"))
            #expect(d.description.contains("^"))
        } else {
            #expect(d.range == nil)
        }
    }

    @Test func everyCodeHasACase() {
        let covered = Set(diagnosticCases.map(\.code)).union([.importCycle, .noLayerChain])
        for code in DiagnosticCode.allCases {
            #expect(covered.contains(code), "no test case for \(code.rawValue)")
        }
    }

    @Test func everyCodeIsDocumented() throws {
        let doc = try String(contentsOfFile: repoRoot + "/docs/diagnostics.md", encoding: .utf8)
        for code in DiagnosticCode.allCases {
            #expect(doc.contains("## \(code.rawValue)"), "docs/diagnostics.md lacks \(code.rawValue)")
        }
    }

    @Test func codesAreUnique() {
        #expect(Set(DiagnosticCode.allCases.map(\.rawValue)).count == DiagnosticCode.allCases.count)
    }

    /// E0603 comes from the layer-chain target, after compilation: at the state it cannot hold.
    @Test func noLayerChainIsReportedAtTheState() throws {
        let compiler = Compiler(stdlibPath: stdlibPath)
        let source = SourceFile(path: "case.rnn", text: model("  state h: [3] = 0\n  h <- relu(h) * x\n  output h"))
        let compiled = try #require(try compiler.compile(source))
        #expect(compiler.layerChain(of: compiled) == nil)
        let d = try #require(compiler.diagnostics.diagnostics.first { $0.code == .noLayerChain })
        #expect(d.range?.line == 3 && d.range?.column == 9, "\(d)")
        #expect(d.message.contains("state h is nonlinear"), "\(d)")
    }

    @Test func importCycleIsReportedAtTheUseLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-cycle-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "use b\nfn fa(v) = v\n".write(toFile: dir + "/a.rnn", atomically: true, encoding: .utf8)
        try "\nuse a\nfn fb(v) = v\n".write(toFile: dir + "/b.rnn", atomically: true, encoding: .utf8)
        let r = compile("use a\nmodel M {\n  input x: [1]\n  output fa(x)\n}\n", path: dir + "/main.rnn")
        let d = try #require(r.errors.first { $0.code == .importCycle })
        #expect(d.range?.file.path == dir + "/b.rnn")
        #expect(d.range?.line == 2)
        #expect(d.message.contains("a.rnn -> b.rnn -> a.rnn"))
    }

    /// On a terminal the severity, location, message and caret are coloured; without the
    /// escapes the text is exactly the plain rendering.
    @Test func colouredRenderingIsThePlainTextWithEscapes() throws {
        let d = try #require(compile(model("  output y")).errors.first)
        let coloured = d.render(color: true)
        #expect(coloured.contains("\u{1B}[1;31merror[E0201]\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[1;31m^\u{1B}[0m"))
        let plain = coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        #expect(plain == d.render(color: false))
        #expect(!d.render(color: false).contains("\u{1B}"))
    }
}
