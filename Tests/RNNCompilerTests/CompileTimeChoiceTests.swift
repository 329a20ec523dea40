import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// Compile-time if, comparisons, strings, functions as values and the call-site notes of
/// errors inside functions (docs/language.md, "Compile-time choices and functions as values").
@Suite struct CompileTimeChoiceTests {
    /// A model whose variants a string parameter and a number pick.
    static let variants = """
        use logic

        fn gate(c, x, mode) {
          if mode == "multiplicative" {
            y = c * x
          } else if mode == "direct" {
            y = ifelse(c, x, 0)
          } else {
            y = relu(x - 1e6 * (1 - c))
          }
          return y
        }

        fn apply_twice(f, x) = f(f(x))

        model Variants(mode = "direct", depth = 2) {
          input x: [2]
          c = larger(x[0], 0.5)
          h = if depth > 1 && !(depth == 5) { apply_twice(negate, x) } else { negate(x) }
          output [gate(c, x[1], mode), h]
        }

        fn negate(v) = -v
        """

    static func run(_ settings: [(String, String)], _ inputs: [[Double]]) -> [[Double]]? {
        let r = compile(variants, options: ElaborationOptions(settings: settings.map { (name: $0.0, value: $0.1) }))
        guard let ir = r.ir else {
            Issue.record("does not compile: \(r.diagnostics.map(\.description).joined(separator: "\n"))")
            return nil
        }
        return interpret(ir, inputs)
    }

    @Test func everyVariantGatesAlike() throws {
        let inputs: [[Double]] = [[1, 3], [0, 3], [1, 2.5]]
        for mode in ["multiplicative", "direct", "optimized", "\"direct\""] {
            let out = try #require(Self.run([("mode", mode)], inputs))
            #expect(out.map { $0[0] } == [3, 0, 2.5], "mode \(mode)")
        }
    }

    @Test func numberConditionsPickTheBranch() throws {
        // depth 2: negate twice; depth 1 or 5: once.
        #expect(try #require(Self.run([], [[1, 2]]))[0].suffix(2) == [1, 2])
        #expect(try #require(Self.run([("depth", "1")], [[1, 2]]))[0].suffix(2) == [-1, -2])
        #expect(try #require(Self.run([("depth", "5")], [[1, 2]]))[0].suffix(2) == [-1, -2])
    }

    @Test func onlyTheChosenBranchIsChecked() {
        let out = evalModel("""
              input x: [1]
              if 1 < 2 {
                y = 2 * x
              } else {
                y = no_such_function(x, [1, 2] @ [3])
              }
              state s: [1] = 0
              if 0 { s <- 1 } else { s <- s + y }
              output if "a" != "a" { undefined_name } else { s }
            """, inputs: [[1], [1]])
        #expect(out == [[2], [4]])
    }

    @Test func ifStatementsInForBlocksAndFunctions() {
        let out = evalModel("""
              input x: [1]
              h = x
              for i in 0..<4 {
                if i == 0 || i == 3 {
                  h = h + 10
                } else {
                  h = 2 * h
                }
              }
              output h
            """, inputs: [[1]])
        #expect(out == [[54]])  // ((1 + 10) * 4) + 10
    }

    @Test func functionsArePassedBoundAndReturned() throws {
        let source = """
            fn apply(f, v) = f(v)
            fn pick(k) = if k == 1 { double } else { relu }
            fn double(v) = 2 * v
            fn counter(v) {
              state n: [2] = 0
              n <- n + v
              return n
            }
            model M {
              input x: [2]
              f = relu
              g = pick(1)
              output [apply(f, x), apply(g, x), apply(counter, x)]
            }
            """
        let ir = try #require(compileOK(source))
        #expect(interpret(ir, [[1, -1], [1, -1]]) == [[1, 0, 2, -2, 1, -1], [1, 0, 2, -2, 2, -2]])
    }

