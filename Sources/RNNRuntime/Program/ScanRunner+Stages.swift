import Foundation
import RNNOps

/// Running a plan's stages: inputs, constants and initial states in, batched stages over all
/// rows, recurrences solved (`ScanRunner+Recurrences.swift`), outputs out.
extension ScanRunner {
    /// Fills inputs (copied from `copyingInputs` when given), constants and initial states
    /// (each sequence's own, in the order of `program.states`, when given), runs the stages,
    /// and copies the outputs not placed in `into` already. `onlyFeedingStates` skips the
    /// batched instructions whose values reach no state (pass no outputs then).
    func execute(_ b: Buffers, copyingInputs sequences: [[Scalar]], placedOutputs: Set<Int>, into outputs: [UnsafeMutablePointer<Scalar>],
                 initialStates: [[[Scalar]]]? = nil, onlyFeedingStates: Bool = false) {
        let (sizes, steps, width) = (program.slotSizes, b.steps, program.inputWidth)
        for (q, tokens) in sequences.enumerated() {
            tokens.withUnsafeBufferPointer { x in
                var at = 0
                for slot in program.inputSlots {
                    let n = sizes[slot]
                    for t in 0..<steps { b.row(slot, q * steps + t).update(from: x.baseAddress! + t * width + at, count: n) }
                    at += n
                }
            }
        }
        for c in program.constants {
            let v = vectors[c.vector]
            b.row(c.slot, 0).update(from: v.baseAddress!, count: v.count)  // one row for all (ld 0)
        }
        for (k, state) in program.states.enumerated() {
            let v = vectors[state.initial]
            for q in 0..<b.batch {
                if let initialStates {
                    initialStates[q][k].withUnsafeBufferPointer { b.stateRow(state.slot, sequence: q, step: 0).update(from: $0.baseAddress!, count: v.count) }
                } else {
                    b.stateRow(state.slot, sequence: q, step: 0).update(from: v.baseAddress!, count: v.count)
                }
            }
        }
        for stage in plan.stages {
            switch stage {
            case .batched(let list):
                for i in list where !onlyFeedingStates || feedsStates[i] { execute(program.instructions[i], b, rows: 0..<b.rows) }
            case .recurrence(let r): solve(r, b)
            }
        }
        let n = program.outputWidth
        for (q, y) in outputs.enumerated() {
            var at = 0
            for (k, slot) in program.outputSlots.enumerated() {
                let m = sizes[slot]
                if !placedOutputs.contains(k) {
                    for t in 0..<steps { (y + t * n + at).update(from: b.row(slot, q * steps + t), count: m) }
                }
                at += m
            }
        }
    }

    // MARK: Instructions over rows

    func execute(_ ins: Instruction, _ b: Buffers, rows: Range<Int>) {
        let sizes = program.slotSizes
        switch ins {
        case .affine(let dst, let src, let m, let bias, let epilogue):
            product(matrices[m], src, dst, bias: bias, epilogue: epilogue, b, rows)
        case .elementwise(let op, let dst, let l, let r):
            elementwise(op, dst, l, r ?? l, b, rows)
        case .concat(let dst, let parts):
            for r in rows {
                var at = 0
                for p in parts {
                    (b.row(dst, r) + at).update(from: b.row(p, r), count: sizes[p])
                    at += sizes[p]
                }
            }
        case .slice(let dst, let src, let start):
            guard !sliceViews.contains(dst) else { return }
            for r in rows { b.row(dst, r).update(from: b.row(src, r) + start, count: sizes[dst]) }
        case .gather(let dst, let src, let m):
            let table = UnsafePointer(tables[m]!), tableRows = program.matrices[m].rows
            for r in rows { GatherTable.row(table, rows: tableRows, id: b.row(src, r).pointee, into: b.row(dst, r), count: sizes[dst]) }
        }
    }

    /// `dst = f(W src + bias)` over rows; the bias and the epilogue `f` run on each block of
    /// rows as the product finishes it, while it is in cache.
    private func product(_ w: ConvertedMatrix<Scalar>, _ src: Int, _ dst: Int, bias: Int?, epilogue f: ElementwiseOp?, _ b: Buffers, _ rows: Range<Int>) {
        let (first, ldy, n) = (rows.lowerBound, b.ld[dst], program.slotSizes[dst])
        let y = b.row(dst, first)
        let biasValues = bias.map { vectors[$0] }
        let f = f.map { Kernels.bind($0, to: Scalar.self) }  // looked up once, not once a row
        let epilogue: ((Int, Int) -> Void)? = bias == nil && f == nil ? nil : { at, count in
            for r in at..<(at + count) {
                let yr = y + r * ldy
                if let biasValues { Kernels.add(yr, biasValues.baseAddress!, yr, count: n) }
                if let f, ldy != n { f(yr, yr, yr, n) }
            }
            if let f, ldy == n { f(y + at * n, y + at * n, y + at * n, n * count) }
        }
        w.apply(b.row(src, first), y, count: rows.count, ldx: b.ld[src], ldy: ldy, threads: b.threads, epilogue: epilogue)
    }

    /// `dst = op(l, r)` over rows (unary ops pass `r = l`), as one run when the slots are contiguous.
    private func elementwise(_ op: ElementwiseOp, _ dst: Int, _ l: Int, _ r: Int, _ b: Buffers, _ rows: Range<Int>) {
        let n = program.slotSizes[dst]
        if b.ld[dst] == n, b.ld[l] == n, b.ld[r] == n {
            let (d, x, y) = (b.row(dst, rows.lowerBound), b.row(l, rows.lowerBound), b.row(r, rows.lowerBound))
            inChunks(n * rows.count, threads: b.threads) { at, m in Kernels.apply(op, x + at, y + at, d + at, count: m) }
        } else {
            let f = Kernels.bind(op, to: Scalar.self)
            for row in rows { f(b.row(l, row), b.row(r, row), b.row(dst, row), n) }
        }
    }

    /// `body(start, count)` over `0 ..< total` in one piece, or split over the cores when
    /// the work is large enough to pay for waking them (element-wise passes over [T, n]).
    private func inChunks(_ total: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let cores = total >= 1 << 17 ? min(threads, Parallel.cores) : 1
        Parallel.forEachChunk(of: total, cores: cores, granule: 16, body)  // whole vectors per chunk
    }

    /// Rows of a slot as one contiguous array.
    func gather(_ slot: Int, _ b: Buffers) -> [Scalar] {
        let n = program.slotSizes[slot]
        if b.ld[slot] == n { return Array(UnsafeBufferPointer(start: b.slots[slot], count: n * b.rows)) }
        return [Scalar](unsafeUninitializedCapacity: n * b.rows) { out, count in
            for r in 0..<b.rows { (out.baseAddress! + r * n).initialize(from: b.row(slot, r), count: n) }
            count = n * b.rows
        }
    }
}
