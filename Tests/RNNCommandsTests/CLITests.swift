import ArgumentParser
import Foundation
@testable import RNNCommands
import RNNRuntime
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

struct CLIResult {
    var code: Int32
    var stdout: String
    var stderr: String
}

/// Runs `rnnc ARGS` in-process and captures its output and exit code.
func rnnc(_ args: [String]) -> CLIResult {
    let capture = CapturedOutput()
    var code: Int32 = 0
    Console.$capture.withValue(capture) {
        do {
            var command = try RNNCommand.parseAsRoot(args)
            try command.run()
        } catch {
            code = RNNCommand.exitCode(for: error).rawValue
            if code != 0 && code != 65 && code != 66 && code != 70 {
                capture.append(err: RNNCommand.fullMessage(for: error))
            }
        }
    }
    return CLIResult(code: code, stdout: capture.stdout, stderr: capture.stderr)
}

func tempPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-cli-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/" + name
}

let example = repoRoot + "/examples/more_ones"
let stdlibArgs = ["--stdlib", repoRoot + "/stdlib"]

@Suite struct CLITests {
    @Test func quickStartRun() {
        let r = rnnc(["run", example + ".rnn", "--input", example + ".json"] + stdlibArgs)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == "0\n0\n1\n0\n0\n0\n0\n0\n0\n0\n")
    }

    @Test func interpreterAndFloat32AgreeOnTheExample() {
        for extra in [["--engine", "interpreter"], ["--dtype", "float32"]] {
            let r = rnnc(["run", example + ".rnn", "--input", example + ".json"] + stdlibArgs + extra)
            #expect(r.stdout == "0\n0\n1\n0\n0\n0\n0\n0\n0\n0\n", "\(extra)")
        }
    }

    @Test func checkPrintsASummary() {
        let r = rnnc(["check", example + ".rnn"] + stdlibArgs)
        #expect(r.code == 0)
        #expect(r.stdout.contains("model MoreOnes: ok"))
        #expect(r.stdout.contains("state ones: [1]"))
    }

    /// `rnnc check` says how the scan program runs each matrix state.
    @Test func checkSaysHowMatrixStatesScan() throws {
        let source = tempPath("heads.rnn")
        try """
            use cells.linear_attention
            model M {
              input x: [6]
              state T: [2, 2] = 0
              T <- tanh(T + outer(x[0:2], x[2:4]))
              output [gla(x[0:2], x[2:4], x[4:6], sigmoid(x[0:2])), x[0:2] @ T]
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let r = rnnc(["check", source] + stdlibArgs)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("scan: chunkwise, chunks of 64 tokens"), "\(r.stdout)")
        #expect(r.stdout.contains("scan: token by token, every token's state stored"), "\(r.stdout)")
    }

    @Test func compileThenRunTheArtifact() throws {
        let out = tempPath("more_ones.rnnc")
        let c = rnnc(["compile", example + ".rnn", "-o", out] + stdlibArgs)
        #expect(c.code == 0, "\(c.stderr)")
        let r = rnnc(["run", out, "--input", example + ".json"])
        #expect(r.stdout == "0\n0\n1\n0\n0\n0\n0\n0\n0\n0\n", "\(r.stderr)")
        // The artifact is a valid safetensors file with the rnnc metadata.
        let file = try SafeTensors.read(path: out)
        #expect(file.metadata["format"] == "rnnc")
    }

    /// `export` reads sources and artifacts, names its default output after the input, and
    /// fails with the usual exit codes.
    @Test func exportWritesONNXModels() throws {
        let artifact = tempPath("more_ones.rnnc")
        #expect(rnnc(["compile", example + ".rnn", "-o", artifact] + stdlibArgs).code == 0)
        for (input, extra) in [(example + ".rnn", stdlibArgs), (artifact, [])] {
            for form in ["step", "sequence"] {
                let out = tempPath("m.onnx")
                let r = rnnc(["export", input, "--format", "onnx", "--form", form, "--dtype", "float64", "-o", out] + extra)
                #expect(r.code == 0 && r.stdout == "wrote \(out)\n", "\(r.stderr)")
                let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
                #expect(bytes.count > 100 && String(decoding: bytes, as: UTF8.self).contains("rnnc"), "a protobuf naming its producer")
            }
        }
        let copy = tempPath("more_ones.rnnc")
        try FileManager.default.copyItem(atPath: artifact, toPath: copy)
        #expect(rnnc(["export", copy]).code == 0)
        #expect(FileManager.default.fileExists(atPath: (copy as NSString).deletingPathExtension + ".onnx"), "FILE.onnx by default")
        #expect(rnnc(["export", repoRoot + "/no/such.rnn"] + stdlibArgs).code == 66)
        #expect(rnnc(["export", example + ".rnn", "--format", "tflite"] + stdlibArgs).code == 64)
        #expect(rnnc(["export", example + ".rnn", "-o", "/no/such/dir/m.onnx"] + stdlibArgs).code != 0)
        let bad = tempPath("bad.rnnc")
        try Data("not an artifact".utf8).write(to: URL(fileURLWithPath: bad))
        #expect(rnnc(["export", bad]).code == 65)
    }

    /// Options that do not apply are errors, not ignored; several weights files merge.
    @Test func optionsAreNeverIgnored() throws {
        let artifact = tempPath("more_ones.rnnc")
        #expect(rnnc(["compile", example + ".rnn", "-o", artifact] + stdlibArgs).code == 0)
        for extra in [["--set", "n=3"], ["--weights", "w.safetensors"], ["--model", "M"], ["--no-optimize"]] {
            let r = rnnc(["run", artifact, "--input", example + ".json"] + extra)
            #expect(r.code == 64 && r.stderr.contains("applies to .rnn sources"), "\(extra): \(r.stderr)")
            #expect(rnnc(["export", artifact] + extra).code == 64, "\(extra)")
        }
        let bin = rnnc(["run", example + ".rnn", "--input", example + ".json", "--output", tempPath("y.bin")] + stdlibArgs)
        #expect(bin.code == 64 && bin.stderr.contains("cannot tell the output format"), "\(bin.stderr)")
        #expect(rnnc(["run", example + ".rnn", "--input", example + ".json", "--output", tempPath("y.bin"), "--output-format", "csv"] + stdlibArgs).code == 0)

        let gru = repoRoot + "/examples/gru2"
        let all = try SafeTensors.read(path: gru + ".safetensors")
        let (first, second) = (tempPath("layer0.safetensors"), tempPath("layer1.safetensors"))
        for (path, layer) in [(first, "l0"), (second, "l1")] {
            let part = SafeTensors.File(tensors: all.tensors.filter { $0.name.hasSuffix(layer) })
            try Data(SafeTensors.encode(part)).write(to: URL(fileURLWithPath: path))
        }
        let whole = rnnc(["run", gru + ".rnn", "--weights", gru + ".safetensors", "--input", gru + ".json"] + stdlibArgs)
        let merged = rnnc(["run", gru + ".rnn", "--weights", first, "--weights", second, "--input", gru + ".json"] + stdlibArgs)
        #expect(merged.code == 0 && merged.stdout == whole.stdout, "\(merged.stderr)")
        let twice = rnnc(["run", gru + ".rnn", "--weights", gru + ".safetensors", "--weights", first, "--input", gru + ".json"] + stdlibArgs)
        #expect(twice.code == 65 && twice.stderr.contains("is bound by both"), "\(twice.stderr)")
    }

    @Test func threadsAreAnOption() {
        let one = rnnc(["run", example + ".rnn", "--input", example + ".json", "--threads", "1"] + stdlibArgs)
        #expect(one.code == 0 && one.stdout == "0\n0\n1\n0\n0\n0\n0\n0\n0\n0\n", "\(one.stderr)")
        #expect(rnnc(["run", example + ".rnn", "--input", example + ".json", "--threads", "0"] + stdlibArgs).code == 64)
    }

    @Test func mistypedCommandsGetASuggestion() {
        #expect(RNNCommand.mistypedSubcommand(["chek", "x.rnn"])?.contains("did you mean 'check'?") == true)
        #expect(RNNCommand.mistypedSubcommand(["exprot"])?.contains("'export'") == true)
        #expect(RNNCommand.mistypedSubcommand(["check", "x.rnn"]) == nil)
        #expect(RNNCommand.mistypedSubcommand(["--help"]) == nil)
        #expect(RNNCommand.mistypedSubcommand(["zzzzzzzz"]) == nil)
    }

    /// `--onnx-native-cells` needs every state in a stdlib cell, and the source.
    @Test func nativeCellsNeedCells() throws {
        let gru = ["export", repoRoot + "/examples/gru2.rnn", "--weights", repoRoot + "/examples/gru2.safetensors", "--onnx-native-cells"] + stdlibArgs
        #expect(rnnc(gru + ["-o", tempPath("gru2.onnx")]).code == 0)
        let refused = rnnc(["export", example + ".rnn", "--onnx-native-cells", "-o", tempPath("m.onnx")] + stdlibArgs)
        #expect(refused.code == 65 && refused.stderr.contains("is not a state of a stdlib cell"), "\(refused.stderr)")
        #expect(rnnc(["export", example + ".rnn", "--format", "torch", "--onnx-native-cells"] + stdlibArgs).code == 64)
        // A cell whose output nothing reads still runs: its final state is an output.
        let unread = tempPath("unread.rnn")
        try "use cells.gru\nmodel M {\n  input x: [2]\n  h = gru(x, eye(6, 2), 0.5 * eye(6, 2), zeros(6), zeros(6))\n  output x\n}\n"
            .write(toFile: unread, atomically: true, encoding: .utf8)
        let r = rnnc(["export", unread, "--onnx-native-cells", "-o", tempPath("unread.onnx")] + stdlibArgs)
        #expect(r.code == 0, "\(r.stderr)")
    }

    /// `export --format torch` writes the module and its weights beside it, from sources only.
    @Test func exportWritesTorchModules() throws {
        let out = tempPath("more_ones.py")
        let r = rnnc(["export", example + ".rnn", "--format", "torch", "-o", out] + stdlibArgs)
        let weights = (out as NSString).deletingPathExtension + ".safetensors"
        #expect(r.code == 0 && r.stdout == "wrote \(out) and \(weights)\n", "\(r.stderr)")
        let python = try String(contentsOfFile: out, encoding: .utf8)
        #expect(python.contains("class MoreOnes(nn.Module):") && python.contains("more_ones.safetensors"))
        #expect(try SafeTensors.read(path: weights).tensors.count > 0)
        let artifact = tempPath("more_ones.rnnc")
        #expect(rnnc(["compile", example + ".rnn", "-o", artifact] + stdlibArgs).code == 0)
        let refused = rnnc(["export", artifact, "--format", "torch"])
        #expect(refused.code == 64 && refused.stderr.contains("needs the .rnn source"), "\(refused.stderr)")
    }

    @Test func emitStages() {
        let ast = rnnc(["compile", example + ".rnn", "--emit", "ast"] + stdlibArgs)
        #expect(ast.stdout.hasPrefix("(use logic)\n(model MoreOnes ()"))
        let ir = rnnc(["compile", example + ".rnn", "--emit", "ir"] + stdlibArgs)
        #expect(ir.stdout.contains("state_read ones"))
        #expect(ir.stdout.contains("relu"))
        let step = rnnc(["compile", example + ".rnn", "--emit", "step"] + stdlibArgs)
        #expect(step.stdout.contains("M0 $0") && step.stdout.contains("scan plan:"))
    }

    @Test func outputFormatsAreWrittenAtomically() throws {
        for ext in ["json", "csv", "npy", "txt"] {
            let out = tempPath("out.\(ext)")
            let r = rnnc(["run", example + ".rnn", "--input", example + ".json", "--output", out] + stdlibArgs)
            #expect(r.code == 0, "\(ext): \(r.stderr)")
            let fmt = DataFormat(path: out)!
            if fmt != .text {
                let back = try SequenceData.read(path: out, format: fmt)
                #expect(back.sequences[0].map { $0[0] } == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0], "\(ext)")
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: (out as NSString).deletingLastPathComponent)
            #expect(leftovers == ["out.\(ext)"], "no temporary files left: \(leftovers)")
        }
    }

    @Test func inputFormats() throws {
        let csv = tempPath("in.csv")
        try "x\n0\n1\n1\n".write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(rnnc(["run", example + ".rnn", "--input", csv] + stdlibArgs).stdout == "0\n0\n1\n")
        let npy = repoRoot + "/Tests/Fixtures/batch_f8.npy"
        let batch = rnnc(["run", example + ".rnn", "--input", npy, "--output-format", "json"] + stdlibArgs)
        #expect(batch.stdout == "[\n  [\n    [1],\n    [1],\n    [1]\n  ],\n  [\n    [0],\n    [0],\n    [0]\n  ]\n]\n", "\(batch.stderr)")
        let noext = tempPath("data")
        try "[1]".write(toFile: noext, atomically: true, encoding: .utf8)
        #expect(rnnc(["run", example + ".rnn", "--input", noext] + stdlibArgs).code == 64)
        #expect(rnnc(["run", example + ".rnn", "--input", noext, "--input-format", "json"] + stdlibArgs).stdout == "1\n")
    }

    @Test func exitCodes() throws {
        #expect(rnnc(["run"]).code == 64)
        #expect(rnnc(["frobnicate"]).code == 64)
        #expect(rnnc(["check", "/no/such/file.rnn"]).code == 66)
        #expect(rnnc(["run", example + ".rnn", "--input", "/no/such.json"] + stdlibArgs).code == 66)
        let bad = tempPath("bad.rnn")
        try "model M {\n  input x: [1]\n  output y\n}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = rnnc(["check", bad])
        #expect(r.code == 65)
        #expect(r.stderr.contains("bad.rnn:3:10: error[E0201]: 'y' is not defined"))
        #expect(r.stderr.contains("  |          ^"))
        let badInput = tempPath("bad.json")
        try "[[1, 2]]".write(toFile: badInput, atomically: true, encoding: .utf8)
        let w = rnnc(["run", example + ".rnn", "--input", badInput] + stdlibArgs)
        #expect(w.code == 65)
        #expect(w.stderr.contains("takes 1"))
        let garbage = tempPath("garbage.rnnc")
        try "not an artifact".write(toFile: garbage, atomically: true, encoding: .utf8)
        #expect(rnnc(["run", garbage, "--input", example + ".json"]).code == 65)
    }

    @Test func settingsAndWeights() throws {
        let src = tempPath("affine.rnn")
        try "model A(k = 1) {\n  input x: [3]\n  param W: [2, 3], b: [2]\n  output k * (W @ x + b)\n}\n".write(toFile: src, atomically: true, encoding: .utf8)
        let input = tempPath("x.json")
        try "[[1, 1, 1]]".write(toFile: input, atomically: true, encoding: .utf8)
        let weights = repoRoot + "/Tests/Fixtures/affine.safetensors"
        let r = rnnc(["run", src, "--input", input, "--weights", weights, "--set", "k=2"])
        #expect(r.stdout == "13 29\n", "\(r.stderr)")
        let bad = rnnc(["run", src, "--input", input, "--weights", repoRoot + "/Tests/Fixtures/seq_f4.npy"])
        #expect(bad.code == 65)
        #expect(bad.stderr.contains("E0505"))
        #expect(rnnc(["check", src, "--set", "k"]).code == 64)
        for malformed in ["=1", "k=", "1k=2", "k-1=2"] {
            let r = rnnc(["check", src, "--set", malformed])
            #expect(r.code == 64 && !r.stderr.contains("no parameter"), "--set \(malformed): \(r.stderr)")
        }
        #expect(rnnc(["check", src, "--weights", weights, "--set", "j=2"]).stderr.contains("E0209"))
    }

    /// `--limit` moves one resource limit: lowered, the program fails with E0601 and the flag
    /// to raise it; a bad name or count is a usage error.
    @Test func limitsMoveWithTheFlag() throws {
        let src = tempPath("eye.rnn")
        try "model M {\n  input x: [4]\n  output eye(4) @ x\n}\n".write(toFile: src, atomically: true, encoding: .utf8)
        #expect(rnnc(["check", src]).code == 0)
        let lowered = rnnc(["check", src, "--limit", "tensor-elements=8"])
        #expect(lowered.code == 65 && lowered.stderr.contains("E0601") && lowered.stderr.contains("--limit tensor-elements=N raises it"), "\(lowered.stderr)")
        #expect(rnnc(["check", src, "--limit", "tensor-elements=8", "--limit", "tensor-elements=2^4"]).code == 0, "the last one counts")
        for bad in ["tensor-elements", "width=5", "tensor-elements=0", "tensor-elements=lots"] {
            let r = rnnc(["check", src, "--limit", bad])
            #expect(r.code == 64 && r.stderr.contains("--limit"), "--limit \(bad): \(r.stderr)")
        }
    }

    @Test func executionModesAgree() {
        for mode in ["step", "scan", "auto"] {
            let r = rnnc(["run", example + ".rnn", "--input", example + ".json", "--mode", mode] + stdlibArgs)
            #expect(r.stdout == "0\n0\n1\n0\n0\n0\n0\n0\n0\n0\n", "\(mode): \(r.stderr)")
        }
        let gru = repoRoot + "/examples/gru2"
        let step = rnnc(["run", gru + ".rnn", "--weights", gru + ".safetensors", "--input", gru + ".json", "--mode", "step"] + stdlibArgs)
        let scan = rnnc(["run", gru + ".rnn", "--weights", gru + ".safetensors", "--input", gru + ".json", "--mode", "scan"] + stdlibArgs)
        // Float32, where the scan program may round differently (docs/runtime.md, Tolerances).
        let numbers = { (text: String) in text.split(whereSeparator: \.isWhitespace).compactMap { Double($0) } }
        let (s, q) = (numbers(step.stdout), numbers(scan.stdout))
        #expect(step.code == 0 && scan.code == 0 && s.count == 24 && s.count == q.count)
        #expect(zip(s, q).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($0)) }, "\(step.stdout) vs \(scan.stdout)")
    }

    /// `--dtype auto` (the default) runs a model with a weights file in Float32, and one whose
    /// weights are all in the source in Float64; an artifact keeps the choice.
    @Test func defaultPrecisionFollowsWhereTheWeightsComeFrom() throws {
        let gru = repoRoot + "/examples/gru2"
        let args = ["run", gru + ".rnn", "--weights", gru + ".safetensors", "--input", gru + ".json"] + stdlibArgs
        let byDefault = rnnc(args), f32 = rnnc(args + ["--dtype", "float32"]), f64 = rnnc(args + ["--dtype", "float64"])
        #expect(byDefault.code == 0 && byDefault.stdout == f32.stdout && byDefault.stdout != f64.stdout)
        let artifact = tempPath("gru2.rnnc")
        #expect(rnnc(["compile", gru + ".rnn", "--weights", gru + ".safetensors", "-o", artifact] + stdlibArgs).code == 0)
        #expect(try Artifact.load(path: artifact).precision == .float32)
        #expect(rnnc(["run", artifact, "--input", gru + ".json"]).stdout == f32.stdout)
        let counter = repoRoot + "/examples/counter"
        let source = ["run", counter + ".rnn", "--input", counter + ".json"] + stdlibArgs
        #expect(rnnc(source).stdout == rnnc(source + ["--dtype", "float64"]).stdout)
        // An artifact naming another precision is rejected.
        var file = try SafeTensors.read(path: artifact)
        file.metadata["precision"] = "float16"
        let bad = tempPath("bad_precision.rnnc")
        try Data(SafeTensors.encode(file)).write(to: URL(fileURLWithPath: bad))
        let r = rnnc(["run", bad, "--input", gru + ".json"])
        #expect(r.code == 65 && r.stderr.contains("unknown precision"), "\(r.stderr)")
    }

    @Test func streamingPrintsOneLinePerToken() {
        let capture = CapturedOutput()
        var code: Int32 = 0
        Console.$input.withValue(ScriptedInput(["0", "1", "", "1, 0", "[0]"])) {
            Console.$capture.withValue(capture) {
                do {
                    var command = try RNNCommand.parseAsRoot(["run", example + ".rnn", "--stream"] + stdlibArgs)
                    try command.run()
                } catch {
                    code = RNNCommand.exitCode(for: error).rawValue
                }
            }
        }
        // "1, 0" is one token of two values: the model takes one, so the run stops there.
        #expect(capture.stdout == "0\n0\n")
        #expect(code == 65)
        #expect(capture.stderr.contains("<stdin>:4:1: error: token has 2 values"), "the line is named: \(capture.stderr)")
        #expect(rnnc(["run", example + ".rnn", "--stream", "--input", example + ".json"] + stdlibArgs).code == 64)
    }

    /// A token id out of range stops `run` with exit 65 and the file, sequence and token, in
    /// every engine and mode, before any output.
    @Test func badTokenIDsAreNamed() throws {
        let source = tempPath("lm.rnn"), data = tempPath("ids.json")
        try "model LM { input t: 0..<4  param E: [4, 2] = 1  output E[t] }".write(toFile: source, atomically: true, encoding: .utf8)
        try "[[[0], [3]], [[1], [4]]]".write(toFile: data, atomically: true, encoding: .utf8)
        for extra in [["--mode", "step"], ["--mode", "scan"], ["--engine", "interpreter"]] {
            let r = rnnc(["run", source, "--input", data] + extra)
            #expect(r.code == 65 && r.stdout.isEmpty, "\(extra)")
            #expect(r.stderr.contains("ids.json: token id 4 of input 't' is not an integer in 0..<4 (token 1 of sequence 1)"), "\(extra): \(r.stderr)")
        }
        #expect(rnnc(["check", source]).stdout.contains("inputs:  t: 0..<4"))
    }

    /// A run's final states seed the next run: a sequence cut in two gives the outputs of the
    /// whole, in every engine and mode, for one sequence ([k]) and a batch ([B, k]); merged
    /// states read and write as the source's states.
    @Test func statesCarryOverBetweenRuns() throws {
        let source = tempPath("two.rnn")
        try """
            model Two {
              input x: [1]
              state a: [1] = 0
              state b: [1] = 0
              state c: [2] = [1, 2]
              a <- 0.5 * a + x
              b <- 0.25 * b + x
              c <- tanh(c + 0.1 * x * c)
              output [a, b, c]
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let first = tempPath("first.json"), second = tempPath("second.json"), whole = tempPath("whole.json")
        try "[[[1], [2], [3], [4], [5]], [[-1], [0], [1], [2], [3]]]".write(toFile: first, atomically: true, encoding: .utf8)
        try "[[[6], [7]], [[4], [5]]]".write(toFile: second, atomically: true, encoding: .utf8)
        try "[[[1], [2], [3], [4], [5], [6], [7]], [[-1], [0], [1], [2], [3], [4], [5]]]".write(toFile: whole, atomically: true, encoding: .utf8)
        let expected = rnnc(["run", source, "--input", whole, "--engine", "interpreter"]).stdout.split(separator: "\n", omittingEmptySubsequences: false)
        for extra in [["--mode", "step"], ["--mode", "scan"], ["--engine", "interpreter"]] {
            let states = tempPath("states.safetensors")
            #expect(rnnc(["run", source, "--input", first, "--final-state", states] + extra).code == 0)
            let rest = rnnc(["run", source, "--input", second, "--initial-state", states] + extra).stdout.split(separator: "\n")
            #expect(rest.count == 4)
            for (got, want) in zip(rest, [expected[5], expected[6], expected[13], expected[14]]) {
                let (g, w) = (got.split(separator: " ").map { Double($0)! }, want.split(separator: " ").map { Double($0)! })
                #expect(zip(g, w).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }, "\(extra): \(got) vs \(want)")
            }
        }
        // One sequence's states are [k]; a tensor no state has, or of the wrong shape, is refused.
        let one = tempPath("one.json"), states = tempPath("one.safetensors")
        try "[[1], [2]]".write(toFile: one, atomically: true, encoding: .utf8)
        #expect(rnnc(["run", source, "--input", one, "--final-state", states]).code == 0)
        let file = try SafeTensors.read(path: states)
        #expect(Set(file.tensors.map(\.name)) == ["a", "b", "c"] && file["c"]?.shape == [2])
        let bad = tempPath("bad.safetensors")
        try Data(SafeTensors.encode(SafeTensors.File(tensors: [NamedTensor(name: "d", shape: [1], float64: [0])]))).write(to: URL(fileURLWithPath: bad))
        let unknown = rnnc(["run", source, "--input", one, "--initial-state", bad])
        #expect(unknown.code == 65 && unknown.stderr.contains("tensor 'd' matches no state of model 'Two' (states: "), "\(unknown.stderr)")
        try Data(SafeTensors.encode(SafeTensors.File(tensors: [NamedTensor(name: "c", shape: [3], float64: [0, 0, 0])]))).write(to: URL(fileURLWithPath: bad))
        let shape = rnnc(["run", source, "--input", one, "--initial-state", bad])
        #expect(shape.code == 65 && shape.stderr.contains("state 'c' has shape [3]; expected [2]"), "\(shape.stderr)")
    }

    /// A matrix state leaves and enters as a matrix: `--final-state` writes `[m, n]` (one
    /// sequence) and `[B, m, n]` (a batch), and `--initial-state` reads either, or flat.
    @Test func matrixStatesKeepTheirShapeInStateFiles() throws {
        let source = tempPath("matrix.rnn")
        try """
            model M {
              input x: [2]
              state S: [2, 3] = 0
              S <- 0.5 * S + outer(x, [1, 2, 3])
              output S @ [1, 1, 1]
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let one = tempPath("one.csv"), two = tempPath("two.json")
        try "1,2\n3,4\n".write(toFile: one, atomically: true, encoding: .utf8)
        try "[[[1, 2], [3, 4]], [[0, 1], [1, 0]]]".write(toFile: two, atomically: true, encoding: .utf8)
        let single = tempPath("single.safetensors"), batch = tempPath("batch.safetensors")
        #expect(rnnc(["run", source, "--input", one, "--dtype", "float64", "--final-state", single]).code == 0)
        #expect(rnnc(["run", source, "--input", two, "--dtype", "float64", "--final-state", batch]).code == 0)
        let s = try #require(try SafeTensors.read(path: single)["S"]), b = try #require(try SafeTensors.read(path: batch)["S"])
        // S_2 = 0.5 outer([1, 2], [1, 2, 3]) + outer([3, 4], [1, 2, 3])
        #expect(s.shape == [2, 3] && s.doubles() == [3.5, 7, 10.5, 5, 10, 15], "\(s.shape) \(s.doubles())")
        #expect(b.shape == [2, 2, 3] && Array(b.doubles().prefix(6)) == s.doubles(), "\(b.shape)")
        // Read back, as a matrix or flat, the state carries on from where the run ended.
        let flat = tempPath("flat.safetensors")
        try Data(SafeTensors.encode(SafeTensors.File(tensors: [NamedTensor(name: "S", shape: [6], float64: s.doubles())]))).write(to: URL(fileURLWithPath: flat))
        let resumed = [single, flat].map { rnnc(["run", source, "--input", one, "--dtype", "float64", "--initial-state", $0]).stdout }
        #expect(resumed[0] == resumed[1] && !resumed[0].isEmpty, "\(resumed)")
        let wrong = tempPath("wrong.safetensors")
        try Data(SafeTensors.encode(SafeTensors.File(tensors: [NamedTensor(name: "S", shape: [3, 2], float64: s.doubles())]))).write(to: URL(fileURLWithPath: wrong))
        let refused = rnnc(["run", source, "--input", one, "--initial-state", wrong])
        #expect(refused.code == 65 && refused.stderr.contains("state 'S' has shape [3, 2]; expected [6] or [2, 3]"), "\(refused.stderr)")
    }

    /// The `rnnc generate` commands of examples/README.md's language-model table run as
    /// written (from the repository root) and print the new ids they ask for.
    @Test func languageModelExamplesGenerateAsTheGuideSays() throws {
        let guide = try String(contentsOfFile: repoRoot + "/examples/README.md", encoding: .utf8)
        let commands = guide.components(separatedBy: "`swift run rnnc generate ").dropFirst()
            .map { String($0.prefix { $0 != "`" }).split(separator: " ").map(String.init) }
        #expect(commands.count >= 5, "the guide's table lists every language model")
        for args in commands {
            let withRoot = args.map { $0.hasPrefix("examples/") ? repoRoot + "/" + $0 : $0 }
            let result = rnnc(["generate"] + withRoot + stdlibArgs)
            let ids = result.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            #expect(result.code == 0 && ids.count == 16, "\(args.joined(separator: " ")): \(result.stderr)")
        }
    }

    /// `generate` prints the new ids (greedy by default, reproducible when sampling), bytes
    /// for a text prompt, and refuses bad prompts and models with the reason.
    @Test func generatePrintsNewTokens() throws {
        let source = tempPath("lm.rnn")
        try """
            model LM(V = 256, d = 8) {
              input token: 0..<V
              param E: [V, d] = normal(seed: 1)
              param head: [V, d] = normal(seed: 2, std: 3)
              state h: [d] = 0
              h <- tanh(E[token] + 0.5 * h)
              output head @ h
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let greedy = rnnc(["generate", source, "--prompt-ids", "72,105", "--max-new", "12"])
        #expect(greedy.code == 0)
        let ids = greedy.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(ids.count == 12 && ids.allSatisfy { (0..<256).contains($0) }, "\(greedy.stdout)")
        let text = rnnc(["generate", source, "--prompt-text", "Hi", "--max-new", "12"])
        // The same prompt as bytes gives the same ids, printed as bytes (a capture decodes each write).
        #expect(text.code == 0 && text.stdout == ids.map { String(decoding: [UInt8($0)], as: UTF8.self) }.joined() + "\n", "\(text.stdout)")
        let sampled = ["generate", source, "--prompt-ids", "1 2 3", "--max-new", "20", "--temperature", "1", "--top-k", "50", "--seed", "9"]
        #expect(rnnc(sampled).stdout == rnnc(sampled).stdout)
        #expect(rnnc(["generate", source, "--prompt-ids", "72,105", "--max-new", "5", "--stop-id", "\(ids.first ?? 0)"]).stdout == "\(ids.first ?? 0) \n")
        let bad = rnnc(["generate", source, "--prompt-ids", "1,300"])
        #expect(bad.code == 65 && bad.stderr.contains("the prompt: token id 300 of input 'token' is not an integer in 0..<256 (token 1)"), "\(bad.stderr)")
        #expect(rnnc(["generate", source, "--prompt-ids", "1,x"]).code == 64)
        #expect(rnnc(["generate", source]).code == 64)
        #expect(rnnc(["generate", source, "--prompt-ids", "1", "--top-p", "0"]).code == 64)
        // A generation continued from its final states makes what one run over everything makes.
        let states = tempPath("states.safetensors")
        let first = rnnc(["generate", source, "--prompt-ids", "1,2,3", "--max-new", "5", "--dtype", "float64", "--final-state", states]).stdout
        let made = first.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let continued = rnnc(["generate", source, "--prompt-ids", "7", "--max-new", "4", "--dtype", "float64", "--initial-state", states]).stdout
        let whole = rnnc(["generate", source, "--prompt-ids", (["1", "2", "3"] + made.map(String.init) + ["7"]).joined(separator: ","), "--max-new", "4", "--dtype", "float64"]).stdout
        #expect(made.count == 5 && continued == whole, "\(continued) vs \(whole)")
        let notLM = rnnc(["generate", example + ".rnn", "--prompt-ids", "1"] + stdlibArgs)
        #expect(notLM.code == 65 && notLM.stderr.contains("one input is a token input"), "\(notLM.stderr)")
    }

    /// `--diagnostics-format json` prints one object a tool can read: code, severity, message,
    /// file, 1-based range, notes, and the counts.
    @Test func diagnosticsAsJSON() throws {
        let source = tempPath("bad.rnn")
        try "model M {\n  input x: [3]\n  state s: [3] = 0\n  s <- x\n  s <- x\n  u = x\n  output x + [1, 2]\n}\n".write(toFile: source, atomically: true, encoding: .utf8)
        let r = rnnc(["check", source, "--diagnostics-format", "json"])
        #expect(r.code == 65)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stderr.utf8)) as? [String: Any], "\(r.stderr)")
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(object["errors"] as? Int == 2 && object["warnings"] as? Int == 1 && diagnostics.count == 3)  // W0201: u is never used
        let twice = try #require(diagnostics.first { $0["code"] as? String == "E0401" })
        let range = try #require(twice["range"] as? [String: [String: Int]])
        #expect(twice["severity"] as? String == "error" && twice["file"] as? String == source)
        #expect(range["start"] == ["line": 5, "column": 3] && range["end"] == ["line": 5, "column": 4])
        let notes = try #require(twice["notes"] as? [[String: Any]])
        #expect((notes.first?["range"] as? [String: [String: Int]])?["start"] == ["line": 4, "column": 3])
        #expect(rnnc(["check", example + ".rnn", "--diagnostics-format", "json"] + stdlibArgs).stderr.contains(#""errors":0"#))
    }

    /// `--diagnostics-format gnu`: one `file:line:col: severity: message [code]` line each,
    /// notes after their diagnostic, as docs/diagnostics.md shows.
    @Test func diagnosticsInTheGNUForm() throws {
        let source = tempPath("bad.rnn")
        try "model M {\n  input x: [3]\n  state s: [3] = 0\n  s <- x\n  s <- x\n  u = x\n  output x + [1, 2]\n}\n".write(toFile: source, atomically: true, encoding: .utf8)
        let r = rnnc(["check", source, "--diagnostics-format", "gnu"])
        #expect(r.code == 65)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix(source + ":5:3: error: ") && $0.hasSuffix(" [E0401]") }, "\(r.stderr)")
        #expect(lines.contains { $0.hasPrefix(source + ":4:3: note: ") }, "\(r.stderr)")
        #expect(lines.contains(source + ":7:10: error: shape mismatch: [3] (runtime) + [2] [E0301]"), "\(r.stderr)")
        #expect(lines.contains { $0.hasPrefix(source + ":6:3: warning: ") && $0.hasSuffix("[W0201]") }, "\(r.stderr)")
        let guide = try String(contentsOfFile: repoRoot + "/docs/diagnostics.md", encoding: .utf8)
        #expect(guide.contains("file.rnn:3:10: error: shape mismatch: [3] (runtime) + [2] [E0301]"))
    }

    /// Warnings do not fail a command unless --warnings-as-errors; --allow silences a code and
    /// takes warning codes only.
    @Test func warningsCanBeErrorsOrAllowed() throws {
        let source = tempPath("w.rnn")
        try "model M {\n  input x: [1]\n  y = 2 * x\n  output x\n}\n".write(toFile: source, atomically: true, encoding: .utf8)
        let plain = rnnc(["check", source])
        #expect(plain.code == 0 && plain.stderr.contains("warning[W0201]"), "\(plain.stderr)")
        #expect(rnnc(["check", source, "--warnings-as-errors"]).code == 65)
        let allowed = rnnc(["check", source, "--allow", "W0201", "--warnings-as-errors"])
        #expect(allowed.code == 0 && !allowed.stderr.contains("W0201"))
        #expect(rnnc(["check", source, "--allow", "E0201"]).code == 64)
    }

    /// A NUL byte inside a number ends no number early (C's strtod would read "1" of "1\09").
    @Test func numbersWithNulBytesAreRefused() throws {
        let capture = CapturedOutput()
        Console.$input.withValue(ScriptedInput(["1\u{0}9"])) {
            Console.$capture.withValue(capture) {
                var command = try? RNNCommand.parseAsRoot(["run", example + ".rnn", "--stream"] + stdlibArgs)
                #expect(throws: (any Error).self) { try command?.run() }
            }
        }
        #expect(capture.stdout.isEmpty && capture.stderr.contains("expected a number"), "\(capture.stderr)")
        let csv = tempPath("nul.csv")
        try Data("x\n1\u{0}9\n".utf8).write(to: URL(fileURLWithPath: csv))
        #expect(rnnc(["run", example + ".rnn", "--input", csv] + stdlibArgs).code == 65)
    }

    /// Files given where a source belongs, and unreadable paths, say what they are.
    @Test func inputsThatAreNotSourcesSayWhatTheyAre() throws {
        let artifact = tempPath("m.rnnc")
        #expect(rnnc(["compile", example + ".rnn", "-o", artifact] + stdlibArgs).code == 0)
        let check = rnnc(["check", artifact] + stdlibArgs)
        #expect(check.code == 65 && check.stderr.contains("compiled rnnc artifact"), "\(check.stderr)")
        #expect(check.stderr.count < 300, "one message, not the artifact lexed as source")
        let weights = rnnc(["check", repoRoot + "/examples/gru2.safetensors"] + stdlibArgs)
        #expect(weights.code == 65 && weights.stderr.contains("safetensors weights file"), "\(weights.stderr)")
        let folder = rnnc(["check", FileManager.default.temporaryDirectory.path] + stdlibArgs)
        #expect(folder.code == 66 && folder.stderr.contains("is a directory"), "\(folder.stderr)")
        let missing = rnnc(["check", "/nonexistent/m.rnn"] + stdlibArgs)
        #expect(missing.code == 66 && missing.stderr.contains("no such file"), "\(missing.stderr)")
    }

    /// A bad value on a megabyte line is quoted with at most 120 characters around it.
    @Test func longLinesAreQuotedInPart() throws {
        let csv = tempPath("long.csv")
        try Data(("x\n" + String(repeating: "1,", count: 500_000) + "oops\n").utf8).write(to: URL(fileURLWithPath: csv))
        let r = rnnc(["run", example + ".rnn", "--input", csv] + stdlibArgs)
        #expect(r.code == 65)
        #expect(r.stderr.count < 1_000 && r.stderr.contains("...1,1,"), "\(r.stderr.prefix(500))")
    }

    @Test func formatChecksAndRewritesInPlace() throws {
        let path = tempPath("messy.rnn")
        try "model M{input x:[1]\n output x*2 # double\n}".write(toFile: path, atomically: true, encoding: .utf8)
        let check = rnnc(["fmt", "--check", path])
        #expect(check.code == 1)
        #expect(check.stderr.contains("not formatted: \(path)"))
        #expect(rnnc(["fmt", path]).stdout == "model M {\n  input x: [1]\n  output x * 2  # double\n}\n")
        #expect(rnnc(["fmt", "--in-place", path]).code == 0)
        #expect(rnnc(["fmt", "--check", path]).code == 0)
        #expect(rnnc(["check", path]).code == 0)
        let broken = tempPath("broken.rnn")
        try "model M { input x: [1] output x + }".write(toFile: broken, atomically: true, encoding: .utf8)
        #expect(rnnc(["fmt", "--in-place", broken]).code == 65)
        #expect(try String(contentsOfFile: broken, encoding: .utf8) == "model M { input x: [1] output x + }")
    }

    @Test func everyCommandHasHelp() {
        let commands: [ParsableCommand.Type] = [RNNCommand.self, RNNCommand.Check.self, RNNCommand.Compile.self, RNNCommand.Run.self, RNNCommand.Export.self, RNNCommand.Format.self, RNNCommand.Test.self]
        for command in commands {
            #expect(RNNCommand.helpMessage(for: command).contains("USAGE"), "\(command)")
        }
    }
}
