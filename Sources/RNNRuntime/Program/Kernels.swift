import RNNKernels
import RNNOps

/// An element-wise op's kernel with its attributes bound: `(x, y, out, count)`.
typealias BoundKernel<Scalar> = (UnsafePointer<Scalar>, UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int) -> Void

/// A bound kernel in a box that a step op refers to unretained (`Unmanaged`), so copying or
/// running the op touches no reference count. Each core of a split step binds its own: the
/// counts of boxes (and of the table's closures) shared by cores would bounce between their
/// caches at every op, which cost a recurrence step more than the op's arithmetic.
final class KernelBox<Scalar: BinaryFloatingPoint> {
    let run: BoundKernel<Scalar>
    init(_ op: ElementwiseOp) { run = Kernels.bind(op, to: Scalar.self) }
}

/// Element-wise kernels: each op's own, from the op table, in the run's precision.
package enum Kernels {
    /// `out[i] = op(x[i], y[i])` for `i < count` (`y` is ignored by unary ops; pass `x`);
    /// `out` may be `x` or `y`. Float and Double run the table's kernels for that type; other
    /// types the reference definition.
    @inline(__always)
    static func apply<Scalar: BinaryFloatingPoint>(_ op: ElementwiseOp, _ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>,
                                                   _ out: UnsafeMutablePointer<Scalar>, count: Int) {
        if Scalar.self == Float.self {
            op.entry.float32(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), UnsafeRawPointer(y).assumingMemoryBound(to: Float.self),
                             UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self), count, op.attributes)
        } else if Scalar.self == Double.self {
            op.entry.float64(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), UnsafeRawPointer(y).assumingMemoryBound(to: Double.self),
                             UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self), count, op.attributes)
        } else {
            for i in 0..<count { out[i] = Scalar(op.apply(Double(x[i]), Double(y[i]))) }
        }
    }

    /// `op`'s kernel for `Scalar` with its attributes bound, looked up once (a session binds
    /// each instruction's kernel when it starts, not once a step).
    static func bind<Scalar: BinaryFloatingPoint>(_ op: ElementwiseOp, to _: Scalar.Type) -> BoundKernel<Scalar> {
        let attributes = op.attributes
        if Scalar.self == Float.self {
            let kernel = op.entry.float32
            return { x, y, out, n in
                kernel(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), UnsafeRawPointer(y).assumingMemoryBound(to: Float.self),
                       UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self), n, attributes)
            }
        } else if Scalar.self == Double.self {
            let kernel = op.entry.float64
            return { x, y, out, n in
                kernel(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), UnsafeRawPointer(y).assumingMemoryBound(to: Double.self),
                       UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self), n, attributes)
            }
        }
        return { x, y, out, n in for i in 0..<n { out[i] = Scalar(op.apply(Double(x[i]), Double(y[i]))) } }
    }

    /// `y[i] = a[i] + b[i]` for `i < count` (y may be a or b): an affine map's bias, part of
    /// the product's structure rather than an op, so it calls the C sum directly (no entry
    /// lookup once per product per step).
    @inline(__always)
    static func add<Scalar: BinaryFloatingPoint>(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        if Scalar.self == Float.self {
            rnnk_add_f32(UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), UnsafeRawPointer(b).assumingMemoryBound(to: Float.self),
                         UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), Int32(count))
        } else if Scalar.self == Double.self {
            rnnk_add_f64(UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), UnsafeRawPointer(b).assumingMemoryBound(to: Double.self),
                         UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self), Int32(count))
        } else {
            for i in 0..<count { y[i] = a[i] + b[i] }
        }
    }

    /// The instruction set the dense and activation kernels use on this CPU ("avx512",
    /// "avx2" or "generic"; the environment variable RNNK_ISA caps it).
    package static var instructionSet: String { String(cString: rnnk_isa_name(rnnk_detect_isa())) }
}
