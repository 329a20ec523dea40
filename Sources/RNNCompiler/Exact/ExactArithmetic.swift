import RNNOps

/// Evaluates compile-time expressions and the op table's formulas over rational
/// enclosures at one precision.
final class ExactArithmetic {
    let math: CertifiedMath
    private var expressionValues: [ExactExpr: RationalInterval] = [:]
    /// The program's cyclotomic field, when its constants need one, and their elements.
    private(set) var elements: FieldElements?

    init(bits: Int, field: CyclotomicField? = nil) {
        math = CertifiedMath(bits: bits)
        elements = field.map(FieldElements.init)
    }

    /// Most bits a sign decision of a field element may take (a nonzero element's enclosure
    /// excludes zero at some precision; this bounds the work for elements that tiny).
    static let maxSignBits = 1 << 16

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

    /// An op's formula applied to enclosures.
    func apply(_ f: OpFormula, x: RationalInterval, y: RationalInterval, attributes: [RationalInterval]) throws(ExactFailure) -> RationalInterval {
        try apply(f, x: ExactNumber(x), y: ExactNumber(y), attributes: attributes.map { ExactNumber($0) }).enclosure
    }

    /// An op's formula applied to operands `x`, `y` and the op's attribute values. Sums,
    /// products, negations, comparisons and their choices keep field elements; the other
    /// functions give enclosures.
    func apply(_ f: OpFormula, x: ExactNumber, y: ExactNumber, attributes: [ExactNumber]) throws(ExactFailure) -> ExactNumber {
        func eval(_ g: OpFormula) throws(ExactFailure) -> ExactNumber { try apply(g, x: x, y: y, attributes: attributes) }
        switch f {
        case .x: return x
        case .y: return y
        case .attribute(let i): return attributes[i]
        case .integer(let n): return number(Rational(n))
        case .pi: return ExactNumber(math.pi)
        case .add(let a, let b): return add(try eval(a), try eval(b))
        case .mul(let a, let b): return multiply(try eval(a), try eval(b))
        case .negate(let a): return negate(try eval(a))
        case .reciprocal(let a):
            // A point's reciprocal is exact; an irrational element's (the field has inverses)
            // is left to the enclosure.
            return ExactNumber(try reciprocal(try eval(a).enclosure))
        case .maximum(let a, let b), .minimum(let a, let b):
            let (p, q) = (try eval(a), try eval(b))
            let isMaximum = if case .maximum = f { true } else { false }
            if let order = compare(p, q) { return (order >= 0) == isMaximum ? p : q }
            return ExactNumber(isMaximum ? RationalInterval.maximum(p.enclosure, q.enclosure) : RationalInterval.minimum(p.enclosure, q.enclosure))
        case .ifGreater(let a, let b, let then, let otherwise):
            if let order = compare(try eval(a), try eval(b)) { return try eval(order > 0 ? then : otherwise) }
            return ExactNumber(try eval(then).enclosure.hull(eval(otherwise).enclosure))
        case .function(let g, let a):
            let v = try eval(a)
            switch g {
            case .exp: return ExactNumber(try math.exp(v.enclosure))
            case .log: return ExactNumber(try math.log(v.enclosure))
            case .sqrt: return ExactNumber(try math.sqrt(v.enclosure))
            case .erf: return ExactNumber(try math.erf(v.enclosure))
            case .tanh: return ExactNumber(try math.tanh(v.enclosure))
            case .abs:
                if let sign = compare(v, number(.zero)) { return sign < 0 ? negate(v) : v }
                return ExactNumber(v.enclosure.magnitude)
            }
        }
    }

    // MARK: Numbers with field elements

    /// A rational as an exact number (a point: it needs no field element).
    func number(_ q: Rational) -> ExactNumber { ExactNumber(RationalInterval(q)) }

    /// A compile-time expression's value, with its field element when it has one.
    func number(_ e: ExactExpr) throws(ExactFailure) -> ExactNumber {
        normalized(try value(e), elements?.element(e))
    }

    func add(_ a: ExactNumber, _ b: ExactNumber) -> ExactNumber {
        let sum = round(a.enclosure + b.enclosure)
        guard a.element != nil || b.element != nil else { return ExactNumber(sum) }
        return normalized(sum, both(a, b).map { elements!.field.add($0, $1) })
    }

