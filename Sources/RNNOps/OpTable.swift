import Foundation
import RNNKernels

/// The op table: one entry per element-wise op. Adding an op means adding its case to
/// `ElementwiseKind`, its entry here, a test and a line in docs/language.md; the compiler,
/// the runtime and the exporters read the rest from the entry.
enum OpTable {
    static func entry(_ kind: ElementwiseKind) -> OpEntry {
        switch kind {
        case .add: return add
        case .mul: return mul
        case .max: return max
        case .min: return min
        case .relu: return relu
        case .sigmoid: return sigmoid
        case .tanh: return tanh
        case .exp: return exp
        case .log: return log
        case .softplus: return softplus
        case .silu: return silu
        case .sqrt: return sqrt
        case .reciprocal: return reciprocal
        case .gelu: return gelu
        case .geluTanh: return geluTanh
        case .softsign: return softsign
        case .hardtanh: return hardtanh
        case .leakyRelu: return leakyRelu
        case .elu: return elu
        }
    }

    // MARK: Binary

    static let add = OpEntry(
        kind: .add, arity: 2, attributes: [], summary: "x + y (the `+` operator)", callable: false, linearity: .additive,
        reference: { x, y, _ in x + y },
        float32: { x, y, o, n, _ in rnnk_add_f32(x, y, o, Int32(n)) },
        float64: { x, y, o, n, _ in rnnk_add_f64(x, y, o, Int32(n)) },
        export: ExportSpelling(torch: "{x} + {y}", onnx: n("Add", .x, .y)), accuracy: .arithmetic, formula: .x + .y)

    static let mul = OpEntry(
        kind: .mul, arity: 2, attributes: [], summary: "x * y, the multiplicative gate (the `*` operator)", callable: false,
        linearity: .multiplicative,
        reference: { x, y, _ in x * y },
        float32: { x, y, o, n, _ in rnnk_mul_f32(x, y, o, Int32(n)) },
        float64: { x, y, o, n, _ in rnnk_mul_f64(x, y, o, Int32(n)) },
        export: ExportSpelling(torch: "{x} * {y}", onnx: n("Mul", .x, .y)), accuracy: .arithmetic, formula: .x * .y)

    /// NaN in either operand gives NaN, as in torch.maximum.
    static let max = binary(.max, "the larger of x and y (NaN if either is NaN)", formula: .maximum(.x, .y), torch: "torch.maximum({x}, {y})", onnx: n("Max", .x, .y),
                            accuracy: .selecting { lo, hi, _ in (lo, hi) }) { x, y in
        x > y || x.isNaN ? x : y
    }

    static let min = binary(.min, "the smaller of x and y (NaN if either is NaN)", formula: .minimum(.x, .y), torch: "torch.minimum({x}, {y})", onnx: n("Min", .x, .y),
                            accuracy: .selecting { lo, hi, _ in (lo, hi) }) { x, y in
        x < y || x.isNaN ? x : y
    }

    // MARK: Unary

    static let relu = unary(.relu, "max(x, 0)", formula: .maximum(.x, 0), torch: "torch.relu({x})", onnx: n("Relu", .x),
                            accuracy: .selecting { lo, hi, _ in (Swift.max(lo, 0), Swift.max(hi, 0)) }, float: { x, _ in x > 0 ? x : 0 }) { x, _ in
        x > 0 ? x : 0
    }

    static let sigmoid = unary(.sigmoid, "1 / (1 + e^-x)", formula: 1 / (1 + .exp(-.x)), torch: "torch.sigmoid({x})", onnx: n("Sigmoid", .x),
                               accuracy: .smooth(ulps32: 4, ulps64: 4, floor: 0.5) { lo, hi, _ in
                                   let x = OpAccuracy.nearestZero(lo, hi), s = 1 / (1 + Foundation.exp(-x)); return s * (1 - s) },
                               vectorized: RNNK_SIGMOID) { x, _ in 1 / (1 + Foundation.exp(-x)) }

    static let tanh = unary(.tanh, "the hyperbolic tangent", formula: .tanh(.x), torch: "torch.tanh({x})", onnx: n("Tanh", .x),
                            accuracy: .smooth(ulps32: 4, ulps64: 2, floor: 1) { lo, hi, _ in
                                let t = Foundation.tanh(OpAccuracy.nearestZero(lo, hi)); return 1 - t * t },
                            vectorized: RNNK_TANH) { x, _ in Foundation.tanh(x) }

    static let exp = unary(.exp, "e^x", formula: .exp(.x), torch: "torch.exp({x})", onnx: n("Exp", .x),
                           accuracy: .smooth(ulps32: 4, ulps64: 2) { _, hi, _ in Foundation.exp(hi) },
                           vectorized: RNNK_EXP) { x, _ in Foundation.exp(x) }

