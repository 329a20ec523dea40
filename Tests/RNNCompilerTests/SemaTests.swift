import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

@Suite struct SemaTests {
    @Test func stateBeforeAndAfterItsUpdate() {
        // Before the update line the name is s_{t-1}; after it, s_t.
        let out = evalModel("  input x: [1]\n  state s: [1] = 10\n  before = s\n  s <- s + x\n  output [before, s]", inputs: [[1], [2]])
        #expect(out == [[10, 11], [11, 13]])
    }

    @Test func perCallSiteStates() throws {
        let src = "fn counter(x) {\n  state c: [1] = 0\n  c <- c + x\n  return c\n}\nmodel M {\n  input x: [1]\n  output [counter(x), counter(2 * x)]\n}"
        let ir = try #require(compileOK(src))
        #expect(ir.states.map(\.name) == ["counter#1.c", "counter#2.c"])
        #expect(interpret(ir, [[1], [1]]) == [[1, 2], [2, 4]])
    }

    @Test func nestedCallStatesAreQualified() throws {
        let src = "fn acc(x) {\n  state a: [1] = 0\n  a <- a + x\n  return a\n}\nfn twice(x) = acc(acc(x))\nmodel M {\n  input x: [1]\n  output twice(x)\n}"
        let ir = try #require(compileOK(src))
        #expect(ir.states.map(\.name) == ["twice#1.acc#1.a", "twice#1.acc#2.a"])
        #expect(interpret(ir, [[1], [1], [1]]) == [[1], [3], [6]])
    }

    @Test func comprehensionsBuildVectorsAndMatrices() {
        let out2 = evalModel("  input x: [3]\n  P = [for i in 0..<3: [for j in 0..<3: eye(3)[2 - i, j]]]\n  output [P @ x, [for i in 0..<3: x[i] * (i + 1)]]", inputs: [[1, 2, 3]])
        #expect(out2 == [[3, 2, 1, 1, 4, 9]])
    }

    @Test func constantsMatricesAndBuiltins() {
        let out = evalModel("""
              input x: [2]
              R = rotation(pi / 2)
              A = hstack(eye(2), 2 * eye(2))
              B = vstack([1, 2], [3, 4])
              output [round(R @ [1, 0]), sum(A @ [1, 1, 1, 1]), transpose(B) @ x, size(A, 1), diag([1, 2]) @ x]
            """, inputs: [[1, 1]])
        #expect(out == [[0, 1, 6, 4, 6, 4, 1, 2]])
    }

    @Test func broadcastingRules() {
        let out = evalModel("  input x: [1]\n  v = [1, 2, 3]\n  output [x + v, x * v, v - x, x * [2], 3 + x]", inputs: [[10]])
        #expect(out == [[11, 12, 13, 10, 20, 30, -9, -8, -7, 20, 13]])
    }

    @Test func runtimeMinMaxAbsAndSlices() {
        let out = evalModel("  input x: [4]\n  output [max(x[0:2], x[2:4]), min(x[0:2], x[2:]), abs(x), sum(x)]", inputs: [[1, -5, 3, -2]])
        #expect(out == [[3, -2, 1, -5, 1, 5, 3, 2, -3]])
    }

    @Test func annotationsInferDimensions() throws {
        let src = "fn proj(x: [n], W: [3 * d, n]) = [W[0:d] @ x, d, n]\nmodel M {\n  input x: [2]\n  output proj(x, ones(6, 2))\n}"
        let ir = try #require(compileOK(src))
        #expect(interpret(ir, [[1, 2]]) == [[3, 3, 2, 2]])
    }

    @Test func defaultsAndNamedArguments() {
        let src = "  input x: [1]\n  output [step(x - 0.0005), step(x - 0.0005, scale: 10000), larger(x, 0, 1)]"
        let out = evalModel(src, inputs: [[0.001]])
        #expect(close(out ?? [], [[0.5, 1, 0.001]], tolerance: 1e-9))
    }

    @Test func modelParametersAndSettings() throws {
        let src = "model M(n = 2, scale = 3) {\n  input x: [n]\n  output scale * x\n}"
        let ir = try #require(compileOK(src, options: ElaborationOptions(settings: [("n", "3"), ("scale", "pi / pi * 5")])))
        #expect(ir.inputWidth == 3)
        #expect(interpret(ir, [[1, 2, 3]]) == [[5, 10, 15]])
    }

