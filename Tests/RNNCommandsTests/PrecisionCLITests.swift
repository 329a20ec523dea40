import Foundation
import Testing
@testable import RNNCommands

@Suite struct PrecisionCLITests {
    private func write(_ source: String) throws -> String {
        let path = tempPath("model.rnn")
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func checkPrecisionReportsBoundsSourcesAndAbsorptions() throws {
        // The first output as the optimizer used to fold it, the second as written.
        let path = try write("model M {\n  input c: [1] in {0, 1}\n  output relu(1e10 * c + (5.25 - 1e10))\n  output relu(1e10 * (c - 1) + 5.25)\n}\n")
        let r = rnnc(["check", "--precision", path] + stdlibArgs)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("inputs:  c: [1] in {0, 1}"), "\(r.stdout)")
        #expect(r.stdout.contains("bounds hold for every step; 2 input cases"), "\(r.stdout)")
        #expect(r.stdout.contains("exact values in [0, 5.25]"), "\(r.stdout)")
        #expect(r.stdout.contains("float32: imprecise: error <= "), "\(r.stdout)")
        #expect(r.stdout.contains("from affine map at model.rnn:3:15"), "\(r.stdout)")
        #expect(r.stdout.contains("    float64: exact\n  output 2 [1] at model.rnn:4:10: exact values in [0, 5.25]\n    float32: exact\n    float64: exact"), "\(r.stdout)")
        #expect(r.stdout.contains("float32: operands lost beside larger ones:\n    affine map at model.rnn:4:15: a term of magnitude 5.25 beside one of 1e+10 (numbers are 1024 apart there)"), "\(r.stdout)")
    }

    @Test func undeclaredInputsGiveUnboundedErrorsAndSayHowToDeclare() throws {
        let path = try write("model M {\n  input x: [2]\n  state s: [2] = 0\n  s <- s + x\n  output s\n}\n")
        let r = rnnc(["check", "--precision", "--steps", "5", path] + stdlibArgs)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("any value for x (declare it: input x: [n] in [lo, hi])"), "\(r.stdout)")
        #expect(r.stdout.contains("float32: imprecise: unbounded"), "\(r.stdout)")
        #expect(r.stdout.contains("(the scan program reorders linear recurrences: these bounds are for step mode)"), "\(r.stdout)")
        #expect(rnnc(["check", "--precision", "--steps", "0", path] + stdlibArgs).code != 0)
        let stray = rnnc(["check", "--steps", "5", path] + stdlibArgs)
        #expect(stray.code != 0 && stray.stderr.contains("--steps applies only with --precision"), "\(stray.stderr)")
        let counter = try write("model M {\n  input x: [1] in {0, 1}\n  state n: [1] = 0\n  n <- n + x\n  output n\n}\n")
        let c = rnnc(["check", "--precision", "--steps", "5", counter] + stdlibArgs)
        #expect(c.stdout.contains("bounds hold for the first 5 steps (a state's range still grows there; --steps N checks more); 2 input cases"), "\(c.stdout)")
        #expect(c.stdout.contains("exact values in [0, 5]\n    float32: exact\n    float64: exact"), "\(c.stdout)")
    }
}

extension PrecisionCLITests {
    /// docs/precision.md shows the report of examples/precision/ifelse.rnn as rnnc prints it,
    /// and the Float32 run it predicts.
    @Test func docsShowTheReportAsPrinted() throws {
        let guide = try String(contentsOfFile: repoRoot + "/docs/precision.md", encoding: .utf8)
        let command = "rnnc check --precision examples/precision/ifelse.rnn"
        #expect(guide.contains("```sh\n\(command)\n```"))
        let shown = try #require(guide.components(separatedBy: "```text\n").dropFirst().first?.components(separatedBy: "```").first)
        let r = rnnc(["check", "--precision", repoRoot + "/examples/precision/ifelse.rnn"] + stdlibArgs)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == shown, "docs/precision.md shows:\n\(shown)\nrnnc prints:\n\(r.stdout)")
        let input = tempPath("c.json")
        try "[[1], [0]]".write(toFile: input, atomically: true, encoding: .utf8)
        let run = rnnc(["run", repoRoot + "/examples/precision/ifelse.rnn", "--dtype", "float32", "--input", input] + stdlibArgs)
        #expect(run.stdout.split(whereSeparator: \.isWhitespace) == ["5.25", "0", "-3", "0"], "\(run.stdout) \(run.stderr)")
    }
}
