import Testing
@testable import RNNCompiler
@testable import RNNRuntime

/// Matrix states run chunkwise by the scan program (`ScanPlan.Chunked`): which states get the
/// plan, and that it computes what the reference interpreter does where the decays are strong,
/// reach zero or change sign (chunks that run token by token), with several factors and
/// readouts, over many chunks, in Float64 and Float32, with no `[T, m n]` buffers.
@Suite struct ChunkedScanTests {
    /// The plan's chunked recurrences, by the name of their state.
    static func chunkedStates(_ model: Artifact.Model) -> [String] {
        model.plan.stages.compactMap { stage in
            guard case .recurrence(let r) = stage, r.kind == .chunked else { return nil }
            return model.program.states[r.states[0]].name
        }
    }

    static func lower(_ source: String) throws -> (IRProgram, Artifact.Model)? {
        guard let ir = compileOK(source) else { return nil }
        return (ir, ScanLowering.lowerModel(try Optimizer.optimize(ir)))
    }

    /// Deterministic tokens in (-1, 1).
    static func tokens(_ steps: Int, width: Int, seed: UInt64) -> [[Double]] {
        var rng = SplitMix64(seed: seed)
        return (0..<steps).map { _ in (0..<width).map { _ in 2 * rng.nextUnit() - 1 } }
    }

    /// Runs the scan program in Float64 and Float32 and the step program's final states
    /// against the interpreter; the plan must be chunked for every matrix state named.
    func check(_ source: String, chunked names: Set<String>, steps: Int = 300, width: Int, chunkSize: Int? = nil) throws {
        let (ir, compiled) = try #require(try Self.lower(source))
        var model = compiled
        #expect(Set(Self.chunkedStates(model)) == names, "\(model.plan.stages)")
        if let chunkSize {
            model.plan.stages = model.plan.stages.map { stage in
                guard case .recurrence(var r) = stage, r.chunked != nil else { return stage }
                r.chunked!.chunkSize = chunkSize
                return .recurrence(r)
            }
        }
        try model.plan.validate(against: model.program)
        let tokens = Self.tokens(steps, width: width, seed: 5)
        let want = interpret(ir, tokens)
        let scan64 = try ScanRunner<Double>(program: model.program, plan: model.plan)
        #expect(close(try scan64.run(tokens), want, tolerance: 1e-9), "Float64")
        #expect(close(try ScanRunner<Float>(program: model.program, plan: model.plan).run(doubles: tokens), want, tolerance: 1e-3), "Float32")
        let kept = try scan64.runKeepingStates(batch: [tokens, Array(tokens.reversed())])
        for (k, sequence) in [tokens, Array(tokens.reversed())].enumerated() {
            let session = try StepSession<Double>(program: model.program)
            #expect(close(kept.outputs[k], try session.run(sequence), tolerance: 1e-9), "sequence \(k) in a batch")
            #expect(close(kept.states[k], session.stateValues(), tolerance: 1e-9), "final states of sequence \(k)")
        }
    }

    @Test func stdlibCellsWithADecayPerKeyRunChunkwise() throws {
        let source = """
            use cells.linear_attention
            use cells.mamba2
            model M(d = 6, dk = 3, dv = 2) {
              input x: [d]
              param W: [4 * dk + dv, d] = normal(seed: 1, std: 0.4)
              p = W @ x
              q = p[0:dk]
              k = p[dk:2 * dk]
              v = p[2 * dk:2 * dk + dv]
              a = sigmoid(p[2 * dk + dv:3 * dk + dv])
              output linear_attention(q, k, v, S0: 0.5)
              output retention(q, k, v, 0.95)
              output gla(q, k, v, a)
              output ssd_head(v, softplus(p[3 * dk + dv]), -0.7, k, q, 0.3)
              output delta_rule(q, tanh(k) * 0.5, v, sigmoid(p[0:1]))
              output gated_delta_rule(q, tanh(k) * 0.5, v, sigmoid(p[1:2] + 2), sigmoid(p[0:1]))
            }
            """
        try check(source, chunked: ["linear_attention#1.S", "retention#1.S", "gla#1.S", "ssd_head#1.S", "delta_rule#1.S", "gated_delta_rule#1.S"],
                  width: 6)
        try check(source, chunked: ["linear_attention#1.S", "retention#1.S", "gla#1.S", "ssd_head#1.S", "delta_rule#1.S", "gated_delta_rule#1.S"],
                  width: 6, chunkSize: 5)
    }

