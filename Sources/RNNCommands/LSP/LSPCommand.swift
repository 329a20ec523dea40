import ArgumentParser
import Foundation
import RNNCompiler

extension RNNCommand {
    /// `rnnc lsp`: the language server for editors.
    package struct LSP: ParsableCommand {
        package static let configuration = CommandConfiguration(
            commandName: "lsp",
            abstract: "Run the language server for editors (LSP 3.17 over standard input and output).",
            discussion: """
                Editors start it and talk to it; people do not type to it. It reports diagnostics \
                as a document changes (the codes of docs/diagnostics.md), shows a name's shape, \
                compile-time value or state recurrence class on hover, goes to definitions across \
                `use` imports and into the stdlib, completes names in scope and functions with \
                their signatures, and formats documents as `rnnc fmt` does. See docs/editors.md.
                """)

        @Option(help: ArgumentHelp("The standard library's folder (default: $RNNC_STDLIB, then the one installed with rnnc).", valueName: "dir"))
        package var stdlib: String?

        package init() {}

        package func run() throws {
            let output = FileHandle.standardOutput
            let server = LanguageServer(stdlib: StdlibLocator.locate(override: stdlib)) { output.write($0) }
            let status = server.serve(input: FileHandle.standardInput)
            if status != 0 { throw ExitCode(status) }
        }
    }
}
