/// The values an input declares it takes (`input x: [2] in [0, 1]`, `in {0, 1}`): the
/// precision analysis bounds errors over them, and the optimizer checks its folds there.
extension Elaborator {
    /// Most values a set may list: the precision analysis runs once per combination of them.
    static let maxDomainSetValues = 64

    func inputDomain(_ domain: InputDomain, size n: Int, in scope: Scope) -> InputDomainValues? {
        switch domain {
        case .interval(let lowerExpr, let upperExpr, let range):
            guard let lower = bound(lowerExpr, size: n, in: scope), let upper = bound(upperExpr, size: n, in: scope) else { return nil }
            if let i = lower.indices.first(where: { lower[$0] > upper[$0] }) {
                let (lo, hi) = (InputDomainValues.number(lower[i]), InputDomainValues.number(upper[i]))
                error(.invalidValue, "the input's interval is empty: its lower bound \(lo) is above its upper bound \(hi)" + (n > 1 ? " (element \(i))" : ""), at: range)
                return nil
            }
            return .interval(lower: lower, upper: upper)
        case .set(let exprs, let range):
            guard exprs.count <= Self.maxDomainSetValues else {
                error(.tooLarge, "an input's set lists at most \(Self.maxDomainSetValues) values, found \(exprs.count); declare an interval instead", at: range)
                return nil
            }
            var values: [Double] = []
            for e in exprs {
                guard let v = bound(e, size: 1, in: scope)?.first else { return nil }
                values.append(v)
            }
            return .set(Array(Set(values)).sorted())
        }
    }

    /// A bound: a finite compile-time scalar (for every element) or vector of the input's size.
    private func bound(_ e: Expr, size n: Int, in scope: Scope) -> [Double]? {
        switch eval(e, in: scope) {
        case .constant(let t) where t.isScalar || (n > 1 && t.rank == 1 && t.data.count == n):
            guard t.data.allSatisfy(\.isFinite) else {
                error(.invalidValue, "an input's declared values must be finite", at: e.range)
                return nil
            }
            return t.isScalar ? [Double](repeating: t.scalar, count: n) : t.data
        case .error: return nil
        case .runtime:
            error(.notConstant, "an input's declared values must be known at compile time, found a value computed at run time", at: e.range)
            return nil
        case let v:
            let wanted = n > 1 ? "a scalar or a vector of \(n) elements" : "a scalar"
            error(.shapeMismatch, "an input's declared values must be \(wanted), found \(v.shapeDescription)", at: e.range)
            return nil
        }
    }
}
