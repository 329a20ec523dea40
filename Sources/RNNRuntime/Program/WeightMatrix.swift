/// A constant weight matrix, stored dense (row-major) or sparse (compressed sparse rows).
///
/// LSRL-style programs are mostly zeros, so sparse storage is chosen whenever it is
/// smaller; see `WeightMatrix.init(rows:cols:dense:)`.
package struct WeightMatrix: Sendable, Equatable {
    package enum Storage: Sendable, Equatable {
        /// Row-major, `rows * cols` values.
        case dense([Double])
        /// CSR: row `r` holds `values[rowOffsets[r]..<rowOffsets[r+1]]` at `columns[...]`.
        case sparse(rowOffsets: [Int], columns: [Int], values: [Double])
    }

    package let rows: Int
    package let cols: Int
    package let storage: Storage
    /// What the matrix was made from, for the artifact's tensor names and reports: a param's
    /// name (`weight_ih_l0`), a part of one (`weight_ih_l0[0:4]`), or the names of the
    /// matrices the optimizer fused into it joined by `|`; nil for matrices written as
    /// constants in the source or made by the compiler.
    package var name: String?

    /// Fraction of non-zeros at or below which sparse storage is chosen.
    package static let sparseDensityThreshold = 0.3

    /// The density rule: whether `nonZeros` of `count` entries are stored sparse.
    package static func prefersSparse(nonZeros: Int, of count: Int) -> Bool {
        Double(nonZeros) <= sparseDensityThreshold * Double(max(1, count))
    }

    package init(rows: Int, cols: Int, storage: Storage, name: String? = nil) {
        self.rows = rows
        self.cols = cols
        self.storage = storage
        self.name = name
    }

    /// Builds from row-major values, choosing sparse storage when density is low.
    package init(rows: Int, cols: Int, dense: [Double], name: String? = nil) {
        precondition(dense.count == rows * cols)
        let nnz = dense.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        if Self.prefersSparse(nonZeros: nnz, of: rows * cols) {
            var offsets = [0], columns: [Int] = [], values: [Double] = []
            columns.reserveCapacity(nnz)
            values.reserveCapacity(nnz)
            for r in 0..<rows {
                for c in 0..<cols where dense[r * cols + c] != 0 {
                    columns.append(c)
                    values.append(dense[r * cols + c])
                }
                offsets.append(values.count)
            }
            self.init(rows: rows, cols: cols, storage: .sparse(rowOffsets: offsets, columns: columns, values: values), name: name)
        } else {
            self.init(rows: rows, cols: cols, storage: .dense(dense), name: name)
        }
    }

    /// A diagonal matrix with the given entries (sparse).
    package static func diagonal(_ d: [Double]) -> WeightMatrix {
        WeightMatrix(rows: d.count, cols: d.count, storage: .sparse(rowOffsets: Array(0...d.count), columns: Array(0..<d.count), values: d))
    }

    /// An `n x 1` column of ones: broadcasts a one-element vector to `n` elements.
    package static func broadcastColumn(_ n: Int) -> WeightMatrix {
        WeightMatrix(rows: n, cols: 1, storage: .sparse(rowOffsets: Array(0...n), columns: Array(repeating: 0, count: n), values: Array(repeating: 1, count: n)))
    }

    package var nonZeroCount: Int {
        switch storage {
        case .dense(let v): return v.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        case .sparse(_, _, let values): return values.count
        }
    }

    /// Entries stored: all of a dense matrix, the non-zeros of a sparse one.
    package var storedCount: Int { isSparse ? nonZeroCount : rows * cols }

    package var isSparse: Bool {
        if case .sparse = storage { return true }
        return false
    }

    /// The matrix as row-major values.
    package func denseValues() -> [Double] {
        switch storage {
        case .dense(let v): return v
        case .sparse(let offsets, let columns, let values):
            var out = [Double](repeating: 0, count: rows * cols)
            for r in 0..<rows {
                for k in offsets[r]..<offsets[r + 1] { out[r * cols + columns[k]] += values[k] }
            }
            return out
        }
    }

    /// Row `r` as dense values.
    package func row(_ r: Int) -> [Double] {
        switch storage {
        case .dense(let v): return Array(v[(r * cols)..<((r + 1) * cols)])
        case .sparse(let offsets, let columns, let values):
            var out = [Double](repeating: 0, count: cols)
            for k in offsets[r]..<offsets[r + 1] { out[columns[k]] += values[k] }
            return out
        }
    }

    /// `y = W x` in Float64 (reference arithmetic, accumulation in column order).
    package func apply(_ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: rows)
        switch storage {
        case .dense(let v):
            for r in 0..<rows {
                var acc = 0.0
                for c in 0..<cols { acc += v[r * cols + c] * x[c] }
                y[r] = acc
            }
        case .sparse(let offsets, let columns, let values):
            for r in 0..<rows {
                var acc = 0.0
                for k in offsets[r]..<offsets[r + 1] { acc += values[k] * x[columns[k]] }
                y[r] = acc
            }
        }
        return y
    }

    /// Largest number of rows or columns: a matrix maps between slots, which hold at most
    /// `StepProgram.maxSlotElements` values (and the kernels take 32-bit sizes).
    package static let maxDimension = StepProgram.maxSlotElements

    /// Checks the sizes and CSR invariants; returns a description of the first violation.
    /// No arithmetic here can overflow, whatever the sizes (they come from untrusted files).
    package func validate() -> String? {
        guard (0...Self.maxDimension).contains(rows), (0...Self.maxDimension).contains(cols) else {
            return "matrix is \(rows) x \(cols); each side must be between 0 and \(Self.maxDimension)"
        }
        switch storage {
        case .dense(let v):
            return v.count == rows * cols ? nil : "dense matrix has \(v.count) values, expected \(rows)x\(cols)"
        case .sparse(let offsets, let columns, let values):
            guard offsets.count == rows + 1, offsets.first == 0, offsets.last == values.count, columns.count == values.count else {
                return "sparse matrix offsets do not match its \(rows) rows and \(values.count) values"
            }
            for r in 0..<rows where offsets[r] > offsets[r + 1] { return "sparse matrix row offsets decrease at row \(r)" }
            for c in columns where c < 0 || c >= cols { return "sparse matrix column index \(c) out of range 0..<\(cols)" }
            return nil
        }
    }
}
