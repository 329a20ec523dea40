import ArgumentParser
import Foundation
import RNNCompiler

extension RNNCommand {
    /// `rnnc test [PATH...]`: runs conformance specs.
    public struct Test: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Run YAML conformance specs (specs/README.md) and report each failure with a diff.",
            discussion: "PATH is a spec file or a folder searched for .yaml files (default: specs). Ends with 'N passed, N failed'; exits 1 when any failed.")

        @Argument(help: "Spec files or folders.")
        public var paths: [String] = ["specs"]

        @Option(help: ArgumentHelp("The standard library folder.", valueName: "dir"))
        public var stdlib: String?

        public init() {}

        public func run() throws {
            let files = SpecRunner.specFiles(paths)
            if files.isEmpty {
                Console.err("no spec files under \(paths.joined(separator: ", "))\n")
                throw ExitStatus.missingInput
            }
            var passed = 0, failed = 0
            let stdlibPath = StdlibLocator.locate(override: stdlib)
            for file in files {
                let specs: [Spec]
                do { specs = try Spec.load(path: file) } catch {
                    Console.out("FAIL \(file)\n  \(error)\n")
                    failed += 1
                    continue
                }
                for spec in specs {
                    let failures = SpecRunner.run(spec, stdlib: stdlibPath)
                    if failures.isEmpty { passed += 1 } else {
                        failed += 1
                        for f in failures { Console.out(f.description + "\n") }
                    }
                }
            }
            Console.out("\(passed) passed, \(failed) failed\n")
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