    @Test func misusedValuesAreLocatedErrors() {
        let cases: [(String, DiagnosticCode, Int)] = [
            ("  output x * \"s\"", .wrongKind, 14),
            ("  output x + relu", .wrongKind, 14),
            ("  output if x { x } else { x }", .notConstant, 13),
            ("  output if 2 { x } else { x }", .wrongKind, 13),
            ("  output if \"a\" { x } else { x }", .wrongKind, 13),
            ("  c = \"a\" < \"b\"\n  output x", .wrongKind, 7),
            ("  c = x == 1\n  output x", .notConstant, 7),
            ("  c = [1, 2] == [1, 2, 3]\n  output x", .shapeMismatch, 7),
            ("  c = 1 < 2 < 3\n  output x", .expectedToken, 13),
            ("  c = if 1 { 2 }\n  output x", .expectedToken, 3),
            ("  c = 1 == 1\n  y = if c { x } else { x }\n  output x <-1", .expectedToken, 12),
        ]
        for (body, code, column) in cases {
            let r = compile(model(body))
            let first = r.errors.first
            #expect(first?.code == code, "\(body): \(r.diagnostics.map(\.description))")
            #expect(first?.range.map { $0.file.lineColumn(of: $0.start).column } == column, "\(body): \(r.diagnostics.map(\.description))")
        }
    }

    @Test func errorsInsideFunctionsNameTheirCalls() throws {
        // `ifelse` is the stdlib's: the error is in stdlib/logic.rnn; its notes lead back here.
        let source = "use logic\nfn choose(c, v) = ifelse(c, v, [1, 2, 3])\nmodel M {\n  input x: [2]\n  output choose(x[0], x)\n}\n"
        let r = compile(source)
        let error = try #require(r.errors.first)
        #expect(error.range?.file.path.hasSuffix("stdlib/logic.rnn") == true, "\(error)")
        let calls = error.notes.filter { $0.message.hasPrefix("in the call of") }
        #expect(calls.map(\.message) == ["in the call of 'ifelse'", "in the call of 'choose'"])
        #expect(calls.map { $0.range.file.lineColumn(of: $0.range.start).line } == [2, 5])
        #expect(calls.allSatisfy { $0.range.file.path == "/virtual/test.rnn" })
    }

    @Test func deepCallChainsKeepTheirNotesShort() throws {
        var source = "fn f0(v) = v @ [1]\n"
        for k in 1...20 { source += "fn f\(k)(v) = f\(k - 1)(v)\n" }
        source += model("  output f20(x)")
        let error = try #require(compile(source).errors.first)
        #expect(error.notes.count == Elaborator.maxCallNotes)
        #expect(error.notes.last?.message == "in the call of 'f20' (after 13 more calls)")
    }

    @Test func formattingKeepsTheTree() throws {
        let formatted = Formatter.format(Parser.parse(SourceFile(path: "v.rnn", text: Self.variants), diagnostics: DiagnosticEngine()))
        let again = Formatter.format(Parser.parse(SourceFile(path: "v.rnn", text: formatted), diagnostics: DiagnosticEngine()))
        #expect(formatted == again)
        #expect(formatted.contains("  } else if mode == \"direct\" {\n"))
        #expect(formatted.contains("h = if depth > 1 && !(depth == 5) { apply_twice(negate, x) } else { negate(x) }"))
    }
}

/// Functions nothing calls are elaborated with unknown arguments: errors that need no
/// argument are found, and nothing that depends on one is reported.
@Suite struct UncalledFunctionTests {
    @Test func argumentsInEveryPositionReportNothing() throws {
        let source = """
        use logic
        use cells.gru
        fn _generic(x, n, f, m: [a, b], scale = 1000) {
          state s: [n] = 0
          s <- s + x
          y = [for i in 0..<n: x[i] * i]
          z = if n > 2 { relu(x) } else { tanh(x) }
          for k in 0..<n {
            w = f(x) + m @ x
          }
          if a == b {
            q = step(x, scale)
          }
          h = gru(x, m, m, x, x)
          g = larger(x, [1, 2], scale)
          return s + y[0:2] + z + eye(n) @ x + x[n - 1] + normal(n, a, seed: 1) @ x
        }
        model M {
          input x: [2]
          output x
        }
        """
        let r = compile(source)
        #expect(r.diagnostics.isEmpty, "\(r.diagnostics.map(\.description))")
        let ir = try #require(r.ir)
        #expect(ir.states.isEmpty && ir.nodes.count == 1, "the unchecked body's nodes stay out of the program")
    }

    @Test func errorsThatNeedNoArgumentAreFound() {
        let r = compile("fn _f(v) {\n  c = [1, 2] + [1, 2, 3]\n  return v + c\n}\nfn _g(v) = v + ones(2, 3) @ [1, 2]\nmodel M {\n  input x: [1]\n  output x\n}\n")
        #expect(r.errors.map(\.code) == [.shapeMismatch, .matmulMismatch], "\(r.diagnostics.map(\.description))")
        #expect(r.errors.first?.notes.first?.0 == "in '_f', checked with unknown arguments (nothing calls it)")
    }
}
