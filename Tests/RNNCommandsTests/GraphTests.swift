import Foundation
import Testing
@testable import RNNCommands
@testable import RNNCompiler

/// `rnnc graph`: the DOT it writes says what the IR is, every example renders in Graphviz,
/// and the README's picture is the one rnnc draws today.
@Suite struct GraphTests {
    /// Whether Graphviz must be there: in CI it is installed (.ci/run), so its absence fails.
    static var requireGraphviz: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static func ir(_ source: SourceFile) throws -> IRProgram {
        let compiler = Compiler(stdlibPath: repoRoot + "/stdlib")
        return try #require(compiler.compileToIR(source), "\(compiler.diagnostics.render())")
    }

    @Test func everyLiveValueStateLoopAndOutputIsDrawn() throws {
        let source = """
            model M {
              input x: [2]
              state h: [2] = 0
              state g: [2] = 1
              state c: [1] = 0
              unused = relu(x)
              h <- [[0.5, 0], [0, 0.25]] @ h + x
              g <- g * sigmoid(x)
              c <- tanh(c + x[0])
              output [h, g, c]
            }
            """
        let ir = try Self.ir(SourceFile(path: "m.rnn", text: source))
        let dot = Graphviz.dot(ir)
        let live = ir.liveNodes()
        #expect(live.filter { $0 }.count < ir.nodes.count, "the unused relu is not drawn")
        for (i, isLive) in live.enumerated() { #expect(dot.contains("  n\(i) [") == isLive, "node \(i)") }
        let edges = dot.components(separatedBy: "\n").filter { $0.contains(" -> ") }
        let operandEdges = ir.nodes.indices.filter { live[$0] }.reduce(0) { $0 + ir.nodes[$1].op.operands.count }
        #expect(edges.count == operandEdges + ir.outputs.count + ir.states.count)
        // Each state: its class in its node and in the colour of its loop.
        for (name, kind) in [("h", RecurrenceClass.affine), ("g", .diagonal), ("c", .nonlinear)] {
            #expect(dot.contains("state \(name)\\n[\(name == "c" ? 1 : 2)]\\n\(kind.rawValue)"), "\(name)")
            #expect(dot.contains("fillcolor=\"\(Graphviz.colour(kind))\""))
        }
        #expect(dot.contains("× diag [2] in [0.25, 0.5]"))
        #expect(dot.contains("constraint=false"))
    }

    @Test func namesAreQuotedForDOT() {
        #expect(Graphviz.quote("a \"b\"\\c\nd") == "\"a \\\"b\\\"\\\\c\\nd\"")
    }

    @Test func everyExampleRenders() throws {
        guard RNNCommand.Graph.findExecutable("dot") != nil else {
            #expect(!Self.requireGraphviz, "Graphviz's dot is not on PATH")
            return
        }
        var examples: [String] = []
        for folder in ["examples", "examples/lm", "examples/lsrl"] {
            examples += try FileManager.default.contentsOfDirectory(atPath: repoRoot + "/" + folder).filter { $0.hasSuffix(".rnn") }.map { folder + "/" + $0 }
        }
        // Modules of functions alone (examples/lsrl/gates.rnn) have no model to draw.
        examples = try examples.filter { try String(contentsOfFile: repoRoot + "/" + $0, encoding: .utf8).contains("\nmodel ") }
        #expect(examples.count >= 14)
        for example in examples {
            let path = repoRoot + "/" + example
            let weights = (path as NSString).deletingPathExtension + ".safetensors"
            var args = ["graph", path, "-o", tempPath("graph.svg"), "--stage", "ir-opt"] + stdlibArgs
            if FileManager.default.fileExists(atPath: weights) { args += ["--weights", weights] }
            let r = rnnc(args)
            #expect(r.code == 0, "\(example): \(r.stderr)")
            let svg = (try? String(contentsOfFile: args[3], encoding: .utf8)) ?? ""
            #expect(svg.contains("<svg") && svg.contains("</svg>"), "\(example)")
        }
    }

    @Test func formatsAndFailures() {
        let dot = rnnc(["graph", example + ".rnn"] + stdlibArgs)
        #expect(dot.code == 0 && dot.stdout.hasPrefix("digraph \"MoreOnes\" {"))
        let bad = rnnc(["graph", example + ".rnn", "-o", tempPath("graph.jpeg")] + stdlibArgs)
        #expect(bad.code == 64 && bad.stderr.contains("cannot tell the format"))
        #expect(rnnc(["graph", example + ".rnn", "-o", "-"] + stdlibArgs).code == 0, "- is standard output")
        let gv = tempPath("g.gv")
        #expect(rnnc(["graph", example + ".rnn", "-o", gv] + stdlibArgs).code == 0)
        #expect((try? String(contentsOfFile: gv, encoding: .utf8)) == dot.stdout)
        let broken = rnnc(["graph", repoRoot + "/Tests/Fixtures/no_such.rnn"] + stdlibArgs)
        #expect(broken.code == 66)
    }

    /// The commands of docs/graph.md's first block run as written (outputs in a scratch folder).
    @Test func theGuideCommandsRun() throws {
        guard RNNCommand.Graph.findExecutable("dot") != nil else {
            #expect(!Self.requireGraphviz, "Graphviz's dot is not on PATH")
            return
        }
        let guide = try String(contentsOfFile: repoRoot + "/docs/graph.md", encoding: .utf8)
        let block = try #require(guide.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
        let commands = block.split(separator: "\n").filter { $0.hasPrefix("rnnc ") }
        #expect(commands.count == 2)
        for command in commands {
            let words = command.split(separator: " ").dropFirst().map(String.init)
            let args = words.enumerated().map { k, word in
                word.hasPrefix("examples/") ? repoRoot + "/" + word : k > 0 && words[k - 1] == "-o" ? tempPath(word) : word
            }
            let r = rnnc(args + stdlibArgs)
            #expect(r.code == 0, "\(command): \(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: args[args.firstIndex(of: "-o")! + 1]), "\(command)")
        }
    }

    /// The README shows docs/images/more_ones.svg, rendered from docs/images/more_ones.dot;
    /// the DOT must be what rnnc draws now (re-render with the commands in docs/graph.md).
    @Test func theReadmePictureIsCurrent() throws {
        let committed = try String(contentsOfFile: repoRoot + "/docs/images/more_ones.dot", encoding: .utf8)
        #expect(Graphviz.dot(try Self.ir(try Compiler.readSource(path: repoRoot + "/examples/more_ones.rnn"))) == committed)
        let readme = try String(contentsOfFile: repoRoot + "/README.md", encoding: .utf8)
        #expect(readme.contains("docs/images/more_ones.svg"))
        #expect(FileManager.default.fileExists(atPath: repoRoot + "/docs/images/more_ones.svg"))
    }
}
