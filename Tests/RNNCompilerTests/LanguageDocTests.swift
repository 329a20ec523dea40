import Foundation
import Testing
@testable import RNNCompiler

/// The programs docs/language.md shows compile as shown.
@Suite struct LanguageDocTests {
    /// The fenced blocks without a language tag: the reference's rnn programs.
    static func programs() throws -> [String] {
        let text = try String(contentsOfFile: repoRoot + "/docs/language.md", encoding: .utf8)
        var blocks: [String] = [], current: [String]? = nil
        for line in text.components(separatedBy: "\n") {
            if line == "```", current == nil { current = [] } else if line.hasPrefix("```"), let lines = current {
                blocks.append(lines.joined(separator: "\n"))
                current = nil
            } else if line.hasPrefix("```") {
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func everyProgramCompiles() throws {
        let programs = try Self.programs()
        #expect(programs.count >= 4)
        for program in programs {
            // A block of functions alone compiles beside a model that declares nothing else.
            let source = program.contains("model ") ? program : program + "\nmodel DocCheck { input x: [1] output x }\n"
            // A block that binds params by checkpoint keys is the LSTM language model example's.
            var compiler = Compiler(stdlibPath: stdlibPath)
            if program.contains("from \"") { try #require(try compiler.loadWeights(path: repoRoot + "/examples/lm/lstm_lm.safetensors")) }
            let ir = compiler.compileToIR(SourceFile(path: repoRoot + "/docs/block.rnn", text: source))
            #expect(ir != nil && !compiler.diagnostics.hasErrors, "docs/language.md block does not compile:\n\(program)\n\(compiler.diagnostics.render())")
        }
    }
}
