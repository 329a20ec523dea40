import Foundation

/// How a scan program solves one group of coupled states over the whole sequence.
extension ScanRunner {
    func solve(_ r: ScanPlan.Recurrence, _ b: Buffers) {
        let steps = b.steps
        let stateSlots = r.states.map { program.states[$0].slot }
        switch r.kind {
        case .sequential:
            return solveSequentially(r, b, stateSlots: stateSlots)
        case .diagonal:
            if solveDirectly(r, b, stateSlot: stateSlots[0]) { return }
            let offsets = offsetTerms(r, b, stateSlots: stateSlots)
            let coefficients = coefficientTerms(r, b, stateSlots: stateSlots)
            for (k, slot) in stateSlots.enumerated() {
                let n = program.slotSizes[slot]
                for q in 0..<b.batch {
                    let o = q * steps * n
                    coefficients[k].withUnsafeBufferPointer { a in offsets[k].withUnsafeBufferPointer { v in
                        DiagonalScan.run(a: a.baseAddress! + o, b: v.baseAddress! + o, state: b.slots[slot] + o, width: n, steps: steps, threads: b.threads)
                    } }
                }
            }
        case .affine:
            let offsets = offsetTerms(r, b, stateSlots: stateSlots)
            for q in 0..<b.batch { affineRecurrence(r, b, stateSlots: stateSlots, offsets: offsets, sequence: q) }
        case .modal:
            modalRecurrence(r, b, stateSlots: stateSlots)
        }
        // With every state row known, the cycle's own values follow without recurrence (only
        // those something outside the cycle reads).
        for i in instructionsReadOutside(r) { execute(program.instructions[i], b, rows: 0..<b.rows) }
    }

    /// The cycle's instructions whose values something outside the cycle reads (an output, a
    /// later stage), with the cycle instructions those depend on, in order.
    private func instructionsReadOutside(_ r: ScanPlan.Recurrence) -> [Int] {
        let readsInside = Self.readsInside(r, program)
        var needed = Set<Int>(), result: [Int] = []
        for i in r.instructions.reversed() {
            let ins = program.instructions[i]
            guard needed.contains(ins.destination) || readCounts[ins.destination, default: 0] > readsInside[ins.destination, default: 0] else { continue }
            result.append(i)
            needed.formUnion(ins.operands)
        }
        return result.reversed()
    }

    /// The common shapes of a one-state diagonal recurrence, scanned straight from the slots
    /// that hold `a_t` and `b_t`: `next = u * s + v` (with `p = u * s`) and `next = s + v`.
    /// Writes every row of the cycle's slots that anything reads (the state's own rows, the
    /// product and the next value are skipped when only the cycle uses them), so no
    /// recomputation follows. Channels are split over the cores.
    private func solveDirectly(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlot s: Int) -> Bool {
        guard r.states.count == 1 else { return false }
        let ins = r.instructions.map { program.instructions[$0] }
        var u: Int?, product: Int?, v: Int, next: Int
        switch ins.count {
        case 1:
            guard case .elementwise(let sum, let n, let l, let rr?) = ins[0], sum.kind == .add, (l == s) != (rr == s) else { return false }
            (next, v) = (n, l == s ? rr : l)
        case 2:
            guard case .elementwise(let gate, let p, let ml, let mr?) = ins[0], gate.kind == .mul, (ml == s) != (mr == s),
                  case .elementwise(let sum, let n, let al, let ar?) = ins[1], sum.kind == .add, (al == p) != (ar == p) else { return false }
            (u, product, next, v) = (ml == s ? mr : ml, p, n, al == p ? ar : al)
            guard v != s, v != p, u != p else { return false }
        default: return false
        }
        guard v != s, next == r.nextSlots[0] else { return false }
        // Who reads what besides the cycle: the cycle reads s (once), p (once) and next (the
        // state's own update).
        let keepState = readCounts[s, default: 0] > 1
        let keepProduct = product.map { readCounts[$0, default: 0] > 1 } ?? false
        let keepNext = readCounts[next, default: 0] > 1
        let steps = b.steps
        for q in 0..<b.batch {
            let first = q * steps
            func rows(_ slot: Int) -> Rows { Rows(base: UInt(bitPattern: b.row(slot, first)), ld: b.ld[slot]) }
            scanDirectly(state: rows(s), keepState: keepState, next: keepNext ? rows(next) : nil,
                         coefficient: u.map(rows), offset: rows(v), product: keepProduct ? product.map(rows) : nil,
                         width: program.slotSizes[s], steps: steps, threads: b.threads)
        }
        return true
    }

    /// A slot's rows for one sequence, as an address (to cross into worker threads) and a stride.
    struct Rows {
        let base: UInt
        let ld: Int
        func row(_ t: Int) -> UnsafeMutablePointer<Scalar> { UnsafeMutablePointer<Scalar>(bitPattern: base)! + t * ld }
    }

