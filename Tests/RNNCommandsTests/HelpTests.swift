import ArgumentParser
import Foundation
import Testing
@testable import RNNCommands

/// Each command's `--help` is what Tests/RNNCommandsTests/Help/NAME.txt holds, as
/// swift-argument-parser's own tests compare help with golden text: a change of an option or
/// its help shows in review. `RNNC_UPDATE_HELP=1 swift test --filter HelpTests` rewrites
/// the files from the commands.
@Suite struct HelpTests {
    static let commands: [(String, ParsableCommand.Type)] = [("rnnc", RNNCommand.self)]
        + RNNCommand.configuration.subcommands.map { ($0._commandName, $0) }

    static let directory = repoRoot + "/Tests/RNNCommandsTests/Help"

    @Test(arguments: commands.map(\.0)) func helpMatchesItsGoldenFile(_ name: String) throws {
        let command = try #require(Self.commands.first { $0.0 == name }?.1)
        let help = RNNCommand.helpMessage(for: command, columns: 100) + "\n"
        let path = "\(Self.directory)/\(name).txt"
        if ProcessInfo.processInfo.environment["RNNC_UPDATE_HELP"] == "1" {
            try help.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        #expect(help == golden, "rnnc \(name) --help differs from \(path); if the change is meant, rerun with RNNC_UPDATE_HELP=1")
    }
}
