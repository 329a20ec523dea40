/// The element-wise operations of rnnc. Each kind is described once, by its entry in the op
/// table (`OpTable.swift`): name, arity, attributes, reference semantics, kernels, how it
/// affects recurrence classification, and its spellings for the exporters. The compiler's
/// IR, the runtime's instructions and every back end refer to an op only through its kind
/// and read everything else from the entry.
public enum ElementwiseKind: String, CaseIterable, Sendable {
    case add, mul, max, min
    case relu, sigmoid, tanh, exp, log, softplus, silu, sqrt, reciprocal
    case gelu, geluTanh = "gelu_tanh", softsign, hardtanh, leakyRelu = "leaky_relu", elu

    /// The op's name in sources, dumps and artifacts.
    public var name: String { rawValue }

    /// Looks a kind up by its name.
    public init?(name: String) { self.init(rawValue: name) }
}

/// How an op's output depends on its operands, for classifying recurrences: the analysis,
/// the scan plan and its validation read this and nothing else.
public enum Linearity: Sendable {
    /// Linear in all operands together (`a + b`): linear in the state when every
    /// state-dependent operand is.
    case additive
    /// Linear in each operand while the others do not depend on the state (`a * b`, a gate).
    case multiplicative
    /// Nonlinear in every operand: a state-dependent operand makes the result nonlinear.
    case nonlinear
}

/// A compile-time attribute of an op (`leaky_relu`'s slope), passed by name or position
/// after the runtime operands.
public struct OpAttribute: Sendable {
    public let name: String
    public let defaultValue: Double

    public init(_ name: String, default value: Double) {
        self.name = name
        self.defaultValue = value
    }
}

/// Up to four attribute values of an op, in the order of its entry's `attributes`; a fixed
/// size so that instructions carrying them copy without allocating or counting references.
public struct OpAttributes: Hashable, Sendable {
    public static let capacity = 4
    public var values: SIMD4<Double>

    public init(_ values: [Double] = []) {
        precondition(values.count <= Self.capacity, "an op has at most \(Self.capacity) attributes")
        var v = SIMD4<Double>(repeating: 0)
        for (i, x) in values.enumerated() { v[i] = x }
        self.values = v
    }

    public subscript(_ i: Int) -> Double { values[i] }
}

/// One element-wise operation with its attribute values: what the IR and the runtime's
/// instructions carry.
public struct ElementwiseOp: Hashable, Sendable, CustomStringConvertible {
    public var kind: ElementwiseKind
    public var attributes: OpAttributes

    public init(_ kind: ElementwiseKind, attributes: [Double]? = nil) {
        self.kind = kind
        self.attributes = OpAttributes(attributes ?? kind.entry.attributes.map(\.defaultValue))
    }

    public static let add = ElementwiseOp(.add)
    public static let mul = ElementwiseOp(.mul)

    public var entry: OpEntry { kind.entry }
    public var arity: Int { kind.entry.arity }
    public var name: String { kind.name }
    /// The attribute values this op has (as many as its entry names).
    public var attributeValues: [Double] { (0..<entry.attributes.count).map { attributes[$0] } }

    /// The reference result for one element (`y` is ignored by unary ops), in Float64.
    @inline(__always)
    public func apply(_ x: Double, _ y: Double = 0) -> Double { entry.reference(x, y, attributes) }

    /// `leaky_relu(slope: 0.2)`; `add`, `relu` for ops without attributes.
    public var description: String {
        let attrs = attributeArguments
        return attrs.isEmpty ? name : "\(name)(\(attrs.joined(separator: ", ")))"
    }

    /// The op applied to operands written as `operands`: `leaky_relu(x, slope: 0.2)`.
    public func call(_ operands: [String]) -> String {
        "\(name)(" + (operands + attributeArguments).joined(separator: ", ") + ")"
    }

    private var attributeArguments: [String] {
        zip(entry.attributes, attributeValues).map { "\($0.name): \(formatAttribute($1))" }
    }
}

/// `0.01`, `-1`, `1e-05`: the shortest text that reads back as the same Double.
func formatAttribute(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}

/// Applies `op` element-wise: `out[i] = op(x[i], y[i])` for `i < count`. `y` is ignored
/// by unary ops (pass `x`); `out` may be `x` or `y`.
public typealias ElementwiseKernel<Scalar> = @Sendable (
    _ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>,
    _ count: Int, _ attributes: OpAttributes
) -> Void

/// An op's spelling in PyTorch (a Python expression over `{x}`, `{y}` and the attribute
/// names in braces) and in ONNX (an expression of standard operators).
public struct ExportSpelling: Sendable {
    public let torch: String
    public let onnx: ONNXSpelling

    public init(torch: String, onnx: ONNXSpelling) {
        self.torch = torch
        self.onnx = onnx
    }
}

/// An op written with ONNX operators (default domain, opset 17) that onnxruntime runs on the
/// CPU in Float32 and Float64: the exporter emits one node per `.node`, in order.
public indirect enum ONNXSpelling: Sendable {
    /// The first and second operands.
    case x, y
    /// A scalar of the model's element type.
    case constant(Double)
    /// The op's attribute at this index (`hardtanh`'s min is 0), as a scalar.
    case attribute(Int)
    /// An operator applied to inputs (a `Bool` result, of `Greater`, feeds `Where`).
    case node(String, [ONNXSpelling])
}

/// Everything rnnc knows about one element-wise op. A class: looking an entry up hands out
/// one reference, not a copy of its strings, arrays and closures (a step runs many ops).
public final class OpEntry: Sendable {
    public let kind: ElementwiseKind
    /// Runtime operands: 1 or 2, all of the result's size.
    public let arity: Int
    /// Compile-time attributes, after the operands in a call.
    public let attributes: [OpAttribute]
    /// One line for the docs and `--help`.
    public let summary: String
    /// How a source calls it: by name (`relu(x)`), or only through an operator (`+`, `*`).
    public let callable: Bool
    public let linearity: Linearity
    /// The definition, in Float64: `(x, y, attributes)`; unary ops ignore `y`.
    public let reference: @Sendable (Double, Double, OpAttributes) -> Double
    public let float32: ElementwiseKernel<Float>
    public let float64: ElementwiseKernel<Double>
    public let export: ExportSpelling
    /// Why attribute values are invalid (`hardtanh` needs min <= max), or nil when they are fine.
    public let check: (@Sendable (OpAttributes) -> String?)?
    /// Its image, slope and kernels' error, for the precision analysis.
    public let accuracy: OpAccuracy
    /// Its definition with exact constants, for exact mode.
    public let formula: OpFormula

    init(kind: ElementwiseKind, arity: Int, attributes: [OpAttribute], summary: String, callable: Bool, linearity: Linearity,
         reference: @escaping @Sendable (Double, Double, OpAttributes) -> Double, float32: @escaping ElementwiseKernel<Float>,
         float64: @escaping ElementwiseKernel<Double>, export: ExportSpelling, check: (@Sendable (OpAttributes) -> String?)? = nil,
         accuracy: OpAccuracy, formula: OpFormula) {
        (self.kind, self.arity, self.attributes, self.summary, self.callable, self.linearity) = (kind, arity, attributes, summary, callable, linearity)
        (self.reference, self.float32, self.float64, self.export, self.check, self.accuracy) = (reference, float32, float64, export, check, accuracy)
        self.formula = formula
    }
}

extension ElementwiseKind {
    /// This kind's entry in the op table.
    public var entry: OpEntry { OpTable.entry(self) }
}
