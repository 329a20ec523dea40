import Foundation
import Testing
@testable import RNNCompiler
@testable import RNNRuntime

/// `Generator` against a plain loop over the reference interpreter, on small language models
/// whose recurrences take every scan form (sequential, diagonal, modal).
@Suite struct GenerationTests {
    static let models = [
        // An LSTM language model (sequential), with an embedding and a head.
        """
        use cells.lstm
        model LSTMLM(V = 11, d = 6) {
          input token: 0..<V
          param E: [V, d] = normal(seed: 1)
          param W_ih: [4 * d, d] = normal(seed: 2, std: 0.4)
          param W_hh: [4 * d, d] = normal(seed: 3, std: 0.4)
          param b: [4 * d] = normal(seed: 4, std: 0.1)
          param head: [V, d] = normal(seed: 5)
          output head @ lstm(E[token], W_ih, W_hh, b, b)
        }
        """,
        // A gated diagonal recurrence (minGRU-like) and a dense linear one (modal).
        """
        model ScanLM(V = 9, d = 4) {
          input token: 0..<V
          param E: [V, d] = normal(seed: 6)
          param U: [V, 1] = normal(seed: 7)
          x = E[token]
          state h: [d] = 0
          state r: [2] = [1, 0]
          z = sigmoid(x)
          h <- (1 - z) * h + z * tanh(x)
          r <- 0.9 * rotation(0.5) @ r + U[token]
          output normal(V, d + 2, seed: 8) @ [h, r]
        }
        """,
    ]

    static func compiled(_ source: String) throws -> (ir: IRProgram, model: Artifact.Model) {
        let compiled = try #require(try compileModel(source))
        return (compiled.ir, compiled.model)
    }

    /// Greedy ids by the interpreter: run the prompt, take the argmax, feed it back.
    static func referenceGreedy(_ ir: IRProgram, prompt: [Int], count: Int) -> [Int] {
        var interpreter = Interpreter(program: ir)
        var logits: [Double] = []
        for id in prompt { logits = interpreter.step([Double(id)]) }
        var ids: [Int] = []
        for _ in 0..<count {
            let id = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
            ids.append(id)
            logits = interpreter.step([Double(id)])
        }
        return ids
    }

    @Test(arguments: [3, 40, 1100])
    func greedyMatchesTheInterpreter(promptLength: Int) throws {
        for source in Self.models {
            let (ir, model) = try Self.compiled(source)
            let vocabulary = try #require(ir.inputs[0].vocabulary)
            var random = SplitMix64(seed: UInt64(promptLength))
            let prompt = (0..<promptLength).map { _ in Int(random.next() % UInt64(vocabulary)) }
            let want = Self.referenceGreedy(ir, prompt: prompt, count: 24)
            let generator = try Generator<Double>(model: model, sampler: Sampler())
            var chunks: [Int] = []
            try generator.prefill(prompt) { chunks.append($0) }
            #expect(chunks.last == promptLength && chunks.count == (promptLength + 511) / 512 && generator.chunk == 512)
            // Prefill by scan (in chunks) leaves the states prefill by step does.
            let session = try StepSession<Double>(program: model.program)
            for id in prompt { _ = try session.step([Double(id)]) }
            #expect(close(generator.states, session.stateValues(), tolerance: 1e-9), "\(ir.modelName), \(promptLength) tokens")
            let got = try (0..<24).map { _ in try generator.next() }
            #expect(got == want, "\(ir.modelName), \(promptLength) tokens")
            let float = try Generator<Float>(model: model, sampler: Sampler())
            try float.prefill(prompt)
            #expect(try (0..<8).map { _ in try float.next() } == Array(want.prefix(8)), "\(ir.modelName) float32")
        }
    }

    /// Under a small memory budget the prompt runs in smaller chunks, with the same result.
    @Test func prefillChunksFollowTheMemoryBudget() throws {
        let (ir, model) = try Self.compiled(Self.models[0])
        let prompt = (0..<300).map { $0 % 11 }
        let generator = try Generator<Double>(model: model, sampler: Sampler())
        generator.scanMemoryLimit = 64 << 10
        #expect(generator.chunk < 512 && generator.chunk >= ExecutionMode.scanThreshold)
        var chunks = 0
        try generator.prefill(prompt) { _ in chunks += 1 }
        #expect(chunks == (300 + generator.chunk - 1) / generator.chunk)
        #expect(try (0..<8).map { _ in try generator.next() } == Self.referenceGreedy(ir, prompt: prompt, count: 8))
    }

