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

    /// Coverage: every diagnostic code is expected by some spec.
    @Test func everyDiagnosticCodeIsExercised() {
        let exercised = Set(loadAllSpecs().flatMap { $0.spec.expectedDiagnostics ?? [] }.map(\.code))
        for code in DiagnosticCode.allCases {
            #expect(exercised.contains(code.rawValue), "no spec expects \(code.rawValue)")
        }
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
}
