import ArgumentParser
import Foundation
import RNNCompiler
import RNNRuntime

extension RNNCommand {
    /// `rnnc fmt FILE...`: the canonical layout.
    package struct Format: ParsableCommand {
        package static let configuration = CommandConfiguration(
            commandName: "fmt",
            abstract: "Print .rnn files in the canonical layout, or rewrite them in place.",
            discussion: """
                Two-space indentation, one statement per line, a blank line between declarations, \
                minimal parentheses; comments and blank lines between statements are kept, and a \
                trailing comment keeps its column when the code before it is shorter (aligned \
                comments stay aligned). A line longer than --width breaks: an expression at its \
                loosest operators (+ -, else * / @, else || &&), each continuation line indented \
                four more than the statement and starting with its operator; a call's arguments \
                or a list's items after their commas. The result parses to the same syntax tree, \
                and formatting it again changes nothing. A file with syntax errors is left alone \
                and its errors are printed (exit 65).
                """)

        @Argument(help: "The .rnn files, or folders whose .rnn files (recursively) to format.")
        package var files: [String]

        @Option(help: "The line width to break long lines at.")
        package var width: Int = Formatter.defaultWidth

        @Flag(name: .shortAndLong, help: "Rewrite each file in place (atomically) instead of printing it.")
        package var inPlace = false

        @Flag(help: "Print nothing; exit 1 and name the files that are not in the canonical layout.")
        package var check = false

        package init() {}

        package func validate() throws {
            if inPlace && check { throw ValidationError("--in-place and --check exclude each other") }
            if width < 20 { throw ValidationError("--width must be at least 20") }
        }

        package func run() throws {
            var unformatted: [String] = []
            for path in try Self.sources(files) {
                let source: SourceFile
                do { source = try Compiler.readSource(path: path) } catch { throw ExitStatus.report(error) }
                let diagnostics = DiagnosticEngine()
                let ast = Parser.parse(source, diagnostics: diagnostics)
                if diagnostics.hasErrors {
                    Console.err(diagnostics.render(color: Console.colorsErrors) + "\n")
                    throw ExitStatus.dataError
                }
                let formatted = Formatter.format(ast, width: width)
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

        /// The files, with each folder replaced by its .rnn files (recursively, sorted;
        /// hidden folders and .build skipped).
        static func sources(_ paths: [String]) throws -> [String] {
            var out: [String] = []
            let fm = FileManager.default
            for path in paths {
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                    out.append(path)
                    continue
                }
                guard let walker = fm.enumerator(atPath: path) else { continue }
                var found: [String] = []
                while let item = walker.nextObject() as? String {
                    let name = (item as NSString).lastPathComponent
                    if name.hasPrefix(".") || name == ".build" {
                        walker.skipDescendants()
                        continue
                    }
                    if item.hasSuffix(".rnn") { found.append((path as NSString).appendingPathComponent(item)) }
                }
                guard !found.isEmpty else { throw ValidationError("\(path) holds no .rnn files") }
                out += found.sorted()
            }
            return out
        }
    }
}
