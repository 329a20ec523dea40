import RNNOps

/// Chunkwise-parallel matrix states (`ScanPlan.Chunked`): `S_t = diag(d_t) S_{t-1} + k_t v_tᵀ`
/// read as `o_t = q_tᵀ S_t`, over chunks of `C` tokens. With `B_t` the cumulative log decay
/// since a chunk's start (per key) and `S_0` the state before the chunk,
///
///     o_t = (q_t ⊙ e^{B_t})ᵀ S_0 + sum_{s <= t} (sum_i q_t[i] k_s[i] e^{B_t[i] - B_s[i]}) v_s
///     S_C = diag(e^{B_C}) S_0 + sum_s (k_s ⊙ e^{B_C - B_s}) v_sᵀ
///
/// (a readout of the state before the update uses `B_{t-1}` and `s < t`). The first sum is
/// an attention-like product `(Q̃ K̃ᵀ ⊙ mask) V` with `Q̃ = q ⊙ e^{B - R}`, `K̃ = k ⊙ e^{R - B}`
/// for a reference `R` midway in the chunk's range of `B`, so no factor exceeds `e^{span/2}`;
/// a chunk whose decays span more than `maxSpan` (or are not positive and finite) runs token
/// by token instead. Three passes per sequence: every chunk's own terms (in parallel), the
/// states from chunk to chunk (`S_C` needs only the chunk's `e^{B_C}` and `K̂ᵀ V`), and every
/// chunk's `Q̂ S_0` (in parallel).
extension ScanRunner {
    func solveChunked(_ r: ScanPlan.Recurrence, _ b: Buffers) {
        guard let form = r.chunked, let shape = program.states[r.states[0]].matrixShape else { return }
        let slot = program.states[r.states[0]].slot
        let scan = ChunkedScan<Scalar>(form: form, shape: shape, sizes: program.slotSizes,
                                       constantDecay: form.constantDecay.map { program.vectors[$0].map { Scalar($0) } })
        for q in 0..<b.batch { scan.run(b, sequence: q, state: slot) }
    }
}

/// One chunked recurrence's geometry and the passes over one sequence.
struct ChunkedScan<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    let form: ScanPlan.Chunked
    let keys: Int
    let values: Int
    let rows: Int
    let cols: Int
    let sizes: [Int]
    let constantDecay: [Scalar]?

    /// Largest range of the cumulative log decay within a chunk for the factored product:
    /// its factors stay within `e^{±maxSpan/2}`, far from overflow in the type's range.
    var maxSpan: Scalar { Scalar.self == Float.self ? 60 : 600 }

    init(form: ScanPlan.Chunked, shape: [Int], sizes: [Int], constantDecay: [Scalar]?) {
        self.form = form
        (rows, cols) = (shape[0], shape[1])
        (keys, values) = form.transposed ? (cols, rows) : (rows, cols)
        self.sizes = sizes
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
        let starts = starts(steps: steps, keepingLast: b.keepsStateRows)
        let chunks = starts.count
        let kv = keys * values
        // h[c]: the state before chunk c (keys-major), h[chunks] after the last; the first pass
        // leaves each chunk's K̂ᵀ V in h[c + 1], the second turns it into the state.
        var h = [Scalar](repeating: 0, count: (chunks + 1) * kv)
        var decays = [Scalar](repeating: 0, count: chunks * keys)  // e^{B_C} per chunk
        var cumulative = [Scalar](repeating: 0, count: steps * keys)  // B_t, from each chunk's start
        var factored = [Bool](repeating: false, count: chunks)
        h.withUnsafeMutableBufferPointer { loadState(b.stateRow(slot, sequence: q, step: 0), into: $0.baseAddress!) }
        let context = Context(b: b, first: q * steps, steps: steps, starts: starts)
        let cores = min(b.threads, Parallel.cores)
        let shared = (h: UncheckedSendable(h.withUnsafeMutableBufferPointer { $0.baseAddress! }),
                      decays: UncheckedSendable(decays.withUnsafeMutableBufferPointer { $0.baseAddress! }),
                      cumulative: UncheckedSendable(cumulative.withUnsafeMutableBufferPointer { $0.baseAddress! }),
                      factored: UncheckedSendable(factored.withUnsafeMutableBufferPointer { $0.baseAddress! }))
        withExtendedLifetime((h, decays, cumulative, factored)) {
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
    func product(_ factors: [Int], _ x: Context, _ tokens: Range<Int>, width n: Int, constant: [Scalar]? = nil, into out: UnsafeMutablePointer<Scalar>) {
        for (k, t) in tokens.enumerated() {
            let o = out + k * n
            if let constant { constant.withUnsafeBufferPointer { o.update(from: $0.baseAddress!, count: n) } } else { o.update(repeating: 1, count: n) }
            for f in factors {
                let p = x.row(f, t)
                if sizes[f] == n { for i in 0..<n { o[i] *= p[i] } } else { let a = p[0]; for i in 0..<n { o[i] *= a } }
            }
        }
    }

    /// Each token's decay per key; false when one is not positive and finite (its logarithm
    /// would not be), so the chunk runs token by token.
    func decays(_ x: Context, _ tokens: Range<Int>, into out: UnsafeMutablePointer<Scalar>) -> Bool {
        product(form.decay, x, tokens, width: keys, constant: constantDecay, into: out)
        for i in 0..<(tokens.count * keys) where !(out[i] > 0 && out[i].isFinite) { return false }
        return true
    }
}
