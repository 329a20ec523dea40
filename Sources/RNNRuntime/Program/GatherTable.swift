import RNNOps

/// The tables of `gather` instructions (embedding lookups): a matrix's rows in the runtime's
/// precision, row-major, so a lookup is one copy.
enum GatherTable {
    /// A row-major copy of `w` (dense or sparse) that the caller deallocates.
    static func rowMajor<Scalar: BinaryFloatingPoint>(_ w: WeightMatrix, as _: Scalar.Type) -> UnsafeMutablePointer<Scalar> {
        let table = UnsafeMutablePointer<Scalar>.allocate(capacity: max(1, w.rows * w.cols))
        table.initialize(repeating: 0, count: max(1, w.rows * w.cols))
        switch w.storage {
        case .dense(let v):
            for i in v.indices { table[i] = Scalar(v[i]) }
        case .sparse(let offsets, let columns, let values):
            for r in 0..<w.rows {
                for k in offsets[r]..<offsets[r + 1] { table[r * w.cols + columns[k]] += Scalar(values[k]) }
            }
        }
        return table
    }

    /// Copies row `id` of a `rows x count` table into `dst`. The checked entry points reject
    /// a bad id before a run; the unchecked ones (`ScanRunner.run(flat:)`) get NaNs for one
    /// rather than a read outside the table.
    @inline(__always)
    static func row<Scalar: BinaryFloatingPoint>(_ table: UnsafePointer<Scalar>, rows: Int, id: Scalar, into dst: UnsafeMutablePointer<Scalar>, count: Int) {
        if id >= 0, id < Scalar(rows), id == id.rounded(.towardZero) {
            dst.update(from: table + Int(id) * count, count: count)
        } else {
            dst.update(repeating: .nan, count: count)
        }
    }
}
