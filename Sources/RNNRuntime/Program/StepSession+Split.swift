import RNNOps

/// Wide ops of a step on all the session's cores. A language model's step streams its dense
/// weights through matrix-vector products that run on the helper team already
/// (`ConvertedMatrix.apply`); between them come element-wise ops and sparse regroupings over
/// wide vectors (Mamba's selective state: 24,576 values a layer at mamba-130m's width), which
/// ran on one core while the others waited. Such an op now runs on the team too, each core on
/// its share of the outputs; ops stay in order, so the only synchronization is the team's
/// handoff at the start and end of each op.
extension StepSession {
    /// Values from which an element-wise op or a sparse product runs split: a few
    /// microseconds of work on one core, against a handoff of about one.
    static var splitValues: Int { 1 << 14 }

    /// Ops that may run split: element-wise ops, and products the team does not run already
    /// (sparse matrices), when the session has more than one core.
    func mayRunSplit(_ op: Op) -> Bool {
        guard min(threads, Parallel.cores) > 1 else { return false }
        switch op.kind {
        case .elementwise: return true
        case .product: return !op.matrix!._withUnsafeGuaranteedRef { $0.isPacked }
        case .copy, .gather: return false
        }
    }

    /// Binds, for every op that may run split, one kernel per core: cores that shared one
    /// kernel object would bounce its reference count between their caches at every op.
    func bindSplitKernels() {
        let parts = min(threads, Parallel.cores)
        var boxes: [[KernelBox<Scalar>?]] = []
        for op in ops where mayRunSplit(op) { boxes.append((0..<parts).map { _ in op.elementwise.map(KernelBox<Scalar>.init) }) }
        let kernels = SplitKernels(boxes, parts: parts)
        var k = 0
        for i in ops.indices where mayRunSplit(ops[i]) {
            ops[i].split = UnsafePointer(kernels.table + k * parts)
            k += 1
        }
        splitKernels = kernels
    }

    /// Runs `op` on the team, each core over its share of the outputs (whole 64-byte lines,
    /// or a sparse matrix's row blocks); false, having done nothing, when the team is busy.
    func performSplit(_ op: Op) -> Bool {
        let parts = min(threads, Parallel.cores)
        let ran = Team.run(parts: parts, wait: waitsForTeam) { part, parts in
            let granule = op.kind == .product ? op.matrix!._withUnsafeGuaranteedRef { $0.panelRows } : max(1, 64 / MemoryLayout<Scalar>.stride)
            let units = (op.count + granule - 1) / granule
            let (lo, hi) = (min(op.count, units * part / parts * granule), min(op.count, units * (part + 1) / parts * granule))
            guard lo < hi else { return }
            let kernel = op.split![part]?._withUnsafeGuaranteedRef { $0.run }
            if op.kind == .product {
                op.matrix!._withUnsafeGuaranteedRef { m in
                    m.applySerial(op.x, op.dst, count: 1, panels: (lo / granule)..<(units * (part + 1) / parts), ldx: m.cols, ldy: m.rows)
                }
                if let bias = op.bias { Kernels.add(op.dst + lo, bias + lo, op.dst + lo, count: hi - lo) }
                kernel?(op.dst + lo, op.dst + lo, op.dst + lo, hi - lo)
            } else {
                kernel!(op.x + lo, op.y + lo, op.dst + lo, hi - lo)
            }
        }
        if ran { splitRuns += 1 }
        return ran
    }
}

/// The kernels of a session's split ops, one per core (nil for a product without an
/// epilogue), referred to unretained: `Op.split` points into `table`.
final class SplitKernels<Scalar: BinaryFloatingPoint> {
    let boxes: [KernelBox<Scalar>]
    let table: UnsafeMutablePointer<Unmanaged<KernelBox<Scalar>>?>

    init(_ perOp: [[KernelBox<Scalar>?]], parts: Int) {
        boxes = perOp.flatMap { $0.compactMap { $0 } }
        table = .allocate(capacity: max(1, perOp.count * parts))
        for (k, op) in perOp.enumerated() {
            for part in 0..<parts { (table + k * parts + part).initialize(to: op[part].map { Unmanaged.passUnretained($0) }) }
        }
    }

    deinit { table.deallocate() }
}
