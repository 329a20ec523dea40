import ArgumentParser
import Foundation
import RNNCompiler
import RNNRuntime

extension RNNCommand {
    /// `rnnc fmt FILE...`: the canonical layout.
    public struct Format: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "fmt",
            abstract: "Print .rnn files in the canonical layout, or rewrite them in place.",
            discussion: """
                Two-space indentation, one statement per line, a blank line between declarations, \
                minimal parentheses; comments and blank lines between statements are kept. The \
                result parses to the same syntax tree, and formatting it again changes nothing. \
                A file with syntax errors is left alone and its errors are printed (exit 65).
                """)

        @Argument(help: "The .rnn files.")
        public var files: [String]

        @Flag(name: .shortAndLong, help: "Rewrite each file in place (atomically) instead of printing it.")
        public var inPlace = false

        @Flag(help: "Print nothing; exit 1 and name the files that are not in the canonical layout.")
        public var check = false

        public init() {}

        public func validate() throws {
            if inPlace && check { throw ValidationError("--in-place and --check exclude each other") }
        }

        public func run() throws {
            var unformatted: [String] = []
            for path in files {
                let source: SourceFile
                do { source = try Compiler.readSource(path: path) } catch { throw ExitStatus.report(error) }
                let diagnostics = DiagnosticEngine()
                let ast = Parser.parse(source, diagnostics: diagnostics)
                if diagnostics.hasErrors {
                    Console.err(diagnostics.render(color: Console.colorsErrors) + "\n")
                    throw ExitStatus.dataError
                }
                let formatted = Formatter.format(ast)
                if check {
                    if Array(formatted.utf8) != source.bytes { unformatted.append(path) }
                } else if inPlace {
                    if Array(formatted.utf8) != source.bytes {
                        do { try writeAtomically(Array(formatted.utf8), to: path) } catch { throw ExitStatus.report(error) }
                    }
                } else {
                    Console.out(formatted)
                }
            }
            if !unformatted.isEmpty {
                Console.err(unformatted.map { "not formatted: \($0)" }.joined(separator: "\n") + "\n")
                throw ExitCode(1)
            }
        }
    }
}
