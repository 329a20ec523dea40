/// How a scan program solves one group of coupled states over the whole sequence, as the
/// plan says: step by step, by a direct scan, or from the offset and coefficient terms the
/// compiler wrote into the plan.
extension ScanRunner {
    func solve(_ r: ScanPlan.Recurrence, _ b: Buffers) {
        let stateSlots = r.states.map { program.states[$0].slot }
        switch r.kind {
        case .sequential:
            return solveSequentially(r, b, stateSlots: stateSlots)
        case .diagonal:
            if let direct = r.direct {
                solveDirectly(direct, r, b)
            } else {
                diagonalRecurrence(r, b, stateSlots: stateSlots)
            }
        case .affine:
            let offsets = offsetTerms(r, b, stateSlots: stateSlots)
            for q in 0..<b.batch { affineRecurrence(r, b, stateSlots: stateSlots, offsets: offsets, sequence: q) }
        case .modal:
            modalRecurrence(r, b, stateSlots: stateSlots)
        case .delay:
            let offsets = offsetTerms(r, b, stateSlots: stateSlots)
            for q in 0..<b.batch { delayLine(r, b, stateSlots: stateSlots, offsets: offsets, sequence: q) }
        }
        // With every state row known, the cycle's values that something outside reads follow
        // without recurrence.
        for i in r.recompute { execute(program.instructions[i], b, rows: 0..<b.rows) }
    }

    /// `s_t = a_t * s_{t-1} + b_t` element-wise, each sequence an associative scan.
    private func diagonalRecurrence(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) {
        let offsets = offsetTerms(r, b, stateSlots: stateSlots)
        let coefficients = coefficientTerms(r, b)
        for (k, slot) in stateSlots.enumerated() {
            let n = program.slotSizes[slot]
            for q in 0..<b.batch {
                let o = q * b.steps * n
                coefficients[k].withUnsafeBufferPointer { a in offsets[k].withUnsafeBufferPointer { v in
                    DiagonalScan.run(a: a.baseAddress! + o, b: v.baseAddress! + o, state: b.slots[slot] + o, width: n, steps: b.steps, threads: b.threads)
                } }
            }
        }
    }

    /// `b_t` of each state (`ScanPlan.Recurrence.offsets`).
    func offsetTerms(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) -> [[Scalar]] {
        withOffsetTerms(r, b, stateSlots: stateSlots) { r.nextSlots.map { gather($0, b) } }
    }

