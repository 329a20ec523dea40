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
            delayLine(r, b, stateSlots: stateSlots)
        case .chunked:
            return solveChunked(r, b)
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

    /// `s_t = A s_{t-1} + b_t` with `A^m = 0`: `next_t = sum_{j<m} A^j b_{t-j} + A^{t+1} s_0`
    /// (terms before a sequence's start left out), written into the state rows (row `t + 1`
    /// takes `next_t`): copies of the offsets, then one product over all rows per power.
    private func delayLine(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) {
        let sizes = stateSlots.map { program.slotSizes[$0] }
        let width = sizes.reduce(0, +)
        let steps = b.steps
        guard steps > 1, width > 0 else { return }
        let starts = sizes.indices.map { k in sizes[..<k].reduce(0, +) }
        // b_t of every row, the states side by side: `terms[row * width ..< (row + 1) * width]`.
        let terms = b.workspace.scratch(0, count: b.rows * width)
        withOffsetTerms(r, b, stateSlots: stateSlots) {
            for (k, next) in r.nextSlots.enumerated() {
                for row in 0..<b.rows { (terms + row * width + starts[k]).update(from: b.row(next, row), count: sizes[k]) }
            }
        }
        let product = b.workspace.scratch(1, count: (steps - 1) * width)
        let initial = b.workspace.scratch(2, count: width)
        for q in 0..<b.batch {
            let (first, x) = (q * steps, terms + q * steps * width)
            for (k, slot) in stateSlots.enumerated() {
                (initial + starts[k]).update(from: b.row(slot, first), count: sizes[k])
                for t in 0..<(steps - 1) { b.row(slot, first + t + 1).update(from: x + t * width + starts[k], count: sizes[k]) }
            }
            // Adds `product` row `t - from` into state row `t + 1` for t in `from ..< end`.
            func addProduct(from: Int, to end: Int) {
                for (k, slot) in stateSlots.enumerated() {
                    for t in from..<end {
                        let row = b.row(slot, first + t + 1)
                        Kernels.add(row, product + (t - from) * width + starts[k], row, count: sizes[k])
                    }
                }
            }
            for (j, m) in r.powers.enumerated() {
                let (power, a) = (j + 1, matrices[m])
                if power < steps - 1 {  // A^power b_{t-power} for t >= power
                    a.apply(x, product, count: steps - 1 - power, threads: b.threads)
                    addProduct(from: power, to: steps - 1)
                }
                if power <= steps - 1 {  // A^power s_0 at t = power - 1
                    a.apply(initial, product, count: 1, threads: b.threads)
                    addProduct(from: power - 1, to: power)
                }
            }
        }
    }
}
