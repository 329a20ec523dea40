import ArgumentParser
import Foundation
import RNNCompiler

extension RNNCommand {
    /// `rnnc test [PATH...]`: runs conformance specs.
    package struct Test: ParsableCommand {
        package static let configuration = CommandConfiguration(
            abstract: "Run YAML conformance specs (specs/README.md) and report each failure with a diff.",
            discussion: """
                PATH is a spec file or a folder searched for .yaml files (default: specs). Ends with 'N passed, N failed'; exits 1 when any failed.
                With --coverage, also reports which rules, alternatives and terminals of the grammar the specs' programs exercise and which diagnostic codes they expect, and exits 1 when one is never exercised.
                """)

        @Argument(help: "Spec files or folders.")
        package var paths: [String] = ["specs"]

        @Option(help: ArgumentHelp("The standard library folder.", valueName: "dir"))
        package var stdlib: String?

        @Flag(help: "Report grammar and diagnostic-code coverage; fail when something is never exercised.")
        package var coverage = false

        @Option(help: ArgumentHelp("The grammar for --coverage (default: grammar/rnn.ebnf here or in a parent folder).", valueName: "file"))
        package var grammar: String?

        package init() {}

        package func run() throws {
            let files = SpecRunner.specFiles(paths)
            if files.isEmpty {
                Console.err("no spec files under \(paths.joined(separator: ", "))\n")
                throw ExitStatus.missingInput
            }
            var passed = 0, failed = 0
            let stdlibPath = StdlibLocator.locate(override: stdlib)
            var specCoverage = try coverage ? makeCoverage(files) : nil
            for file in files {
                let specs: [Spec]
                do { specs = try Spec.load(path: file) } catch {
                    Console.out("FAIL \(file)\n  \(error)\n")
                    failed += 1
                    continue
                }
                for spec in specs {
                    specCoverage?.add(spec)
                    let failures = SpecRunner.run(spec, stdlib: stdlibPath)
                    if failures.isEmpty { passed += 1 } else {
                        failed += 1
                        for f in failures { Console.out(f.description + "\n") }
                    }
                }
            }
            if let specCoverage { Console.out(specCoverage.report) }
            Console.out("\(passed) passed, \(failed) failed\n")
            if failed > 0 || specCoverage?.isComplete == false { throw ExitCode(1) }
        }

        private func makeCoverage(_ files: [String]) throws -> SpecCoverage {
            guard let path = grammar ?? SpecCoverage.locateGrammar(near: paths) else {
                Console.err("error: no grammar/rnn.ebnf here or in a parent folder; pass --grammar FILE\n")
                throw ExitStatus.missingInput
            }
            do { return try SpecCoverage(grammarPath: path) } catch {
                Console.err("error: \(error)\n")
                throw ExitStatus.dataError
            }
        }
    }
}
