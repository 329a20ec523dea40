import RNNOps

/// Exact mode's record of compile-time arithmetic: every site that computes a Double from
/// other compile-time Doubles (operators, builtins, folded ops) notes the expression it
/// computed, so that exact mode can read the Double as that expression. Nothing is
/// recorded unless `ElaborationOptions.recordsExactConstants` asks for it.
extension Elaborator {
    /// Precision at which two expressions for one Double are compared, and a recorded
    /// expression is checked for being just the Double it made.
    static let exactCheckBits = 256

    /// Notes that `result` was computed from the Doubles `operands` as `make(expressions)`.
    func recordExact(_ result: Double, _ operands: [Double], _ make: ([ExactExpr]) -> ExactExpr) {
        guard exact != nil else { return }
        var expressions: [ExactExpr] = []
        expressions.reserveCapacity(operands.count)
        for x in operands {
            guard let e = exact!.expression(of: x) else { return exact!.markAmbiguous(result) }
            expressions.append(e)
        }
        let expression = make(expressions)
        if case .rational = expression {} else if isExactly(result, expression) { return exact!.noteExact(result) }
        exact!.record(result, expression) { a, b in sameValue(a, b) }
    }

    /// Notes, element by element, that `results` came from `operands` (each an array
    /// indexed like `results`, or a single value) as `make`.
    func recordExact(_ results: [Double], _ operands: [[Double]], _ make: ([ExactExpr]) -> ExactExpr) {
        guard exact != nil else { return }
        for i in results.indices {
            recordExact(results[i], operands.map { $0.count == 1 ? $0[0] : $0[i] }, make)
        }
    }

    /// A number written in decimal in the source (a literal, an attribute's default).
    func recordDecimal(_ x: Double) {
        exact?.recordDecimal(x)
    }

    /// Whether `expression`'s value is exactly the Double `x` (relu(2) made 2: nothing to note).
    private func isExactly(_ x: Double, _ expression: ExactExpr) -> Bool {
        guard let v = try? exactCheck.value(expression), v.isPoint else { return false }
        return Rational(exactly: x) == v.lo
    }

    /// Two expressions whose enclosures at 256 bits overlap are taken to be one value (a
    /// Double cannot tell them apart, and neither can any output of a program).
    private func sameValue(_ a: ExactExpr, _ b: ExactExpr) -> Bool {
        guard let x = try? exactCheck.value(a), let y = try? exactCheck.value(b) else { return false }
        return x.lo <= y.hi && y.lo <= x.hi
    }
}

extension BinaryOp {
    /// The operator applied to two exact expressions.
    func exact(_ a: ExactExpr, _ b: ExactExpr) -> ExactExpr {
        switch self {
        case .add: return ExactExpr.sum(a, b)
        case .sub: return ExactExpr.sum(a, ExactExpr.negation(b))
        case .mul: return ExactExpr.product(a, b)
        case .div: return ExactExpr.product(a, ExactExpr.inverse(b))
        case .pow: return ExactExpr.raised(a, b)
        case .matmul: preconditionFailure("a matrix product is recorded element by element")
        }
    }
}

extension ElementwiseOp {
    /// The op applied at compile time to exact operands, then its attributes.
    func exactExpr(_ arguments: [ExactExpr]) -> ExactExpr {
        .op(kind, Array(arguments.prefix(arity)), attributes: Array(arguments.dropFirst(arity)))
    }
}
