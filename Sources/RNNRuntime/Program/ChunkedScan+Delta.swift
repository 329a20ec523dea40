/// The delta rule chunkwise (`ScanPlan.Chunked.Delta`): `S_t = D_t + k_t u_tᵀ`,
/// `D_t = d_t S_{t-1}`, `u_t = a_t D_tᵀ k_t + b_t`. With `P_t` the product of the decays since
/// the chunk's start and `S_0` the state before it,
///
///     u_t = b_t + a_t P_t S_0ᵀ k_t + a_t sum_{s < t} (P_t / P_s) (k_s · k_t) u_s
///
/// so the chunk's `U` solves a unit lower-triangular system, `(I - diag(a) (tril(K Kᵀ) ⊙ Γ)) U
/// = B + diag(a P) K S_0` (`Γ[t, s] = P_t / P_s`): the UT transform of the products of
/// Householder matrices. `U = U_b + W S_0` with `U_b = T B` and `W = T diag(a P) K` from the
/// chunk's tokens alone (first pass, in parallel; `T` the system's inverse, by substitution);
/// the second pass runs over the chunks, `U = U_b + W S_0` and `S_C = P_C S_0 + K̂ᵀ U`
/// (`K̂ = k ⊙ P_C / P_s`) as products, the values' columns split between the cores; the third
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
        // The state's columns never mix (each value's column has its own `u`): each core passes
        // its share of them through every chunk.
        Parallel.forEachChunk(of: values, cores: values >= 32 ? cores : 1, granule: 16) { first, count in
            let scratch = Scratch(self, chunk: form.chunkSize)
            let columns = first..<(first + count)
            for c in 0..<chunks {
                let (before, after) = (shared.value.0.h + c * kv, shared.value.0.h + (c + 1) * kv)
                if shared.value.1[c] {
                    passState(x, c, scratch, shared.value.0, before: before, after: after, columns: columns)
                } else {
                    deltaTokenByToken(x, c, scratch, state: before, into: after, columns: columns)
                }
            }
            scratch.deallocate()
        }
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
        // T = (I - diag(a) (tril(K Kᵀ) ⊙ Γ))⁻¹, unit lower-triangular, row by row: row t is
        // e_t plus the earlier rows weighted by token t's corrections (about C³/6 work).
        ChunkGEMM.multiply(s.k, ldx: n, s.k, rows: count, cols: n, s.a, ldy: count, count: count, packed: s.packed)
        let tri = s.triangle
        for t in 0..<count {
            let row = tri + t * count
            row.update(repeating: 0, count: count)
            row[t] = 1
            for r in 0..<t {
                let coefficient = s.d[t] * s.a[t * count + r] * (p[t] / p[r])
                let earlier = tri + r * count
                for j in 0...r { row[j] += coefficient * earlier[j] }
            }
        }
        // U_b = T B and W = T diag(a P) K, as products by the right sides' transposes.
        let (u, w) = (buffers.u + t0 * m, buffers.w + t0 * n)
        product(form.values, x, tokens, width: m, into: s.v)
        let offset = Scalar(form.delta!.offset)
        for t in 0..<count { for j in 0..<m { s.vt[j * count + t] = offset * s.v[t * m + j] } }
        for t in 0..<count { for i in 0..<n { s.kh[i * count + t] = s.d[t] * p[t] * s.k[t * n + i] } }
        ChunkGEMM.multiply(tri, ldx: count, s.vt, rows: m, cols: count, u, ldy: m, count: count, packed: s.packed)
        ChunkGEMM.multiply(tri, ldx: count, s.kh, rows: n, cols: count, w, ldy: n, count: count, packed: s.packed)
        let kh = buffers.kh + t0 * n, last = p[count - 1]
        for t in 0..<count { for i in 0..<n { kh[i * count + t] = s.k[t * n + i] * (last / p[t]) } }
        buffers.whole[c] = last
        return true
    }

    /// Second pass for a factored chunk, over some of the values' columns: `U = U_b + W S_0`,
    /// `S_C = P_C S_0 + K̂ᵀ U`.
    private func passState(_ x: Context, _ c: Int, _ s: Scratch, _ buffers: DeltaBuffers, before: UnsafePointer<Scalar>, after: UnsafeMutablePointer<Scalar>,
                           columns: Range<Int>) {
        let tokens = x.range(c)
        let (n, m, count, t0) = (keys, values, tokens.count, tokens.lowerBound)
        let (u, w, width, first) = (buffers.u + t0 * m, buffers.w + t0 * n, columns.count, columns.lowerBound)
        for i in 0..<n { for j in 0..<width { s.ht[j * n + i] = before[i * m + first + j] } }
        ChunkGEMM.multiply(w, ldx: n, s.ht, rows: width, cols: n, s.out, ldy: width, count: count, packed: s.packed)
        for t in 0..<count {
            let row = u + t * m + first
            Kernels.add(row, s.out + t * width, row, count: width)
            for j in 0..<width { s.vt[j * count + t] = row[j] }
        }
        ChunkGEMM.multiply(buffers.kh + t0 * n, ldx: count, s.vt, rows: width, cols: count, after + first, ldy: m, count: n, packed: s.packed)
        let whole = buffers.whole[c]
        for i in 0..<n { for j in columns { after[i * m + j] += whole * before[i * m + j] } }
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

    /// A chunk of the delta rule as the step program runs it, from `state` into `after`, on
    /// some of the values' columns (and those columns of the readouts).
    func deltaTokenByToken(_ x: Context, _ c: Int, _ s: Scratch, state: UnsafePointer<Scalar>, into after: UnsafeMutablePointer<Scalar>,
                           columns: Range<Int>) {
        let (n, m) = (keys, values)
        for i in 0..<n { for j in columns { after[i * m + j] = state[i * m + j] } }
        let offset = Scalar(form.delta?.offset ?? 1)
        for t in x.range(c) {
            let token = t..<(t + 1)
            _ = scalars(x, token, decay: s.e, gain: s.d)  // a bad decay is the step program's too
            product(form.keys, x, token, width: n, into: s.k)
            product(form.values, x, token, width: m, into: s.v)
            for o in form.readouts where !o.afterUpdate { readout(o, x, t, s, after, columns: columns) }
            let (decay, gain) = (s.e[0], s.d[0])
            for j in columns { s.out[j] = 0 }
            for i in 0..<n {
                for j in columns {
                    after[i * m + j] *= decay
                    s.out[j] += s.k[i] * after[i * m + j]
                }
            }
            for j in columns { s.out[j] = gain * s.out[j] + offset * s.v[j] }
            for i in 0..<n { for j in columns { after[i * m + j] += s.k[i] * s.out[j] } }
            for o in form.readouts where o.afterUpdate { readout(o, x, t, s, after, columns: columns) }
        }
    }
}
