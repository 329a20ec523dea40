import RNNKernels

/// Products of matrices computed at run time (a chunked recurrence's queries, keys, values
/// and states) by the packed-panel kernels: each right-hand matrix is packed into scratch
/// first, which costs one pass over it against `count` passes of the product.
enum ChunkGEMM {
    /// Values of packed scratch a `rows x cols` matrix needs.
    static func packedCount<Scalar>(_: Scalar.Type, rows: Int, cols: Int) -> Int {
        if Scalar.self == Float.self { return rnnk_packed_size_f32(Int32(rows), Int32(cols)) }
        if Scalar.self == Double.self { return rnnk_packed_size_f64(Int32(rows), Int32(cols)) }
        return 1
    }

    /// Packs row-major `w` (`rows x cols`) into `packed` (`packedCount` values), for several
    /// products by the same matrix. Other types than Float and Double keep it as it is.
    static func pack<Scalar: BinaryFloatingPoint>(_ w: UnsafePointer<Scalar>, rows: Int, cols: Int, into packed: UnsafeMutablePointer<Scalar>) {
        if Scalar.self == Float.self {
            rnnk_pack_f32(UnsafeRawPointer(w).assumingMemoryBound(to: Float.self), Int32(rows), Int32(cols),
                          UnsafeMutableRawPointer(packed).assumingMemoryBound(to: Float.self))
        } else if Scalar.self == Double.self {
            rnnk_pack_f64(UnsafeRawPointer(w).assumingMemoryBound(to: Double.self), Int32(rows), Int32(cols),
                          UnsafeMutableRawPointer(packed).assumingMemoryBound(to: Double.self))
        } else {
            packed.update(from: w, count: rows * cols)
        }
    }

    /// `y[t, r] = sum_c x[t, c] * w[r, c]` for `t < count`: `w` is row-major `rows x cols`,
    /// `x` rows are `ldx` apart, `y` rows `ldy` apart; `packed` holds `packedCount` values.
    static func multiply<Scalar: BinaryFloatingPoint>(_ x: UnsafePointer<Scalar>, ldx: Int, _ w: UnsafePointer<Scalar>, rows: Int, cols: Int,
                                                      _ y: UnsafeMutablePointer<Scalar>, ldy: Int, count: Int, packed: UnsafeMutablePointer<Scalar>) {
        pack(w, rows: rows, cols: cols, into: packed)
        multiply(x, ldx: ldx, packed: packed, rows: rows, cols: cols, y, ldy: ldy, count: count)
    }

    /// The product by a matrix `pack` packed.
    static func multiply<Scalar: BinaryFloatingPoint>(_ x: UnsafePointer<Scalar>, ldx: Int, packed: UnsafePointer<Scalar>, rows: Int, cols: Int,
                                                      _ y: UnsafeMutablePointer<Scalar>, ldy: Int, count: Int) {
        guard count > 0, rows > 0 else { return }
        if Scalar.self == Float.self {
            rnnk_gemm_f32(UnsafeRawPointer(packed).assumingMemoryBound(to: Float.self), Int32(rows), Int32(cols),
                          UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), Int32(ldx),
                          UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), Int32(ldy), Int32(count), 0, rnnk_panels_f32(Int32(rows)))
        } else if Scalar.self == Double.self {
            rnnk_gemm_f64(UnsafeRawPointer(packed).assumingMemoryBound(to: Double.self), Int32(rows), Int32(cols),
                          UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), Int32(ldx),
                          UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self), Int32(ldy), Int32(count), 0, rnnk_panels_f64(Int32(rows)))
        } else {
            for t in 0..<count {
                for r in 0..<rows {
                    var sum: Scalar = 0
                    for c in 0..<cols { sum += x[t * ldx + c] * packed[r * cols + c] }
                    y[t * ldy + r] = sum
                }
            }
        }
    }
}