    /// Runs the offset pass over all rows with the group's states at 0, which leaves `b_t` in
    /// the next slots, and returns what `read` makes of them before the states' first rows
    /// (the initial values) are put back; a next slot may be a state slot (`s <- s`, swaps).
    /// The states' other rows are not kept: they are what the recurrence is about to compute.
    func withOffsetTerms<Result>(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int], read: () -> Result) -> Result {
        let rows = b.rows  // every row of every sequence: these passes are row-wise
        var initial: [[Scalar]] = []
        for slot in stateSlots {  // state slots own their rows (ld = size)
            let n = program.slotSizes[slot]
            initial.append(b.steps == 0 ? [] : (0..<b.batch).flatMap { q in UnsafeBufferPointer(start: b.row(slot, q * b.steps), count: n) })
            b.slots[slot].update(repeating: 0, count: n * rows)
        }
        defer {
            for (slot, values) in zip(stateSlots, initial) where b.steps > 0 {
                let n = program.slotSizes[slot]
                values.withUnsafeBufferPointer { v in
                    for q in 0..<b.batch { b.row(slot, q * b.steps).update(from: v.baseAddress! + q * n, count: n) }
                }
            }
        }
        for step in r.offsets {
            switch step {
            case .instruction(let i):
                execute(program.instructions[i], b, rows: 0..<rows)
            case .fill(let slot, let vector):
                let n = program.slotSizes[slot]
                for row in 0..<rows {
                    if let vector { b.row(slot, row).update(from: vectors[vector].baseAddress!, count: n) }
                    else { b.row(slot, row).update(repeating: 0, count: n) }
                }
            }
        }
        return read()
    }

    /// `a_t` of each state (`ScanPlan.Recurrence.coefficients`), one buffer of all rows per
    /// slot the state reaches; a slot without one contributes zero.
    private func coefficientTerms(_ r: ScanPlan.Recurrence, _ b: Buffers) -> [[Scalar]] {
        let rows = b.rows  // every row of every sequence: these passes are row-wise
        let sizes = program.slotSizes
        var coef: [Int: [Scalar]] = [:]
        func zeros(_ slot: Int) -> [Scalar] { [Scalar](repeating: 0, count: sizes[slot] * rows) }
        for s in r.states { coef[program.states[s].slot] = [Scalar](repeating: 1, count: sizes[program.states[s].slot] * rows) }
        for step in r.coefficients {
            switch step {
            case .product(let dst, let src, let m):
                var out = zeros(dst)
                (coef[src] ?? zeros(src)).withUnsafeBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { y in matrices[m].apply(x.baseAddress!, y.baseAddress!, count: rows, threads: b.threads) }
                }
                coef[dst] = out
            case .sum(let dst, let l, let rr):
                coef[dst] = zip(coef[l] ?? zeros(l), coef[rr] ?? zeros(rr)).map(+)
            case .scale(let dst, let c, let by):
                coef[dst] = zip(coef[c] ?? zeros(c), gather(by, b)).map(*)
            case .concat(let dst, let parts):
                var out = zeros(dst)
                for t in 0..<rows {
                    var at = t * sizes[dst]
                    for p in parts {
                        if let c = coef[p] { for j in 0..<sizes[p] { out[at + j] = c[t * sizes[p] + j] } }
                        at += sizes[p]
                    }
                }
                coef[dst] = out
            case .slice(let dst, let src, let start):
                let (n, m) = (sizes[dst], sizes[src])
                let c = coef[src] ?? zeros(src)
                coef[dst] = (0..<(n * rows)).map { c[($0 / n) * m + start + $0 % n] }
            }
        }
        return r.nextSlots.map { coef[$0] ?? zeros($0) }
    }

    /// `s_t = A s_{t-1} + b_t` over the group's concatenated state, one matrix-vector product a step.
    private func affineRecurrence(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int], offsets: [[Scalar]], sequence q: Int) {
        let sizes = stateSlots.map { program.slotSizes[$0] }
        let width = sizes.reduce(0, +)
        let first = q * b.steps  // this sequence's first row
        var current = [Scalar](repeating: 0, count: width), next = current
        var at = 0
        for (slot, n) in zip(stateSlots, sizes) {
            for i in 0..<n { current[at + i] = b.row(slot, first)[i] }
            at += n
        }
        let a = matrices[r.transition!]
        for t in 0..<(b.steps - 1) {
            current.withUnsafeBufferPointer { x in next.withUnsafeMutableBufferPointer { y in a.apply(x.baseAddress!, y.baseAddress!, count: 1, threads: b.threads) } }
            at = 0
            for (k, (slot, n)) in zip(stateSlots, sizes).enumerated() {
                let row = first + t
                let out = b.row(slot, row + 1)
                for i in 0..<n {
                    next[at + i] += offsets[k][row * n + i]
                    out[i] = next[at + i]
                }
                at += n
            }
            swap(&current, &next)
        }
    }

    /// `s_t = A s_{t-1} + b_t` with `A^m = 0`, for one sequence: `next_t = sum_{j<m} A^j
    /// b_{t-j} + A^{t+1} s_0` (terms before the sequence's start left out), each power one
    /// product over all rows; state row `t + 1` takes `next_t`.
    private func delayLine(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int], offsets: [[Scalar]], sequence q: Int) {
        let sizes = stateSlots.map { program.slotSizes[$0] }
        let width = sizes.reduce(0, +)
        let (first, steps) = (q * b.steps, b.steps)
        guard steps > 1 else { return }
        // The offsets of this sequence's rows 0 ..< T-1 side by side, and the initial state.
        var terms = [Scalar](repeating: 0, count: (steps - 1) * width)
        var initial = [Scalar](repeating: 0, count: width)
        var at = 0
        for (k, (slot, n)) in zip(stateSlots, sizes).enumerated() {
            for t in 0..<(steps - 1) {
                for i in 0..<n { terms[t * width + at + i] = offsets[k][(first + t) * n + i] }
            }
            for i in 0..<n { initial[at + i] = b.row(slot, first)[i] }
            at += n
        }
        var next = terms  // the j = 0 term
        var product = [Scalar](repeating: 0, count: (steps - 1) * width)
        for (j, m) in r.powers.enumerated() {
            let power = j + 1, a = matrices[m]
            if power < steps - 1 {  // A^j b_{t-j} for t >= j
                let count = steps - 1 - power
                terms.withUnsafeBufferPointer { x in product.withUnsafeMutableBufferPointer { y in
                    a.apply(x.baseAddress!, y.baseAddress!, count: count, threads: b.threads)
                } }
                next.withUnsafeMutableBufferPointer { y in product.withUnsafeBufferPointer { p in
                    Kernels.add(y.baseAddress! + power * width, p.baseAddress!, y.baseAddress! + power * width, count: count * width)
                } }
            }
            // A^{t+1} s_0 for t + 1 = power.
            if power <= steps - 1 {
                initial.withUnsafeBufferPointer { x in product.withUnsafeMutableBufferPointer { y in
                    a.apply(x.baseAddress!, y.baseAddress!, count: 1, threads: b.threads)
                } }
                next.withUnsafeMutableBufferPointer { y in product.withUnsafeBufferPointer { p in
                    Kernels.add(y.baseAddress! + (power - 1) * width, p.baseAddress!, y.baseAddress! + (power - 1) * width, count: width)
                } }
            }
        }
        at = 0
        for (slot, n) in zip(stateSlots, sizes) {
            next.withUnsafeBufferPointer { v in
                for t in 0..<(steps - 1) { b.row(slot, first + t + 1).update(from: v.baseAddress! + t * width + at, count: n) }
            }
            at += n
        }
    }
}
