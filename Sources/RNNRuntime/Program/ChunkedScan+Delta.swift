/// The delta rule chunkwise (`ScanPlan.Chunked.Delta`): `S_t = D_t + k_t u_tᵀ`,
/// `D_t = d_t S_{t-1}`, `u_t = a_t D_tᵀ k_t + b_t`. With `P_t` the product of the decays since
/// the chunk's start and `S_0` the state before it,
///
///     u_t = b_t + a_t P_t S_0ᵀ k_t + a_t sum_{s < t} (P_t / P_s) (k_s · k_t) u_s
///
/// so the chunk's `U` solves a unit lower-triangular system, `(I - diag(a) (tril(K Kᵀ) ⊙ Γ)) U
/// = B + diag(a P) K S_0` (`Γ[t, s] = P_t / P_s`): the UT transform of the products of
/// Householder matrices. `U = U_b + W S_0` with `U_b` and `W` from the chunk's tokens alone
/// (first pass, in parallel, by forward substitution); the second pass runs over the chunks,
/// `U = U_b + W S_0` and `S_C = P_C S_0 + K̂ᵀ U` (`K̂ = k ⊙ P_C / P_s`) as products; the third
/// gives the readouts, `o_t = E_t q_tᵀ S_0 + sum_s (E_t / P_s) (q_t · k_s) u_s` (in parallel).
/// Decays are one per token for the whole matrix; a chunk whose decays range too wide runs
/// token by token, as the step program does.
extension ChunkedScan {
    /// The per-sequence buffers of the delta rule's passes (workspace scratch).
    struct DeltaBuffers {
        /// States before each chunk, keys-major.
        let h: UnsafeMutablePointer<Scalar>
        /// `P_t` per token.
        let cumulative: UnsafeMutablePointer<Scalar>
        /// `U_b`, then `U`, `[T, values]`.
        let u: UnsafeMutablePointer<Scalar>
        /// `W`, `[T, keys]`.
        let w: UnsafeMutablePointer<Scalar>
        /// Each chunk's `K̂ᵀ` (`[keys, L]` from the chunk's first token's offset times keys).
        let kh: UnsafeMutablePointer<Scalar>
        /// `P_C` per chunk.
        let whole: UnsafeMutablePointer<Scalar>
    }

    func runDelta(_ b: ScanRunner<Scalar>.Buffers, sequence q: Int, state slot: Int) {
        let steps = b.steps
        let starts = starts(steps: steps, keepingLast: b.keepsStateRows)
        let chunks = starts.count, kv = keys * values
        let buffers = DeltaBuffers(h: b.workspace.scratch(3, count: (chunks + 1) * kv), cumulative: b.workspace.scratch(5, count: steps),
                                   u: b.workspace.scratch(6, count: steps * values), w: b.workspace.scratch(7, count: steps * keys),
                                   kh: b.workspace.scratch(8, count: steps * keys), whole: b.workspace.scratch(4, count: chunks))
        let factored = UnsafeMutablePointer<Bool>.allocate(capacity: chunks)
        defer { factored.deallocate() }
        loadState(b.stateRow(slot, sequence: q, step: 0), into: buffers.h)
        let x = Context(b: b, first: q * steps, steps: steps, starts: starts)
        let cores = chunks > 1 ? min(b.threads, Parallel.cores) : 1
        let shared = UncheckedSendable((buffers, factored))
        Parallel.forEachChunk(of: chunks, cores: cores) { first, count in
            let scratch = Scratch(self, chunk: form.chunkSize)
            for c in first..<(first + count) { shared.value.1[c] = deltaTerms(x, c, scratch, shared.value.0) }
            scratch.deallocate()
        }
        let scratch = Scratch(self, chunk: form.chunkSize)
        for c in 0..<chunks {
            let (before, after) = (buffers.h + c * kv, buffers.h + (c + 1) * kv)
            if factored[c] { passState(x, c, scratch, buffers, before: before, after: after) } else { deltaTokenByToken(x, c, scratch, state: before, into: after) }
        }
        scratch.deallocate()
        Parallel.forEachChunk(of: chunks, cores: cores) { first, count in
            let scratch = Scratch(self, chunk: form.chunkSize)
            for c in first..<(first + count) where shared.value.1[c] { deltaReadouts(x, c, scratch, shared.value.0) }
            scratch.deallocate()
        }
        if b.keepsStateRows, steps > 1 { storeState(buffers.h + (chunks - 1) * kv, into: b.stateRow(slot, sequence: q, step: steps - 1)) }
    }