    @Test func multipleModelsNeedASelection() {
        let src = "model A {\n  input x: [1]\n  output x\n}\nmodel B {\n  input x: [1]\n  output 2 * x\n}"
        #expect(compile(src).errors.first?.code == .modelSelection)
        let ir = compile(src, options: ElaborationOptions(modelName: "B")).ir
        #expect(ir.map { interpret($0, [[2]]) } == [[4]])
    }

    @Test func importsResolveRelativeThenStdlib() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-imports-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/lib", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "use logic\nfn double_not(x) = not(not(x)) * 2\n".write(toFile: dir + "/lib/helpers.rnn", atomically: true, encoding: .utf8)
        try "fn quoted(x) = x + 1\n".write(toFile: dir + "/q.rnn", atomically: true, encoding: .utf8)
        let r = compile("use lib.helpers\nuse \"q.rnn\"\nuse logic\nmodel M {\n  input x: [1]\n  output [double_not(x), quoted(x)]\n}\n", path: dir + "/main.rnn")
        let ir = try #require(r.ir, "\(r.diagnostics)")
        #expect(interpret(ir, [[1]]) == [[2, 2]])
    }

    @Test func duplicateFunctionAcrossFilesIsAnError() {
        let r = compile("fn not(x) = x\nuse logic\nmodel M {\n  input x: [1]\n  output not(x)\n}")
        #expect(r.errors.first?.code == .redefinition)
        #expect(r.errors.first?.notes.isEmpty == false)
    }

    @Test func builtinNamesCannotBeRedefined() {
        #expect(compile("fn relu(x) = x\nmodel M {\n  input x: [1]\n  output x\n}").errors.first?.code == .redefinition)
    }

    @Test func localNamesMayShadowPiAndE() {
        #expect(evalModel("  input x: [1]\n  e = 2\n  output x * e + pi * 0", inputs: [[3]]) == [[6]])
    }

    @Test func errorsAreCollectedNotStopped() {
        let r = compile("model M {\n  input x: [2]\n  a = x + [1, 2, 3]\n  b = nope\n  c = x ^ 2\n  output x\n}")
        #expect(r.errors.map(\.code) == [.shapeMismatch, .undefinedName, .unsupportedRuntimeOp])
    }

    @Test func weightsBindFromSafetensors() throws {
        let weights = try SafeTensors.read(path: fixtures + "/affine.safetensors")
        let src = "model M {\n  input x: [3]\n  param W: [2, 3], b: [2]\n  output W @ x + b\n}"
        let ir = try #require(compileOK(src, options: ElaborationOptions(weights: weights)))
        #expect(interpret(ir, [[1, 1, 1]]) == [[6.5, 14.5]])
        #expect(ir.params.map(\.origin) == [.weightsFile(""), .weightsFile("")])
        #expect(ir.params.map(\.dtype) == [.f32, .f64])  // as the fixture stores them
    }

    @Test func missingWeightIsNamed() throws {
        let weights = try SafeTensors.read(path: fixtures + "/affine.safetensors")
        let r = compile("model M {\n  input x: [3]\n  param W: [2, 3], b: [2], c: [2]\n  output W @ x + b + c\n}", options: ElaborationOptions(weights: weights))
        #expect(r.errors.first?.code == .paramUnbound)
        #expect(r.errors.first?.message.contains("'c'") == true)
    }

    @Test func initializersTakeTheDeclaredShape() throws {
        let ir = try #require(compileOK("model M {\n  input x: [2]\n  param A: [2, 2] = eye(), B: [2, 2] = normal(seed: 3, std: 0.1), c: [2] = 0.5\n  output A @ x + c + 0 * (B @ x)\n}"))
        #expect(interpret(ir, [[1, 2]]) == [[1.5, 2.5]])
    }

    @Test func randomInitializersAreSeeded() throws {
        let a = compileOK("model M {\n  input x: [3]\n  param W: [2, 3] = normal(seed: 1)\n  output W @ x\n}")
        let b = compileOK("model M {\n  input x: [3]\n  param W: [2, 3] = normal(seed: 1)\n  output W @ x\n}")
        let c = compileOK("model M {\n  input x: [3]\n  param W: [2, 3] = normal(seed: 2)\n  output W @ x\n}")
        let (ia, ib, ic) = (try #require(a), try #require(b), try #require(c))
        #expect(interpret(ia, [[1, 0, 0]]) == interpret(ib, [[1, 0, 0]]))
        #expect(interpret(ia, [[1, 0, 0]]) != interpret(ic, [[1, 0, 0]]))
    }

    @Test func hugeSizesAreLimitErrors() {
        for body in ["  m = eye(100000000)\n  output x", "  m = [for i in 0..<100000000: i]\n  output x", "  state s: [100000000000] = 0\n  s <- s\n  output x"] {
            let r = compile("model M {\n  input x: [1]\n\(body)\n}")
            #expect(r.errors.first?.code == .tooLarge, "\(body): \(r.errors)")
        }
    }

    @Test func sparseWeightsAreChosenByDensity() throws {
        let ir = try #require(compileOK("model M {\n  input x: [50]\n  output [eye(50) @ x, ones(2, 50) @ x]\n}"))
        let kinds = ir.nodes.compactMap { n -> Bool? in
            if case .affine(let w, _, _) = n.op, w.cols == 50 { return w.isSparse }
            return nil
        }
        #expect(kinds == [true, false])
    }
}

