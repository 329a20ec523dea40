
/// The three passes' work on one chunk (see `ScanRunner+Chunked.swift`).
extension ChunkedScan {
    /// A worker's scratch for chunks of up to `chunk` tokens (one allocation).
    final class Scratch {
        let k, v, vt, d, e, kt, kh, q, qt, a, out, ht, low, high, reference, packed, packedValues, triangle: UnsafeMutablePointer<Scalar>
        private let base: UnsafeMutablePointer<Scalar>

        init(_ s: ChunkedScan, chunk c: Int) {
            let (n, m) = (s.keys, s.values)
            // Every right-hand matrix the passes pack: K (c x n), Kᵀ-shaped (n x c), Vᵀ (m x c), Sᵀ (m x n).
            let packed = [(c, n), (n, c), (m, c), (m, n)].map { ChunkGEMM.packedCount(Scalar.self, rows: $0.0, cols: $0.1) }.max()!
            let counts = [c * n, c * m, m * c, c * n, c * n, c * n, n * c, c * n, c * n, c * c, c * m, m * n, n, n, n, packed, packed, c * c]
            base = .allocate(capacity: counts.reduce(0, +))
            var at = base
            func take(_ k: Int) -> UnsafeMutablePointer<Scalar> { defer { at += counts[k] }; return at }
            (k, v, vt, d, e, kt, kh, q) = (take(0), take(1), take(2), take(3), take(4), take(5), take(6), take(7))
            (qt, a, out, ht, low, high, reference) = (take(8), take(9), take(10), take(11), take(12), take(13), take(14))
            (self.packed, packedValues, triangle) = (take(15), take(16), take(17))
        }

        func deallocate() { base.deallocate() }
    }

    /// First pass: the chunk's readouts from its own tokens (written into the output rows),
    /// `K̂ᵀ V` into `h` and the chunk's whole decay `P_C` into `decay`; its cumulative decays
    /// into `cumulative`. False, having written no readout, when the chunk must run token by
    /// token.
    func chunkTerms(_ x: Context, _ c: Int, _ s: Scratch, h: UnsafeMutablePointer<Scalar>, decay: UnsafeMutablePointer<Scalar>,
                    cumulative: UnsafeMutablePointer<Scalar>) -> Bool {
        let tokens = x.range(c)
        let (n, m, count, t0) = (keys, values, tokens.count, tokens.lowerBound)
        guard decays(x, tokens, into: s.d) else { return false }
        let cum = cumulative + t0 * n
        s.low.update(repeating: 1, count: n)  // P_{-1} = 1 is in the range too
        s.high.update(repeating: 1, count: n)
        for t in 0..<count {
            let (p, d, before) = (cum + t * n, s.d + t * n, t > 0 ? cum + (t - 1) * n : nil)
            for i in 0..<n {
                let value = (before?[i] ?? 1) * d[i]
                p[i] = value
                s.low[i] = min(s.low[i], value)
                s.high[i] = max(s.high[i], value)
            }
        }
        for i in 0..<n {
            // False for NaN too; a product that reached 0 or infinity fails here.
            guard s.low[i] >= Scalar.leastNormalMagnitude, s.high[i] <= maxRatio * s.low[i] else { return false }
            s.reference[i] = (s.low[i] * s.high[i]).squareRoot()
        }
        // 1 / P_s, then K̃ = k ⊙ R / P_s.
        for i in 0..<(count * n) { s.e[i] = 1 / cum[i] }
        product(form.keys, x, tokens, width: n, into: s.k)
        product(form.values, x, tokens, width: m, into: s.v)
        for t in 0..<count { for j in 0..<m { s.vt[j * count + t] = s.v[t * m + j] } }
        for t in 0..<count { for i in 0..<n { s.kt[t * n + i] = s.k[t * n + i] * s.e[t * n + i] * s.reference[i] } }
        ChunkGEMM.pack(s.vt, rows: m, cols: count, into: s.packedValues)
        for o in form.readouts {
            product(o.query, x, tokens, width: n, into: s.q)
            for t in 0..<count {
                let seen = seenDecay(o, cum, t)
                for i in 0..<n { s.qt[t * n + i] = s.q[t * n + i] * (seen?[i] ?? 1) / s.reference[i] }
            }
            ChunkGEMM.multiply(s.qt, ldx: n, s.kt, rows: count, cols: n, s.a, ldy: count, count: count, packed: s.packed)
            for t in 0..<count {
                for j in (o.afterUpdate ? t + 1 : t)..<count { s.a[t * count + j] = 0 }
            }
            ChunkGEMM.multiply(s.a, ldx: count, packed: s.packedValues, rows: m, cols: count, x.row(o.output, t0), ldy: x.b.ld[o.output], count: count)
        }
        let last = cum + (count - 1) * n
        for t in 0..<count { for i in 0..<n { s.kh[i * count + t] = s.k[t * n + i] * last[i] * s.e[t * n + i] } }
        ChunkGEMM.multiply(s.kh, ldx: count, packed: s.packedValues, rows: m, cols: count, h, ldy: m, count: n)
        decay.update(from: last, count: n)
        return true
    }

