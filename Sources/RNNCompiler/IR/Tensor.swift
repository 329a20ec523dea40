/// A compile-time constant: a scalar (shape []), a vector ([n]) or a matrix ([m, n]), row-major.
public struct Tensor: Sendable, Equatable {
    public let shape: [Int]
    public let data: [Double]
    /// The param this value is (`weight_ih_l0`) or a block of rows of (`weight_ih_l0[0:4]`),
    /// so the weight matrices made from it carry its name; nil for other values.
    public var origin: String?

    public init(shape: [Int], data: [Double], origin: String? = nil) {
        precondition(shape.count <= 2 && shape.reduce(1, *) == data.count)
        self.shape = shape
        self.data = data
        self.origin = origin
    }

    public static func scalar(_ x: Double) -> Tensor { Tensor(shape: [], data: [x]) }
    public static func vector(_ v: [Double]) -> Tensor { Tensor(shape: [v.count], data: v) }
    public static func matrix(rows: Int, cols: Int, _ data: [Double]) -> Tensor { Tensor(shape: [rows, cols], data: data) }

    public var rank: Int { shape.count }
    public var isScalar: Bool { shape.isEmpty }
    public var scalar: Double { data[0] }
    public var rows: Int { shape.count == 2 ? shape[0] : 1 }
    public var cols: Int { shape.last ?? 1 }

    public var shapeDescription: String { Tensor.describe(shape) }

    public static func describe(_ shape: [Int]) -> String {
        shape.isEmpty ? "scalar" : "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    /// Element-wise map.
    public func map(_ f: (Double) -> Double) -> Tensor { Tensor(shape: shape, data: data.map(f)) }

    /// Row `r` of a matrix as a vector.
    public func row(_ r: Int) -> [Double] { Array(data[(r * cols)..<((r + 1) * cols)]) }
}
