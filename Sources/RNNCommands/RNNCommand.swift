import ArgumentParser

/// The `rnnc` command line.
public struct RNNCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rnnc",
        abstract: "A compiler for recurrent models written in the rnn language.",
        discussion: """
            Exit codes: 0 success, 64 usage error, 65 bad input (compile error, or malformed \
            weights, data or artifact), 66 an input file cannot be opened, 70 runtime failure.
            """,
        version: "0.1.0",
        subcommands: [Check.self, Compile.self, Run.self, Export.self, Format.self, Test.self]
    )

    public init() {}
}
