/// Generates tokens with a language model: a model whose one input is a token input
/// (`input token: 0..<V`) and whose output is `V` logits. The prompt runs through the scan
/// program (in chunks, each from the states the last one left); its final states seed a step
/// session that makes one new token per step, each fed back as the next input.
public final class Generator<Scalar: BinaryFloatingPoint & Sendable> {
    /// The model's step program.
    public let program: StepProgram
    /// The number of token ids (`V` of `input token: 0..<V`).
    public let vocabulary: Int
    private let scan: ScanRunner<Scalar>
    private let session: StepSession<Scalar>
    private var sampler: Sampler
    /// The scan program's buffers, kept from chunk to chunk (fresh pages for every chunk cost
    /// more than the chunk's arithmetic at mamba-130m's width).
    private let workspace: ScanRunner<Scalar>.Workspace
    /// The logits for the next token (after the prompt or the last new token).
    private var logits: [Double]?

    /// Most tokens of the prompt per scan run: each chunk's states seed the next.
    package static var prefillChunk: Int { 512 }

    /// Tokens per scan run for this model: `prefillChunk`, or fewer where the scan program's
    /// buffers for that many would pass `scanMemoryLimit` (a wide model keeps a row per token
    /// for every value).
    public var chunk: Int {
        var n = max(1, preferredChunk)
        while n > ExecutionMode.scanThreshold, scan.workspaceBytes(steps: n, batch: 1) > scanMemoryLimit { n /= 2 }
        return n
    }

    /// Most tokens per scan run: `prefillChunk` unless set.
    public var preferredChunk = Generator.prefillChunk

    /// Most bytes the scan program's buffers may take during prefill.
    public var scanMemoryLimit = ExecutionMode.defaultScanMemoryLimit

    /// A generator for a language model; throws when the model's one input is not a
    /// token input or its output is not one logit per token id.
    public init(model: Artifact.Model, sampler: Sampler, threads: Int? = nil) throws(RuntimeError) {
        let program = model.program
        guard program.inputs.count == 1, let vocabulary = program.inputs[0].vocabulary else {
            throw .inputMismatch("generation needs a model whose one input is a token input (input token: 0..<V); '\(program.modelName)' takes \(program.inputs.map(\.signature).joined(separator: ", "))")
        }
        guard program.outputWidth == vocabulary else {
            throw .inputMismatch("generation needs a model whose output is its \(vocabulary) logits; '\(program.modelName)' outputs \(program.outputWidth) values")
        }
        if let problem = sampler.problem { throw .inputMismatch(problem) }
        self.program = program
        self.vocabulary = vocabulary
        // One copy of the weights for prefill and decode (a language model's are large).
        let weights = ConvertedWeights<Scalar>(program, multiplied: model.plan.matrixIndices)
        scan = try ScanRunner<Scalar>(program: program, plan: model.plan, weights: weights)
        session = try StepSession<Scalar>(program: program, threads: threads, weights: weights)
        workspace = ScanRunner<Scalar>.Workspace(threads: session.threads)
        self.sampler = sampler
    }

    /// The states now, in the order of `program.states` (as state files store them).
    package var states: [[Double]] { session.stateValues() }

    /// The names of the model's states, as `rnnc check` prints them.
    public var stateNames: [String] { session.stateNames }

    /// The current value of the state called `name`, after the prompt and the tokens made.
    public func state(_ name: String) throws(RuntimeError) -> [Scalar] { try session.state(name) }

    /// Starts over from the initial states and runs the prompt. `progress` hears the number
    /// of prompt tokens done after each chunk.
    public func prefill(_ prompt: [Int], progress: ((Int) -> Void)? = nil) throws(RuntimeError) {
        try prefill(prompt, from: nil, progress: progress)
    }

    /// `prefill`, starting from `states` in the order of `program.states` (nil: the initial
    /// states), as `rnnc generate --initial-state` does.
    package func prefill(_ prompt: [Int], from states: [[Double]]?, progress: ((Int) -> Void)? = nil) throws(RuntimeError) {
        guard !prompt.isEmpty else { throw .inputMismatch("the prompt is empty; generation needs at least one token") }
        let tokens = prompt.map { [Double($0)] }
        try program.checkIDs(tokens)
        var current = try states.map { s throws(RuntimeError) in try program.checkStateValues(s); return s } ?? program.states.map { program.vectors[$0.initial] }
        var last: [Double] = []
        var done = 0
        let size = chunk
        while done < tokens.count {
            let chunk = Array(tokens[done..<min(tokens.count, done + size)])
            if chunk.count >= ExecutionMode.scanThreshold {
                let run = try scan.runToEnd(batch: [chunk], from: [current], workspace: workspace)
                (current, last) = (run.states[0], run.lastOutputs[0])
            } else {
                try session.setStates(current)
                for token in chunk { last = try session.step(doubles: token) }
                current = session.stateValues()
            }
            done += chunk.count
            progress?(done)
        }
        try session.setStates(current)
        logits = last
    }

    /// The next new token: sampled from the logits, then fed to the model.
    public func next() throws(RuntimeError) -> Int {
        guard let logits else { throw .inputMismatch("generation has no prompt yet: call prefill first") }
        let id = sampler.next(logits)
        self.logits = try session.step(doubles: [Double(id)])
        return id
    }
}

/// The new tokens of a generation as an `AsyncSequence`: `for try await id in TokenStream(...)`.
/// Each element is made when asked for (the work runs on the caller's task).
public struct TokenStream: AsyncSequence {
    /// A new token's id.
    public typealias Element = Int

    let model: Artifact.Model
    let prompt: [Int]
    let maxNew: Int
    let sampler: Sampler
    let float32: Bool
    let stopIDs: Set<Int>

    /// `maxNew` tokens after `prompt`, or fewer when one of `stopIDs` is made (it is the last).
    public init(model: Artifact.Model, prompt: [Int], maxNew: Int, sampler: Sampler = Sampler(), float32: Bool = false, stopIDs: Set<Int> = []) {
        (self.model, self.prompt, self.maxNew, self.sampler, self.float32, self.stopIDs) = (model, prompt, maxNew, sampler, float32, stopIDs)
    }

    /// Makes the tokens one by one.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: TokenStream
        var made = 0
        var stopped = false
        var float: Generator<Float>?
        var double: Generator<Double>?

        /// The next new token, or nil after `maxNew` tokens or a stop id.
        public mutating func next() async throws -> Int? {
            guard made < stream.maxNew, !stopped else { return nil }
            if made == 0 {
                if stream.float32 {
                    float = try Generator<Float>(model: stream.model, sampler: stream.sampler)
                    try float!.prefill(stream.prompt)
                } else {
                    double = try Generator<Double>(model: stream.model, sampler: stream.sampler)
                    try double!.prefill(stream.prompt)
                }
            }
            let id = try float?.next() ?? double!.next()
            made += 1
            stopped = stream.stopIDs.contains(id)
            return id
        }
    }

    /// An iterator that starts the generation with the prompt.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }
}
