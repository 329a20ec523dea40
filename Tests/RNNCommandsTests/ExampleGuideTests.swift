import Foundation
import Testing
@testable import RNNCommands

/// The commands of examples/lsrl/README.md print what the guide says they print.
@Suite struct ExampleGuideTests {
    /// Each ```sh block's command and the first `code span` after the block: the output's
    /// last values.
    static func commands(in path: String) throws -> [(command: String, tail: [String])] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var found: [(String, [String])] = []
        for part in text.components(separatedBy: "```sh\n").dropFirst() {
            let pieces = part.components(separatedBy: "```")
            guard pieces.count >= 2 else { continue }
            let after = pieces[1].components(separatedBy: "`")
            guard after.count >= 2 else { continue }
            found.append((pieces[0].trimmingCharacters(in: .whitespacesAndNewlines), after[1].split(separator: " ").map(String.init)))
        }
        return found
    }

    @Test func lsrlGuideCommandsPrintWhatItSays() throws {
        let commands = try Self.commands(in: repoRoot + "/examples/lsrl/README.md")
        #expect(commands.count == 3)
        for (command, tail) in commands {
            #expect(command.hasPrefix("swift run rnnc "))
            let args = command.split(separator: " ").dropFirst(3).map { $0.hasPrefix("examples/") ? repoRoot + "/" + $0 : String($0) }
            let r = rnnc(Array(args) + stdlibArgs)
            #expect(r.code == 0, "\(command): \(r.stderr)")
            let printed = r.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
            #expect(Array(printed.suffix(tail.count)) == tail, "\(command) printed \(r.stdout)")
        }
    }
}
