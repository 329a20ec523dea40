import Dispatch
import Foundation
import RNNKernels

/// How many threads the runtime uses for large kernels: the machine's cores, at most 8.
enum Parallel {
    static let cores = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
}

/// A weight matrix converted once to the runtime's precision: dense ones packed into panels
/// for the C kernels (AVX-512 or AVX2/FMA by what the CPU has), sparse ones kept in CSR.
final class ConvertedMatrix<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    enum Storage {
        case packedFloat(UnsafeMutablePointer<Float>)
        case packedDouble(UnsafeMutablePointer<Double>)
        case sparse(offsets: [Int], columns: [Int], values: [Scalar])
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
                let packed = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rnnk_packed_size_f32(Int32(rows), Int32(cols))))
                v.map { Float($0) }.withUnsafeBufferPointer { rnnk_pack_f32($0.baseAddress, Int32(rows), Int32(cols), packed) }
                storage = .packedFloat(packed)
            } else {
                let packed = UnsafeMutablePointer<Double>.allocate(capacity: max(1, rnnk_packed_size_f64(Int32(rows), Int32(cols))))
                v.withUnsafeBufferPointer { rnnk_pack_f64($0.baseAddress, Int32(rows), Int32(cols), packed) }
                storage = .packedDouble(packed)
            }
        case .sparse(let o, let c, let v): storage = .sparse(offsets: o, columns: c, values: v.map { Scalar($0) })
        }
    }

    deinit {
        switch storage {
        case .packedFloat(let p): p.deallocate()
        case .packedDouble(let p): p.deallocate()
        case .sparse: break
        }
    }

    /// Rows of x at or above which a product is split over `Parallel.cores` threads.
    static var parallelRows: Int { 32 }

    /// `y[t, r] = sum_c W[r, c] x[t, c]` for `count` rows; x rows are `cols` apart, y rows
    /// `rows` apart. Large products split over all cores: by rows of x when there are many;
    /// matrix-vector products only when W is large (over 2^20 entries), since below that the
    /// cost of waking a second thread exceeded the gain (measured on W3/W4 of rnnc-bench).
    func apply(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int, ldx: Int? = nil, ldy: Int? = nil) {
        let (ldx, ldy) = (ldx ?? cols, ldy ?? rows)
        let cores = Parallel.cores
        let panels = self.panels
        guard cores > 1, count >= Self.parallelRows && rows * cols >= 1 << 16 || rows * cols >= 1 << 20 && panels >= 2 * cores else {
            applySerial(x, y, count: count, panels: 0..<panels, ldx: ldx, ldy: ldy)
            return
        }
        let (xa, ya) = (UInt(bitPattern: x), UInt(bitPattern: y))
        if count >= Self.parallelRows {
            let chunk = (count + cores - 1) / cores
            DispatchQueue.concurrentPerform(iterations: cores) { k in
                let start = k * chunk
                guard start < count else { return }
                let xs = UnsafePointer<Scalar>(bitPattern: xa)! + start * ldx
                let ys = UnsafeMutablePointer<Scalar>(bitPattern: ya)! + start * ldy
                applySerial(xs, ys, count: min(chunk, count - start), panels: 0..<panels, ldx: ldx, ldy: ldy)
            }
        } else {
            let chunk = (panels + cores - 1) / cores
            DispatchQueue.concurrentPerform(iterations: cores) { k in
                let range = (k * chunk)..<min(panels, (k + 1) * chunk)
                guard !range.isEmpty else { return }
                applySerial(UnsafePointer<Scalar>(bitPattern: xa)!, UnsafeMutablePointer<Scalar>(bitPattern: ya)!, count: count, panels: range, ldx: ldx, ldy: ldy)
            }
        }
    }

    /// Panels of a packed dense matrix (1 for a sparse one).
    var panels: Int {
        switch storage {
        case .packedFloat: return Int(rnnk_panels_f32(Int32(rows)))
        case .packedDouble: return Int(rnnk_panels_f64(Int32(rows)))
        case .sparse: return 1
        }
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
            offsets.withUnsafeBufferPointer { o in columns.withUnsafeBufferPointer { c in values.withUnsafeBufferPointer { v in
                for t in 0..<count {
                    let (xt, yt) = (x + t * ldx, y + t * ldy)
                    for r in 0..<rows {
                        var acc: Scalar = 0
                        for k in o[r]..<o[r + 1] { acc += v[k] * xt[c[k]] }
                        yt[r] = acc
                    }
                }
            } } }
        }
    }
}

/// Element-wise kernels.
public enum Kernels {
    /// `y[i] = f(x[i])`, in Float arithmetic for Float (vectorized kernels for exp, sigmoid,
    /// tanh and silu, the C library's float functions for the rest) and in Double arithmetic
    /// (the reference definitions) otherwise.
    @inline(__always)
    static func activate<Scalar: BinaryFloatingPoint>(_ f: Activation, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        switch f {
        case .relu: for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
        case .reciprocal: for i in 0..<count { y[i] = 1 / x[i] }
        default:
            if Scalar.self == Float.self {
                x.withMemoryRebound(to: Float.self, capacity: count) { xf in
                    y.withMemoryRebound(to: Float.self, capacity: count) { yf in activateFloat(f, xf, yf, count: count) }
                }
            } else {
                for i in 0..<count { y[i] = Scalar(f.apply(Double(x[i]))) }
            }
        }
    }

    static func activateFloat(_ f: Activation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .sigmoid: rnnk_activate_f32(RNNK_SIGMOID, x, y, Int32(count))
        case .tanh: rnnk_activate_f32(RNNK_TANH, x, y, Int32(count))
        case .exp: rnnk_activate_f32(RNNK_EXP, x, y, Int32(count))
        case .silu: rnnk_activate_f32(RNNK_SILU, x, y, Int32(count))
        case .log: for i in 0..<count { y[i] = logf(x[i]) }
        case .softplus: for i in 0..<count { y[i] = x[i] > 20 ? x[i] : log1pf(expf(x[i])) }
        case .sqrt: for i in 0..<count { y[i] = x[i].squareRoot() }
        case .relu, .reciprocal: for i in 0..<count { y[i] = Float(f.apply(Double(x[i]))) }
        }
    }

    /// The instruction set the dense and activation kernels use on this CPU ("avx512",
    /// "avx2" or "generic"; the environment variable RNNK_ISA caps it).
    public static var instructionSet: String { String(cString: rnnk_isa_name(rnnk_detect_isa())) }
}
