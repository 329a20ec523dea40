import ArgumentParser
import Foundation
import RNNCompiler
import RNNRuntime

extension RNNCommand {
    /// `rnnc graph FILE [-o out.dot|out.svg|out.png]`: the IR as a picture.
    package struct Graph: ParsableCommand {
        package static let configuration = CommandConfiguration(
            abstract: "Draw a model's IR as a Graphviz graph.",
            discussion: """
                One node per value that reaches an output or a state; each state's new value loops \
                back to its read (a dashed edge), and each state is coloured by the class of its \
                recurrence (as 'rnnc check' prints it). Constants and weight matrices show their \
                shape and sparsity. Writes DOT to standard output, or to -o; an -o ending in .svg, \
                .png or .pdf is rendered with Graphviz's 'dot', which must be on PATH.
                """)

        package enum Stage: String, ExpressibleByArgument, CaseIterable {
            case ir, irOpt = "ir-opt", layers
        }

        package enum Format: String, ExpressibleByArgument, CaseIterable {
            case dot, svg, png, pdf
        }

        @Argument(help: "The .rnn source file.")
        package var file: String

        @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the graph; its extension picks the format.", valueName: "path"))
        package var output: String?

        @Option(help: "The format: dot, svg, png or pdf (default: from -o's extension, else dot).")
        package var format: Format?

        @Option(help: "Which IR to draw: ir (as elaborated, closest to the source), ir-opt (after the optimizer) or layers (the layer chain, docs/layers.md).")
        package var stage: Stage = .ir

        @OptionGroup package var compile: CompileOptions

        package init() {}

        /// Most nodes a graph may have to be rendered (Graphviz's layout grows faster than
        /// linearly; a DOT file of any size is still written).
        package static let maxRenderedNodes = 5_000

        package func validate() throws {
            if file.hasSuffix(".rnnc") {
                throw ValidationError("'\(file)' is a compiled artifact, which holds a step program but no IR; draw its .rnn source")
            }
            if format == nil, let output, !output.isEmpty, output != "-", Format(rawValue: (output as NSString).pathExtension.lowercased()) == nil,
               !["gv"].contains((output as NSString).pathExtension.lowercased()) {
                throw ValidationError("cannot tell the format of '\(output)' from its extension; use .dot, .gv, .svg, .png or .pdf, or pass --format")
            }
        }

        package func run() throws {
            let program: IRProgram
            switch stage {
            case .ir: program = try compile.compileModel(file).ir
            case .irOpt: program = try compile.compileModel(file).optimized
            case .layers: program = try compile.compileLayerChain(file).chain.asIR()
            }
            let dot = Graphviz.dot(program)
            let chosen = format ?? output.flatMap { Format(rawValue: ($0 as NSString).pathExtension.lowercased()) } ?? .dot
            var bytes = Array(dot.utf8)
            if chosen != .dot {
                let nodes = program.liveNodes().filter { $0 }.count
                guard nodes <= Self.maxRenderedNodes else {
                    Console.err("error: the graph has \(nodes) nodes, more than the \(Self.maxRenderedNodes) rnnc renders; write DOT instead (-o graph.dot) or draw a smaller model\n")
                    throw ExitStatus.dataError
                }
                bytes = try Self.render(dot, as: chosen)
            }
            guard let output else {
                // Text goes through the console (tests capture it); PNG and PDF are bytes.
                if chosen == .dot || chosen == .svg { Console.out(String(decoding: bytes, as: UTF8.self)) } else { FileHandle.standardOutput.write(Data(bytes)) }
                return
            }
            do { try writeAtomically(bytes, to: output) } catch { throw ExitStatus.report(error) }
        }

        /// Runs Graphviz's `dot -T<format>` on the graph and returns what it prints.
        static func render(_ dot: String, as format: Format) throws -> [UInt8] {
            guard let executable = findExecutable("dot") else {
                Console.err("error: rendering \(format.rawValue) needs Graphviz's 'dot' on PATH (Debian: apt-get install graphviz); write DOT instead (-o graph.dot)\n")
                throw ExitStatus.runtimeError
            }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-graph-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
            try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let input = scratch.appendingPathComponent("graph.dot"), rendered = scratch.appendingPathComponent("graph.out")
            let errors = scratch.appendingPathComponent("stderr")
            do {
                try Data(dot.utf8).write(to: input)
                _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = ["-T\(format.rawValue)", "-o", rendered.path, input.path]
                process.standardError = try FileHandle(forWritingTo: errors)
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    let message = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
                    Console.err("error: Graphviz's dot failed (status \(process.terminationStatus)): \(message.prefix(2000))\n")
                    throw ExitStatus.runtimeError
                }
                return Array(try Data(contentsOf: rendered))
            } catch let code as ExitCode {
                throw code
            } catch {
                Console.err("error: cannot run Graphviz's dot: \(error.localizedDescription)\n")
                throw ExitStatus.runtimeError
            }
        }

        /// The first executable file named `name` in PATH's folders.
        static func findExecutable(_ name: String) -> String? {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            for folder in path.split(separator: ":") where !folder.isEmpty {
                let candidate = "\(folder)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            return nil
        }
    }
}
