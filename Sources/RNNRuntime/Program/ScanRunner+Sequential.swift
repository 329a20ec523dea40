import RNNKernels
import RNNOps

/// Sequential recurrences: the cycle's instructions run step by step. Before the loop every
/// instruction is resolved once to the addresses it reads and writes (views need no work,
/// concatenations become copies of their parts), so a step does no slot lookups, set
/// queries or enum copies with array payloads; a step is a few microseconds, and those
/// costs were a large part of it.
extension ScanRunner {
    /// A slot's rows (or a column range of them) for one run: sequence `q`'s row for step
    /// `t` is at `base + q * sequenceStride + t * ld`.
    struct SlotRows {
        let base: UnsafeMutablePointer<Scalar>
        /// From one step's row to the next; 0 for values local to the cycle, whose one row
        /// per sequence every step reuses.
        let ld: Int
        /// From one sequence's row to the next sequence's row of the same step.
        let sequenceStride: Int
        let width: Int

        @inline(__always) func row(_ q: Int, _ t: Int) -> UnsafeMutablePointer<Scalar> { base + q * sequenceStride + t * ld }
    }

    /// One instruction of the cycle, resolved to plain addresses (no references to count, so
    /// running one costs no retain or release), over the columns `columns` of its
    /// destination: all of them, or one core's share (`ScanRunner+SplitSteps.swift`).
    struct StepOp {
        enum Kind { case product, elementwise, copy, stateCopy }
        var kind: Kind
        /// The destination (a product's y; for `stateCopy`, the state, written at row t + 1).
        var d: SlotRows
        /// The first operand (a product's x, an activation's or a copy's source).
        var l: SlotRows
        /// The second operand of a binary element-wise op (`l` otherwise).
        var r: SlotRows
        var columns: Range<Int>
        /// A product's panels of its matrix; nil: all of them, on the helper team when large.
        var panels: Range<Int>? = nil
        var matrix: Unmanaged<ConvertedMatrix<Scalar>>? = nil
        /// A product's bias, or nil.
        var bias: UnsafePointer<Scalar>? = nil
        /// A product's epilogue, or an element-wise op's op.
        var op: ElementwiseOp? = nil
        /// `op`'s kernel, bound by the core that runs the op (`bindingKernels`).
        var kernel: Unmanaged<KernelBox<Scalar>>? = nil
        /// Whether the cores meet at a barrier before a split step runs this op.
        var barrierBefore = false

        init(_ kind: Kind, _ d: SlotRows, _ l: SlotRows, _ r: SlotRows? = nil) {
            (self.kind, self.d, self.l, self.r, columns) = (kind, d, l, r ?? l, 0..<d.width)
        }
    }

    func slotRows(_ slot: Int, _ b: Buffers, column: Int = 0, width: Int? = nil) -> SlotRows {
        let (base, width) = (b.slots[slot] + column, width ?? program.slotSizes[slot])
        if b.perSequence.contains(slot) { return SlotRows(base: base, ld: 0, sequenceStride: b.ld[slot], width: width) }
        return SlotRows(base: base, ld: b.ld[slot], sequenceStride: b.steps * b.ld[slot], width: width)
    }

    func resolveSteps(_ r: ScanPlan.Recurrence, _ b: Buffers) -> [StepOp] {
        let sizes = program.slotSizes
        var ops: [StepOp] = []
        func product(_ dst: Int, _ src: Int, _ m: Int, _ bias: Int?, _ f: ElementwiseOp?) -> StepOp {
            var op = StepOp(.product, slotRows(dst, b), slotRows(src, b))
            op.matrix = Unmanaged.passUnretained(matrices[m])  // `weights` keeps it alive
            op.bias = bias.map { vectors[$0].baseAddress! }
            op.op = f
            return op
        }
        for i in r.instructions {
            switch program.instructions[i] {
            case .affine(let dst, let src, let m, let bias, let f): ops.append(product(dst, src, m, bias, f))
            case .elementwise(let f, let dst, let l, let rr):
                var op = StepOp(.elementwise, slotRows(dst, b), slotRows(l, b), rr.map { slotRows($0, b) })
                op.op = f
                ops.append(op)
            case .gather:
                preconditionFailure("a validated plan keeps gathers off recurrence cycles")
            case .slice(let dst, let src, let start):
                if !sliceViews.contains(dst) { ops.append(StepOp(.copy, slotRows(dst, b), slotRows(src, b, column: start, width: sizes[dst]))) }
            case .concat(let dst, let parts):
                var at = 0
                for p in parts {
                    ops.append(StepOp(.copy, slotRows(dst, b, column: at, width: sizes[p]), slotRows(p, b)))
                    at += sizes[p]
                }
            }
        }
        return ops
    }

