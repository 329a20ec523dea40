import RNNRuntime

/// Compile-time choices: comparisons, `&&`, `||`, `!`, and the if expression and statement.
/// Only the branch a condition picks is elaborated, so the other may use names, shapes or
/// functions that exist only in its own configuration.
extension Elaborator {
    /// A condition's truth, or nil after reporting why it has none.
    func condition(_ expr: Expr, in scope: Scope) -> Bool? {
        let value = evalAny(expr, in: scope)
        switch value {
        case .constant(let t) where t.isScalar && (t.scalar == 0 || t.scalar == 1):
            return t.scalar == 1
        case .constant(let t):
            let found = t.isScalar ? formatNumber(t.scalar) : "a value of shape \(t.shapeDescription)"
            error(.wrongKind, "a condition must be true or false (a comparison, or 1 or 0), found \(found)", at: expr.range)
        case .runtime, .matrix:
            error(.notConstant, "a condition must be known at compile time, but this depends on runtime inputs; for a choice at run time use ifelse(c, a, b) from 'use logic'", at: expr.range)
        case .string(let text):
            error(.wrongKind, "a condition must be true or false, found the string \"\(text)\" (compare it: x == \"\(text)\")", at: expr.range)
        case .function(let name):
            error(.wrongKind, "a condition must be true or false, found the function '\(name)'", at: expr.range)
        case .error:
            break
        }
        return nil
    }

    /// `a == b`, `a < b`, ...: equality of strings or of equally shaped constants, order of
    /// compile-time numbers.
    func compare(_ op: ComparisonOp, _ lhs: Expr, _ rhs: Expr, range: SourceRange, in scope: Scope) -> Value {
        let (a, b) = (evalAny(lhs, in: scope), evalAny(rhs, in: scope))
        let equality = op == .equal || op == .notEqual
        switch (a, b) {
        case (.error, _), (_, .error):
            return .error
        case (.runtime, _), (_, .runtime):
            let operand = if case .runtime = a { lhs.range } else { rhs.range }
            error(.notConstant, "'\(op.rawValue)' compares compile-time values, but this depends on runtime inputs; for a comparison at run time use larger(), smaller() or ifelse() from 'use logic'", at: operand)
            return .error
        case (.string(let x), .string(let y)) where equality:
            return .truth((x == y) == (op == .equal))
        case (.constant(let x), .constant(let y)) where equality:
            guard x.shape == y.shape else {
                error(.shapeMismatch, "'\(op.rawValue)' compares values of one shape, found \(x.shapeDescription) and \(y.shapeDescription)", at: range)
                return .error
            }
            return .truth((x.data == y.data) == (op == .equal))
        case (.constant(let x), .constant(let y)):
            guard x.isScalar, y.isScalar else {
                error(.shapeMismatch, "'\(op.rawValue)' orders numbers, found \(x.shapeDescription) and \(y.shapeDescription)", at: range)
                return .error
            }
            switch op {
            case .less: return .truth(x.scalar < y.scalar)
            case .lessEqual: return .truth(x.scalar <= y.scalar)
            case .greater: return .truth(x.scalar > y.scalar)
            case .greaterEqual: return .truth(x.scalar >= y.scalar)
            case .equal, .notEqual: return .error  // handled above
            }
        default:
            error(.wrongKind, "'\(op.rawValue)' cannot compare \(a.kindDescription) with \(b.kindDescription)", at: range)
            return .error
        }
    }

    /// `a && b`, `a || b`; the right operand is elaborated only when it decides the result.
    func logical(_ op: LogicalOp, _ lhs: Expr, _ rhs: Expr, in scope: Scope) -> Value {
        guard let first = condition(lhs, in: scope) else { return .error }
        if first == (op == .or) { return .truth(first) }
        return condition(rhs, in: scope).map(Value.truth) ?? .error
    }

    /// An if statement: the statements of the branch the condition picks, run in place.
    func conditional(_ c: Expr, _ then: [Statement], _ otherwise: [Statement], in scope: Scope, run: (Statement, Scope) -> Void) {
        guard let taken = condition(c, in: scope) else { return }
        for statement in taken ? then : otherwise {
            if builder.overLimit { return }
            run(statement, scope)
        }
    }
}

extension Value {
    /// A condition's value: 1 for true, 0 for false.
    static func truth(_ b: Bool) -> Value { .constant(.scalar(b ? 1 : 0)) }

    /// What kind of value this is, for messages.
    var kindDescription: String {
        switch self {
        case .constant(let t): return t.isScalar ? "a number" : "a \(t.shapeDescription) value"
        case .runtime: return "a runtime value"
        case .matrix: return "a runtime matrix"
        case .string: return "a string"
        case .function(let name): return "the function '\(name)'"
        case .error: return "an invalid value"
        }
    }
}
