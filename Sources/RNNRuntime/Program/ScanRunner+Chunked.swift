import RNNOps

/// Chunkwise-parallel matrix states (`ScanPlan.Chunked`): `S_t = diag(d_t) S_{t-1} + k_t v_tᵀ`
/// read as `o_t = q_tᵀ S_t`, over chunks of `C` tokens. With `P_t` the product of the decays
/// since a chunk's start (per key; the cumulative log decay `B_t = log P_t`) and `S_0` the
/// state before the chunk,
///
///     o_t = (q_t ⊙ P_t)ᵀ S_0 + sum_{s <= t} (sum_i q_t[i] k_s[i] P_t[i] / P_s[i]) v_s
///     S_C = diag(P_C) S_0 + sum_s (k_s ⊙ P_C / P_s) v_sᵀ
///
/// (a readout of the state before the update uses `P_{t-1}` and `s < t`). The first sum is
/// an attention-like product `(Q̃ K̃ᵀ ⊙ mask) V` with `Q̃ = q ⊙ P / R`, `K̃ = k ⊙ R / P` for a
/// reference `R` at the geometric middle of the chunk's range of `P` (the middle of the range
/// of `B`), so no factor is further from 1 than the square root of that range. A chunk whose
/// decays range wider than `maxRatio` (or are not positive and finite) runs token by token
/// instead: the products are exact rescalings of `e^{±B}` kept away from overflow and
/// underflow, with no logarithm or exponential per element. Three passes per sequence: every
/// chunk's own terms (in parallel), the states from chunk to chunk (`S_C` needs only the
/// chunk's `P_C` and `K̂ᵀ V`), and every chunk's `Q̂ S_0` (in parallel).
extension ScanRunner {
    func solveChunked(_ r: ScanPlan.Recurrence, _ b: Buffers) {
        guard let form = r.chunked, let shape = program.states[r.states[0]].matrixShape else { return }
        let slot = program.states[r.states[0]].slot
        let scan = ChunkedScan<Scalar>(form: form, shape: shape,
                                       constantDecay: form.constantDecay.map { program.vectors[$0].map { Scalar($0) } })
        for q in 0..<b.batch { scan.run(b, sequence: q, state: slot) }
    }
}

extension ScanPlan {
    /// Values of workspace scratch the chunked recurrences take for one sequence of `steps`
    /// tokens (the largest of them: they run one after another and share it).
    func chunkScratchValues(steps: Int, program: StepProgram) -> Double {
        var most = 0.0
        for case .recurrence(let r) in stages {
            guard let c = r.chunked, let shape = program.states[r.states[0]].matrixShape, shape.count == 2 else { continue }
            let (t, kv, k) = (Double(steps), Double(shape[0]) * Double(shape[1]), Double(c.transposed ? shape[1] : shape[0]))
            let chunks = (t / Double(max(1, c.chunkSize))).rounded(.up) + 2
            let perToken = c.delta == nil ? k : 1 + Double(shape[0]) + Double(shape[1]) + 2 * k
            most = max(most, (chunks + 1) * kv + chunks * k + t * perToken)
        }
        return most
    }
}

