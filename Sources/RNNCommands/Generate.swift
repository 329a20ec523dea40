import ArgumentParser
import Foundation
import RNNCompiler
import RNNRuntime

extension RNNCommand {
    /// `rnnc generate MODEL --prompt-ids 1,2,3 --max-new N`.
    package struct Generate: ParsableCommand {
        package static let configuration = CommandConfiguration(
            abstract: "Generate tokens with a language model (.rnn source or .rnnc artifact).",
            discussion: """
                The model's one input is a token input (input token: 0..<V) and its output is V \
                logits. The prompt runs through the scan program (in chunks of up to 512 tokens, \
                fewer for a model whose scan buffers would pass 4 GiB, with a progress line on \
                standard error for longer prompts); its final states seed the \
                step program, which makes one new token per step, each fed back as the next input. \
                Each new token is printed as soon as it is made: its id followed by a space, or, \
                with --prompt-text, its byte (a byte-level vocabulary: ids 0-255 are bytes).

                Sampling: greedy (the likeliest id) at temperature 0, the default; above 0, ids are \
                drawn from softmax(logits / temperature), kept to the --top-k likeliest and then to \
                the smallest set whose probability reaches --top-p. --seed makes a run reproducible.
                """)

        @Argument(help: "A .rnn source file or a .rnnc artifact.")
        package var file: String

        @Option(help: ArgumentHelp("The prompt as token ids, separated by commas or spaces.", valueName: "ids"))
        package var promptIds: String?

        @Option(help: ArgumentHelp("The prompt as text, one token per UTF-8 byte (byte-level vocabularies).", valueName: "text"))
        package var promptText: String?

        @Option(help: ArgumentHelp("How many new tokens to make.", valueName: "n"))
        package var maxNew: Int = 64

        @Option(help: "0 for greedy decoding; above 0, sample from softmax(logits / temperature).")
        package var temperature: Double = 0

        @Option(help: ArgumentHelp("Sample only from the k likeliest ids.", valueName: "k"))
        package var topK: Int?

        @Option(help: ArgumentHelp("Sample only from the likeliest ids whose probabilities reach p.", valueName: "p"))
        package var topP: Double = 1

        @Option(help: "The seed of the sampler.")
        package var seed: UInt64 = 0

        @Option(help: ArgumentHelp("Stop after making this id (repeatable).", valueName: "id"))
        package var stopId: [Int] = []

        @Option(help: "Arithmetic precision: float32, float64, or auto (the model's own).")
        package var dtype: Run.DType = .auto

        @Option(help: ArgumentHelp("The cores to use (default: all).", valueName: "n"))
        package var threads: Int?

        @Option(help: ArgumentHelp("Start from the states in this safetensors file (as 'rnnc run --initial-state'): continue a generation.", valueName: "path"))
        package var initialState: String?

        @Option(help: ArgumentHelp("Write the states after the last token made (as 'rnnc run --final-state'), to continue later.", valueName: "path"))
        package var finalState: String?

        @OptionGroup package var compile: CompileOptions

        package init() {}

        package func validate() throws {
            try compile.refuseSourceOnlyOptions(for: file)
            if (promptIds == nil) == (promptText == nil) { throw ValidationError("give the prompt with --prompt-ids or --prompt-text (one of them)") }
            if promptText?.isEmpty == true { throw ValidationError("--prompt-text is empty; generation needs at least one token") }
            if !(0...1_000_000).contains(maxNew) { throw ValidationError("--max-new must be between 0 and 1000000") }
            if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024") }
            if dtype == .exact { throw ValidationError("generate runs the step engine in float32 or float64; --dtype exact is for 'rnnc run'") }
            if let problem = Sampler(temperature: temperature, topK: topK, topP: topP).problem { throw ValidationError(problem) }
        }

        /// The prompt's ids, from --prompt-ids or --prompt-text.
        func prompt() throws -> [Int] {
            if let promptText { return Array(promptText.utf8).map(Int.init) }
            let fields = promptIds!.split(whereSeparator: { $0 == "," || $0 == " " })
            guard !fields.isEmpty else { throw ValidationError("--prompt-ids is empty; generation needs at least one token") }
            return try fields.map { field in
                guard let id = Int(field), id >= 0 else { throw ValidationError("--prompt-ids: '\(field.prefix(40))' is not a token id (an integer from 0)") }
                return id
            }
        }

        package func run() throws {
            let prompt = try prompt()
            do {
                let model = file.hasSuffix(".rnnc") ? try Artifact.load(path: file) : try compile.compileModel(file).model
                let float32 = dtype == .auto ? model.precision == .float32 : dtype == .float32
                if float32 { try generate(Float.self, model, prompt) } else { try generate(Double.self, model, prompt) }
            } catch let error as RuntimeError {
                throw ExitStatus.report(error)
            }
        }

        private func generate<Scalar: BinaryFloatingPoint & Sendable>(_: Scalar.Type, _ model: Artifact.Model, _ prompt: [Int]) throws {
            let generator = try Generator<Scalar>(model: model, sampler: Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed), threads: threads)
            if promptText != nil, generator.vocabulary < 256 {
                throw RuntimeError.inputMismatch("--prompt-text needs a byte-level vocabulary (at least 256 ids); '\(model.program.modelName)' has \(generator.vocabulary)")
            }
            let long = prompt.count > generator.chunk
            let start = Date()
            let layout = StateFile.Layout(model.program)
            let initial = try initialState.map { path throws(RuntimeError) in try StateFile.read(path: path, layout: layout, sequences: 1)[0] }
            do {
                try generator.prefill(prompt, from: initial) { done in
                    if long { Console.err("prefill: \(done)/\(prompt.count) tokens\n") }
                }
            } catch RuntimeError.inputMismatch(let message) {
                throw RuntimeError.inputMismatch("the prompt: \(message)")
            }
            if long {
                let seconds = Date().timeIntervalSince(start)
                Console.err(String(format: "prefill: %d tokens in %.2f s (%.0f tokens/s)\n", prompt.count, seconds, Double(prompt.count) / max(seconds, 1e-9)))
            }
            let stops = Set(stopId)
            for _ in 0..<maxNew {
                let id = try generator.next()
                if promptText != nil, id < 256 { Console.out(bytes: [UInt8(id)]) } else { Console.out(promptText != nil ? "<\(id)>" : "\(id) ") }
                if stops.contains(id) { break }
            }
            Console.out("\n")
            // The states after the last id made were fed to the model: what a next prompt continues from.
            if let finalState {
                try OutputFile.write(StateFile.encode([generator.states], layout: layout, batched: false, float32: Scalar.self == Float.self), to: finalState)
            }
        }
    }
}