    /// The cumulative decay a readout sees at token `t` of a chunk (`P_t` after the update,
    /// `P_{t-1}` before it), or nil for 1.
    @inline(__always)
    private func seenDecay(_ o: ScanPlan.Chunked.Readout, _ cum: UnsafeMutablePointer<Scalar>, _ t: Int) -> UnsafeMutablePointer<Scalar>? {
        if o.afterUpdate { return cum + t * keys }
        return t > 0 ? cum + (t - 1) * keys : nil
    }

    /// Third pass: adds `(q_t ⊙ P_t)ᵀ S_0` to each readout of a factored chunk.
    func addStateTerms(_ x: Context, _ c: Int, _ s: Scratch, state: UnsafePointer<Scalar>, cumulative: UnsafeMutablePointer<Scalar>) {
        let tokens = x.range(c)
        let (n, m, count, t0) = (keys, values, tokens.count, tokens.lowerBound)
        let cum = cumulative + t0 * n
        for i in 0..<n { for j in 0..<m { s.ht[j * n + i] = state[i * m + j] } }
        ChunkGEMM.pack(s.ht, rows: m, cols: n, into: s.packedValues)
        for o in form.readouts {
            product(o.query, x, tokens, width: n, into: s.q)
            for t in 0..<count {
                guard let seen = seenDecay(o, cum, t) else { continue }
                for i in 0..<n { s.q[t * n + i] *= seen[i] }
            }
            ChunkGEMM.multiply(s.q, ldx: n, packed: s.packedValues, rows: m, cols: n, s.out, ldy: m, count: count)
            for t in 0..<count {
                let y = x.row(o.output, t0 + t)
                Kernels.add(y, s.out + t * m, y, count: m)
            }
        }
    }

    /// Second pass for a chunk that cannot be factored: the recurrence as the step program
    /// runs it, from `state` into `after`, writing the readouts.
    func tokenByToken(_ x: Context, _ c: Int, _ s: Scratch, state: UnsafePointer<Scalar>, into after: UnsafeMutablePointer<Scalar>) {
        let (n, m) = (keys, values)
        after.update(from: state, count: n * m)
        for t in x.range(c) {
            let token = t..<(t + 1)
            product(form.keys, x, token, width: n, into: s.k)
            product(form.values, x, token, width: m, into: s.v)
            product(form.decay, x, token, width: n, constant: constantDecay, into: s.d)
            for o in form.readouts where !o.afterUpdate { readout(o, x, t, s, after) }
            for i in 0..<n {
                let (row, d, k) = (after + i * m, s.d[i], s.k[i])
                for j in 0..<m { row[j] = d * row[j] + k * s.v[j] }
            }
            for o in form.readouts where o.afterUpdate { readout(o, x, t, s, after) }
        }
    }

    /// `q_tᵀ S` into the readout's row for token `t` (its `columns`, all by default).
    func readout(_ o: ScanPlan.Chunked.Readout, _ x: Context, _ t: Int, _ s: Scratch, _ state: UnsafePointer<Scalar>, columns: Range<Int>? = nil) {
        let (n, m) = (keys, values)
        let columns = columns ?? 0..<m
        product(o.query, x, t..<(t + 1), width: n, into: s.q)
        let y = x.row(o.output, t)
        for j in columns { y[j] = 0 }
        for i in 0..<n {
            let (row, w) = (state + i * m, s.q[i])
            for j in columns { y[j] += w * row[j] }
        }
    }
}