    /// `h = u_t * h + v_t` (or `h + v_t`) from row 0 of `state`, for one sequence: writes the
    /// state's rows 1..<steps when `keepState`, each step's new value to `next`, and
    /// `u_t * h` to `product`, when given.
    private func scanDirectly(state: Rows, keepState: Bool, next: Rows?, coefficient: Rows?, offset: Rows,
                              product: Rows?, width: Int, steps: Int, threads: Int) {
        let cores = width >= 64 && steps * width >= 1 << 16 ? min(threads, Parallel.cores) : 1
        let chunk = (width + cores - 1) / cores
        DispatchQueue.concurrentPerform(iterations: cores) { k in
            let lo = k * chunk, hi = min(width, lo + chunk)
            guard lo < hi else { return }
            let h = UnsafeMutablePointer<Scalar>.allocate(capacity: hi - lo)
            defer { h.deallocate() }
            h.update(from: state.row(0) + lo, count: hi - lo)
            for t in 0..<steps {
                let vb = offset.row(t) + lo
                if let coefficient {
                    let ua = coefficient.row(t) + lo
                    if let product {
                        let pr = product.row(t) + lo
                        for i in 0..<(hi - lo) { let p = ua[i] * h[i]; pr[i] = p; h[i] = p + vb[i] }
                    } else {
                        for i in 0..<(hi - lo) { h[i] = ua[i] * h[i] + vb[i] }
                    }
                } else {
                    for i in 0..<(hi - lo) { h[i] += vb[i] }
                }
                if let next { (next.row(t) + lo).update(from: h, count: hi - lo) }
                if keepState, t + 1 < steps { (state.row(t + 1) + lo).update(from: h, count: hi - lo) }
            }
        }
    }

    /// `b_t` of each state: the cycle evaluated over all steps with the group's states at 0.
    func offsetTerms(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) -> [[Scalar]] {
        withOffsetTerms(r, b, stateSlots: stateSlots) { r.nextSlots.map { gather($0, b) } }
    }

    /// Runs the cycle over all rows with the group's states at 0, which leaves `b_t` in the
    /// next slots, and returns what `read` makes of them before the states' first rows (the
    /// initial values) are put back; a next slot may be a state slot (`s <- s`, swaps). The
    /// states' other rows are not kept: they are what the recurrence is about to compute.
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
        // Values known to be zero here (the states, and what only scales or moves them): a
        // matrix applied to one of them is its bias, with no product.
        var zero = Set(stateSlots)
        for i in r.instructions {
            let ins = program.instructions[i]
            switch ins {
            case .affine(let dst, let src, _, let bias, nil) where zero.contains(src):
                let n = program.slotSizes[dst]
                for row in 0..<rows {
                    if let bias { b.row(dst, row).update(from: vectors[bias].baseAddress!, count: n) }
                    else { b.row(dst, row).update(repeating: 0, count: n) }
                }
                if bias == nil { zero.insert(dst) }
                continue
            case .slice(let dst, let src, _) where zero.contains(src): zero.insert(dst)
            case .concat(let dst, let parts) where parts.allSatisfy(zero.contains): zero.insert(dst)
            case .elementwise(let op, let dst, _, _) where op.entry.linearity == .multiplicative && ins.operands.contains(where: zero.contains):
                zero.insert(dst)
            default: zero.remove(ins.destination)
            }
            execute(ins, b, rows: 0..<rows)
        }
        return read()
    }

    /// `a_t` of each state: the coefficient of the state in its next value, propagated through
    /// the cycle (affine maps without bias, sums of the dependent parts, gates scaled by their
    /// independent operand). The analysis guarantees no other op touches the state.
    private func coefficientTerms(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) -> [[Scalar]] {
        let steps = b.rows  // every row of every sequence: these passes are row-wise
        let sizes = program.slotSizes
        var coef: [Int: [Scalar]] = [:]
        for slot in stateSlots { coef[slot] = [Scalar](repeating: 1, count: sizes[slot] * steps) }
        for i in r.instructions {
            switch program.instructions[i] {
            case .affine(let dst, let src, let m, _, nil):
                guard let c = coef[src] else { continue }
                var out = [Scalar](repeating: 0, count: sizes[dst] * steps)
                c.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { y in matrices[m].apply(x.baseAddress!, y.baseAddress!, count: steps, threads: b.threads) } }
                coef[dst] = out
            case .affine:
                continue  // an epilogue of a state-dependent value is rejected by `ScanPlan.validate`
            case .elementwise(let op, let dst, let l, let rr):
                let r = rr ?? l
                switch op.entry.linearity {
                case .additive:
                    let zero = [Scalar](repeating: 0, count: sizes[dst] * steps)
                    guard coef[l] != nil || coef[r] != nil else { continue }
                    coef[dst] = zip(coef[l] ?? zero, coef[r] ?? zero).map(+)
                case .multiplicative:
                    switch (coef[l], coef[r]) {
                    case (let c?, nil): coef[dst] = zip(c, gather(r, b)).map(*)
                    case (nil, let c?): coef[dst] = zip(gather(l, b), c).map(*)
                    default: continue  // nothing of the state, or two state-dependent values (rejected by `ScanPlan.validate`)
                    }
                case .nonlinear:
                    continue  // rejected by `ScanPlan.validate` on state-dependent operands
                }
            case .concat(let dst, let parts):
                guard parts.contains(where: { coef[$0] != nil }) else { continue }
                var out = [Scalar](repeating: 0, count: sizes[dst] * steps)
                for t in 0..<steps {
                    var at = t * sizes[dst]
                    for p in parts {
                        if let c = coef[p] { for j in 0..<sizes[p] { out[at + j] = c[t * sizes[p] + j] } }
                        at += sizes[p]
                    }
                }
                coef[dst] = out
            case .slice(let dst, let src, let start):
                guard let c = coef[src] else { continue }
                let (n, m) = (sizes[dst], sizes[src])
                coef[dst] = (0..<(n * steps)).map { c[($0 / n) * m + start + $0 % n] }
            }
        }
        return r.nextSlots.map { coef[$0] ?? [Scalar](repeating: 0, count: sizes[$0] * steps) }
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
}
