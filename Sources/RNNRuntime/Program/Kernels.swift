import Dispatch
import Foundation
import RNNKernels

/// How many threads the runtime uses for large kernels: the machine's cores, at most 8.
enum Parallel {
    static let cores = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
}

/// A weight matrix converted once to the runtime's precision: dense ones packed into panels
/// for the C kernels (AVX2/FMA when the CPU has it), sparse ones kept in CSR.
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
    /// `rows` apart. Large products split their rows over all cores.
    func apply(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        let cores = Parallel.cores
        guard cores > 1, count >= Self.parallelRows, rows * cols >= 1 << 14 else {
            applySerial(x, y, count: count)
            return
        }
        let chunk = (count + cores - 1) / cores
        let (xa, ya) = (UInt(bitPattern: x), UInt(bitPattern: y))
        DispatchQueue.concurrentPerform(iterations: cores) { k in
            let start = k * chunk
            guard start < count else { return }
            let xs = UnsafePointer<Scalar>(bitPattern: xa)! + start * cols
            let ys = UnsafeMutablePointer<Scalar>(bitPattern: ya)! + start * rows
            applySerial(xs, ys, count: min(chunk, count - start))
        }
    }

    @inline(__always)
    func applySerial(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        switch storage {
        case .packedFloat(let w):
            x.withMemoryRebound(to: Float.self, capacity: count * cols) { xf in
                y.withMemoryRebound(to: Float.self, capacity: count * rows) { yf in
                    rnnk_gemm_f32(w, Int32(rows), Int32(cols), xf, Int32(cols), yf, Int32(rows), Int32(count))
                }
            }
        case .packedDouble(let w):
            x.withMemoryRebound(to: Double.self, capacity: count * cols) { xd in
                y.withMemoryRebound(to: Double.self, capacity: count * rows) { yd in
                    rnnk_gemm_f64(w, Int32(rows), Int32(cols), xd, Int32(cols), yd, Int32(rows), Int32(count))
                }
            }
        case .sparse(let offsets, let columns, let values):
            offsets.withUnsafeBufferPointer { o in columns.withUnsafeBufferPointer { c in values.withUnsafeBufferPointer { v in
                for t in 0..<count {
                    let (xt, yt) = (x + t * cols, y + t * rows)
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
enum Kernels {
    /// `y[i] = f(x[i])`; relu, sigmoid and tanh stay in `Scalar`, the rest go through Double.
    @inline(__always)
    static func activate<Scalar: BinaryFloatingPoint>(_ f: Activation, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        switch f {
        case .relu: for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
        case .reciprocal: for i in 0..<count { y[i] = 1 / x[i] }
        default: for i in 0..<count { y[i] = Scalar(f.apply(Double(x[i]))) }
        }
    }
}