    func multiply(_ a: ExactNumber, _ b: ExactNumber) -> ExactNumber {
        let product = round(a.enclosure * b.enclosure)
        guard a.element != nil || b.element != nil else { return ExactNumber(product) }
        return normalized(product, both(a, b).map { elements!.field.multiply($0, $1) })
    }

    /// `Σ w_c v_c (+ bias)` for a row of (column, weight): the enclosure summed exactly and
    /// rounded once, the field element alongside while every term has one.
    func dot(_ row: [(Int, ExactNumber)], _ v: [ExactNumber], plus bias: ExactNumber?) -> ExactNumber {
        var sum = bias?.enclosure ?? RationalInterval(0)
        for (c, w) in row { sum = sum + w.enclosure * v[c].enclosure }
        let irrational = bias?.element != nil || row.contains { $0.1.element != nil || v[$0.0].element != nil }
        guard irrational, let field = elements?.field else { return ExactNumber(round(sum)) }
        var element: CyclotomicNumber? = bias.map { self.element(of: $0) } ?? field.rational(.zero)
        for (c, w) in row {
            guard let e = element, let x = self.element(of: w), let y = self.element(of: v[c]) else { element = nil; break }
            element = field.add(e, field.multiply(x, y))
        }
        return normalized(round(sum), element)
    }

    func negate(_ a: ExactNumber) -> ExactNumber { ExactNumber(-a.enclosure, element: a.element.map { elements!.field.negate($0) }) }

    /// The exact element of a value: its field element, or a point's rational. Only
    /// irrational values carry elements; points are exact already and stay on the fast path.
    private func element(of x: ExactNumber) -> CyclotomicNumber? {
        if let e = x.element { return e }
        guard x.enclosure.isPoint, let field = elements?.field else { return nil }
        return field.rational(x.enclosure.lo)
    }

    private func both(_ a: ExactNumber, _ b: ExactNumber) -> (CyclotomicNumber, CyclotomicNumber)? {
        guard let x = element(of: a), let y = element(of: b) else { return nil }
        return (x, y)
    }

    /// A result and its element: a rational element makes the value an exact point.
    private func normalized(_ enclosure: RationalInterval, _ element: CyclotomicNumber?) -> ExactNumber {
        guard let element else { return ExactNumber(enclosure) }
        if let q = element.rationalValue { return ExactNumber(RationalInterval(q)) }
        return ExactNumber(enclosure, element: element)
    }

    /// The order of `a` and `b` (-1, 0, 1), or nil when their enclosures overlap and they
    /// have no field elements to decide by.
    func compare(_ a: ExactNumber, _ b: ExactNumber) -> Int? {
        if a.enclosure.lo > b.enclosure.hi { return 1 }
        if a.enclosure.hi < b.enclosure.lo { return -1 }
        if a.enclosure.isPoint && b.enclosure.isPoint && a.enclosure.lo == b.enclosure.lo { return 0 }
        guard let (x, y) = both(a, b), let field = elements?.field else { return nil }
        let difference = field.add(x, field.negate(y))
        if difference.isZero { return 0 }
        return field.sign(difference, from: math.bits, maxBits: Self.maxSignBits)
    }

    /// A node's values within the budgets (see `bounded(_:)` for enclosures); field elements
    /// whose coordinates pass `maxExactBits` are dropped, leaving the enclosure.
    func bounded(_ values: [ExactNumber]) throws(ExactFailure) -> [ExactNumber] {
        let enclosures = try bounded(values.map(\.enclosure))
        return zip(values, enclosures).map { v, e in
            ExactNumber(e, element: v.element.flatMap { $0.size > Self.maxExactBits ? nil : $0 })
        }
    }

    /// An enclosure that decides the value's nearest Double, refined through its field
    /// element when the working one does not; the working enclosure otherwise.
    func decided(_ v: ExactNumber, maxBits: Int) -> RationalInterval {
        guard let element = v.element, let field = elements?.field else { return v.enclosure }
        if let q = element.rationalValue { return RationalInterval(q) }
        var bits = math.bits
        var enclosure = v.enclosure
        while !enclosure.isPoint, enclosure.decidedDouble == nil, bits < maxBits {
            bits = Swift.min(2 * bits, maxBits)
            enclosure = field.enclosure(element, bits: bits)
        }
        return enclosure
    }
}
