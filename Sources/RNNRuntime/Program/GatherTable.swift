import RNNOps

/// The tables of `gather` instructions (embedding lookups): a matrix's rows in the runtime's
/// precision, row-major, so a lookup is one copy.
enum GatherTable {
    /// A program's matrices converted for products, and row-major copies of those `gather`
    /// reads. A matrix that only gathers read (not an affine instruction, nor `multiplied`: the
    /// scan plan's own) is not packed for products, since nothing multiplies by it.
    static func convert<Scalar: BinaryFloatingPoint & Sendable>(_ program: StepProgram, multiplied planMatrices: Set<Int> = [],
                                                               as _: Scalar.Type) -> ([ConvertedMatrix<Scalar>], [Int: UnsafeMutablePointer<Scalar>]) {
        let gathered = Set(program.instructions.compactMap { if case .gather(_, _, let m) = $0 { m } else { nil } })
        let multiplied = planMatrices.union(program.instructions.compactMap { if case .affine(_, _, let m, _, _) = $0 { m } else { nil } })
        let matrices = program.matrices.enumerated().map { m, w in
            ConvertedMatrix<Scalar>(gathered.contains(m) && !multiplied.contains(m) ? WeightMatrix(rows: 0, cols: 0, storage: .dense([])) : w)
        }
        return (matrices, Dictionary(uniqueKeysWithValues: gathered.map { ($0, rowMajor(program.matrices[$0], as: Scalar.self)) }))
    }

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
