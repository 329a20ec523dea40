import Foundation
import Testing
@testable import RNNCommands

/// `rnnc run --dtype exact` as a user runs it: docs/exact.md's example as printed, the output
/// formats, located failures, and the options exact mode refuses.
@Suite struct ExactCLITests {
    private let thirds = repoRoot + "/examples/exact/thirds.rnn", input = repoRoot + "/examples/exact/thirds.json"

    @Test func docsShowTheRunAsPrinted() throws {
        let guide = try String(contentsOfFile: repoRoot + "/docs/exact.md", encoding: .utf8)
        #expect(guide.contains("```sh\nrnnc run examples/exact/thirds.rnn --input examples/exact/thirds.json --dtype exact\n```"))
        let shown = try #require(guide.components(separatedBy: "```text\n").dropFirst().first?.components(separatedBy: "```").first)
        let r = rnnc(["run", thirds, "--input", input, "--dtype", "exact"] + stdlibArgs)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == shown, "docs/exact.md shows:\n\(shown)\nrnnc prints:\n\(r.stdout)")
        // The Float64 run the guide sets beside it.
        let float = rnnc(["run", thirds, "--input", input, "--dtype", "float64"] + stdlibArgs)
        let second = float.stdout.split(separator: "\n")[1]
        #expect(guide.contains("`--dtype float64` prints `\(second)`"), "\(second)")
    }

    @Test func outputFormats() throws {
        let json = tempPath("exact.json")
        #expect(rnnc(["run", thirds, "--input", input, "--dtype", "exact", "--output", json] + stdlibArgs).code == 0)
        let text = try String(contentsOfFile: json, encoding: .utf8)
        #expect(text.contains("[1, \"3/10\", 1, 0.7071067811865476]") && text.contains("[\"4/3\", \"3/10\", \"4/3\", 0.9428090415820634]"), "\(text)")
        let npy = tempPath("exact.npy")
        #expect(rnnc(["run", thirds, "--input", input, "--dtype", "exact", "--output", npy] + stdlibArgs).code == 0)
        #expect((try Data(contentsOf: URL(fileURLWithPath: npy))).count > 96)
    }

    @Test func failuresAreLocatedAndOptionsChecked() throws {
        let path = tempPath("log.rnn"), data = tempPath("log.json")
        try "model M {\n  input x: [1]\n  output log(x)\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        try "[[2], [-1]]".write(toFile: data, atomically: true, encoding: .utf8)
        let r = rnnc(["run", path, "--input", data, "--dtype", "exact"] + stdlibArgs)
        #expect(r.code == 65 && r.stderr.contains("log.rnn:3:10: error: exact mode: log of -1"), "\(r.stderr)")
        for extra in [["--stream"], ["--mode", "scan"], ["--digits", "5"], ["--final-state", tempPath("s.safetensors")], ["--target", "layers"]] {
            let args = ["run", thirds, "--dtype", "exact"] + (extra == ["--stream"] ? [] : ["--input", input]) + extra + stdlibArgs
            let refused = rnnc(args)
            #expect(refused.code == 64 && refused.stderr.contains("--dtype exact"), "\(extra): \(refused.stderr)")
        }
    }
}
