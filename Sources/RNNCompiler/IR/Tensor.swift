/// A compile-time constant: a scalar (shape []), a vector ([n]) or a matrix ([m, n]), row-major.
package struct Tensor: Sendable, Equatable {
    package let shape: [Int]
    package let data: [Double]
    /// The param this value is (`weight_ih_l0`) or a block of (`weight_ih_l0[0:4]`), so the
    /// weights made from it carry its name and exporters keep it a param; nil for other values.
    package var origin: ParamSlice?

    package init(shape: [Int], data: [Double], origin: ParamSlice? = nil) {
        precondition(shape.count <= 2 && shape.reduce(1, *) == data.count)
        self.shape = shape
        self.data = data
        self.origin = origin
    }

    package static func scalar(_ x: Double) -> Tensor { Tensor(shape: [], data: [x]) }
    package static func vector(_ v: [Double]) -> Tensor { Tensor(shape: [v.count], data: v) }
    package static func matrix(rows: Int, cols: Int, _ data: [Double]) -> Tensor { Tensor(shape: [rows, cols], data: data) }

    package var rank: Int { shape.count }
    package var isScalar: Bool { shape.isEmpty }
    package var scalar: Double { data[0] }
    package var rows: Int { shape.count == 2 ? shape[0] : 1 }
    package var cols: Int { shape.last ?? 1 }

    package var shapeDescription: String { Tensor.describe(shape) }

    package static func describe(_ shape: [Int]) -> String {
        shape.isEmpty ? "scalar" : "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    /// Element-wise map.
    package func map(_ f: (Double) -> Double) -> Tensor { Tensor(shape: shape, data: data.map(f)) }

    /// Row `r` of a matrix as a vector.
    package func row(_ r: Int) -> [Double] { Array(data[(r * cols)..<((r + 1) * cols)]) }
}

/// A block of a param: a compile-time value that is the param itself or a slice of it.
/// Values computed from a param by anything else (`2 * W`, `exp(A)`) have no origin.
package struct ParamSlice: Sendable, Equatable, CustomStringConvertible {
    package var param: String
    /// The param's shape (a vector's or a matrix's).
    package var paramShape: [Int]
    /// The block's elements (of a vector) or rows (of a matrix).
    package var rows: Range<Int>
    /// The block's columns, for a matrix.
    package var columns: Range<Int>?

    /// The whole param.
    package init(param: String, shape: [Int]) {
        self.param = param
        paramShape = shape
        rows = 0..<(shape.first ?? 1)
        columns = shape.count == 2 ? 0..<shape[1] : nil
    }

    package init(param: String, paramShape: [Int], rows: Range<Int>, columns: Range<Int>?) {
        (self.param, self.paramShape, self.rows, self.columns) = (param, paramShape, rows, columns)
    }

    package var isWhole: Bool { self == ParamSlice(param: param, shape: paramShape) }

    /// `W`, `W[0:4]` (rows), `W[0:4, 2:6]`, `b[2:6]`.
    package var description: String {
        if isWhole { return param }
        var s = "\(param)[\(rows.lowerBound):\(rows.upperBound)"
        if let c = columns, paramShape.count == 2, c != 0..<paramShape[1] { s += ", \(c.lowerBound):\(c.upperBound)" }
        return s + "]"
    }

    /// The block `rows` of this block's rows (and `columns` of its columns).
    func block(rows r: Range<Int>, columns c: Range<Int>?) -> ParamSlice {
        let start = rows.lowerBound, cstart = columns?.lowerBound ?? 0
        return ParamSlice(param: param, paramShape: paramShape, rows: (start + r.lowerBound)..<(start + r.upperBound),
                          columns: c.map { (cstart + $0.lowerBound)..<(cstart + $0.upperBound) } ?? columns)
    }
}
