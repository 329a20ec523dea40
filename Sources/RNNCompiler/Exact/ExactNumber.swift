/// A number of exact mode: an enclosure at the working precision (a point when the value is
/// rational and known exactly) and, when the value is irrational but lies in the program's
/// cyclotomic field and was made by operations the field has, the exact element (a rational
/// value is a point, with no element). Decisions (comparisons, signs) read the element when
/// there is one, so an exact zero is known to be zero.
struct ExactNumber {
    var enclosure: RationalInterval
    var element: CyclotomicNumber?

    init(_ enclosure: RationalInterval, element: CyclotomicNumber? = nil) {
        (self.enclosure, self.element) = (enclosure, element)
    }
}

/// The field elements of compile-time expressions: rationals, sums, products and negations
/// of them, and cos and sin of rational multiples of π whose denominators the field has.
struct FieldElements {
    let field: CyclotomicField
    private var known: [ExactExpr: CyclotomicNumber?] = [:]

    init(field: CyclotomicField) { self.field = field }

    /// The field for a program's constants: cos and sin of multiples of π/q need ζ_2q.
    static func field(for expressions: [ExactExpr]) -> CyclotomicField? {
        var denominators = Set<Int>()
        var seen = Set<ExactExpr>()
        func visit(_ e: ExactExpr) {
            guard seen.insert(e).inserted else { return }
            switch e {
            case .function(let f, let a) where f == .cos || f == .sin:
                if let turns = piMultiple(a), let q = Int(exactly: turns.denominator), q <= 1 << 20 { denominators.insert(q) }
                visit(a)
            case .add(let a, let b), .mul(let a, let b), .power(let a, let b): visit(a); visit(b)
            case .negate(let a), .reciprocal(let a), .function(_, let a): visit(a)
            case .op(_, let operands, let attributes): (operands + attributes).forEach(visit)
            case .rational, .pi, .e: break
            }
        }
        expressions.forEach(visit)
        return denominators.isEmpty ? nil : CyclotomicField.holding(denominators: denominators)
    }

    /// `e` as r·π for a rational r, when it is one.
    static func piMultiple(_ e: ExactExpr) -> Rational? {
        switch e {
        case .pi: return .one
        case .rational(let q) where q.isZero: return .zero
        case .negate(let a): return piMultiple(a).map { -$0 }
        case .add(let a, let b):
            guard let p = piMultiple(a), let q = piMultiple(b) else { return nil }
            return p + q
        case .mul(let a, let b):
            if let p = piMultiple(a), let q = rationalValue(b) { return p * q }
            if let p = rationalValue(a), let q = piMultiple(b) { return p * q }
            return nil
        default: return nil
        }
    }

    /// `e` when it is a rational made by rational operations.
    static func rationalValue(_ e: ExactExpr) -> Rational? {
        switch e {
        case .rational(let q): return q
        case .negate(let a): return rationalValue(a).map { -$0 }
        case .add(let a, let b):
            guard let p = rationalValue(a), let q = rationalValue(b) else { return nil }
            return p + q
        case .mul(let a, let b):
            guard let p = rationalValue(a), let q = rationalValue(b) else { return nil }
            return p * q
        case .reciprocal(let a):
            guard let p = rationalValue(a), !p.isZero else { return nil }
            return .one / p
        default: return nil
        }
    }

    /// The element of `e`, or nil when the field does not hold it (or cannot tell).
    mutating func element(_ e: ExactExpr) -> CyclotomicNumber? {
        if let known = known[e] { return known }
        let value: CyclotomicNumber?
        switch e {
        case .rational(let q): value = field.rational(q)
        case .add(let a, let b): value = zip2(element(a), element(b)).map(field.add)
        case .mul(let a, let b): value = zip2(element(a), element(b)).map(field.multiply)
        case .negate(let a): value = element(a).map(field.negate)
        case .reciprocal(let a): value = element(a)?.rationalValue.flatMap { $0.isZero ? nil : field.rational(.one / $0) }
        case .function(let f, let a) where f == .cos || f == .sin: value = Self.piMultiple(a).flatMap { field.trigonometric($0, cosine: f == .cos) }
        default: value = nil
        }
        known[e] = value
        return value
    }

    private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
        guard let a, let b else { return nil }
        return (a, b)
    }
}
