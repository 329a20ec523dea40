import RNNRuntime

/// A vector that is an affine function of the layer chain's *lanes*: the input's elements,
/// each nonlinear node's outputs and each state layer's current and previous values, all
/// numbered in one space. Lane `i` of the vector is `bias[i] + sum(rows[i][l] * lane l)`.
/// Affine maps, concatenations, slices and sums of IR values compose into one such form,
/// so everything between two nonlinear layers becomes one affine layer.
struct LinearForm {
    var rows: [[Int: Double]]
    var bias: [Double]

    var width: Int { bias.count }
    /// Whether no lane enters (the form is the constant `bias`).
    var isConstant: Bool { rows.allSatisfy(\.isEmpty) }

    static func constant(_ values: [Double]) -> LinearForm {
        LinearForm(rows: Array(repeating: [:], count: values.count), bias: values)
    }

    /// Lanes `first ..< first + count`, one per element.
    static func lanes(_ first: Int, count: Int) -> LinearForm {
        LinearForm(rows: (0..<count).map { [first + $0: 1] }, bias: Array(repeating: 0, count: count))
    }

    static func concat(_ parts: [LinearForm]) -> LinearForm {
        LinearForm(rows: parts.flatMap(\.rows), bias: parts.flatMap(\.bias))
    }

    func slice(_ start: Int, count: Int) -> LinearForm {
        LinearForm(rows: Array(rows[start..<(start + count)]), bias: Array(bias[start..<(start + count)]))
    }

    /// Every lane the form reads.
    var lanesRead: Set<Int> {
        var lanes = Set<Int>()
        for row in rows { lanes.formUnion(row.keys) }
        return lanes
    }

    /// `self + other`, element by element (equal widths).
    func adding(_ other: LinearForm) -> LinearForm {
        var out = self
        for i in 0..<width {
            out.bias[i] += other.bias[i]
            for (lane, c) in other.rows[i] { out.rows[i][lane, default: 0] += c }
        }
        return out
    }

    /// `scale * self`, element by element.
    func scaled(_ scale: [Double]) -> LinearForm {
        LinearForm(rows: rows.enumerated().map { i, row in row.mapValues { $0 * scale[i] } }, bias: zip(bias, scale).map(*))
    }

    /// `W self + b`; `budget` counts the multiply-adds and stops at zero.
    func transformed(by w: WeightMatrix, bias b: [Double]?, budget: inout Int) throws(LayerChainError) -> LinearForm {
        var out = LinearForm(rows: Array(repeating: [:], count: w.rows), bias: b ?? Array(repeating: 0, count: w.rows))
        func accumulate(_ r: Int, _ c: Int, _ a: Double) throws(LayerChainError) {
            guard a != 0 else { return }
            budget -= rows[c].count + 1
            guard budget >= 0 else { throw .tooLarge("composing the program's affine maps takes more than \(CompilerLimits.maxFusionWork) multiply-adds") }
            out.bias[r] += a * bias[c]
            for (lane, x) in rows[c] { out.rows[r][lane, default: 0] += a * x }
        }
        switch w.storage {
        case .dense(let values):
            for r in 0..<w.rows {
                for c in 0..<w.cols { try accumulate(r, c, values[r * w.cols + c]) }
            }
        case .sparse(let offsets, let columns, let values):
            for r in 0..<w.rows {
                for k in offsets[r]..<offsets[r + 1] { try accumulate(r, columns[k], values[k]) }
            }
        }
        return out
    }

    /// The form with each lane `l` that `replacement` holds replaced by that form.
    func substituting(_ replacement: [Int: (row: [Int: Double], bias: Double)]) -> LinearForm {
        var out = self
        for i in 0..<width {
            var row: [Int: Double] = [:]
            for (lane, c) in rows[i] {
                if let r = replacement[lane] {
                    out.bias[i] += c * r.bias
                    for (l, x) in r.row { row[l, default: 0] += c * x }
                } else {
                    row[lane, default: 0] += c
                }
            }
            out.rows[i] = row
        }
        return out
    }
}
