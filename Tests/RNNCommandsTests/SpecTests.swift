import Foundation
import Testing
@testable import RNNCommands
@testable import RNNCompiler

/// Every spec under specs/, through the same runner as `rnnc test`.
struct SpecCase: CustomTestStringConvertible, Sendable {
    let spec: Spec
    var testDescription: String { spec.description }
}

func loadAllSpecs() -> [SpecCase] {
    SpecRunner.specFiles([repoRoot + "/specs"]).flatMap { file in
        ((try? Spec.load(path: file)) ?? []).map(SpecCase.init)
    }
}

@Suite struct SpecTests {
    @Test(arguments: loadAllSpecs())
    func spec(_ c: SpecCase) {
        let failures = SpecRunner.run(c.spec, stdlib: repoRoot + "/stdlib")
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }

    @Test func everySpecFileLoads() throws {
        let files = SpecRunner.specFiles([repoRoot + "/specs"])
        #expect(files.count >= 5)
        for file in files { _ = try Spec.load(path: file) }
        #expect(loadAllSpecs().count >= 150)
    }

    /// Coverage: the specs' programs exercise every rule, alternative and terminal of
    /// grammar/rnn.ebnf, and every diagnostic code is expected by some spec.
    @Test func specsCoverTheGrammarAndEveryDiagnosticCode() throws {
        var coverage = try SpecCoverage(grammarPath: repoRoot + "/grammar/rnn.ebnf")
        for c in loadAllSpecs() { coverage.add(c.spec) }
        #expect(coverage.missingUnits.isEmpty, "\(coverage.report)")
        #expect(coverage.missingCodes.isEmpty, "\(coverage.report)")
    }

    @Test func rnncTestCoverageReportsWhatIsMissing() {
        let full = rnnc(["test", "--coverage", repoRoot + "/specs"])
        #expect(full.code == 0, "\(full.stdout)\(full.stderr)")
        #expect(full.stdout.contains("diagnostics: \(DiagnosticCode.allCases.count) of \(DiagnosticCode.allCases.count) codes"))
        let part = rnnc(["test", "--coverage", repoRoot + "/specs/examples.yaml"])
        #expect(part.code == 1)
        #expect(part.stdout.contains("never exercised: primary#6"), "\(part.stdout)")
        #expect(part.stdout.contains("never expected: E0101"), "\(part.stdout)")
        let noGrammar = rnnc(["test", "--coverage", "--grammar", "/nonexistent.ebnf", repoRoot + "/specs/examples.yaml"])
        #expect(noGrammar.code != 0 && noGrammar.stderr.contains("/nonexistent.ebnf"))
    }

    @Test func rnncTestReportsPassAndFail() throws {
        let dir = tempPath("specs")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "name: good\nprogram: \"model M { input x: [1] output 2 * x }\"\ninputs: [1, 2]\nexpect: {outputs: [[2], [4]]}\n"
            .write(toFile: dir + "/good.yaml", atomically: true, encoding: .utf8)
        try "name: bad\nprogram: \"model M { input x: [1] output 2 * x }\"\ninputs: [1]\nexpect: {outputs: [[3]]}\n"
            .write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let r = rnnc(["test", dir])
        #expect(r.code == 1)
        #expect(r.stdout.hasSuffix("1 passed, 1 failed\n"))
        #expect(r.stdout.contains("expected [\"3\"], got [\"2\"]"))
        try "name: typo\nprogram: x\nexpct: {}\n".write(toFile: dir + "/typo.yaml", atomically: true, encoding: .utf8)
        #expect(rnnc(["test", dir + "/typo.yaml"]).stdout.contains("unknown key 'expct'"))
    }

    /// Nine levels of ten aliases each stand for 10^9 strings; the spec is refused at once.
    @Test func aliasBombsAreRefused() throws {
        var yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for k in 1...9 { yaml += "a\(k): &a\(k) [" + Array(repeating: "*a\(k - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bomb-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try Spec.load(path: path)
        } throws: { error in
            "\(error)".contains("expands (through aliases) to more than")
        }
    }
}
