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

    /// The stored non-zero entries row by row, in flat arrays: row `r`'s are at
    /// `offsets[r] ..< offsets[r + 1]` (no array per row: a 100,000-row matrix is three arrays).
    struct Entries {
        var offsets: [Int]
        var columns: [Int]
        var values: [Double]
    }

    func entries() -> Entries {
        switch storage {
        case .sparse(let offsets, let columns, let values): return Entries(offsets: offsets, columns: columns, values: values)
        case .dense(let v):
            var e = Entries(offsets: [0], columns: [], values: [])
            e.offsets.reserveCapacity(rows + 1)
            for r in 0..<rows {
                for c in 0..<cols where v[r * cols + c] != 0 {
                    e.columns.append(c)
                    e.values.append(v[r * cols + c])
                }
                e.offsets.append(e.values.count)
            }
            return e
        }
    }

    /// Builds a matrix from entries (in any order within a row; repeated columns add up),
    /// choosing storage by density like `fromRows`.
    static func fromEntries(_ e: Entries, cols: Int, name: String? = nil) -> WeightMatrix {
        let rows = e.offsets.count - 1
        if !prefersSparse(nonZeros: e.values.count, of: rows * cols) {
            var dense = [Double](repeating: 0, count: rows * cols)
            for r in 0..<rows { for k in e.offsets[r]..<e.offsets[r + 1] { dense[r * cols + e.columns[k]] += e.values[k] } }
            return WeightMatrix(rows: rows, cols: cols, storage: .dense(dense), name: name)
        }
        var out = Entries(offsets: [0], columns: [], values: [])
        out.offsets.reserveCapacity(rows + 1)
        out.columns.reserveCapacity(e.values.count)
        out.values.reserveCapacity(e.values.count)
        for r in 0..<rows {
            let range = e.offsets[r]..<e.offsets[r + 1]
            let sorted = range.count <= 1 || zip(range.dropLast(), range.dropFirst()).allSatisfy { e.columns[$0] < e.columns[$1] }
            let order = sorted ? Array(range) : range.sorted { e.columns[$0] < e.columns[$1] }
            let first = out.values.count
            for k in order {
                if out.values.count > first, out.columns[out.columns.count - 1] == e.columns[k] {
                    out.values[out.values.count - 1] += e.values[k]
                } else {
                    out.columns.append(e.columns[k])
                    out.values.append(e.values[k])
                }
            }
            // Entries that cancelled to zero are not stored.
            var kept = first
            for k in first..<out.values.count where out.values[k] != 0 {
                out.columns[kept] = out.columns[k]
                out.values[kept] = out.values[k]
                kept += 1
            }
            out.columns.removeLast(out.columns.count - kept)
            out.values.removeLast(out.values.count - kept)
            out.offsets.append(kept)
        }
        return WeightMatrix(rows: rows, cols: cols, storage: .sparse(rowOffsets: out.offsets, columns: out.columns, values: out.values), name: name)
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

    /// `self · other`, row by row with a dense accumulator over `other`'s columns.
    func times(_ other: WeightMatrix) -> WeightMatrix {
        let (left, right) = (entries(), other.entries())
        var acc = [Double](repeating: 0, count: other.cols)
        var touched = [Bool](repeating: false, count: other.cols)
        var result = Entries(offsets: [0], columns: [], values: [])
        result.offsets.reserveCapacity(rows + 1)
        for r in 0..<rows {
            let first = result.columns.count
            for k in left.offsets[r]..<left.offsets[r + 1] {
                let (j, a) = (left.columns[k], left.values[k])
                for m in right.offsets[j]..<right.offsets[j + 1] {
                    let c = right.columns[m]
                    if !touched[c] { touched[c] = true; result.columns.append(c) }
                    acc[c] += a * right.values[m]
                }
            }
            for k in first..<result.columns.count {
                let c = result.columns[k]
                result.values.append(acc[c])
                (acc[c], touched[c]) = (0, false)
            }
            result.offsets.append(result.columns.count)
        }
        return .fromEntries(result, cols: other.cols, name: Self.fusedName(name, other.name))
    }

    /// `self + other` (same shape).
    func plus(_ other: WeightMatrix) -> WeightMatrix {
        let (a, b) = (entries(), other.entries())
        var sum = Entries(offsets: [0], columns: [], values: [])
        for r in 0..<rows {
            for k in a.offsets[r]..<a.offsets[r + 1] { sum.columns.append(a.columns[k]); sum.values.append(a.values[k]) }
            for k in b.offsets[r]..<b.offsets[r + 1] { sum.columns.append(b.columns[k]); sum.values.append(b.values[k]) }
            sum.offsets.append(sum.values.count)
        }
        return .fromEntries(sum, cols: cols, name: Self.fusedName(name, other.name))
    }

    /// The matrix acting on a `width`-wide vector of which it reads `cols` elements from `offset`.
    func embeddingColumns(at offset: Int, width: Int) -> WeightMatrix {
        var e = entries()
        e.columns = e.columns.map { $0 + offset }
        return .fromEntries(e, cols: width, name: name)
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
    func restored() -> WeightMatrix { .fromEntries(entries(), cols: cols, name: name) }
}