    /// Rows the cycle reads but does not write (the batched input terms, such as a GRU's
    /// `W_ih x + b_ih`): a step asks for the next step's row before its products run, so the
    /// row is in cache when the step after needs it.
    func streamedOperands(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) -> [SlotRows] {
        let written = Set(r.instructions.map { program.instructions[$0].destination } + stateSlots)
        var seen = Set<Int>()
        return r.instructions.flatMap { program.instructions[$0].operands }.compactMap { slot in
            guard !written.contains(slot), !b.perSequence.contains(slot), b.ld[slot] > 0, seen.insert(slot).inserted else { return nil }
            return slotRows(slot, b)
        }
    }

    /// Copies of each state's next value (row t) into the state's following row (t + 1).
    func stateCopies(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) -> [StepOp] {
        zip(stateSlots, r.nextSlots).map { StepOp(.stateCopy, slotRows($0, b), slotRows($1, b)) }
    }

    /// Runs the cycle step by step for every sequence of the batch (in lockstep: a product is
    /// one matrix product over the batch's rows), copying each state's next value into the
    /// state's following row. Cycles with large enough products run on all the run's cores,
    /// each step split between them (`solveSplit`).
    func solveSequentially(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) {
        let copies = stateCopies(r, b, stateSlots: stateSlots)
        let streamed = streamedOperands(r, b, stateSlots: stateSlots)
        let steps = resolveSteps(r, b)
        if solveSplit(steps + copies, b, streamed: streamed) { return }
        bindingKernels(steps) { ops in
            for t in 0..<b.steps {
                for rows in streamed { prefetch(rows, step: t + 1, b) }
                for op in ops { perform(op, step: t, b) }
                guard t + 1 < b.steps else { break }
                for copy in copies { perform(copy, step: t, b) }
            }
        }
    }

    /// Runs `body` on `ops` with their kernels bound, in boxes that live as long as `body`
    /// runs and that only the calling core touches.
    func bindingKernels<R>(_ ops: [StepOp], _ body: (UnsafeBufferPointer<StepOp>) -> R) -> R {
        let boxes = ops.map { op in op.op.map(KernelBox<Scalar>.init) }
        var bound = ops
        for i in bound.indices { bound[i].kernel = boxes[i].map { Unmanaged.passUnretained($0) } }
        return withExtendedLifetime(boxes) { bound.withUnsafeBufferPointer(body) }
    }

    /// Asks for every sequence's row `t` of `rows` (its columns `columns` when given).
    @inline(__always)
    func prefetch(_ rows: SlotRows, step t: Int, _ b: Buffers, columns: Range<Int>? = nil) {
        guard t < b.steps else { return }
        let c = columns ?? 0..<rows.width
        for q in 0..<b.batch { rnnk_prefetch(rows.row(q, t) + c.lowerBound, c.count * MemoryLayout<Scalar>.stride) }
    }

    /// Runs step `t` of `op` over its columns of every sequence's row.
    @inline(__always)
    func perform(_ op: StepOp, step t: Int, _ b: Buffers) {
        let batch = b.batch
        let (d, l, r, at, n) = (op.d, op.l, op.r, op.columns.lowerBound, op.columns.count)
        switch op.kind {
        case .product:
            op.matrix!._withUnsafeGuaranteedRef { m in
                if let panels = op.panels {
                    guard !panels.isEmpty else { return }
                    for q in 0..<batch { rnnk_prefetch(l.row(q, t), l.width * MemoryLayout<Scalar>.stride) }
                    m.applySerial(l.row(0, t), d.row(0, t), count: batch, panels: panels, ldx: l.sequenceStride, ldy: d.sequenceStride)
                } else {
                    m.apply(l.row(0, t), d.row(0, t), count: batch, ldx: l.sequenceStride, ldy: d.sequenceStride, threads: b.threads)
                }
            }
            guard op.bias != nil || op.kernel != nil else { return }
            for q in 0..<batch {
                let y = d.row(q, t) + at
                if let bias = op.bias { Kernels.add(y, bias + at, y, count: n) }
                op.kernel?._withUnsafeGuaranteedRef { $0.run(y, y, y, n) }
            }
        case .elementwise:
            op.kernel!._withUnsafeGuaranteedRef { f in
                for q in 0..<batch { f.run(l.row(q, t) + at, r.row(q, t) + at, d.row(q, t) + at, n) }
            }
        case .copy:
            for q in 0..<batch { (d.row(q, t) + at).update(from: l.row(q, t) + at, count: n) }
        case .stateCopy:
            for q in 0..<batch { (d.row(q, t + 1) + at).update(from: l.row(q, t) + at, count: n) }
        }
    }
}
