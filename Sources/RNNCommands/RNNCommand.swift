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

extension RNNCommand {
    /// A message for a first argument that is no subcommand but close to one (`chek` →
    /// `check`), or nil. ArgumentParser alone would report "unexpected arguments".
    public static func mistypedSubcommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(first) else { return nil }
        let close = names.map { ($0, editDistance(first, $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }
        guard let (name, _) = close else { return nil }
        return "error: unknown command '\(first)'; did you mean '\(name)'? (commands: \(names.dropLast().joined(separator: ", ")))"
    }

    /// Levenshtein distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let substitution = previous + (a[i - 1] == b[j - 1] ? 0 : 1)
                previous = row[j]
                row[j] = min(substitution, row[j] + 1, row[j - 1] + 1)
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