    static let log = unary(.log, "the natural logarithm", formula: .log(.x), torch: "torch.log({x})", onnx: n("Log", .x),
                           accuracy: .smooth(ulps32: 2, ulps64: 2, floor: 1) { lo, _, _ in lo > 0 ? 1 / lo : .infinity },
                           float: { x, _ in logf(x) }) { x, _ in Foundation.log(x) }

    /// torch's softplus with its default threshold: x itself above 20.
    static let softplus = unary(.softplus, "log(1 + e^x); x for x > 20", formula: .ifGreater(.x, 20, then: .x, otherwise: .log(1 + .exp(.x))), torch: "torch.nn.functional.softplus({x})",
                                onnx: n("Where", n("Greater", .x, .constant(20)), .x, n("Log", n("Add", n("Exp", .x), .constant(1)))),
                                // Just above 20 it drops from log1p(e^20) to 20 by 2e-9.
                                accuracy: .smooth(turningPoints: [20, 20.nextUp], ulps32: 4, ulps64: 4, floor: 0.5) { _, hi, _ in
                                    1 / (1 + Foundation.exp(-hi)) },
                                vectorized: RNNK_SOFTPLUS) { x, _ in
        x > 20 ? x : Foundation.log1p(Foundation.exp(x))
    }

    static let silu = unary(.silu, "x * sigmoid(x)", formula: .x / (1 + .exp(-.x)), torch: "torch.nn.functional.silu({x})", onnx: n("Mul", .x, n("Sigmoid", .x)),
                            accuracy: .smooth(turningPoints: [-1.2784645427610738], ulps32: 4, ulps64: 4, floor: 0.5) { _, _, _ in 1.1 },
                            vectorized: RNNK_SILU) { x, _ in x / (1 + Foundation.exp(-x)) }

    static let sqrt = unary(.sqrt, "the square root", formula: .sqrt(.x), torch: "torch.sqrt({x})", onnx: n("Sqrt", .x),
                            accuracy: .smooth(ulps32: 1, ulps64: 1) { lo, _, _ in
                                lo > 0 ? 0.5 / lo.squareRoot() : .infinity },
                            float: { x, _ in x.squareRoot() }) { x, _ in x.squareRoot() }

    static let reciprocal = unary(.reciprocal, "1 / x (the `/` operator by a runtime value)", formula: 1 / .x, torch: "torch.reciprocal({x})",
                                  onnx: n("Reciprocal", .x), accuracy: OpAccuracy(turningPoints: [], customImage: { lo, hi, _ in
                                      lo <= 0 && hi >= 0 ? (-.infinity, .infinity) : (widenDown(1 / hi), widenUp(1 / lo)) },
                                      slope: { lo, hi, _ in lo <= 0 && hi >= 0 ? .infinity : 1 / Swift.min(lo * lo, hi * hi) },
                                      ulps32: 1, ulps64: 1, floor: 0, selects: false),
                                  float: { x, _ in 1 / x }) { x, _ in 1 / x }

    /// The exact form, with the error function.
    static let gelu = unary(.gelu, "x * Φ(x) = x/2 (1 + erf(x/√2))", formula: .x / 2 * (1 + .erf(.x / .sqrt(2))), torch: "torch.nn.functional.gelu({x})",
                            onnx: n("Mul", n("Mul", .x, .constant(0.5)), n("Add", n("Erf", n("Div", .x, .constant(2.0.squareRoot()))), .constant(1))),
                            accuracy: .smooth(turningPoints: [-0.7517915246935645], ulps32: 1, ulps64: 4, floor: 1) { _, _, _ in 1.13 }) { x, _ in
        0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
    }

