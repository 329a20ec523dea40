import RNNOps

/// Evaluates compile-time expressions and the op table's formulas over rational
/// enclosures at one precision.
final class ExactArithmetic {
    let math: CertifiedMath
    private var expressionValues: [ExactExpr: RationalInterval] = [:]

    init(bits: Int) {
        math = CertifiedMath(bits: bits)
    }

    /// Enclosures rounded to the working precision; exact values stay exact.
    func round(_ x: RationalInterval) -> RationalInterval { x.rounded(toBits: math.work) }

    /// Most bits an exact value's numerator or denominator keeps: past it the value becomes
    /// an enclosure at the working precision (`s <- s * s + x` doubles its digits each token;
    /// the enclosure stays true and small).
    static let maxExactBits = 1 << 16
    /// Largest magnitude, as a power of two, a value may reach (Float64 overflows at 2^1024).
    static let maxMagnitude = 1 << 16

    /// A node's values within the budgets: huge exact values rounded to enclosures, ends
    /// below 2^-65536 rounded outward to it or to zero, and a failure for values beyond
    /// 2^65536, all of which would otherwise take memory without bound.
    func bounded(_ values: [RationalInterval]) throws(ExactFailure) -> [RationalInterval] {
        var out = values  // shares the array's storage until a value changes
        for (i, v) in values.enumerated() {
            if v.hi.binaryMagnitude > Self.maxMagnitude || v.lo.binaryMagnitude > Self.maxMagnitude {
                throw .failure("a value beyond 2^\(Self.maxMagnitude) (Float64 overflows at 2^1024)")
            }
            var w = v
            if w.isPoint, w.lo.numerator.magnitude.bitWidth > Self.maxExactBits || w.lo.denominator.magnitude.bitWidth > Self.maxExactBits {
                w = math.round(w)
            }
            if w.lo.binaryMagnitude < -Self.maxMagnitude || w.hi.binaryMagnitude < -Self.maxMagnitude {
                w = RationalInterval(Self.flushed(w.lo, up: false), Self.flushed(w.hi, up: true))
            }
            if w != v { out[i] = w }
        }
        return out
    }

    /// A nonzero end below 2^-65536 in magnitude, rounded outward to ±2^-65536 or to zero.
    private static func flushed(_ x: Rational, up: Bool) -> Rational {
        guard !x.isZero, x.binaryMagnitude < -maxMagnitude else { return x }
        let tiny = CertifiedMath.power2(-maxMagnitude)
        return up ? (x.sign > 0 ? tiny : .zero) : (x.sign < 0 ? -tiny : .zero)
    }

    /// The value of a compile-time expression.
    func value(_ e: ExactExpr) throws(ExactFailure) -> RationalInterval {
        if let known = expressionValues[e] { return known }
        let v: RationalInterval
        switch e {
        case .rational(let q): return RationalInterval(q)
        case .pi: v = math.pi
        case .e: v = try math.exp(RationalInterval(1))
        case .add(let a, let b): v = round(try value(a) + value(b))
        case .mul(let a, let b): v = round(try value(a) * value(b))
        case .negate(let a): v = -(try value(a))
        case .reciprocal(let a): v = try reciprocal(value(a))
        case .power(let a, let b): v = try power(value(a), value(b))
        case .function(let f, let a): v = try apply(f, value(a))
        case .op(let kind, let operands, let attributes):
            let xs = try operands.map { (o) throws(ExactFailure) in try value(o) }
            v = try apply(kind.entry.formula, x: xs[0], y: xs.count > 1 ? xs[1] : xs[0],
                          attributes: attributes.map { (a) throws(ExactFailure) in try value(a) })
        }
        expressionValues[e] = v
        return v
    }

    private func reciprocal(_ x: RationalInterval) throws(ExactFailure) -> RationalInterval {
        guard let r = x.reciprocal else {
            throw x.isPoint ? .failure("division by zero") : .undecided("division by an enclosure that holds zero")
        }
        return round(r)
    }

    /// `a ^ b`: repeated products for an integer exponent, else e^(b log a).
    private func power(_ a: RationalInterval, _ b: RationalInterval) throws(ExactFailure) -> RationalInterval {
        if b.isPoint, b.lo.isInteger, b.lo.numerator.magnitude.bitWidth < 16 {
            let n = Int(b.lo.numerator)
            if a.isPoint {
                if a.lo.isZero && n < 0 { throw .failure("zero to a negative power") }
                return RationalInterval(a.lo.power(n))
            }
            var result = RationalInterval(1)
            for _ in 0..<abs(n) { result = round(result * a) }
            return n >= 0 ? result : try reciprocal(result)
        }
        return try math.exp(round(b * math.log(a)))
    }

    private func apply(_ f: ExactExpr.ConstantFunction, _ x: RationalInterval) throws(ExactFailure) -> RationalInterval {
        switch f {
        case .sin: return math.sinOrCos(x, cosine: false)
        case .cos: return math.sinOrCos(x, cosine: true)
        case .tan: return round(math.sinOrCos(x, cosine: false) * (try reciprocal(math.sinOrCos(x, cosine: true))))
        case .abs: return x.magnitude
        case .floor, .ceil, .round:
            func integer(_ q: Rational) -> Rational {
                switch f {
                case .floor: return Rational(q.floor, 1)
                case .ceil: return Rational(q.ceil, 1)
                default: return q.roundedHalfAway
                }
            }
            let (a, b) = (integer(x.lo), integer(x.hi))
            guard a == b else { throw .undecided("\(f.rawValue) of an enclosure that holds a step") }
            return RationalInterval(a)
        }
    }

    /// An op's formula applied to operands `x`, `y` and the op's attribute values.
    func apply(_ f: OpFormula, x: RationalInterval, y: RationalInterval, attributes: [RationalInterval]) throws(ExactFailure) -> RationalInterval {
        func eval(_ g: OpFormula) throws(ExactFailure) -> RationalInterval { try apply(g, x: x, y: y, attributes: attributes) }
        switch f {
        case .x: return x
        case .y: return y
        case .attribute(let i): return attributes[i]
        case .integer(let n): return RationalInterval(n)
        case .pi: return math.pi
        case .add(let a, let b): return round(try eval(a) + eval(b))
        case .mul(let a, let b): return round(try eval(a) * eval(b))
        case .negate(let a): return -(try eval(a))
        case .reciprocal(let a): return try reciprocal(eval(a))
        case .maximum(let a, let b): return RationalInterval.maximum(try eval(a), try eval(b))
        case .minimum(let a, let b): return RationalInterval.minimum(try eval(a), try eval(b))
        case .ifGreater(let a, let b, let then, let otherwise):
            let (p, q) = (try eval(a), try eval(b))
            if p.lo > q.hi { return try eval(then) }
            if p.hi <= q.lo { return try eval(otherwise) }
            return try eval(then).hull(eval(otherwise))
        case .function(let g, let a):
            let v = try eval(a)
            switch g {
            case .exp: return try math.exp(v)
            case .log: return try math.log(v)
            case .sqrt: return try math.sqrt(v)
            case .erf: return try math.erf(v)
            case .tanh: return try math.tanh(v)
            case .abs: return v.magnitude
            }
        }
    }
}
