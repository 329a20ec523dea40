import Foundation

/// An op's definition as a formula of exact operations, for back ends that do not compute
/// in floating point: exact mode (`rnnc run --dtype exact`) evaluates it over rational
/// enclosures. Constants are exact (`1 / 2`, not 0.5), so the formula is the op's
/// mathematical definition; `evaluate` computes it in Float64 so a test can hold it to
/// the entry's `reference`.
public indirect enum OpFormula: Sendable, ExpressibleByIntegerLiteral {
    /// The first and second operands.
    case x, y
    /// The op's attribute at this index.
    case attribute(Int)
    case integer(Int)
    case pi
    case add(OpFormula, OpFormula)
    case mul(OpFormula, OpFormula)
    case negate(OpFormula)
    case reciprocal(OpFormula)
    case function(Function, OpFormula)
    case maximum(OpFormula, OpFormula)
    case minimum(OpFormula, OpFormula)
    /// `a > b ? then : otherwise`.
    case ifGreater(OpFormula, OpFormula, then: OpFormula, otherwise: OpFormula)

    public enum Function: String, Sendable {
        case exp, log, sqrt, erf, tanh, abs
    }

    public init(integerLiteral value: Int) { self = .integer(value) }

    public static func + (a: OpFormula, b: OpFormula) -> OpFormula { .add(a, b) }
    public static func - (a: OpFormula, b: OpFormula) -> OpFormula { .add(a, .negate(b)) }
    public static prefix func - (a: OpFormula) -> OpFormula { .negate(a) }
    public static func * (a: OpFormula, b: OpFormula) -> OpFormula { .mul(a, b) }
    public static func / (a: OpFormula, b: OpFormula) -> OpFormula { .mul(a, .reciprocal(b)) }

    public static func exp(_ a: OpFormula) -> OpFormula { .function(.exp, a) }
    public static func log(_ a: OpFormula) -> OpFormula { .function(.log, a) }
    public static func sqrt(_ a: OpFormula) -> OpFormula { .function(.sqrt, a) }
    public static func erf(_ a: OpFormula) -> OpFormula { .function(.erf, a) }
    public static func tanh(_ a: OpFormula) -> OpFormula { .function(.tanh, a) }
    public static func abs(_ a: OpFormula) -> OpFormula { .function(.abs, a) }

    /// The formula in Float64 (for checking it against the entry's reference).
    public func evaluate(_ x: Double, _ y: Double, _ a: OpAttributes) -> Double {
        func value(_ f: OpFormula) -> Double { f.evaluate(x, y, a) }
        switch self {
        case .x: return x
        case .y: return y
        case .attribute(let i): return a[i]
        case .integer(let n): return Double(n)
        case .pi: return Double.pi
        case .add(let p, let q): return value(p) + value(q)
        case .mul(let p, let q): return value(p) * value(q)
        case .negate(let p): return -value(p)
        case .reciprocal(let p): return 1 / value(p)
        case .maximum(let p, let q): return Swift.max(value(p), value(q))
        case .minimum(let p, let q): return Swift.min(value(p), value(q))
        case .ifGreater(let p, let q, let then, let otherwise): return value(p) > value(q) ? value(then) : value(otherwise)
        case .function(let f, let p):
            let v = value(p)
            switch f {
            case .exp: return Foundation.exp(v)
            case .log: return Foundation.log(v)
            case .sqrt: return v.squareRoot()
            case .erf: return Foundation.erf(v)
            case .tanh: return Foundation.tanh(v)
            case .abs: return Swift.abs(v)
            }
        }
    }
}
