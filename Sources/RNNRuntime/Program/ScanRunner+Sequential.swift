import RNNKernels

/// Sequential recurrences: the cycle's instructions run step by step. Before the loop every
/// instruction is resolved once to the addresses it reads and writes (views need no work,
/// concatenations become copies of their parts), so a step does no slot lookups, set
/// queries or enum copies with array payloads; a step is a few microseconds, and those
/// costs were a large part of it.
extension ScanRunner {
    /// A slot's rows (or a column range of them) for one run.
    struct SlotRows {
        let base: UnsafeMutablePointer<Scalar>
        let ld: Int
        let width: Int

        @inline(__always) func row(_ r: Int) -> UnsafeMutablePointer<Scalar> { base + r * ld }
    }

    /// One instruction of the cycle, resolved.
    enum StepOp {
        case product(ConvertedMatrix<Scalar>, x: SlotRows, y: SlotRows, bias: [Scalar]?, activation: Activation?)
        case add(SlotRows, SlotRows, SlotRows)
        case mul(SlotRows, SlotRows, SlotRows)
        case activation(Activation, x: SlotRows, y: SlotRows)
        case copy(from: SlotRows, to: SlotRows)
    }

    func slotRows(_ slot: Int, _ b: Buffers, column: Int = 0, width: Int? = nil) -> SlotRows {
        SlotRows(base: b.slots[slot] + column, ld: b.ld[slot], width: width ?? program.slotSizes[slot])
    }

    func resolveSteps(_ r: ScanPlan.Recurrence, _ b: Buffers) -> [StepOp] {
        let sizes = program.slotSizes
        var ops: [StepOp] = []
        for i in r.instructions {
            switch program.instructions[i] {
            case .affine(let dst, let src, let m, let bias):
                ops.append(.product(matrices[m], x: slotRows(src, b), y: slotRows(dst, b), bias: bias.map { vectors[$0] }, activation: nil))
            case .affineActivation(let f, let dst, let src, let m, let bias):
                ops.append(.product(matrices[m], x: slotRows(src, b), y: slotRows(dst, b), bias: bias.map { vectors[$0] }, activation: f))
            case .add(let dst, let l, let rr): ops.append(.add(slotRows(dst, b), slotRows(l, b), slotRows(rr, b)))
            case .mul(let dst, let l, let rr): ops.append(.mul(slotRows(dst, b), slotRows(l, b), slotRows(rr, b)))
            case .activation(let f, let dst, let src): ops.append(.activation(f, x: slotRows(src, b), y: slotRows(dst, b)))
            case .slice(let dst, let src, let start):
                if !sliceViews.contains(dst) { ops.append(.copy(from: slotRows(src, b, column: start, width: sizes[dst]), to: slotRows(dst, b))) }
            case .concat(let dst, let parts):
                var at = 0
                for p in parts {
                    ops.append(.copy(from: slotRows(p, b), to: slotRows(dst, b, column: at, width: sizes[p])))
                    at += sizes[p]
                }
            }
        }
        return ops
    }

    /// Rows the cycle reads but does not write (the batched input terms, such as a GRU's
    /// `W_ih x + b_ih`): a step asks for the next step's row before its products run, so the
    /// row is in cache when the step after needs it.
    private func streamedOperands(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) -> [SlotRows] {
        let written = Set(r.instructions.map { program.instructions[$0].destination } + stateSlots)
        var seen = Set<Int>()
        return r.instructions.flatMap { program.instructions[$0].operands }.compactMap { slot in
            guard !written.contains(slot), b.ld[slot] > 0, seen.insert(slot).inserted else { return nil }
            return slotRows(slot, b)
        }
    }

    /// Runs the cycle step by step for every sequence of the batch (in lockstep: a product is
    /// one matrix product over the batch's rows), copying each state's next value into the
    /// state's following row.
    func solveSequentially(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) {
        let ops = resolveSteps(r, b)
        let stateCopies = zip(stateSlots, r.nextSlots).map { (from: slotRows($1, b), to: slotRows($0, b)) }
        let streamed = streamedOperands(r, b, stateSlots: stateSlots)
        let (steps, batch) = (b.steps, b.batch)
        for t in 0..<steps {
            if t + 1 < steps {
                for rows in streamed {
                    for q in 0..<batch { rnnk_prefetch(rows.row(q * steps + t + 1), rows.width * MemoryLayout<Scalar>.stride) }
                }
            }
            for op in ops { perform(op, step: t, b) }
            guard t + 1 < steps else { break }
            for copy in stateCopies {
                for q in 0..<batch { copy.to.row(q * steps + t + 1).update(from: copy.from.row(q * steps + t), count: copy.to.width) }
            }
        }
    }

    @inline(__always)
    private func perform(_ op: StepOp, step t: Int, _ b: Buffers) {
        let (steps, batch) = (b.steps, b.batch)
        switch op {
        case .product(let m, let x, let y, let bias, let f):
            m.apply(x.row(t), y.row(t), count: batch, ldx: steps * x.ld, ldy: steps * y.ld, threads: b.threads)
            guard bias != nil || f != nil else { return }
            for q in 0..<batch {
                let yq = y.row(q * steps + t)
                if let bias { bias.withUnsafeBufferPointer { v in for i in 0..<y.width { yq[i] += v[i] } } }
                if let f { Kernels.activate(f, yq, yq, count: y.width) }
            }
        case .add(let d, let l, let r):
            for q in 0..<batch {
                let row = q * steps + t
                let (dp, lp, rp) = (d.row(row), l.row(row), r.row(row))
                for i in 0..<d.width { dp[i] = lp[i] + rp[i] }
            }
        case .mul(let d, let l, let r):
            for q in 0..<batch {
                let row = q * steps + t
                let (dp, lp, rp) = (d.row(row), l.row(row), r.row(row))
                for i in 0..<d.width { dp[i] = lp[i] * rp[i] }
            }
        case .activation(let f, let x, let y):
            for q in 0..<batch { Kernels.activate(f, x.row(q * steps + t), y.row(q * steps + t), count: y.width) }
        case .copy(let from, let to):
            for q in 0..<batch { to.row(q * steps + t).update(from: from.row(q * steps + t), count: to.width) }
        }
    }
}
