import Foundation
import RNNOps

/// How a compile-time number was made from exact values: rationals, π, e and functions.
/// The elaborator folds constants into Doubles (`cos(2 pi / 5)` is one Double in the IR);
/// exact mode reads each such Double as the expression behind it.
package indirect enum ExactExpr: Hashable, Sendable {
    case rational(Rational)
    case pi, e
    case add(ExactExpr, ExactExpr)
    case mul(ExactExpr, ExactExpr)
    case negate(ExactExpr)
    case reciprocal(ExactExpr)
    case power(ExactExpr, ExactExpr)
    case function(ConstantFunction, ExactExpr)
    /// An op of the op table applied at compile time: operands, then attributes.
    case op(ElementwiseKind, [ExactExpr], attributes: [ExactExpr])

    /// The functions of compile-time values that are not ops of the op table.
    package enum ConstantFunction: String, Sendable {
        case sin, cos, tan, floor, ceil, round, abs
    }

    /// `a + b`, folded when both are rational.
    static func sum(_ a: ExactExpr, _ b: ExactExpr) -> ExactExpr {
        if case .rational(let p) = a, case .rational(let q) = b { return .rational(p + q) }
        if a == .rational(.zero) { return b }
        if b == .rational(.zero) { return a }
        return .add(a, b)
    }

    /// `a * b`, folded when both are rational.
    static func product(_ a: ExactExpr, _ b: ExactExpr) -> ExactExpr {
        if case .rational(let p) = a, case .rational(let q) = b { return .rational(p * q) }
        if a == .rational(.one) { return b }
        if b == .rational(.one) { return a }
        return .mul(a, b)
    }

    static func negation(_ a: ExactExpr) -> ExactExpr {
        if case .rational(let p) = a { return .rational(-p) }
        if case .negate(let b) = a { return b }
        return .negate(a)
    }

    /// `1 / a` (`a` is not zero: the elaborator refuses division by zero first).
    static func inverse(_ a: ExactExpr) -> ExactExpr {
        if case .rational(let p) = a, !p.isZero { return .rational(.one / p) }
        return .reciprocal(a)
    }

    /// `a ^ b`, folded for a rational base and a small integer exponent.
    static func raised(_ a: ExactExpr, _ b: ExactExpr) -> ExactExpr {
        if case .rational(let p) = a, case .rational(let q) = b, q.isInteger, q.numerator.magnitude.bitWidth < 16,
           !(p.isZero && q.sign < 0) {
            return .rational(p.power(Int(q.numerator)))
        }
        return .power(a, b)
    }

    static func applying(_ f: ConstantFunction, _ a: ExactExpr) -> ExactExpr {
        guard case .rational(let p) = a else { return .function(f, a) }
        switch f {
        case .floor: return .rational(Rational(p.floor, 1))
        case .ceil: return .rational(Rational(p.ceil, 1))
        case .abs: return .rational(p.magnitude)
        case .round: return .rational(p.roundedHalfAway)
        case .sin, .cos, .tan: return p.isZero ? .rational(f == .cos ? .one : .zero) : .function(f, a)
        }
    }
}

/// The expressions behind a program's compile-time Doubles, keyed by their bit patterns
/// (data movement, slices, transposes and IR nodes, keeps the bits, so a Double found in
/// any node looks up the expression that made it). A Double not recorded is exact: a
/// weight, an integer, a dyadic literal. Two different expressions that give the same
/// Double leave it ambiguous, and exact mode refuses to read it.
package struct ExactConstants: Sendable {
    private var expressions: [UInt64: ExactExpr] = [:]
    private var ambiguous: Set<UInt64> = []
    /// Non-integer Doubles the program also holds as exact values (a literal `0.25`).
    private var exactUses: Set<UInt64> = []

    package init() {}

    package var isEmpty: Bool { expressions.isEmpty && ambiguous.isEmpty }

    /// Every recorded expression (for the cyclotomic field the program's constants need).
    var recordedExpressions: [ExactExpr] { Array(expressions.values) }

    /// What `x` stands for: its recorded expression, the negation of its negation's, or
    /// itself as an exact rational; nil when it is ambiguous.
    package func expression(of x: Double) -> ExactExpr? {
        let (key, negated) = (x.bitPattern, (-x).bitPattern)
        if ambiguous.contains(key) || ambiguous.contains(negated) { return nil }
        if let e = expressions[key] { return e }
        if let e = expressions[negated] { return ExactExpr.negation(e) }
        return Rational(exactly: x).map { .rational($0) }
    }

    /// An integer-valued Double is taken as that integer: integers are everywhere in a
    /// program as exact values, and one made by rounding (`cos(1e-9)` is 1.0) cannot be told
    /// from them. Nothing is recorded for them.
    private static func isInteger(_ x: Double) -> Bool { x == x.rounded() && abs(x) <= 0x1p53 }

    /// Notes that the Double `x` was computed as `expr` (nothing to note when `x` is
    /// exactly the expression's value). When `x` was noted before as another expression,
    /// `same` decides whether the two are one value; if not, or when the program also holds
    /// `x` as an exact value, `x` becomes ambiguous.
    package mutating func record(_ x: Double, _ expr: ExactExpr, same: (ExactExpr, ExactExpr) -> Bool = { $0 == $1 }) {
        if case .rational(let q) = expr, Rational(exactly: x) == q { return noteExact(x) }
        if Self.isInteger(x) { return }
        let key = x.bitPattern
        if ambiguous.contains(key) { return }
        if exactUses.contains(key) || exactUses.contains((-x).bitPattern) { return markAmbiguous(x) }
        if let old = expressions[key] {
            if old != expr && !same(old, expr) { markAmbiguous(x) }
            return
        }
        expressions[key] = expr
    }

    /// Notes that the program holds `x` as an exact value (written, or computed exactly).
    package mutating func noteExact(_ x: Double) {
        if Self.isInteger(x) { return }
        exactUses.insert(x.bitPattern)
        if expressions[x.bitPattern] != nil || expressions[(-x).bitPattern] != nil { markAmbiguous(x) }
    }

    /// Notes that `x` stands for two different values (or is made from such a Double).
    package mutating func markAmbiguous(_ x: Double) {
        expressions[x.bitPattern] = nil
        ambiguous.insert(x.bitPattern)
    }

    /// Notes that `x` was written as a decimal (a literal, an attribute's default).
    package mutating func recordDecimal(_ x: Double) {
        if let q = Rational(shortestDecimalOf: x) { record(x, .rational(q), same: { $0 == $1 }) }
    }
}