    /// Each token's decay (`d[t]`) and gain (`a[t]`); false when a decay is not positive and finite.
    private func scalars(_ x: Context, _ tokens: Range<Int>, decay d: UnsafeMutablePointer<Scalar>, gain a: UnsafeMutablePointer<Scalar>) -> Bool {
        guard let delta = form.delta else { return false }
        product(form.decay, x, tokens, width: 1, constant: constantDecay.map { [$0.first ?? 1] }, into: d)
        product(delta.gain, x, tokens, width: 1, into: a)
        for t in 0..<tokens.count { a[t] *= Scalar(delta.scale) }
        for t in 0..<tokens.count where !(d[t] > 0 && d[t].isFinite) { return false }
        return true
    }

    /// First pass: `P_t`, `U_b`, `W` and `K̂ᵀ` of a chunk; false when it must run token by token.
    func deltaTerms(_ x: Context, _ c: Int, _ s: Scratch, _ buffers: DeltaBuffers) -> Bool {
        let tokens = x.range(c)
        let (n, m, count, t0) = (keys, values, tokens.count, tokens.lowerBound)
        guard scalars(x, tokens, decay: s.e, gain: s.d) else { return false }
        let p = buffers.cumulative + t0
        var (low, high): (Scalar, Scalar) = (1, 1)
        for t in 0..<count {
            p[t] = (t > 0 ? p[t - 1] : 1) * s.e[t]
            (low, high) = (min(low, p[t]), max(high, p[t]))
        }
        guard low >= Scalar.leastNormalMagnitude, high <= maxRatio * low else { return false }
        product(form.keys, x, tokens, width: n, into: s.k)
        let (u, w) = (buffers.u + t0 * m, buffers.w + t0 * n)
        product(form.values, x, tokens, width: m, into: u)
        let offset = Scalar(form.delta!.offset)
        if offset != 1 { for i in 0..<(count * m) { u[i] *= offset } }
        for t in 0..<count { for i in 0..<n { w[t * n + i] = s.d[t] * p[t] * s.k[t * n + i] } }
        ChunkGEMM.multiply(s.k, ldx: n, s.k, rows: count, cols: n, s.a, ldy: count, count: count, packed: s.packed)
        for t in 1..<max(1, count) {
            for r in 0..<t {
                let coefficient = s.d[t] * s.a[t * count + r] * (p[t] / p[r])
                for j in 0..<m { u[t * m + j] += coefficient * u[r * m + j] }
                for i in 0..<n { w[t * n + i] += coefficient * w[r * n + i] }
            }
        }
        let kh = buffers.kh + t0 * n, last = p[count - 1]
        for t in 0..<count { for i in 0..<n { kh[i * count + t] = s.k[t * n + i] * (last / p[t]) } }
        buffers.whole[c] = last
        return true
    }