    /// The delta rule (DeltaNet's normalized keys, W7's shape at a small size) and the gated
    /// delta rule with decays strong enough that chunks run token by token, and a delta rule
    /// whose correction is read before the update, keys along the columns.
    @Test func deltaRulesRunChunkwise() throws {
        let source = """
            use cells.linear_attention
            model M(d = 8, H = 2, dk = 4, dv = 3) {
              input x: [d]
              param W_q: [H * dk, d] = normal(seed: 1, std: 0.3), W_k: [H * dk, d] = normal(seed: 2, std: 0.3)
              param W_v: [H * dv, d] = normal(seed: 3, std: 0.3), W_b: [H, d] = normal(seed: 4, std: 0.3)
              q = W_q @ x
              k = W_k @ x
              v = W_v @ x
              beta = sigmoid(W_b @ x)
              output [for h in 0..<H: delta_rule(q[h * dk:(h + 1) * dk], normalize(k[h * dk:(h + 1) * dk]), v[h * dv:(h + 1) * dv], beta[h])]
              output gated_delta_rule(q[0:dk], normalize(k[0:dk]), v[0:dv], exp(-40 * relu(x[0])), beta[0])
            }

            fn normalize(k) = k / sqrt(sum(k * k))
            """
        try check(source, chunked: ["delta_rule#1.S", "delta_rule#2.S", "gated_delta_rule#1.S"], width: 8)
        try check(source, chunked: ["delta_rule#1.S", "delta_rule#2.S", "gated_delta_rule#1.S"], width: 8, chunkSize: 3)
        let transposed = """
            model M {
              input x: [5]
              state S: [2, 3] = 0.5
              key = tanh(x[0:3]) * 0.5
              before = S @ x[2:5]
              S <- S + outer(0.25 * (x[3:5] - S @ key), key)
              output [before, S @ key]
            }
            """
        try check(transposed, chunked: ["S"], width: 5, chunkSize: 4)
        // Many keys, few values: every packed right-hand side fits the chunk's scratch.
        let narrow = "model M {\n  input x: [22]\n  state S: [20, 2] = 0.1\n  k = tanh(x[0:20]) * 0.2\n  S <- S + outer(k, 0.5 * (x[20:22] - k @ S))\n  output x[1:21] @ S\n}"
        try check(narrow, chunked: ["S"], width: 22)
    }

    /// Decays of e^-30 a step overflow the factored product's range within two tokens; a
    /// gate of 0 or a negative one has no place in it: those chunks run token by token, the
    /// others (weak decays where the input says so) factored, in the same run.
    @Test func strongZeroAndNegativeDecaysRunTokenByToken() throws {
        let source = """
            model M {
              input x: [5]
              state S: [2, 3] = 0.5
              state N: [2, 3] = 0.5
              strength = relu(x[0]) * 60
              S <- transpose(exp(-strength * sigmoid(x[1:3]))) * S + outer(x[1:3], x[2:5])
              N <- transpose(relu(x[3:5]) - 0.3) * N + outer(x[3:5], x[0:3])
              output [x[1:3] @ S, x[0:2] @ N]
            }
            """
        for size in [1, 3, 64] { try check(source, chunked: ["S", "N"], width: 5, chunkSize: size) }
    }

