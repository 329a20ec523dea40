import RNNRuntime

/// Products, sums and reshapes of weight matrices, sparse-aware, for the optimizer.
extension WeightMatrix {
    /// Calls `body(row, column, value)` for every stored entry.
    func forEachEntry(_ body: (Int, Int, Double) -> Void) {
        switch storage {
        case .dense(let v):
            for r in 0..<rows { for c in 0..<cols where v[r * cols + c] != 0 { body(r, c, v[r * cols + c]) } }
        case .sparse(let offsets, let columns, let values):
            for r in 0..<rows { for k in offsets[r]..<offsets[r + 1] { body(r, columns[k], values[k]) } }
        }
    }

    /// A hash of every stored entry (values, and positions of a sparse matrix's).
    var contentHash: Int {
        var h = Hasher()
        switch storage {
        case .dense(let v): h.combine(0); for x in v { h.combine(x) }
        case .sparse(let offsets, let columns, let values): h.combine(1); h.combine(offsets); h.combine(columns); for x in values { h.combine(x) }
        }
        return h.finalize()
    }

    /// The first `k` stored values (for hashing).
    func leadingValues(_ k: Int) -> ArraySlice<Double> {
        switch storage {
        case .dense(let v): return v.prefix(k)
        case .sparse(_, _, let values): return values.prefix(k)
        }
    }

    /// Entries stored: all of a dense matrix, the non-zeros of a sparse one.
    public var storedCount: Int { isSparse ? nonZeroCount : rows * cols }

    /// A row-major `n x n` matrix, stored by density like `fromRows`.
    static func fromDense(_ values: [Double], n: Int) -> WeightMatrix {
        fromRows((0..<n).map { r in (0..<n).compactMap { c in values[r * n + c] == 0 ? nil : (c, values[r * n + c]) } }, cols: n)
    }

    /// Builds a matrix from per-row (column, value) lists, choosing storage by density.
    static func fromRows(_ rowEntries: [[(Int, Double)]], cols: Int, name: String? = nil) -> WeightMatrix {
        let rows = rowEntries.count
        let nnz = rowEntries.reduce(0) { $0 + $1.count }
        if !prefersSparse(nonZeros: nnz, of: rows * cols) {
            var dense = [Double](repeating: 0, count: rows * cols)
            for (r, entries) in rowEntries.enumerated() { for (c, v) in entries { dense[r * cols + c] += v } }
            return WeightMatrix(rows: rows, cols: cols, storage: .dense(dense), name: name)
        }
        var offsets = [0], columns: [Int] = [], values: [Double] = []
        columns.reserveCapacity(nnz)
        values.reserveCapacity(nnz)
        for entries in rowEntries {
            for (c, v) in entries.sorted(by: { $0.0 < $1.0 }) where v != 0 {
                columns.append(c)
                values.append(v)
            }
            offsets.append(values.count)
        }
        return WeightMatrix(rows: rows, cols: cols, storage: .sparse(rowOffsets: offsets, columns: columns, values: values), name: name)
    }

    /// The name of a matrix made from `a` and `b`: both names joined by `|` (a named one
    /// alone when the other has none).
    static func fusedName(_ a: String?, _ b: String?) -> String? {
        switch (a, b) {
        case (let a?, let b?): return a == b ? a : "\(a)|\(b)"
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    func rowEntries() -> [[(Int, Double)]] {
        var out = [[(Int, Double)]](repeating: [], count: rows)
        forEachEntry { r, c, v in out[r].append((c, v)) }
        return out
    }

    /// The multiply-adds of `self.times(other)` (and a bound on the entries it builds),
    /// counted from the stored entries without multiplying.
    func productWork(_ other: WeightMatrix) -> Int {
        var perRow = [Int](repeating: 0, count: other.rows)
        other.forEachEntry { r, _, _ in perRow[r] += 1 }
        var work = 0
        forEachEntry { _, j, _ in work &+= perRow[j] }
        return work
    }

    /// `self · other`.
    func times(_ other: WeightMatrix) -> WeightMatrix {
        let right = other.rowEntries()
        var acc = [Double](repeating: 0, count: other.cols)
        var touched = [Bool](repeating: false, count: other.cols)
        var result: [[(Int, Double)]] = []
        for left in rowEntries() {
            var cols: [Int] = []
            for (j, a) in left {
                for (c, b) in right[j] {
                    if !touched[c] { touched[c] = true; cols.append(c) }
                    acc[c] += a * b
                }
            }
            result.append(cols.map { c in
                defer { acc[c] = 0; touched[c] = false }
                return (c, acc[c])
            })
        }
        return .fromRows(result, cols: other.cols, name: Self.fusedName(name, other.name))
    }

    /// `self + other` (same shape).
    func plus(_ other: WeightMatrix) -> WeightMatrix {
        var rows = rowEntries()
        other.forEachEntry { r, c, v in rows[r].append((c, v)) }
        return .fromRows(rows.map { entries in
            var merged: [Int: Double] = [:]
            for (c, v) in entries { merged[c, default: 0] += v }
            return merged.map { ($0.key, $0.value) }
        }, cols: cols, name: Self.fusedName(name, other.name))
    }

    /// The matrix acting on a `width`-wide vector of which it reads `cols` elements from `offset`.
    func embeddingColumns(at offset: Int, width: Int) -> WeightMatrix {
        .fromRows(rowEntries().map { $0.map { ($0.0 + offset, $0.1) } }, cols: width, name: name)
    }

    /// Whether this is the identity.
    var isIdentity: Bool {
        guard rows == cols else { return false }
        var ok = true
        var count = 0
        forEachEntry { r, c, v in
            count += 1
            if r != c || v != 1 { ok = false }
        }
        return ok && count == rows
    }

    /// The same matrix, re-stored sparse or dense by density.
    func restored() -> WeightMatrix { .fromRows(rowEntries(), cols: cols, name: name) }
}
