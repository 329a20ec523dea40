/// The syntax tree of one .rnn file. Every node carries its source range.
package struct SourceFileAST: Sendable {
    package let file: SourceFile
    package var declarations: [Declaration]
    /// Every comment of the file, in order (the formatter keeps them).
    package var comments: [SourceRange] = []
}

package enum Declaration: Sendable {
    case use(UseDecl)
    case function(FunctionDecl)
    case model(ModelDecl)
}

/// `use logic` or `use "path/to/file.rnn"`; dotted names map to folders (`use cells.gru`).
package struct UseDecl: Sendable {
    package let path: String
    package let isQuoted: Bool
    package let range: SourceRange
}

package struct Identifier: Sendable {
    package let name: String
    package let range: SourceRange
}

/// A parameter of a function: `name`, `name: [shape]`, `name = default`.
package struct FunctionParam: Sendable {
    package let name: Identifier
    package let shape: ShapeAnnotation?
    package let defaultValue: Expr?
}

package struct FunctionDecl: Sendable {
    package let name: Identifier
    package let params: [FunctionParam]
    /// Statements of a block body; empty for `fn f(x) = expr`.
    package let body: [Statement]
    /// The returned expression: `= expr`, or the block's `return expr`.
    package let result: Expr?
    /// The values returned after the first (`return h, c`); empty for one value.
    package var moreResults: [Expr] = []
    package let range: SourceRange
    /// The `return` statement of a block body (nil for `fn f(x) = expr`).
    package var returnRange: SourceRange? = nil
    /// Whether the body is a `{ ... }` block.
    package var isBlock: Bool { returnRange != nil || !body.isEmpty }
}

/// A compile-time parameter of a model: `n = 16`.
package struct ModelParam: Sendable {
    package let name: Identifier
    package let value: Expr
}

package struct ModelDecl: Sendable {
    package let name: Identifier
    package let params: [ModelParam]
    package let body: [Statement]
    package let range: SourceRange
}

/// `[d1, d2]` written after a colon.
package struct ShapeAnnotation: Sendable {
    package let dims: [Expr]
    package let range: SourceRange
}

/// What an input holds: a vector (`[n]`), with the values it promises to take when the
/// source declares them, or one token id (`0..<V`).
package enum InputType: Sendable {
    case vector(ShapeAnnotation, domain: InputDomain?)
    case ids(lower: Expr, upper: Expr)
}

/// The values a vector input promises to take (`input x: [2] in [0, 1]`), which the
/// precision analysis (`rnnc check --precision`) and the optimizer's folds rely on.
package enum InputDomain: Sendable {
    /// `in [lower, upper]`: every element in the closed interval; each bound a scalar or a
    /// vector of the input's size.
    case interval(lower: Expr, upper: Expr, range: SourceRange)
    /// `in {0, 1}`: every element one of these scalars.
    case set([Expr], range: SourceRange)
}

package struct ParamItem: Sendable {
    package let name: Identifier
    package let shape: ShapeAnnotation
    /// `from "layers.{i}.weight"`: the weights file's key (`{name}` takes a compile-time
    /// integer's value), when it is not the param's name.
    package let key: Identifier?
    package let initializer: Expr?
}

package struct Statement: Sendable {
    package enum Kind: Sendable {
        case input(Identifier, InputType)
        case output(Expr)
        case state(Identifier, ShapeAnnotation, Expr)
        case param([ParamItem])
        case update(Identifier, Expr)
        case binding(Identifier, Expr)
        /// `h, c = f(...)`: the values of a function that returns several, one name each.
        case destructure([Identifier], Expr)
        case `return`([Expr])
        /// `for i in a..<b { ... }`: the body once per value of `i`; a binding of a name bound
        /// before the block rebinds it (a loop-carried value).
        case loop(variable: Identifier, lower: Expr, upper: Expr, body: [Statement])
        /// `if c { ... } else { ... }`: the statements of the branch the compile-time
        /// condition picks, run as if written in place of the if (`else if` is an else branch
        /// holding one conditional). `thenClose` is the first block's `}`.
        case conditional(condition: Expr, then: [Statement], else: [Statement], thenClose: SourceRange)
    }
    package let kind: Kind
    package let range: SourceRange
}

package enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", matmul = "@", pow = "^"
}

package enum UnaryOp: String, Sendable {
    case neg = "-", plus = "+"
    /// `!c`: the negation of a compile-time condition.
    case not = "!"
}

/// A comparison of compile-time values, true (1) or false (0).
package enum ComparisonOp: String, Sendable, CaseIterable {
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

/// `&&` and `||` of compile-time conditions; the right operand is evaluated only when needed.
package enum LogicalOp: String, Sendable {
    case and = "&&", or = "||"
}

/// A call argument, positional or named (`seed: 1`).
package struct CallArgument: Sendable {
    package let label: Identifier?
    package let value: Expr
}

/// One position in `x[...]`: a single index or a range `a:b` with optional ends.
package enum Subscript: Sendable {
    case index(Expr)
    case range(Expr?, Expr?)
}

package final class Expr: Sendable {
    package enum Kind: Sendable {
        case number(Double)
        /// A compile-time string (`"direct"`): a model parameter's value, compared with `==`.
        case string(String)
        case name(String)
        case unary(UnaryOp, Expr)
        case binary(BinaryOp, Expr, Expr)
        case call(Identifier, [CallArgument])
        case index(Expr, [Subscript])
        case list([Expr])
        case comprehension(variable: Identifier, lower: Expr, upper: Expr, body: Expr)
        case compare(ComparisonOp, Expr, Expr)
        case logical(LogicalOp, Expr, Expr)
        /// `if c { a } else { b }`: `a` or `b`, picked at compile time.
        case conditional(Expr, then: Expr, else: Expr)
    }
    package let kind: Kind
    package let range: SourceRange
    /// Levels of the tree below and including this node (a name or number is 1). Every
    /// recursive walk over an expression is bounded by it; the parser caps it
    /// (`CompilerLimits.maxExpressionDepth`).
    package let depth: Int

    package init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
        depth = 1 + Self.children(of: kind).reduce(0) { max($0, $1.depth) }
    }

    /// The subexpressions, in source order.
    var children: [Expr] { Self.children(of: kind) }

    private static func children(of kind: Kind) -> [Expr] {
        switch kind {
        case .number, .string, .name: return []
        case .unary(_, let x): return [x]
        case .binary(_, let l, let r), .compare(_, let l, let r), .logical(_, let l, let r): return [l, r]
        case .conditional(let c, let a, let b): return [c, a, b]
        case .call(_, let args): return args.map(\.value)
        case .index(let x, let subs):
            return [x] + subs.flatMap { sub -> [Expr] in
                switch sub {
                case .index(let i): return [i]
                case .range(let lo, let hi): return [lo, hi].compactMap { $0 }
                }
            }
        case .list(let items): return items
        case .comprehension(_, let lower, let upper, let body): return [lower, upper, body]
        }
    }

    /// True for `[...]` literals and comprehensions (used to tell matrix rows from concatenation).
    var isBracketForm: Bool {
        switch kind {
        case .list, .comprehension: return true
        default: return false
        }
    }
}
