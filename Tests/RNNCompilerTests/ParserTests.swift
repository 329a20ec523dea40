import RNNRuntime
import Testing
@testable import RNNCompiler

@Suite struct ParserTests {
    func parse(_ text: String) -> (SourceFileAST, DiagnosticEngine) {
        let d = DiagnosticEngine()
        return (Parser.parse(SourceFile(path: "p.rnn", text: text), diagnostics: d), d)
    }

    func dump(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let (ast, d) = parse(text)
        #expect(!d.hasErrors, "\(d.render())", sourceLocation: sourceLocation)
        return Dump.ast(ast)
    }

    func expr(_ text: String) -> String {
        let d = DiagnosticEngine()
        guard let e = Parser.parseExpression(SourceFile(path: "e", text: text), diagnostics: d) else { return "error: \(d.render())" }
        return Dump.expr(e)
    }

    @Test func useDeclarations() {
        #expect(dump("use logic\nuse cells.gru\nuse \"../lib/x.rnn\"") == "(use logic)\n(use cells/gru)\n(use \"../lib/x.rnn\")\n")
    }

    @Test func functionForms() {
        #expect(dump("fn f(x, W: [3*d, n], s = 2) = W @ x * s") == "(fn f (x, W: [(* 3 d), n], s = 2)\n  (return (* (@ W x) s)))\n")
        #expect(dump("fn g(x) {\n  state h: [2] = 0\n  h <- h + x\n  y = relu(h)\n  return y\n}") ==
                "(fn g (x)\n  (state h [2] 0)\n  (<- h (+ h x))\n  (= y (relu h))\n  (return y))\n")
    }

    @Test func modelForms() {
        let text = "model Enc(n = 16, d = 2 * 8) {\n  input x: [n]\n  param W: [d, n] = zeros(), b: [d]\n  output W @ x; output x\n}"
        #expect(dump(text) == "(model Enc (n = 16, d = (* 2 8))\n  (input x [n])\n  (param W [d, n] = (zeros), b [d])\n  (output (@ W x))\n  (output x))\n")
        #expect(dump("model M { input x: [1] output x }") == "(model M ()\n  (input x [1])\n  (output x))\n")
    }

    @Test func precedenceAndAssociativity() {
        #expect(expr("1 + 2 * 3") == "(+ 1 (* 2 3))")
        #expect(expr("1 - 2 - 3") == "(- (- 1 2) 3)")
        #expect(expr("a @ b * c") == "(* (@ a b) c)")
        #expect(expr("-x^2") == "(- (^ x 2))")
        #expect(expr("2^3^2") == "(^ 2 (^ 3 2))")
        #expect(expr("(1 + 2) * 3") == "(* (+ 1 2) 3)")
    }

    @Test func postfixListsAndComprehensions() {
        #expect(expr("x[0]") == "(index x 0)")
        #expect(expr("W[1:3, :]") == "(index W 1:3 :)")
        #expect(expr("x[:2][1]") == "(index (index x :2) 1)")
        #expect(expr("[1, 0, 2]") == "[1 0 2]")
        #expect(expr("[[1, 0], [0, 1]]") == "[[1 0] [0 1]]")
        #expect(expr("[]") == "[]")
        #expect(expr("[for i in 0..<n: x[i] * i]") == "(for i 0 n (* (index x i) i))")
        #expect(expr("normal(3, 2, seed: 1, std: 0.5)") == "(normal 3 2 seed: 1 std: 0.5)")
    }

    @Test func numbers() {
        #expect(expr("1e10") == "10000000000")
        #expect(expr("0.25") == "0.25")
        #expect(expr(".5") == "0.5")
        #expect(expr("1_000") == "1000")
        #expect(expr("2.5e-3") == "0.0025")
    }

    @Test func commentsAndNewlinesAreTrivia() {
        #expect(dump("# header\nmodel M { # c\n  input x: [1] # c\n  output x +\n    1\n}\n") == "(model M ()\n  (input x [1])\n  (output (+ x 1)))\n")
    }

    @Test func recoversAndReportsSeveralErrors() {
        let (ast, d) = parse("model M {\n  input x: [1]\n  a = (1 +\n  b = 2 2\n  output x +\n  c = x\n}\nfn f(\nmodel N { input y: [1] output y }\n")
        #expect(d.errorCount >= 3, "\(d.render())")
        // Declarations after the errors are still parsed.
        #expect(ast.declarations.contains { if case .model(let m) = $0 { return m.name.name == "N" } else { return false } })
        let lines = d.diagnostics.compactMap { $0.range?.line }
        #expect(Set(lines).count == lines.count, "one error per place: \(lines)")
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let (_, d) = parse("model M { input x: [1] output " + String(repeating: "-", count: 100_000) + "x }")
        #expect(d.diagnostics.contains { $0.code == .nestingTooDeep })
        let (_, d2) = parse("model M { input x: [1] output " + String(repeating: "[", count: 100_000) + " }")
        #expect(d2.diagnostics.contains { $0.code == .nestingTooDeep })
    }

    @Test func returnMustBeLast() {
        let (_, d) = parse("fn f(x) {\n  return x\n  y = x\n  return y\n}")
        #expect(d.diagnostics.first?.code == .statementNotAllowed)
        #expect(d.diagnostics.first?.range?.line == 2)
    }

    @Test func arbitraryBytesNeverCrash() {
        var rng = SplitMix64(seed: 7)
        let alphabet = Array("model fn use input output state param return for in x y W 0 1 2.5 e9 ( ) [ ] { } , : ; = <- ..< . + - * / @ ^ # \" \n \t é \u{0}".utf8)
        for _ in 0..<2000 {
            let n = Int(rng.next() % 80)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                bytes.append(rng.next() % 5 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            let d = DiagnosticEngine()
            _ = Parser.parse(SourceFile(path: "fuzz.rnn", bytes: bytes), diagnostics: d)
            for diag in d.diagnostics { _ = diag.description }
        }
    }
}
