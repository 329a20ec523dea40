import ArgumentParser
import RNNCompiler

/// The `rnnc` command line.
package struct RNNCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "rnnc",
        abstract: "A compiler for recurrent models written in the rnn language.",
        discussion: """
            Exit codes: 0 success, 64 usage error, 65 bad input (compile error, or malformed \
            weights, data or artifact), 66 an input file cannot be opened, 70 runtime failure.
            """,
        version: "\(RNNCommand.version) (commit \(buildCommit))",
        subcommands: [Check.self, Compile.self, Run.self, Generate.self, Export.self, Graph.self, Format.self, Test.self, LSP.self]
    )

    package init() {}

    /// The release this source tree becomes (CHANGELOG.md).
    package static let version = "0.2.0-dev"
}

extension RNNCommand {
    /// A message for a first argument that is no subcommand but close to one (`chek` →
    /// `check`), or nil. ArgumentParser alone would report "unexpected arguments".
    package static func mistypedSubcommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(first) else { return nil }
        guard let name = Suggestions.closest(to: first, among: names) else { return nil }
        return "error: unknown command '\(first)'; did you mean '\(name)'? (commands: \(names.dropLast().joined(separator: ", ")))"
    }
}
