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

    /// `y[t, r] = sum_c x[t, c] * w[r, c]` for `t < count`: `w` is row-major `rows x cols`,
    /// `x` rows are `ldx` apart, `y` rows `ldy` apart; `packed` holds `packedCount` values.
    static func multiply<Scalar: BinaryFloatingPoint>(_ x: UnsafePointer<Scalar>, ldx: Int, _ w: UnsafePointer<Scalar>, rows: Int, cols: Int,
                                                      _ y: UnsafeMutablePointer<Scalar>, ldy: Int, count: Int, packed: UnsafeMutablePointer<Scalar>) {
        guard count > 0, rows > 0 else { return }
        if Scalar.self == Float.self {
            func f(_ p: UnsafePointer<Scalar>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
            let out = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self)
            let panels = UnsafeMutableRawPointer(packed).assumingMemoryBound(to: Float.self)
            rnnk_pack_f32(f(w), Int32(rows), Int32(cols), panels)
            rnnk_gemm_f32(panels, Int32(rows), Int32(cols), f(x), Int32(ldx), out, Int32(ldy), Int32(count), 0, rnnk_panels_f32(Int32(rows)))
        } else if Scalar.self == Double.self {
            func d(_ p: UnsafePointer<Scalar>) -> UnsafePointer<Double> { UnsafeRawPointer(p).assumingMemoryBound(to: Double.self) }
            let out = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self)
            let panels = UnsafeMutableRawPointer(packed).assumingMemoryBound(to: Double.self)
            rnnk_pack_f64(d(w), Int32(rows), Int32(cols), panels)
            rnnk_gemm_f64(panels, Int32(rows), Int32(cols), d(x), Int32(ldx), out, Int32(ldy), Int32(count), 0, rnnk_panels_f64(Int32(rows)))
        } else {
            for t in 0..<count {
                for r in 0..<rows {
                    var sum: Scalar = 0
                    for c in 0..<cols { sum += x[t * ldx + c] * w[r * cols + c] }
                    y[t * ldy + r] = sum
                }
            }
        }
    }
}
