/// A weight matrix converted once to the runtime's precision.
struct ConvertedMatrix<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    enum Storage {
        case dense([Scalar])
        case sparse(offsets: [Int], columns: [Int], values: [Scalar])
    }

    let rows: Int
    let cols: Int
    let storage: Storage

    init(_ m: WeightMatrix) {
        rows = m.rows
        cols = m.cols
        switch m.storage {
        case .dense(let v): storage = .dense(v.map { Scalar($0) })
        case .sparse(let o, let c, let v): storage = .sparse(offsets: o, columns: c, values: v.map { Scalar($0) })
        }
    }

    /// `y[r] = sum_c W[r, c] x[c]` for `count` rows of x and y, each `stride`-spaced (row-major
    /// [T, n] buffers). Dense rows are processed four time steps at a time so each weight
    /// row is loaded once per four steps.
    func apply(_ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        switch storage {
        case .dense(let w):
            w.withUnsafeBufferPointer { wp in
                let w = wp.baseAddress!
                var t = 0
                while t + 4 <= count {
                    let (x0, x1, x2, x3) = (x + t * cols, x + (t + 1) * cols, x + (t + 2) * cols, x + (t + 3) * cols)
                    for r in 0..<rows {
                        let wr = w + r * cols
                        var (a0, a1, a2, a3): (Scalar, Scalar, Scalar, Scalar) = (0, 0, 0, 0)
                        for c in 0..<cols {
                            let wv = wr[c]
                            a0 += wv * x0[c]; a1 += wv * x1[c]; a2 += wv * x2[c]; a3 += wv * x3[c]
                        }
                        y[t * rows + r] = a0; y[(t + 1) * rows + r] = a1; y[(t + 2) * rows + r] = a2; y[(t + 3) * rows + r] = a3
                    }
                    t += 4
                }
                while t < count {
                    let xt = x + t * cols
                    for r in 0..<rows {
                        let wr = w + r * cols
                        var acc: Scalar = 0
                        for c in 0..<cols { acc += wr[c] * xt[c] }
                        y[t * rows + r] = acc
                    }
                    t += 1
                }
            }
        case .sparse(let offsets, let columns, let values):
            for t in 0..<count {
                let (xt, yt) = (x + t * cols, y + t * rows)
                for r in 0..<rows {
                    var acc: Scalar = 0
                    for k in offsets[r]..<offsets[r + 1] { acc += values[k] * xt[columns[k]] }
                    yt[r] = acc
                }
            }
        }
    }
}

/// Element-wise and data-movement kernels over `count` rows of row-major buffers.
enum Kernels {
    @inline(__always)
    static func apply<Scalar: BinaryFloatingPoint>(_ f: Activation, _ x: Scalar) -> Scalar {
        switch f {
        case .relu: return x > 0 ? x : 0
        default: return Scalar(f.apply(Double(x)))
        }
    }
}