/// One chunked recurrence's geometry and the passes over one sequence.
struct ChunkedScan<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    let form: ScanPlan.Chunked
    let keys: Int
    let values: Int
    let rows: Int
    let cols: Int
    let constantDecay: [Scalar]?

    /// Largest ratio of the cumulative decays within a chunk for the factored product: its
    /// factors then stay within `e^{±30}` (Float) or `e^{±300}` (Double) of 1, far from
    /// overflow and underflow in the type's range.
    var maxRatio: Scalar { Scalar.self == Float.self ? Scalar(1.1e26) : Scalar(1e260) }

    init(form: ScanPlan.Chunked, shape: [Int], constantDecay: [Scalar]?) {
        self.form = form
        (rows, cols) = (shape[0], shape[1])
        (keys, values) = form.transposed ? (cols, rows) : (rows, cols)
        self.constantDecay = constantDecay
    }

    /// Chunk boundaries over `steps` tokens; a boundary at `steps - 1` when the state before
    /// the last token is wanted.
    func starts(steps: Int, keepingLast: Bool) -> [Int] {
        let c = form.chunkSize
        let end = keepingLast && steps > 1 ? steps - 1 : steps
        var out = Array(stride(from: 0, to: end, by: c))
        if keepingLast, steps > 1 { out.append(steps - 1) }
        return out
    }

    func run(_ b: ScanRunner<Scalar>.Buffers, sequence q: Int, state slot: Int) {
        let steps = b.steps
        guard steps > 0 else { return }
        if form.delta != nil { return runDelta(b, sequence: q, state: slot) }
        let starts = starts(steps: steps, keepingLast: b.keepsStateRows)
        let chunks = starts.count
        let kv = keys * values
        // h[c]: the state before chunk c (keys-major), h[chunks] after the last; the first pass
        // leaves each chunk's K̂ᵀ V in h[c + 1], the second turns it into the state. `decays`:
        // P_C per chunk; `cumulative`: P_t from each chunk's start. Workspace scratch, kept
        // between runs (fresh pages for every head would cost more than the passes).
        let h = b.workspace.scratch(3, count: (chunks + 1) * kv)
        let decays = b.workspace.scratch(4, count: chunks * keys)
        let cumulative = b.workspace.scratch(5, count: steps * keys)
        let factored = UnsafeMutablePointer<Bool>.allocate(capacity: chunks)  // each chunk's first pass says
        defer { factored.deallocate() }
        loadState(b.stateRow(slot, sequence: q, step: 0), into: h)
        let context = Context(b: b, first: q * steps, steps: steps, starts: starts)
        let cores = min(b.threads, Parallel.cores)
        let shared = (h: UncheckedSendable(h), decays: UncheckedSendable(decays), cumulative: UncheckedSendable(cumulative),
                      factored: UncheckedSendable(factored))
        Parallel.forEachChunk(of: chunks, cores: chunks > 1 ? cores : 1) { first, count in
            let scratch = Scratch(self, chunk: form.chunkSize)
            for c in first..<(first + count) {
                shared.factored.value[c] = chunkTerms(context, c, scratch, h: shared.h.value + (c + 1) * kv,
                                                      decay: shared.decays.value + c * keys, cumulative: shared.cumulative.value)
            }
            scratch.deallocate()
        }
        let tokenScratch = Scratch(self, chunk: 1)
        for c in 0..<chunks {
            let (before, after) = (shared.h.value + c * kv, shared.h.value + (c + 1) * kv)
            if shared.factored.value[c] {
                let g = shared.decays.value + c * keys
                for i in 0..<keys { for j in 0..<values { after[i * values + j] += g[i] * before[i * values + j] } }
            } else {
                tokenByToken(context, c, tokenScratch, state: before, into: after)
            }
        }
        tokenScratch.deallocate()
        Parallel.forEachChunk(of: chunks, cores: chunks > 1 ? cores : 1) { first, count in
            let scratch = Scratch(self, chunk: form.chunkSize)
            for c in first..<(first + count) where shared.factored.value[c] {
                addStateTerms(context, c, scratch, state: shared.h.value + c * kv, cumulative: shared.cumulative.value)
            }
            scratch.deallocate()
        }
        if b.keepsStateRows, steps > 1 {
            storeState(shared.h.value + (chunks - 1) * kv, into: b.stateRow(slot, sequence: q, step: steps - 1))
        }
    }

    /// The sequence's rows of the slots the passes read and write.
    struct Context {
        let b: ScanRunner<Scalar>.Buffers
        let first: Int
        let steps: Int
        let starts: [Int]

        func range(_ c: Int) -> Range<Int> { starts[c]..<(c + 1 < starts.count ? starts[c + 1] : steps) }
        func row(_ slot: Int, _ t: Int) -> UnsafeMutablePointer<Scalar> { b.row(slot, first + t) }
    }

    // MARK: State layout

    /// The stored state (row-major `rows x cols`) as keys-major `keys x values`.
    func loadState(_ s: UnsafePointer<Scalar>, into h: UnsafeMutablePointer<Scalar>) {
        if !form.transposed { return h.update(from: s, count: keys * values) }
        for i in 0..<keys { for j in 0..<values { h[i * values + j] = s[j * cols + i] } }
    }

    func storeState(_ h: UnsafePointer<Scalar>, into s: UnsafeMutablePointer<Scalar>) {
        if !form.transposed { return s.update(from: h, count: keys * values) }
        for i in 0..<keys { for j in 0..<values { s[j * cols + i] = h[i * values + j] } }
    }

    // MARK: Per-token factors

    /// `out[t * n + i]` for the chunk's tokens: the element-wise product of the factor slots'
    /// rows (a one-element slot broadcasts), times `constant` when given.
    func product(_ factors: [ScanPlan.Chunked.Factor], _ x: Context, _ tokens: Range<Int>, width n: Int, constant: [Scalar]? = nil,
                 into out: UnsafeMutablePointer<Scalar>) {
        for (k, t) in tokens.enumerated() {
            let o = out + k * n
            if factors.count == 1, constant == nil, !factors[0].broadcast, factors[0].scale == 1 {  // one vector: a copy
                o.update(from: x.row(factors[0].slot, t) + factors[0].start, count: n)
                continue
            }
            if let constant { constant.withUnsafeBufferPointer { o.update(from: $0.baseAddress!, count: n) } } else { o.update(repeating: 1, count: n) }
            for f in factors {
                let p = x.row(f.slot, t) + f.start
                if f.broadcast { let a = p[0]; for i in 0..<n { o[i] *= a } } else { for i in 0..<n { o[i] *= p[i] } }
                if f.scale != 1 { let c = Scalar(f.scale); for i in 0..<n { o[i] *= c } }
            }
        }
    }

    /// Each token's decay per key; false when one is not positive and finite (no rescaling
    /// by it is), so the chunk runs token by token.
    func decays(_ x: Context, _ tokens: Range<Int>, into out: UnsafeMutablePointer<Scalar>) -> Bool {
        product(form.decay, x, tokens, width: keys, constant: constantDecay, into: out)
        for i in 0..<(tokens.count * keys) where !(out[i] > 0 && out[i].isFinite) { return false }
        return true
    }
}
