import Foundation
import Testing
@testable import RNNCompiler

/// The example under each code of docs/diagnostics.md reports that code (so the docs cannot
/// drift from the compiler). Examples that need a file beside them (a weights file, a second
/// module) or a command-line option say so in a comment and are checked by
/// DiagnosticCodeTests' cases instead.
@Suite struct DiagnosticDocTests {
    /// Each `## CODE` heading's first fenced block.
    static func examples() throws -> [(code: String, program: String)] {
        let text = try String(contentsOfFile: repoRoot + "/docs/diagnostics.md", encoding: .utf8)
        var out: [(String, String)] = [], code: String?, block: [String]?
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("## E") || line.hasPrefix("## W") {
                code = String(line.dropFirst(3))
            } else if line == "```", let c = code {
                if let lines = block {
                    out.append((c, lines.joined(separator: "\n")))
                    (code, block) = (nil, nil)
                } else {
                    block = []
                }
            } else {
                block?.append(line)
            }
        }
        return out
    }

    /// Whether an example stands alone: not a shell command, not abbreviated (`...`), and no
    /// comment about a weights file, a second module or an option.
    static func standsAlone(_ program: String) -> Bool {
        !program.hasPrefix("rnnc ") && !program.contains("...") && !["the file", "--weights", "# rnnc", "# a.rnn"].contains { program.contains($0) }
    }

    @Test func everyExampleReportsItsCode() throws {
        let examples = try Self.examples()
        #expect(examples.count >= DiagnosticCode.allCases.count - 8)
        var checked = 0
        for (code, program) in examples where Self.standsAlone(program) {
            let r = compile(program + "\n", path: repoRoot + "/docs/example.rnn")
            #expect(r.diagnostics.contains { $0.code.rawValue == code }, "docs/diagnostics.md's \(code) example reports \(r.diagnostics.map(\.code.rawValue)):\n\(program)")
            checked += 1
        }
        #expect(checked >= 34)
    }
}
