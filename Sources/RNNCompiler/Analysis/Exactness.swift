import RNNRuntime

/// Where composing affine maps would cost a program the exactness its arithmetic has as
/// written. LSRL-style programs rely on exact values at a few points: a step function's two
/// ReLUs see one rounding of their common input and differ by exactly 1; `1e10 * (1 - c)`
/// with `c = 1` is `1e10 * 0`. Composed into one map, the large factor multiplies each term
/// of the value instead, and terms near 1e13 (or 1e10 beside a small operand, in Float32)
/// cancel: `ifelse(c, t, f)` then returns 0 for t. The optimizer and the layer chain leave
/// such a value computed by a map of its own.
package enum Exactness {
    /// A factor at or above this scales only values computed on their own.
    package static let largeFactor = 1e3

    /// Whether `outer` (after `inner x + innerBias`) scales by a large factor a row of the
    /// inner map that is not a plain copy of one element.
    static func fusionLosesExactness(outer: WeightMatrix, inner: WeightMatrix, innerBias: [Double]?) -> Bool {
        let scale = outer.columnMagnitudes()
        guard scale.contains(where: { $0 >= largeFactor }) else { return false }
        let terms = inner.rowTermCounts()
        return scale.indices.contains { j in
            scale[j] >= largeFactor && (terms[j] > 1 || (terms[j] == 1 && (innerBias?[j] ?? 0) != 0))
        }
    }
}

extension WeightMatrix {
    /// The largest magnitude in each column.
    func columnMagnitudes() -> [Double] {
        var out = [Double](repeating: 0, count: cols)
        switch storage {
        case .dense(let v):
            for r in 0..<rows { for c in 0..<cols { out[c] = max(out[c], abs(v[r * cols + c])) } }
        case .sparse(_, let columns, let values):
            for (c, v) in zip(columns, values) { out[c] = max(out[c], abs(v)) }
        }
        return out
    }

    /// The non-zeros of each row.
    func rowTermCounts() -> [Int] {
        switch storage {
        case .dense(let v):
            return (0..<rows).map { r in (0..<cols).reduce(0) { $0 + (v[r * cols + $1] != 0 ? 1 : 0) } }
        case .sparse(let offsets, _, let values):
            return (0..<rows).map { r in (offsets[r]..<offsets[r + 1]).reduce(0) { $0 + (values[$1] != 0 ? 1 : 0) } }
        }
    }
}