    /// Sampling is reproducible, follows the seed, and the async stream gives the same ids.
    @Test func samplingIsSeededAndStreamed() async throws {
        let (_, model) = try Self.compiled(Self.models[0])
        func sample(seed: UInt64, topK: Int? = nil, topP: Double = 1) throws -> [Int] {
            let g = try Generator<Double>(model: model, sampler: Sampler(temperature: 0.8, topK: topK, topP: topP, seed: seed))
            try g.prefill([1, 2, 3, 4, 5])
            return try (0..<32).map { _ in try g.next() }
        }
        #expect(try sample(seed: 1) == sample(seed: 1))
        #expect(try sample(seed: 1) != sample(seed: 2))
        var streamed: [Int] = []
        for try await id in TokenStream(model: model, prompt: [1, 2, 3, 4, 5], maxNew: 32, sampler: Sampler(temperature: 0.8, seed: 1)) { streamed.append(id) }
        #expect(streamed == (try sample(seed: 1)))
        // Top-k 1 and a tiny top-p are greedy.
        let greedy = try Generator<Double>(model: model, sampler: Sampler())
        try greedy.prefill([1, 2, 3, 4, 5])
        let greedyIDs = try (0..<32).map { _ in try greedy.next() }
        #expect(try sample(seed: 3, topK: 1) == greedyIDs)
        #expect(try sample(seed: 4, topP: 1e-9) == greedyIDs)
        var stopped: [Int] = []
        let stop = try { () throws -> Int in let g = try Generator<Double>(model: model, sampler: Sampler()); try g.prefill([1]); return try g.next() }()
        for try await id in TokenStream(model: model, prompt: [1], maxNew: 32, stopIDs: [stop]) { stopped.append(id) }
        let firstAfterOne = try Generator<Double>(model: model, sampler: Sampler())
        try firstAfterOne.prefill([1])
        #expect(stopped == [try firstAfterOne.next()])  // greedy: the first id made is the stop id
    }

    /// The sampler draws ids with the softmax's probabilities (within sampling error over
    /// 20,000 seeded draws) and never one outside top-k or top-p.
    @Test func samplerFollowsTheDistribution() {
        let logits = [2.0, 1.0, 0.0, -1.0, .nan]
        var sampler = Sampler(temperature: 1, seed: 7)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<20_000 { counts[sampler.next(logits)] += 1 }
        let weights = logits.prefix(4).map { exp($0) }, total = weights.reduce(0, +)
        for i in 0..<4 {
            let p = weights[i] / total, sd = (p * (1 - p) / 20_000).squareRoot()
            #expect(abs(Double(counts[i]) / 20_000 - p) < 5 * sd, "id \(i): \(counts[i])")
        }
        #expect(counts[4] == 0)
        var topK = Sampler(temperature: 5, topK: 2, seed: 1), topP = Sampler(temperature: 1, topP: 0.7, seed: 1)
        for _ in 0..<2_000 {
            #expect(topK.next(logits) < 2)
            #expect(topP.next(logits) < 2)  // p(0) = 0.64, p(0) + p(1) = 0.88
        }
        #expect(Sampler(temperature: -1).problem != nil && Sampler(topK: 0).problem != nil && Sampler(topP: 0).problem != nil)
    }

    /// A model that is no language model is refused with the reason.
    @Test func refusesModelsThatAreNoLanguageModels() throws {
        let (_, vector) = try Self.compiled("model M { input x: [2] output x }")
        #expect { try Generator<Double>(model: vector, sampler: Sampler()) } throws: { "\($0)".contains("one input is a token input") }
        let (_, narrow) = try Self.compiled("model M { input t: 0..<5 param E: [5, 2] = 1 output E[t] }")
        #expect { try Generator<Double>(model: narrow, sampler: Sampler()) } throws: { "\($0)".contains("output is its 5 logits") }
    }
}