    /// Keys along the columns (`S @ q`) with a column decay; the update scaled by two gates
    /// (`beta * outer(k, v)`) and the decay a product of a scalar and a vector; readouts of the
    /// state before and after the update.
    @Test func factorsAndReadoutsOfEveryKind() throws {
        let source = """
            model M {
              input x: [6]
              state S: [3, 2] = 0.25
              f = sigmoid(x[5])
              before = S @ x[0:2]
              S <- f * (sigmoid(x[1:3]) * S) + sigmoid(x[4]) * outer(x[3:6], tanh(x[0:2]))
              output [before, S @ x[2:4], S @ sigmoid(x[0:2])]
            }
            """
        try check(source, chunked: ["S"], width: 6, chunkSize: 4)
        try check(source, chunked: ["S"], width: 6)
    }

    /// A matrix state read any other way keeps the plans it had.
    @Test func otherReadsKeepTheOtherPlans() throws {
        for read in ["S[0]", "flatten(S)", "sum(S) * x[0:3]"] {
            let source = "model M {\n  input x: [5]\n  state S: [2, 3] = 0\n  S <- transpose(sigmoid(x[0:2])) * S + outer(x[0:2], x[2:5])\n  output [x[0:2] @ S, \(read)]\n}"
            let (_, model) = try #require(try Self.lower(source))
            #expect(Self.chunkedStates(model).isEmpty, "\(read)")
        }
        // Another state takes the update (the same node once common terms merge), or an outer
        // product the form reads through: those values are computed.
        let shared = """
            model M {
              input x: [5]
              state S: [2, 3] = 0.5
              state T: [2, 3] = 0
              state U: [2, 3] = 0
              S <- transpose(sigmoid(x[0:2])) * S + outer(x[0:2], x[2:5])
              T <- transpose(sigmoid(x[0:2])) * S + outer(x[0:2], x[2:5])
              U <- outer(x[0:2], x[2:5])
              output [x[0:2] @ S, x[1:3] @ T, x[0:2] @ U]
            }
            """
        let (ir, model) = try #require(try Self.lower(shared))
        try model.plan.validate(against: model.program)
        let tokens = Self.tokens(100, width: 5, seed: 3)
        #expect(close(try ScanRunner<Double>(program: model.program, plan: model.plan).run(tokens), interpret(ir, tokens), tolerance: 1e-9))
    }

    /// Eight heads of 32 x 32 over 4,096 tokens: the scan program's buffers hold the narrow
    /// projections, not one `[T, m n]` row per head (which alone would be 4,096 x 8,192 values).
    @Test func chunkedHeadsStoreNoWideRows() throws {
        let source = """
            use cells.linear_attention
            model M(d = 64, H = 8, dk = 32, dv = 32) {
              input x: [d]
              param W_q: [H * dk, d] = normal(seed: 1, std: 0.1), W_k: [H * dk, d] = normal(seed: 2, std: 0.1)
              param W_v: [H * dv, d] = normal(seed: 3, std: 0.1), W_g: [H * dk, d] = normal(seed: 4, std: 0.1)
              q = W_q @ x
              k = W_k @ x
              v = W_v @ x
              a = sigmoid(W_g @ x + 3)
              output [for h in 0..<H: gla(q[h * dk:(h + 1) * dk], k[h * dk:(h + 1) * dk], v[h * dv:(h + 1) * dv], a[h * dk:(h + 1) * dk])]
            }
            """
        let (_, model) = try #require(try Self.lower(source))
        #expect(Self.chunkedStates(model).count == 8)
        let runner = try ScanRunner<Float>(program: model.program, plan: model.plan)
        let bytes = runner.workspaceBytes(steps: 4096, batch: 1)
        #expect(bytes < 4096 * 8 * 32 * 32 * 4 / 4, "\(bytes) bytes of slots")
        // A plan of one-token chunks keeps a state per token in scratch: the memory budget sees it.
        var plan = model.plan
        plan.stages = plan.stages.map { stage in
            guard case .recurrence(var r) = stage, r.chunked != nil else { return stage }
            r.chunked!.chunkSize = 1
            return .recurrence(r)
        }
        let fine = try ScanRunner<Float>(program: model.program, plan: plan)
        #expect(fine.workspaceBytes(steps: 4096, batch: 1) > 4096 * 32 * 32 * 4, "scratch of one-token chunks is counted")
    }
}
