/// A program's weights in the runtime's precision: its matrices converted for products, and
/// row-major copies of the tables that `gather` reads. A scan runner and a step session of
/// one program can share one (a generator's prefill and decode do), so a language model's
/// weights are converted and held once.
final class ConvertedWeights<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    let matrices: [ConvertedMatrix<Scalar>]
    /// Row-major copies of the tables that `gather` reads, by matrix index.
    let tables: [Int: UnsafeMutablePointer<Scalar>]

    /// The weights of `program` for its affine instructions and for the matrices in
    /// `multiplied` (a scan plan's own). A matrix that only gathers read is not packed for
    /// products, since nothing multiplies by it.
    init(_ program: StepProgram, multiplied planMatrices: Set<Int> = []) {
        let gathered = Set(program.instructions.compactMap { if case .gather(_, _, let m) = $0 { m } else { nil } })
        let multiplied = planMatrices.union(program.instructions.compactMap { if case .affine(_, _, let m, _, _) = $0 { m } else { nil } })
        matrices = program.matrices.enumerated().map { m, w in
            ConvertedMatrix<Scalar>(gathered.contains(m) && !multiplied.contains(m) ? WeightMatrix(rows: 0, cols: 0, storage: .dense([])) : w)
        }
        tables = Dictionary(uniqueKeysWithValues: gathered.map { ($0, GatherTable.rowMajor(program.matrices[$0], as: Scalar.self)) })
    }

    deinit { for table in tables.values { table.deallocate() } }
}
