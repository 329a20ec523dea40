import ArgumentParser
import Foundation
import RNNCompiler
import RNNRuntime

extension RNNCommand {
    /// `rnnc run FILE.rnn|FILE.rnnc --input PATH`.
    package struct Run: ParsableCommand {
        package static let configuration = CommandConfiguration(
            abstract: "Run a model (.rnn source or compiled .rnnc artifact) on input sequences.",
            discussion: """
                Inputs: JSON (a list of tokens, each a number or a list of numbers, or a list of \
                such sequences for a batch), CSV (one token per row) or NumPy .npy ([T, n] or \
                [B, T, n], float32 or float64). A token is the model's inputs concatenated in \
                declaration order. Every sequence of a batch starts from the initial states.

                Outputs go to standard output as text (one token per line, sequences separated by a \
                blank line) or to --output in the format of its extension, written atomically.

                --mode step runs one token at a time; --mode scan runs whole sequences (batched \
                matrix products, associative scans for scan-able states); auto (the default) picks \
                scan for sequences of 4 tokens or more. --stream reads one token per line from \
                standard input (numbers separated by spaces or commas) and prints each output as \
                soon as it is computed.

                --initial-state FILE starts from the states in a safetensors file: one tensor per                 state, named by its path as 'rnnc check' prints it (h, lstm#1.c), shaped [k] for                 every sequence or [B, k] for each sequence of a batch; a state it lacks starts from                 its initial value. --final-state OUT writes each sequence's states after its last                 token the same way ([k] for one sequence, [B, k] for a batch).
                """)

        package enum DType: String, ExpressibleByArgument, CaseIterable {
            case auto, float32, float64, exact
        }

        /// The formats an input file may have (text is written, not read).
        package enum InputFormat: String, ExpressibleByArgument, CaseIterable {
            case json, csv, npy

            var dataFormat: DataFormat { DataFormat(rawValue: rawValue)! }
        }

        package enum Engine: String, ExpressibleByArgument, CaseIterable {
            case step, interpreter
        }

        @Argument(help: "A .rnn source file or a .rnnc artifact.")
        package var file: String

        @Option(help: ArgumentHelp("The input data file (.json, .csv or .npy); not with --stream.", valueName: "path"))
        package var input: String?

        @Flag(help: "Read tokens from standard input, one per line, and print each output line at once.")
        package var stream = false

        @Option(help: "Execution: step, scan or auto.")
        package var mode: ExecutionMode = .auto

        @Option(help: ArgumentHelp("Most memory the scan program's buffers may take, in GiB: beyond it auto runs step by step and scan fails.", valueName: "GiB"))
        package var scanMemory: Double = Double(ExecutionMode.defaultScanMemoryLimit) / Double(1 << 30)

        @Option(help: "The input format when the extension does not say: json, csv or npy.")
        package var inputFormat: InputFormat?

        @Option(help: ArgumentHelp("Write outputs here instead of standard output.", valueName: "path"))
        package var output: String?

        @Option(help: "The output format: json, csv, npy or text (default: from --output's extension, else text).")
        package var outputFormat: DataFormat?

        @Option(help: """
            Arithmetic precision: float32, float64, auto (the model's own: float32 when its \
            weights come from a weights file, float64 when every weight is written in the source), \
            or exact (rational arithmetic and certified enclosures, .rnn only; docs/exact.md).
            """)
        package var dtype: DType = .auto

        @Option(help: ArgumentHelp("Most bits exact mode's enclosures carry before it gives up on deciding an output.", valueName: "bits"))
        package var exactBits: Int = ExactInterpreter.defaultMaxBits

        @Option(help: "step: the runtime's step program; interpreter: the reference IR interpreter (float64, .rnn only).")
        package var engine: Engine = .step

        @Option(help: "rnnc: the program; layers: its layer chain (docs/layers.md), .rnn only.")
        package var target: Compile.Target = .rnnc

        @Option(help: "Print numbers with this many significant digits (default: shortest exact form).")
        package var digits: Int?

        @Option(help: ArgumentHelp("The cores to use (default: all).", valueName: "n"))
        package var threads: Int?

        @Option(help: ArgumentHelp("Start from the states in this safetensors file (see below).", valueName: "path"))
        package var initialState: String?

        @Option(help: ArgumentHelp("Write the states after the last token to this safetensors file.", valueName: "path"))
        package var finalState: String?

        @OptionGroup package var compile: CompileOptions

        package init() {}

        package func validate() throws {
            try compile.refuseSourceOnlyOptions(for: file)
            if let output, outputFormat == nil, !(output as NSString).pathExtension.isEmpty, DataFormat(path: output) == nil {
                throw ValidationError("cannot tell the output format from '\(output)': use .json, .csv, .npy or .txt, or pass --output-format")
            }
            if stream == (input != nil) { throw ValidationError(stream ? "--stream reads standard input; drop --input" : "give --input PATH, or --stream") }
            if let digits, !(1...17).contains(digits) { throw ValidationError("--digits must be between 1 and 17") }
            if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024") }
            if !(scanMemory > 0 && scanMemory <= 1_048_576) { throw ValidationError("--scan-memory takes a number of GiB above 0 (at most 1048576)") }
            if engine == .interpreter && dtype == .float32 { throw ValidationError("the interpreter runs in float64 only") }
            if engine == .interpreter && file.hasSuffix(".rnnc") { throw ValidationError("the interpreter runs .rnn sources; an artifact runs on the step engine") }
            if target == .layers && file.hasSuffix(".rnnc") { throw ValidationError("--target layers builds the layer chain of a .rnn source; an artifact holds a step program") }
            if outputFormat == .npy && output == nil { throw ValidationError("--output-format npy writes a binary file; give it --output PATH") }
            if dtype == .exact { try validateExact() }
            if !(ExactInterpreter.startBits...1 << 20).contains(exactBits) { throw ValidationError("--exact-bits must be between \(ExactInterpreter.startBits) and \(1 << 20)") }
        }

        package func run() throws {
            if stream { return try runStream() }
            guard let input else { return }
            do {
                guard let inFormat = inputFormat?.dataFormat ?? DataFormat(path: input) else {
                    throw ValidationError("cannot tell the format of '\(input)' from its extension; pass --input-format")
                }
                let data = try SequenceData.read(path: input, format: inFormat)
                if dtype == .exact { return try runExact(data, inputFormat: inFormat) }
                let run: StatefulRun
                do { run = try execute(data) } catch RuntimeError.inputMismatch(let message) {
                    throw RuntimeError.inputMismatch("\(input): \(message)")  // the data is at fault: say which file
                }
                let (result, float32) = (run.outputs, run.float32)
                let outFormat = outputFormat ?? output.flatMap { DataFormat(path: $0) } ?? .text
                if let output {
                    try result.write(path: output, format: outFormat, float32: float32, precision: digits)
                } else {
                    let bytes = try result.encode(format: outFormat, float32: float32, precision: digits)
                    Console.out(String(decoding: bytes, as: UTF8.self))
                }
                if let finalState {
                    try OutputFile.write(StateFile.encode(run.finalStates, layout: run.layout, batched: data.isBatch, float32: float32), to: finalState)
                }
            } catch let error as RuntimeError {
                throw ExitStatus.report(error)
            }
        }

        /// Exact mode has its own engine: the elaborated IR of a source, a whole input file.
        private func validateExact() throws {
            if file.hasSuffix(".rnnc") { throw ValidationError("--dtype exact runs .rnn sources: an artifact holds floating-point weights only") }
            if stream { throw ValidationError("--dtype exact runs an input file; --stream is for the step engine") }
            if target == .layers { throw ValidationError("--dtype exact runs the program, not its layer chain") }
            if engine != .step { throw ValidationError("--dtype exact is an engine of its own; drop --engine") }
            if mode != .auto { throw ValidationError("--dtype exact runs token by token; drop --mode") }
            if digits != nil { throw ValidationError("--dtype exact prints exact values or correctly rounded ones; drop --digits") }
            if finalState != nil { throw ValidationError("--final-state writes floating-point states; --dtype exact does not write them") }
        }

        private func runExact(_ data: SequenceData, inputFormat: DataFormat) throws {
            let run = ExactRun(compile: compile, file: file, maxBits: exactBits)
            let result = try run.run(data, format: inputFormat, initialState: initialState)
            let outFormat = outputFormat ?? output.flatMap { DataFormat(path: $0) } ?? .text
            let width = result.outputs.first?.first?.count ?? 0
            let bytes = try ExactRun.encode(result, width: width, isBatch: data.isBatch, format: outFormat)
            if let output { try writeAtomically(bytes, to: output) } else { Console.out(String(decoding: bytes, as: UTF8.self)) }
        }

        private func loadModel() throws -> Artifact.Model {
            if file.hasSuffix(".rnnc") { return try Artifact.load(path: file) }
            guard target == .layers else { return try compile.compileModel(file).model }
            let (compiled, chain) = try compile.compileLayerChain(file)
            let (program, plan) = ScanLowering.lower(chain.asIR())
            return Artifact.Model(program: program, plan: plan, precision: compiled.model.precision)
        }

        /// The IR the interpreter runs: the program's, or its layer chain's.
        private func interpretedIR() throws -> IRProgram {
            target == .layers ? try compile.compileLayerChain(file).chain.asIR() : try compile.compileModel(file).ir
        }

        /// Whether a model runs in Float32: `--dtype`, or the model's own precision for auto.
        private func runsInFloat32(_ model: Artifact.Model) -> Bool {
            switch dtype {
            case .auto: model.precision == .float32
            case .float32: true
            case .float64, .exact: false
            }
        }

        /// The outputs, whether they were computed in Float32, and the final states when asked for.
        private func execute(_ data: SequenceData) throws -> StatefulRun {
            let count = data.sequences.count
            guard engine == .interpreter else {
                let model = try loadModel()
                let float32 = runsInFloat32(model)
                let layout = StateFile.Layout(model.program)
                let initial = try initialState.map { path throws(RuntimeError) in try StateFile.read(path: path, layout: layout, sequences: count) }
                let run = try runModelKeepingStates(model, on: data, from: initial, keepStates: finalState != nil, mode: mode, float32: float32,
                                                    scanMemoryLimit: Int(scanMemory * Double(1 << 30)), threads: threads)
                return StatefulRun(outputs: run.outputs, float32: float32, layout: layout, finalStates: run.finalStates)
            }
            let ir = try interpretedIR()
            guard data.sequences.allSatisfy({ $0.isEmpty }) || data.width == ir.inputWidth else {
                throw RuntimeError.inputMismatch("input tokens have \(data.width) values, but model '\(ir.modelName)' takes \(ir.inputWidth)")
            }
            for (q, sequence) in data.sequences.enumerated() { try ir.inputPorts.checkIDs(sequence, sequence: data.isBatch ? q : nil) }
            let layout = StateFile.Layout(ir)
            let initial = try initialState.map { path throws(RuntimeError) in try StateFile.read(path: path, layout: layout, sequences: count) }
            var interpreter = Interpreter(program: ir)
            var outputs: [[[Double]]] = [], finals: [[[Double]]] = []
            for (q, sequence) in data.sequences.enumerated() {
                interpreter.states = initial?[q] ?? layout.initial
                outputs.append(sequence.map { interpreter.step($0) })
                finals.append(interpreter.states)
            }
            return StatefulRun(outputs: SequenceData(sequences: outputs, width: ir.outputWidth, isBatch: data.isBatch), float32: false,
                               layout: layout, finalStates: finals)
        }

        /// One token per input line; one output line per token, flushed.
        private func runStream() throws {
            let model: Artifact.Model
            do { model = try loadModel() } catch let error as RuntimeError { throw ExitStatus.report(error) }
            do {
                if runsInFloat32(model) {
                    try stream(StepSession<Float>(program: model.program, threads: threads))
                } else {
                    try stream(StepSession<Double>(program: model.program, threads: threads))
                }
            } catch let error as RuntimeError {
                throw ExitStatus.report(error)
            }
        }

        private func stream<Scalar>(_ session: StepSession<Scalar>) throws {
            let layout = StateFile.Layout(session.program)
            if let initialState { try session.setStates(StateFile.read(path: initialState, layout: layout, sequences: 1)[0]) }
            var lineNumber = 0
            while let line = Console.readLine() {
                lineNumber += 1
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "[" || $0 == "]" })
                if fields.isEmpty { continue }
                var token: [Double] = []
                for f in fields {
                    guard let v = parseNumber(f) else {
                        let column = line.distance(from: line.startIndex, to: f.startIndex) + 1
                        throw RuntimeError.badFile(path: "<stdin>", line: lineNumber, column: column, message: "expected a number, found '\(f.prefix(40))'", lineText: line)
                    }
                    token.append(v)
                }
                guard token.count == session.program.inputWidth else {
                    throw RuntimeError.badFile(path: "<stdin>", line: lineNumber, column: 1,
                                               message: "token has \(token.count) values, the model's input has \(session.program.inputWidth)", lineText: line)
                }
                if let problem = token.withUnsafeBufferPointer({ session.program.idProblem(in: $0) }) {
                    throw RuntimeError.badFile(path: "<stdin>", line: lineNumber, column: 1, message: problem, lineText: line)
                }
                let out = try session.step(doubles: token)
                Console.out(out.map { formatNumber($0, float32: Scalar.self == Float.self, precision: digits) }.joined(separator: " ") + "\n")
            }
            if let finalState {
                try OutputFile.write(StateFile.encode([session.stateValues()], layout: layout, batched: false, float32: Scalar.self == Float.self), to: finalState)
            }
        }
    }
}

/// What `run` computed: the outputs, their precision, and the states after each sequence.
struct StatefulRun {
    var outputs: SequenceData
    var float32: Bool
    var layout: StateFile.Layout
    var finalStates: [[[Double]]]
}

extension StateFile.Layout {
    /// The IR's states as elaborated (what the interpreter runs), each one source state.
    init(_ ir: IRProgram) {
        self.init(modelName: ir.modelName, named: ir.states.enumerated().map { NamedState(name: $1.name, state: $0, offset: 0, size: $1.size) },
                  initial: ir.states.map(\.initial))
    }
}

extension DataFormat: ExpressibleByArgument {}
extension ExecutionMode: ExpressibleByArgument {}