    static let geluTanh = unary(.geluTanh, "x/2 (1 + tanh(√(2/π) (x + 0.044715 x³))), GELU's tanh form", formula: .x / 2 * (1 + .tanh(.sqrt(2 / .pi) * (.x + 44715 / 1_000_000 * .x * .x * .x))),
                                torch: "torch.nn.functional.gelu({x}, approximate='tanh')",
                                onnx: n("Mul", n("Mul", .x, .constant(0.5)), n("Add", .constant(1), n("Tanh", n("Mul", .constant((2 / Double.pi).squareRoot()),
                                    n("Add", .x, n("Mul", .constant(0.044715), n("Mul", n("Mul", .x, .x), .x))))))),
                                accuracy: .smooth(turningPoints: [-0.7524614220710163], ulps32: 1, ulps64: 4, floor: 1) { _, _, _ in 1.13 }) { x, _ in
        0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    static let softsign = unary(.softsign, "x / (1 + |x|)", formula: .x / (1 + .abs(.x)), torch: "torch.nn.functional.softsign({x})",
                                onnx: n("Div", .x, n("Add", n("Abs", .x), .constant(1))),
                                accuracy: .smooth(ulps32: 2, ulps64: 2) { lo, hi, _ in
                                    let d = 1 + OpAccuracy.nearestZero(lo, hi); return 1 / (d * d) }) { x, _ in
        x / (1 + Swift.abs(x))
    }

    /// x clamped to [min, max]; NaN stays NaN.
    static let hardtanh = unary(.hardtanh, "x clamped to [min, max]", formula: .minimum(.maximum(.x, .attribute(0)), .attribute(1)), attributes: [OpAttribute("min", default: -1), OpAttribute("max", default: 1)],
                                torch: "torch.nn.functional.hardtanh({x}, {min}, {max})", onnx: n("Min", n("Max", .x, .attribute(0)), .attribute(1)),
                                accuracy: .selecting { lo, hi, a in (Swift.min(Swift.max(lo, a[0]), a[1]), Swift.min(Swift.max(hi, a[0]), a[1])) },
                                check: { $0[0] <= $0[1] ? nil : "hardtanh needs min <= max" }) { x, a in
        x < a[0] ? a[0] : (x > a[1] ? a[1] : x)
    }

    static let leakyRelu = unary(.leakyRelu, "x for x > 0, else slope * x", formula: .ifGreater(.x, 0, then: .x, otherwise: .attribute(0) * .x), attributes: [OpAttribute("slope", default: 0.01)],
                                 torch: "torch.nn.functional.leaky_relu({x}, {slope})",
                                 onnx: n("Where", n("Greater", .x, .constant(0)), .x, n("Mul", .x, .attribute(0))),
                                 accuracy: .smooth(turningPoints: [0], ulps32: 1, ulps64: 1) { _, _, a in Swift.max(1, Swift.abs(a[0])) }) { x, a in
        x > 0 ? x : a[0] * x
    }

    static let elu = unary(.elu, "x for x > 0, else alpha (e^x - 1)", formula: .ifGreater(.x, 0, then: .x, otherwise: .attribute(0) * (.exp(.x) - 1)), attributes: [OpAttribute("alpha", default: 1)],
                           torch: "torch.nn.functional.elu({x}, {alpha})",
                           onnx: n("Where", n("Greater", .x, .constant(0)), .x, n("Mul", .attribute(0), n("Sub", n("Exp", .x), .constant(1)))),
                           accuracy: .smooth(turningPoints: [0], ulps32: 2, ulps64: 2) { _, _, a in Swift.max(1, Swift.abs(a[0])) }) { x, a in
        x > 0 ? x : a[0] * Foundation.expm1(x)
    }

    // MARK: Building entries

    /// An ONNX operator applied to spellings: `n("Mul", .x, n("Sigmoid", .x))`.
    private static func n(_ op: String, _ inputs: ONNXSpelling...) -> ONNXSpelling { .node(op, inputs) }

    /// A unary op. Float32 runs `vectorized` (the C kernels) when given, else `float` in Float
    /// arithmetic when given, else the reference in Double rounded to Float.
    private static func unary(_ kind: ElementwiseKind, _ summary: String, formula: OpFormula, attributes: [OpAttribute] = [], torch: String, onnx: ONNXSpelling,
                              accuracy: OpAccuracy, vectorized: rnnk_activation? = nil, float: (@Sendable (Float, OpAttributes) -> Float)? = nil,
                              check: (@Sendable (OpAttributes) -> String?)? = nil,
                              _ f: @escaping @Sendable (Double, OpAttributes) -> Double) -> OpEntry {
        let float32: ElementwiseKernel<Float>
        if let vectorized {
            float32 = { x, _, o, n, _ in rnnk_activate_f32(vectorized, x, o, Int32(n)) }
        } else if let float {
            float32 = { x, _, o, n, a in for i in 0..<n { o[i] = float(x[i], a) } }
        } else {
            float32 = { x, _, o, n, a in for i in 0..<n { o[i] = Float(f(Double(x[i]), a)) } }
        }
        return OpEntry(kind: kind, arity: 1, attributes: attributes, summary: summary, callable: true, linearity: .nonlinear,
                       reference: { x, _, a in f(x, a) }, float32: float32,
                       float64: { x, _, o, n, a in for i in 0..<n { o[i] = f(x[i], a) } },
                       export: ExportSpelling(torch: torch, onnx: onnx), check: check, accuracy: accuracy, formula: formula)
    }

    private static func binary(_ kind: ElementwiseKind, _ summary: String, formula: OpFormula, torch: String, onnx: ONNXSpelling, accuracy: OpAccuracy,
                               _ f: @escaping @Sendable (Double, Double) -> Double) -> OpEntry {
        OpEntry(kind: kind, arity: 2, attributes: [], summary: summary, callable: true, linearity: .nonlinear,
                reference: { x, y, _ in f(x, y) },
                float32: { x, y, o, n, _ in for i in 0..<n { o[i] = Float(f(Double(x[i]), Double(y[i]))) } },
                float64: { x, y, o, n, _ in for i in 0..<n { o[i] = f(x[i], y[i]) } },
                export: ExportSpelling(torch: torch, onnx: onnx), accuracy: accuracy, formula: formula)
    }
}
