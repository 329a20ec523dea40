import RNNKernels

/// A weight matrix converted once to the runtime's precision: dense ones packed into panels
/// for the C kernels (AVX-512 or AVX2/FMA by what the CPU has), sparse ones whose rows hold
/// about equally many entries stored entry-major for the C kernel that gathers across rows,
/// other sparse ones kept in CSR.
final class ConvertedMatrix<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    enum Storage {
        case packedFloat(UnsafeMutablePointer<Float>)
        case packedDouble(UnsafeMutablePointer<Double>)
        case sparse(offsets: [Int], columns: [Int], values: [Scalar])
        /// A square matrix with nothing off its diagonal (gates like `1 - z`): a scaling.
        case diagonal([Scalar])
        /// Every row holds at most `perRow` entries (regroupings: repeat, tile, group sums;
        /// shifts); entry `j` of row `r` at `j * rows + r`, missing ones as column -1
        /// (`rnnk_ell_*`).
        case entryMajor(perRow: Int, columns: [Int32], values: [Scalar])
    }

    let rows: Int
    let cols: Int
    let storage: Storage

    init(_ m: WeightMatrix) {
        let (rows, cols) = (m.rows, m.cols)
        self.rows = rows
        self.cols = cols
        switch m.storage {
        case .dense(let v):
            if Scalar.self == Float.self {
                let packed = Self.weightMemory(Float.self, count: rnnk_packed_size_f32(Int32(rows), Int32(cols)))
                v.map { Float($0) }.withUnsafeBufferPointer { rnnk_pack_f32($0.baseAddress, Int32(rows), Int32(cols), packed) }
                storage = .packedFloat(packed)
            } else {
                let packed = Self.weightMemory(Double.self, count: rnnk_packed_size_f64(Int32(rows), Int32(cols)))
                v.withUnsafeBufferPointer { rnnk_pack_f64($0.baseAddress, Int32(rows), Int32(cols), packed) }
                storage = .packedDouble(packed)
            }
        case .sparse(let o, let c, let v):
            // Exactly one entry per row, on the diagonal (a row without entries yields 0 even
            // for an infinite input, which a scaling by 0 would not).
            if rows == cols, (0..<rows).allSatisfy({ r in o[r + 1] == o[r] + 1 && c[o[r]] == r }) {
                storage = .diagonal((0..<rows).map { Scalar(v[o[$0]]) })
            } else if let padded = Self.entryMajor(offsets: o, columns: c, values: v, rows: rows, cols: cols) {
                storage = .entryMajor(perRow: padded.perRow, columns: padded.columns, values: padded.values)
            } else {
                storage = .sparse(offsets: o, columns: c, values: v.map { Scalar($0) })
            }
        }
    }

    deinit {
        switch storage {
        case .packedFloat(let p): rnnk_free_weights(p, Self.packedBytes(Float.self, count: rnnk_packed_size_f32(Int32(rows), Int32(cols))))
        case .packedDouble(let p): rnnk_free_weights(p, Self.packedBytes(Double.self, count: rnnk_packed_size_f64(Int32(rows), Int32(cols))))
        case .sparse, .diagonal, .entryMajor: break
        }
    }

    /// Memory for `count` packed weights (`rnnk_alloc_weights`: huge pages for large blocks,
    /// which a matrix-vector product streams from memory). Running out of memory stops the
    /// process, as Swift's own allocation does.
    private static func weightMemory<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        guard let raw = rnnk_alloc_weights(packedBytes(T.self, count: count)) else { fatalError("out of memory for \(count) packed weights") }
        return raw.bindMemory(to: T.self, capacity: max(1, count))
    }

    /// The bytes `weightMemory` takes for `count` values (their count was checked against the
    /// size budgets when the program was validated).
    private static func packedBytes<T>(_: T.Type, count: Int) -> Int { max(1, count) * MemoryLayout<T>.stride }

    /// The entry-major form of a CSR matrix whose padding to its longest row at most doubles
    /// its entries (an empty row stays empty: it yields 0 even for an infinite input), or nil.
    private static func entryMajor(offsets o: [Int], columns c: [Int], values v: [Double], rows: Int, cols: Int)
        -> (perRow: Int, columns: [Int32], values: [Scalar])? {
        guard rows > 0, cols <= Int(Int32.max), rows <= Int(Int32.max) else { return nil }
        let perRow = (0..<rows).reduce(0) { max($0, o[$1 + 1] - o[$1]) }
        let (padded, overflow) = perRow.multipliedReportingOverflow(by: rows)
        guard perRow >= 1, !overflow, padded <= Int(Int32.max), padded <= 2 * o[rows] else { return nil }
        var columns = [Int32](repeating: -1, count: padded)
        var values = [Scalar](repeating: 0, count: padded)
        for r in 0..<rows {
            for j in 0..<(o[r + 1] - o[r]) {
                columns[j * rows + r] = Int32(c[o[r] + j])
                values[j * rows + r] = Scalar(v[o[r] + j])
            }
        }
        return (perRow, columns, values)
    }

    /// Rows of x at or above which a product is split by rows of x over a thread pool.
    static var parallelRows: Int { 32 }

    /// Multiply-adds at or above which a product of fewer rows is split by rows of W between
    /// the helper team's threads (`rnnk_team_gemm_*`): a few microseconds of work, against
    /// a handoff of about one (measured on a 1 MiB product split in two).
    static var teamWork: Int { 1 << 15 }

    /// Rows of x per block of a long product: a block's outputs are still in cache when its
    /// epilogue (bias, activation) runs. A multiple of the kernels' 48-row blocks.
    static var epilogueRows: Int { 192 }

    /// `y[t, r] = sum_c W[r, c] x[t, c]` for `count` rows; x rows are `cols` apart, y rows
    /// `rows` apart unless given. Uses up to `threads` cores: products over many rows of x are
    /// split by rows of x over a thread pool; smaller ones with enough work (matrix-vector
    /// products in a recurrence step) by rows of W over the helper team, which keeps each
    /// core's share of W in its cache from step to step. `epilogue(first, n)` runs on rows
    /// `first ..< first + n` of y (relative to `y`) as soon as they are computed, on the
    /// thread that computed them.
    func apply(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int, ldx: Int? = nil, ldy: Int? = nil, threads: Int,
               epilogue: ((_ first: Int, _ count: Int) -> Void)? = nil) {
        let (ldx, ldy) = (ldx ?? cols, ldy ?? rows)
        let cores = min(threads, Parallel.cores)
        // Blocks of rows [first, first + n): product, then epilogue.
        func blocks(_ first: Int, _ n: Int) {
            var at = first
            while at < first + n {
                let m = epilogue == nil ? n : min(Self.epilogueRows, first + n - at)
                applySerial(x + at * ldx, y + at * ldy, count: m, panels: 0..<panels, ldx: ldx, ldy: ldy)
                epilogue?(at, m)
                at += m
            }
        }
        if count >= Self.parallelRows, rows * cols >= 1 << 16 || epilogue != nil && count * rows >= 1 << 16 {
            return Parallel.forEachChunk(of: count, cores: cores, blocks)
        }
        if cores > 1, rows * cols * count >= Self.teamWork, panels >= 2 * cores, applyOnTeam(x, y, count: count, ldx: ldx, ldy: ldy, threads: cores) {
            epilogue?(0, count)
            return
        }
        applySerial(x, y, count: count, panels: 0..<panels, ldx: ldx, ldy: ldy)
        epilogue?(0, count)
    }

    /// Runs a dense product on the helper team; false (nothing done) when the team is busy
    /// or the matrix is sparse.
    private func applyOnTeam(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int, ldx: Int, ldy: Int, threads: Int) -> Bool {
        let (r, c, lx, ly, n, t) = (Int32(rows), Int32(cols), Int32(ldx), Int32(ldy), Int32(count), Int32(threads))
        let (xCount, yCount) = ((count - 1) * ldx + cols, (count - 1) * ldy + rows)
        switch storage {
        case .packedFloat(let w):
            return x.withMemoryRebound(to: Float.self, capacity: xCount) { xf in
                y.withMemoryRebound(to: Float.self, capacity: yCount) { yf in rnnk_team_gemm_f32(t, w, r, c, xf, lx, yf, ly, n) != 0 }
            }
        case .packedDouble(let w):
            return x.withMemoryRebound(to: Double.self, capacity: xCount) { xd in
                y.withMemoryRebound(to: Double.self, capacity: yCount) { yd in rnnk_team_gemm_f64(t, w, r, c, xd, lx, yd, ly, n) != 0 }
            }
        case .sparse, .diagonal, .entryMajor: return false
        }
    }

    /// Whether the matrix is dense, packed into panels for the C kernels.
    var isPacked: Bool {
        switch storage {
        case .packedFloat, .packedDouble: return true
        case .sparse, .diagonal, .entryMajor: return false
        }
    }

    /// Rows of W in one panel: the packing's (16 Float or 8 Double rows); for a sparse or
    /// diagonal matrix, blocks of rows making 64 bytes of output.
    var panelRows: Int {
        switch storage {
        case .packedFloat: return Int(rnnk_panel_rows_f32())
        case .packedDouble: return Int(rnnk_panel_rows_f64())
        case .sparse, .diagonal, .entryMajor: return max(1, 64 / MemoryLayout<Scalar>.stride)
        }
    }

    /// Panels of the matrix: `applySerial` computes the outputs of a range of them.
    var panels: Int { (rows + panelRows - 1) / panelRows }

    /// Whether output `r` reads only input `r` (so a share of the outputs reads only the
    /// same share of the input).
    var isDiagonal: Bool {
        if case .diagonal = storage { return true }
        return false
    }

    @inline(__always)
    func applySerial(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int, panels: Range<Int>, ldx: Int, ldy: Int) {
        switch storage {
        case .packedFloat(let w):
            x.withMemoryRebound(to: Float.self, capacity: (count - 1) * ldx + cols) { xf in
                y.withMemoryRebound(to: Float.self, capacity: (count - 1) * ldy + rows) { yf in
                    rnnk_gemm_f32(w, Int32(rows), Int32(cols), xf, Int32(ldx), yf, Int32(ldy), Int32(count), Int32(panels.lowerBound), Int32(panels.upperBound))
                }
            }
        case .packedDouble(let w):
            x.withMemoryRebound(to: Double.self, capacity: (count - 1) * ldx + cols) { xd in
                y.withMemoryRebound(to: Double.self, capacity: (count - 1) * ldy + rows) { yd in
                    rnnk_gemm_f64(w, Int32(rows), Int32(cols), xd, Int32(ldx), yd, Int32(ldy), Int32(count), Int32(panels.lowerBound), Int32(panels.upperBound))
                }
            }
        case .sparse(let offsets, let columns, let values):
            let outputs = (panels.lowerBound * panelRows)..<min(rows, panels.upperBound * panelRows)
            offsets.withUnsafeBufferPointer { o in columns.withUnsafeBufferPointer { c in values.withUnsafeBufferPointer { v in
                for t in 0..<count {
                    let (xt, yt) = (x + t * ldx, y + t * ldy)
                    for r in outputs {
                        var acc: Scalar = 0
                        for k in o[r]..<o[r + 1] { acc += v[k] * xt[c[k]] }
                        yt[r] = acc
                    }
                }
            } } }
        case .entryMajor(let perRow, let columns, let values):
            let (first, end) = (panels.lowerBound * panelRows, min(rows, panels.upperBound * panelRows))
            columns.withUnsafeBufferPointer { c in values.withUnsafeBufferPointer { v in
                let (n, r, t, lx, ly) = (Int32(perRow), Int32(rows), Int32(count), Int32(ldx), Int32(ldy))
                if Scalar.self == Float.self {
                    v.withMemoryRebound(to: Float.self) { vf in
                        x.withMemoryRebound(to: Float.self, capacity: (count - 1) * ldx + cols) { xf in
                            y.withMemoryRebound(to: Float.self, capacity: (count - 1) * ldy + rows) { yf in
                                rnnk_ell_f32(n, c.baseAddress, vf.baseAddress, r, Int32(first), Int32(end), xf, lx, yf, ly, t)
                            }
                        }
                    }
                } else {
                    v.withMemoryRebound(to: Double.self) { vd in
                        x.withMemoryRebound(to: Double.self, capacity: (count - 1) * ldx + cols) { xd in
                            y.withMemoryRebound(to: Double.self, capacity: (count - 1) * ldy + rows) { yd in
                                rnnk_ell_f64(n, c.baseAddress, vd.baseAddress, r, Int32(first), Int32(end), xd, lx, yd, ly, t)
                            }
                        }
                    }
                }
            } }
        case .diagonal(let d):
            let outputs = (panels.lowerBound * panelRows)..<min(rows, panels.upperBound * panelRows)
            d.withUnsafeBufferPointer { d in
                for t in 0..<count {
                    let (xt, yt) = (x + t * ldx, y + t * ldy)
                    for r in outputs { yt[r] = d[r] * xt[r] }
                }
            }
        }
    }
}

/// The program's vectors (biases, constants, initial states) converted once to the runtime's
/// precision, in one allocation that lives as long as its owner, so resolved step ops can
/// hold plain pointers into it.
final class ConvertedVectors<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Scalar>
    private let offsets: [Int]

    init(_ vectors: [[Double]]) {
        offsets = vectors.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        storage = .allocate(capacity: max(1, offsets.last!))
        for (k, v) in vectors.enumerated() {
            for (i, value) in v.enumerated() { (storage + offsets[k] + i).initialize(to: Scalar(value)) }
        }
    }

    deinit { storage.deallocate() }

    subscript(_ k: Int) -> UnsafeBufferPointer<Scalar> {
        UnsafeBufferPointer(start: storage + offsets[k], count: offsets[k + 1] - offsets[k])
    }
}
