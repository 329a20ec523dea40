import RNNOps

/// The three passes' work on one chunk (see `ScanRunner+Chunked.swift`).
extension ChunkedScan {
    /// A worker's scratch for chunks of up to `chunk` tokens (one allocation).
    final class Scratch {
        let k, v, vt, d, e, kt, kh, q, qt, a, out, ht, low, high, reference, packed: UnsafeMutablePointer<Scalar>
        private let base: UnsafeMutablePointer<Scalar>

        init(_ s: ChunkedScan, chunk c: Int) {
            let (n, m) = (s.keys, s.values)
            let packed = [ChunkGEMM.packedCount(Scalar.self, rows: c, cols: n), ChunkGEMM.packedCount(Scalar.self, rows: m, cols: c),
                          ChunkGEMM.packedCount(Scalar.self, rows: m, cols: n)].max()!
            let counts = [c * n, c * m, m * c, c * n, c * n, c * n, n * c, c * n, c * n, c * c, c * m, m * n, n, n, n, packed]
            base = .allocate(capacity: counts.reduce(0, +))
            var at = base
            func take(_ k: Int) -> UnsafeMutablePointer<Scalar> { defer { at += counts[k] }; return at }
            (k, v, vt, d, e, kt, kh, q) = (take(0), take(1), take(2), take(3), take(4), take(5), take(6), take(7))
            (qt, a, out, ht, low, high, reference, self.packed) = (take(8), take(9), take(10), take(11), take(12), take(13), take(14), take(15))
        }

        func deallocate() { base.deallocate() }
    }

    /// `y[i] = e^{y[i]}` for `i < n`, by the op table's kernel.
    private func exponentiate(_ y: UnsafeMutablePointer<Scalar>, _ n: Int) { Kernels.apply(ElementwiseOp(.exp), y, y, y, count: n) }

    /// First pass: the chunk's readouts from its own tokens (written into the output rows),
    /// `K̂ᵀ V` into `h` and `e^{B_C}` into `decay`; its cumulative log decays into
    /// `cumulative`. False, having written nothing, when the chunk must run token by token.
    func chunkTerms(_ x: Context, _ c: Int, _ s: Scratch, h: UnsafeMutablePointer<Scalar>, decay: UnsafeMutablePointer<Scalar>,
                    cumulative: UnsafeMutablePointer<Scalar>) -> Bool {
        let tokens = x.range(c)
        let (n, m, count, t0) = (keys, values, tokens.count, tokens.lowerBound)
        guard decays(x, tokens, into: s.d) else { return false }
        Kernels.apply(ElementwiseOp(.log), s.d, s.d, s.d, count: count * n)
        let cum = cumulative + t0 * n
        s.low.update(repeating: 0, count: n)
        s.high.update(repeating: 0, count: n)
        for t in 0..<count {
            for i in 0..<n {
                let value = (t > 0 ? cum[(t - 1) * n + i] : 0) + s.d[t * n + i]
                cum[t * n + i] = value
                s.low[i] = min(s.low[i], value)
                s.high[i] = max(s.high[i], value)
            }
        }
        for i in 0..<n {
            guard s.high[i] - s.low[i] <= maxSpan else { return false }  // false for NaN too
            s.reference[i] = (s.low[i] + s.high[i]) / 2
        }
        product(form.keys, x, tokens, width: n, into: s.k)
        product(form.values, x, tokens, width: m, into: s.v)
        for t in 0..<count { for j in 0..<m { s.vt[j * count + t] = s.v[t * m + j] } }
        for t in 0..<count { for i in 0..<n { s.e[t * n + i] = s.reference[i] - cum[t * n + i] } }
        exponentiate(s.e, count * n)
        for i in 0..<(count * n) { s.kt[i] = s.k[i] * s.e[i] }
        for o in form.readouts {
            product(o.query, x, tokens, width: n, into: s.q)
            for t in 0..<count {
                for i in 0..<n { s.e[t * n + i] = exponent(o, cum, t, i) - s.reference[i] }
            }
            exponentiate(s.e, count * n)
            for i in 0..<(count * n) { s.qt[i] = s.q[i] * s.e[i] }
            ChunkGEMM.multiply(s.qt, ldx: n, s.kt, rows: count, cols: n, s.a, ldy: count, count: count, packed: s.packed)
            for t in 0..<count {
                for j in (o.afterUpdate ? t + 1 : t)..<count { s.a[t * count + j] = 0 }
            }
            ChunkGEMM.multiply(s.a, ldx: count, s.vt, rows: m, cols: count, x.row(o.output, t0), ldy: x.b.ld[o.output], count: count, packed: s.packed)
        }
        let last = cum + (count - 1) * n
        for t in 0..<count { for i in 0..<n { s.e[t * n + i] = last[i] - cum[t * n + i] } }
        exponentiate(s.e, count * n)
        for t in 0..<count { for i in 0..<n { s.kh[i * count + t] = s.k[t * n + i] * s.e[t * n + i] } }
        ChunkGEMM.multiply(s.kh, ldx: count, s.vt, rows: m, cols: count, h, ldy: m, count: n, packed: s.packed)
        decay.update(from: last, count: n)
        exponentiate(decay, n)
        return true
    }

    /// The cumulative log decay a readout sees at token `t` of a chunk: through `t` after the
    /// update, through `t - 1` before it.
    @inline(__always)
    private func exponent(_ o: ScanPlan.Chunked.Readout, _ cum: UnsafeMutablePointer<Scalar>, _ t: Int, _ i: Int) -> Scalar {
        if o.afterUpdate { return cum[t * keys + i] }
        return t > 0 ? cum[(t - 1) * keys + i] : 0
    }

    /// Third pass: adds `(q_t ⊙ e^{B_t})ᵀ S_0` to each readout of a factored chunk.
    func addStateTerms(_ x: Context, _ c: Int, _ s: Scratch, state: UnsafePointer<Scalar>, cumulative: UnsafeMutablePointer<Scalar>) {
        let tokens = x.range(c)
        let (n, m, count, t0) = (keys, values, tokens.count, tokens.lowerBound)
        let cum = cumulative + t0 * n
        for i in 0..<n { for j in 0..<m { s.ht[j * n + i] = state[i * m + j] } }
        for o in form.readouts {
            product(o.query, x, tokens, width: n, into: s.q)
            for t in 0..<count { for i in 0..<n { s.e[t * n + i] = exponent(o, cum, t, i) } }
            exponentiate(s.e, count * n)
            for i in 0..<(count * n) { s.qt[i] = s.q[i] * s.e[i] }
            ChunkGEMM.multiply(s.qt, ldx: n, s.ht, rows: m, cols: n, s.out, ldy: m, count: count, packed: s.packed)
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

    /// `q_tᵀ S` into the readout's row for token `t`.
    private func readout(_ o: ScanPlan.Chunked.Readout, _ x: Context, _ t: Int, _ s: Scratch, _ state: UnsafePointer<Scalar>) {
        let (n, m) = (keys, values)
        product(o.query, x, t..<(t + 1), width: n, into: s.q)
        let y = x.row(o.output, t)
        y.update(repeating: 0, count: m)
        for i in 0..<n {
            let (row, w) = (state + i * m, s.q[i])
            for j in 0..<m { y[j] += w * row[j] }
        }
    }
}
