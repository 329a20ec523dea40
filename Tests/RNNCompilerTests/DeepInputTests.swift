import Testing
import Foundation
import RNNRuntime
@testable import RNNCompiler

/// Walks over user-sized structures are loops, not recursion (issue #14, class 1): each
/// input here crashed a recursive walk on an ordinary thread's stack.
@Suite struct DeepInputTests {
    /// 300,000 characters that start no token, in one run (one diagnostic) and apart (one
    /// each, up to the limit): the lexer reaches the end either way.
    @Test func longRunsOfBadCharactersLex() {
        for (text, errors) in [(String(repeating: "$", count: 300_000), 1), (String(repeating: "$ ", count: 300_000), 300_000)] {
            let diagnostics = DiagnosticEngine()
            var lexer = Lexer(file: SourceFile(path: "bad.rnn", text: text + " x"), diagnostics: diagnostics)
            #expect(lexer.next().kind == .identifier("x"))
            #expect(lexer.next().kind == .eof)
            #expect(diagnostics.errorCount == errors)
        }
    }

    /// 200,000 states, each reading the next: the strongly connected components come out in
    /// dependency order, one state each, and a cycle closing the chain makes one group.
    @Test func longStateChainsAreGrouped() {
        let n = 200_000
        let nodes = (0..<n).map { IRNode(op: .stateRead($0), size: 1, range: nil) }
        let states = (0..<n).map { IRState(name: "s\($0)", size: 1, initial: [0], next: ValueID(index: $0), range: nil) }
        let program = IRProgram(modelName: "Chain", inputs: [], states: states, params: [], nodes: nodes, outputs: [])
        var reads = (0..<n).map { i in i + 1 < n ? Set([i + 1]) : Set<Int>() }
        let chain = RecurrenceAnalysis.coupledGroups(program, reads: reads)
        #expect(chain.count == n)
        #expect(chain.first == [n - 1] && chain.last == [0], "each state after the ones it reads")
        reads[n - 1] = [0]
        #expect(RecurrenceAnalysis.coupledGroups(program, reads: reads).map(\.count) == [n])
    }

    /// Chains nest without parentheses: at the limit every walk (format, dump, compile)
    /// finishes; past it, and far past it, the parser reports E0108 instead of recursing.
    @Test func longChainsAreBoundedByTheParser() throws {
        let terms = CompilerLimits.maxExpressionDepth / 2
        let atLimit = "model M {\n  input x: [1]\n  output " + Array(repeating: "x", count: terms).joined(separator: " + ") + "\n}\n"
        let diagnostics = DiagnosticEngine()
        let ast = Parser.parse(SourceFile(path: "chain.rnn", text: atLimit), diagnostics: diagnostics)
        #expect(!diagnostics.hasErrors)
        #expect(Formatter.format(ast).count > terms)
        #expect(!Dump.ast(ast).isEmpty)
        #expect(compileOK(atLimit) != nil)
        let tooLong = [
            Array(repeating: "x", count: 200_000).joined(separator: " + "),
            "x" + String(repeating: "[0]", count: 100_000),
            Array(repeating: "x", count: 100_000).joined(separator: " * ") + String(repeating: "[0]", count: 3),
        ]
        for body in tooLong {
            let errors = compile("model M {\n  input x: [1]\n  output \(body)\n}\n").errors
            #expect(errors.map(\.code) == [.nestingTooDeep])
        }
    }
}

/// Every phase checks its budget before the allocation or the loop (issue #14, class 2).
@Suite struct BudgetTests {
    @Test func eyeCountsItsSquare() {
        let errors = compile("model M {\n  input x: [1]\n  output x + sum(eye(100000))[0:1]\n}\n").errors
        #expect(errors.map(\.code) == [.tooLarge], "\(errors)")
    }

    /// A wide non-diagonal affine state is not copied dense to be diagonalized.
    @Test func wideAffineStatesKeepTheMatrixRecurrence() throws {
        let n = 3_000
        let source = "model M {\n  input x: [\(n)]\n  state s: [\(n)] = 0\n  s <- 0.5 * [s[1:\(n)], s[0:1]] + x\n  output s\n}\n"
        let model = try #require(try compileModel(source)).model
        let kinds = model.plan.stages.compactMap { stage -> ScanPlan.Recurrence.Kind? in
            if case .recurrence(let r) = stage { return r.kind } else { return nil }
        }
        #expect(kinds == [.affine])
        let ir = try #require(compileOK(source))
        let group = try #require(RecurrenceAnalysis.analyze(ir).first)
        #expect(ScanLowering.modalForm(group, width: n).failure == .tooWide(n))
    }

    /// Fusing `B @ (A @ x)` would cost 4096³ multiply-adds: the maps stay apart.
    @Test func costlyFusionsAreSkipped() throws {
        let n = 1_024
        let source = "model M {\n  input x: [\(n)]\n  param A: [\(n), \(n)] = normal(\(n), \(n), seed: 1), B: [\(n), \(n)] = normal(\(n), \(n), seed: 2)\n  output B @ (A @ x)\n}\n"
        let ir = try Optimizer.optimize(try #require(compileOK(source)))
        #expect(ir.nodes.filter { if case .affine = $0.op { true } else { false } }.count == 2)
    }
}

extension Result {
    var failure: Failure? { if case .failure(let f) = self { f } else { nil } }
}

extension BudgetTests {
    /// The scan program keeps a row per token of every value: past the memory limit `auto`
    /// runs step by step (same outputs) and `scan` refuses with a message.
    @Test func scanMemoryStaysWithinItsLimit() throws {
        let source = "model M {\n  input x: [64]\n  state s: [64] = 0\n  s <- tanh(s * 0.5 + x)\n  output s\n}\n"
        let model = try #require(try compileModel(source)).model
        let tokens = (0..<200).map { t in (0..<64).map { Double(($0 + t) % 7) / 7 } }
        let data = SequenceData(sequences: [tokens, tokens], width: 64, isBatch: true)
        let runner = try ScanRunner<Double>(program: model.program, plan: model.plan)
        let limit = runner.workspaceBytes(steps: 200, batch: 1) - 1
        let stepped = try runModel(model, on: data, mode: .step, float32: false)
        #expect(try runModel(model, on: data, mode: .auto, float32: false, scanMemoryLimit: limit).sequences == stepped.sequences)
        #expect(throws: RuntimeError.self) { try runModel(model, on: data, mode: .scan, float32: false, scanMemoryLimit: limit) }
        #expect(runner.workspaceBytes(steps: Int.max, batch: 2) == Int.max)
    }
}

extension DeepInputTests {
    /// A chain of 300 files, each importing the next: E0601 at the 256th, no recursion past it.
    @Test func longImportChainsAreBounded() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-chain-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<300 {
            try "use m\(i + 1)\nfn f\(i)(v) = v\n".write(toFile: dir + "/m\(i).rnn", atomically: true, encoding: .utf8)
        }
        try "fn f300(v) = v\n".write(toFile: dir + "/m300.rnn", atomically: true, encoding: .utf8)
        let r = compile("use m0\nmodel M {\n  input x: [1]\n  output f0(x)\n}\n", path: dir + "/main.rnn")
        #expect(r.errors.map(\.code) == [.tooLarge], "\(r.errors)")
        #expect(r.errors.first?.message.contains("256 files deep") == true)
    }
}