    /// Second pass for a factored chunk: `U = U_b + W S_0`, `S_C = P_C S_0 + K̂ᵀ U`.
    private func passState(_ x: Context, _ c: Int, _ s: Scratch, _ buffers: DeltaBuffers, before: UnsafePointer<Scalar>, after: UnsafeMutablePointer<Scalar>) {
        let tokens = x.range(c)
        let (n, m, count, t0) = (keys, values, tokens.count, tokens.lowerBound)
        let (u, w) = (buffers.u + t0 * m, buffers.w + t0 * n)
        for i in 0..<n { for j in 0..<m { s.ht[j * n + i] = before[i * m + j] } }
        ChunkGEMM.multiply(w, ldx: n, s.ht, rows: m, cols: n, s.out, ldy: m, count: count, packed: s.packed)
        Kernels.add(u, s.out, u, count: count * m)
        for t in 0..<count { for j in 0..<m { s.vt[j * count + t] = u[t * m + j] } }
        ChunkGEMM.multiply(buffers.kh + t0 * n, ldx: count, s.vt, rows: m, cols: count, after, ldy: m, count: n, packed: s.packed)
        let whole = buffers.whole[c]
        for i in 0..<(n * m) { after[i] += whole * before[i] }
    }

    /// Third pass: a factored chunk's readouts from `S_0` and `U`.
    private func deltaReadouts(_ x: Context, _ c: Int, _ s: Scratch, _ buffers: DeltaBuffers) {
        let tokens = x.range(c)
        let (n, m, count, t0) = (keys, values, tokens.count, tokens.lowerBound)
        let (p, u, state) = (buffers.cumulative + t0, buffers.u + t0 * m, buffers.h + c * n * m)
        product(form.keys, x, tokens, width: n, into: s.k)
        for t in 0..<count { for j in 0..<m { s.vt[j * count + t] = u[t * m + j] } }
        ChunkGEMM.pack(s.vt, rows: m, cols: count, into: s.packedValues)
        for i in 0..<n { for j in 0..<m { s.ht[j * n + i] = state[i * m + j] } }
        for o in form.readouts {
            product(o.query, x, tokens, width: n, into: s.q)
            ChunkGEMM.multiply(s.q, ldx: n, s.k, rows: count, cols: n, s.a, ldy: count, count: count, packed: s.packed)
            for t in 0..<count {
                let seen = o.afterUpdate ? p[t] : (t > 0 ? p[t - 1] : 1)
                for r in 0..<count { s.a[t * count + r] = (o.afterUpdate ? r <= t : r < t) ? s.a[t * count + r] * (seen / p[r]) : 0 }
                for i in 0..<n { s.q[t * n + i] *= seen }
            }
            ChunkGEMM.multiply(s.a, ldx: count, packed: s.packedValues, rows: m, cols: count, x.row(o.output, t0), ldy: x.b.ld[o.output], count: count)
            ChunkGEMM.multiply(s.q, ldx: n, s.ht, rows: m, cols: n, s.out, ldy: m, count: count, packed: s.packed)
            for t in 0..<count {
                let y = x.row(o.output, t0 + t)
                Kernels.add(y, s.out + t * m, y, count: m)
            }
        }
    }

    /// A chunk of the delta rule as the step program runs it, from `state` into `after`.
    func deltaTokenByToken(_ x: Context, _ c: Int, _ s: Scratch, state: UnsafePointer<Scalar>, into after: UnsafeMutablePointer<Scalar>) {
        let (n, m) = (keys, values)
        after.update(from: state, count: n * m)
        let offset = Scalar(form.delta?.offset ?? 1)
        for t in x.range(c) {
            let token = t..<(t + 1)
            _ = scalars(x, token, decay: s.e, gain: s.d)  // a bad decay is the step program's too
            product(form.keys, x, token, width: n, into: s.k)
            product(form.values, x, token, width: m, into: s.v)
            for o in form.readouts where !o.afterUpdate { readout(o, x, t, s, after) }
            let (decay, gain) = (s.e[0], s.d[0])
            for i in 0..<(n * m) { after[i] *= decay }
            for j in 0..<m { s.out[j] = 0 }
            for i in 0..<n { for j in 0..<m { s.out[j] += s.k[i] * after[i * m + j] } }
            for j in 0..<m { s.out[j] = gain * s.out[j] + offset * s.v[j] }
            for i in 0..<n { for j in 0..<m { after[i * m + j] += s.k[i] * s.out[j] } }
            for o in form.readouts where o.afterUpdate { readout(o, x, t, s, after) }
        }
    }
}
