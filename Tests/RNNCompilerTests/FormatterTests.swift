import Foundation
import Testing
@testable import RNNCompiler

/// Formats `text` (when it parses) and checks: the output parses to the same tree, formatting
/// it again changes nothing, and every comment survives.
func checkFormatRoundTrip(_ text: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let (ast, d) = FormatterTests.parse(text)
    guard !d.hasErrors else { return }
    let once = Formatter.format(ast)
    let (again, d2) = FormatterTests.parse(once)
    #expect(!d2.hasErrors, "\(label): formatted text does not parse:\n\(once)\n\(d2.render())", sourceLocation: sourceLocation)
    #expect(Dump.ast(again) == Dump.ast(ast), "\(label): the tree changed:\n\(once)", sourceLocation: sourceLocation)
    #expect(Formatter.format(again) == once, "\(label): not idempotent:\n\(once)", sourceLocation: sourceLocation)
    // Every comment survives.
    #expect(again.comments.count == ast.comments.count, "\(label): comments lost", sourceLocation: sourceLocation)
}

/// `rnnc fmt`: the output parses to the same tree, and formatting it again changes nothing.
@Suite struct FormatterTests {
    static func parse(_ text: String, path: String = "f.rnn") -> (SourceFileAST, DiagnosticEngine) {
        let d = DiagnosticEngine()
        return (Parser.parse(SourceFile(path: path, text: text), diagnostics: d), d)
    }

    @Test func everyProjectFileRoundTrips() throws {
        let dirs = ["examples", "examples/lm", "examples/lsrl", "stdlib", "stdlib/cells", "Tests/Fixtures/cells", "bench/workloads"]
        var count = 0
        for dir in dirs {
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(repoRoot)/\(dir)") where name.hasSuffix(".rnn") {
                checkFormatRoundTrip(try String(contentsOfFile: "\(repoRoot)/\(dir)/\(name)", encoding: .utf8), "\(dir)/\(name)")
                count += 1
            }
        }
        #expect(count >= 25)
    }

    @Test func randomProgramsRoundTrip() {
        for k in 0..<300 {
            var gen = RandomProgramGenerator(seed: 4242 + UInt64(k))
            checkFormatRoundTrip(gen.model().source, "random seed \(4242 + k)")
        }
    }

    @Test func canonicalLayout() {
        let text = """
            use logic   # sugar
            use "lib/x.rnn"
            fn f(x,y:[n],s=2)=x*(y+s)   # trailing
            # before the model

            model   M(n=3){input x:[n]
              a=-(x^2)+ (x-1)*2 ; b = [for i in 0..<n: x[i] ^ 2]


              # why
              output [a,b,W[0:2, :]]
            }
            """
        let (ast, _) = Self.parse(text)
        #expect(Formatter.format(ast) == """
            use logic  # sugar
            use "lib/x.rnn"

            fn f(x, y: [n], s = 2) = x * (y + s)  # trailing

            # before the model

            model M(n = 3) {
              input x: [n]
              a = -x ^ 2 + (x - 1) * 2
              b = [for i in 0..<n: x[i] ^ 2]

              # why
              output [a, b, W[0:2, :]]
            }

            """)
    }

    @Test func parenthesesAreKeptWhereTheTreeNeedsThem() {
        for text in ["a - (b - c)", "(a - b) - c", "a / (b * c)", "(a ^ b) ^ c", "a ^ b ^ c", "(-a) ^ 2", "-(a + b)", "(a + b)[0]", "-(-a)", "2 * -a", "a @ (b @ c)"] {
            checkFormatRoundTrip("model M {\n  input a: [1]\n  output \(text)\n}\n", text)
        }
    }

    @Test func longLinesBreakAtTheLoosestOperatorsAndAfterCommas() throws {
        let long = (0..<12).map { "relu(weights_\($0) @ x)" }.joined(separator: " + ")
        let text = "model M {\n  input x: [2]\n  y = \(long)\n  output f(y, y * 2, [y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y])\n}\n"
        let (ast, _) = Self.parse(text)
        let once = Formatter.format(ast)
        #expect(once.split(separator: "\n").allSatisfy { $0.count <= Formatter.defaultWidth }, "\(once)")
        #expect(once.contains("\n      + relu(weights_"), "continuation lines start with their operator, four deeper:\n\(once)")
        checkFormatRoundTrip(text, "long lines")
        // A piece longer than the width on its own (the list) stays whole; the rest fits.
        let narrow = Formatter.format(ast, width: 40)
        #expect(narrow.split(separator: "\n").allSatisfy { $0.count <= 40 || $0.contains("[y, y") }, "\(narrow)")
        #expect(Dump.ast(Self.parse(narrow).0) == Dump.ast(ast))
    }

    @Test func alignedTrailingCommentsStayAligned() {
        let text = """
            model M {
              input x: [2]       # the input
              h = relu(x)        # a gate
              output h * 2       # scaled
              output x  # alone
            }

            """
        let (ast, _) = Self.parse(text)
        let once = Formatter.format(ast)
        #expect(once == text.replacingOccurrences(of: "x  # alone", with: "x  # alone"), "\(once)")
        let lone = Formatter.format(Self.parse("model M {\n  input x: [2]     # lone\n  output x\n}\n").0)
        #expect(lone == "model M {\n  input x: [2]  # lone\n  output x\n}\n")
    }

    /// Every .rnn file of the repository is in the canonical layout (as `.ci/run` checks
    /// with `rnnc fmt --check`).
    @Test func repositoryFilesAreFormatted() throws {
        var checked = 0
        for folder in ["stdlib", "examples", "bench/workloads", "specs"] {
            let root = repoRoot + "/" + folder
            for item in FileManager.default.enumerator(atPath: root)?.compactMap({ $0 as? String }) ?? [] where item.hasSuffix(".rnn") {
                let source = try Compiler.readSource(path: root + "/" + item)
                let ast = Parser.parse(source, diagnostics: DiagnosticEngine())
                #expect(Formatter.format(ast) == String(decoding: source.bytes, as: UTF8.self), "\(folder)/\(item) is not formatted: run rnnc fmt --in-place \(folder)")
                checked += 1
            }
        }
        #expect(checked > 30)
    }
}