@Suite struct HostileInputTests {
    /// Deep expressions inside deeply nested inlined calls do not overflow the stack.
    @Test func deepInliningOfDeepExpressions() throws {
        var lines = ["fn f0(x) = x"]
        for i in 1..<64 { lines.append("fn f\(i)(x) = " + String(repeating: "-", count: 190) + "f\(i - 1)(x)") }
        lines.append("model M {\n  input x: [1]\n  output f63(x)\n}")
        let ir = try #require(compileOK(lines.joined(separator: "\n")))
        #expect(interpret(ir, [[2]]) == [[2]])
    }

    @Test func inliningDeeperThanTheLimitIsAnError() {
        var lines = ["fn f0(x) = x"]
        for i in 1..<70 { lines.append("fn f\(i)(x) = f\(i - 1)(x)") }
        lines.append("model M {\n  input x: [1]\n  output f69(x)\n}")
        #expect(compile(lines.joined(separator: "\n")).errors.first?.code == .tooLarge)
    }
}

@Suite struct SuggestionTests {
    func message(_ source: String) -> String {
        let compiler = Compiler(stdlibPath: stdlibPath)
        _ = compiler.compileToIR(SourceFile(path: "m.rnn", text: source))
        return compiler.diagnostics.render()
    }

    @Test func unknownNamesGetTheClosestKnownOne() {
        #expect(message("use logic\nmodel M {\n  input x: [1]\n  state ones: [1] = 0\n  ones <- ones + x\n  output lager(ones, x)\n}\n")
            .contains("no function named 'lager'; did you mean 'larger'?"))
        #expect(message("model M {\n  input x: [1]\n  state ones: [1] = 0\n  ones <- ones + x\n  output onse\n}\n")
            .contains("'onse' is not defined; did you mean 'ones'?"))
        #expect(!message("model M {\n  input x: [1]\n  output zzzzzz\n}\n").contains("did you mean"), "nothing close, no guess")
    }

    @Test func stdlibFunctionsNotImportedNameTheirModule() {
        #expect(message("model M {\n  input x: [1]\n  output gru(x, eye(3, 1), eye(3), zeros(3), zeros(3))\n}\n")
            .contains("the standard library's module cells.gru defines it: add 'use cells.gru'"))
    }

    @Test func editDistance() {
        #expect(Suggestions.editDistance("chek", "check") == 1)
        #expect(Suggestions.editDistance("", "abc") == 3)
        #expect(Suggestions.editDistance("kitten", "sitting") == 3)
        #expect(Suggestions.closest(to: "exprot", among: ["export", "run", "check"]) == "export")
    }
}

@Suite struct RelatedLocationTests {
    /// E0401 points at the first update with a note.
    @Test func aSecondUpdateNotesTheFirst() throws {
        let compiler = Compiler(stdlibPath: nil)
        _ = compiler.compileToIR(SourceFile(path: "m.rnn", text: "model M {\n  input x: [1]\n  state h: [1] = 0\n  h <- x\n  h <- h + x\n  output h\n}\n"))
        let d = try #require(compiler.diagnostics.diagnostics.first { $0.code == .stateUpdatedTwice })
        #expect(d.notes.count == 1 && d.notes[0].message == "the first update is here")
        #expect(d.notes.first.map { $0.range.file.lineColumn(of: $0.range.start).0 } == 4)
    }
}
