import RNNOps

/// Wide ops of a step on all the session's cores. A language model's step streams its dense
/// weights through matrix-vector products that run on the helper team already
/// (`ConvertedMatrix.apply`); between them come element-wise ops and sparse regroupings over
/// wide vectors (Mamba's selective state: 24,576 values a layer at mamba-130m's width), which
/// ran on one core while the others waited. Consecutive such ops now run as one job of the
/// team, each core over its share of every op's outputs. An element-wise op reads the same
/// share of its operands that it writes, so it follows an op of its width on the same core
/// with nothing in between; the cores meet at a barrier only before an op that reads what
/// another core may have written (a product reads all of its input) or overwrites what
/// another core may still read.
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
        planSplitRuns()
    }

    /// Groups consecutive ops of `minimumSplitValues` values or more that may run split into
    /// runs (`Op.runEnd` on a run's first op), with a barrier before each op that reads or
    /// overwrites memory another core may have touched since the last one.
    func planSplitRuns() {
        for i in ops.indices { (ops[i].runEnd, ops[i].barrierBefore) = (0, false) }
        func splits(_ op: Op) -> Bool { op.split != nil && op.count >= minimumSplitValues }
        var i = 0
        while i < ops.count {
            guard splits(ops[i]) else { i += 1; continue }
            var touched = RunAccess()
            var end = i
            while end < ops.count, splits(ops[end]) {
                if end > i, touched.conflicts(with: ops[end]) {
                    ops[end].barrierBefore = true
                    touched = RunAccess()
                }
                touched.record(ops[end])
                end += 1
            }
            ops[i].runEnd = end
            i = end
        }
    }

    /// Runs the ops `range` (a split run) on the team, each core over its share of each op;
    /// false, having done nothing, when the team is busy.
    func performSplit(_ ops: UnsafeBufferPointer<Op>, _ range: Range<Int>) -> Bool {
        let ran = Team.run(parts: min(threads, Parallel.cores), wait: waitsForTeam) { part, parts in
            for k in range {
                if ops[k].barrierBefore { Team.barrier() }
                performShare(ops[k], part: part, parts: parts)
            }
        }
        if ran { splitRuns += 1 }
        return ran
    }

    /// Core `part`'s share of `op`: whole 64-byte lines of its outputs (a sparse matrix's
    /// row blocks are the same lines).
    @inline(__always)
    private func performShare(_ op: Op, part: Int, parts: Int) {
        let granule = op.kind == .product ? op.matrix!._withUnsafeGuaranteedRef { $0.panelRows } : max(1, 64 / MemoryLayout<Scalar>.stride)
        let units = (op.count + granule - 1) / granule
        let (first, end) = (units * part / parts, units * (part + 1) / parts)
        let (lo, hi) = (min(op.count, first * granule), min(op.count, end * granule))
        guard lo < hi else { return }
        let kernel = op.split![part]?._withUnsafeGuaranteedRef { $0.run }
        if op.kind == .product {
            op.matrix!._withUnsafeGuaranteedRef { m in m.applySerial(op.x, op.dst, count: 1, panels: first..<end, ldx: m.cols, ldy: m.rows) }
            if let bias = op.bias { Kernels.add(op.dst + lo, bias + lo, op.dst + lo, count: hi - lo) }
            kernel?(op.dst + lo, op.dst + lo, op.dst + lo, hi - lo)
        } else {
            kernel!(op.x + lo, op.y + lo, op.dst + lo, hi - lo)
        }
    }

    /// The memory a split run's ops touched since its last barrier, as (first value, count)
    /// spans: an element-wise op touches a span on the cores that own its values, a product
    /// reads all of its input on every core.
    struct RunAccess {
        var written: [(start: UnsafeMutablePointer<Scalar>, count: Int)] = []
        var readByShare: [(start: UnsafeMutablePointer<Scalar>, count: Int)] = []
        var readWhole: [(start: UnsafeMutablePointer<Scalar>, count: Int)] = []

        /// Whether `op` must wait for the other cores: it reads a span written since the last
        /// barrier other than by shares like its own (the same span), or overwrites such a
        /// read.
        func conflicts(with op: Op) -> Bool {
            let dst = (start: op.dst, count: op.count)
            let reads = op.kind == .product ? [] : [(start: op.x, count: op.count), (start: op.y, count: op.count)]
            if op.kind == .product, let x = op.matrix?._withUnsafeGuaranteedRef({ (start: op.x, count: $0.cols) }) {
                if written.contains(where: { Self.overlap($0, x) }) { return true }
            }
            for r in reads where written.contains(where: { Self.overlap($0, r) && !Self.same($0, r) }) { return true }
            if readWhole.contains(where: { Self.overlap($0, dst) }) { return true }
            return readByShare.contains { Self.overlap($0, dst) && !Self.same($0, dst) } || written.contains { Self.overlap($0, dst) && !Self.same($0, dst) }
        }

        mutating func record(_ op: Op) {
            written.append((op.dst, op.count))
            if op.kind == .product {
                if let cols = op.matrix?._withUnsafeGuaranteedRef({ $0.cols }) { readWhole.append((op.x, cols)) }
            } else {
                readByShare += [(op.x, op.count), (op.y, op.count)]
            }
        }

        static func overlap(_ a: (start: UnsafeMutablePointer<Scalar>, count: Int), _ b: (start: UnsafeMutablePointer<Scalar>, count: Int)) -> Bool {
            a.count > 0 && b.count > 0 && a.start < b.start + b.count && b.start < a.start + a.count
        }

        static func same(_ a: (start: UnsafeMutablePointer<Scalar>, count: Int), _ b: (start: UnsafeMutablePointer<Scalar>, count: Int)) -> Bool {
            a.start == b.start && a.count == b.count
        }
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
