import RNNOps

/// One instruction of a step program. Operands are slot numbers. Four structural kinds; what
/// an element-wise op computes is its entry in the op table (`RNNOps`).
package enum Instruction: Sendable, Equatable {
    /// `dst = epilogue(matrices[matrix] * src (+ vectors[bias]))`; the epilogue, when there
    /// is one, is a unary element-wise op applied while the product's rows are in cache.
    case affine(dst: Int, src: Int, matrix: Int, bias: Int?, epilogue: ElementwiseOp?)
    /// `dst = op(lhs, rhs)` element-wise; `rhs` is nil for a unary op.
    case elementwise(ElementwiseOp, dst: Int, lhs: Int, rhs: Int?)
    case concat(dst: Int, parts: [Int])
    /// `dst = src[start ..< start + size(dst)]`
    case slice(dst: Int, src: Int, start: Int)
    /// `dst = row `id` of matrices[matrix]`, where `id` is the one value of `src`, a token
    /// input's slot (an embedding lookup).
    case gather(dst: Int, src: Int, matrix: Int)

    /// The slot this instruction writes.
    package var destination: Int {
        switch self {
        case .affine(let d, _, _, _, _), .elementwise(_, let d, _, _), .concat(let d, _), .slice(let d, _, _), .gather(let d, _, _): return d
        }
    }

    /// The slots this instruction reads.
    package var operands: [Int] {
        switch self {
        case .affine(_, let s, _, _, _), .slice(_, let s, _), .gather(_, let s, _): return [s]
        case .elementwise(_, _, let l, let r): return r.map { [l, $0] } ?? [l]
        case .concat(_, let parts): return parts
        }
    }
}

extension Instruction: CustomStringConvertible {
    /// `$2 = sigmoid(M0 $0 + v0)`: slots as `$n`, matrices as `Mn`, vectors as `vn`.
    package var description: String {
        func affine(_ src: Int, _ m: Int, _ bias: Int?) -> String { "M\(m) $\(src)" + (bias.map { " + v\($0)" } ?? "") }
        switch self {
        case .affine(let d, let s, let m, let b, nil): return "$\(d) = \(affine(s, m, b))"
        case .affine(let d, let s, let m, let b, let f?): return "$\(d) = " + f.call([affine(s, m, b)])
        case .elementwise(let op, let d, let l, let r?) where op.kind == .add: return "$\(d) = $\(l) + $\(r)"
        case .elementwise(let op, let d, let l, let r?) where op.kind == .mul: return "$\(d) = $\(l) * $\(r)"
        case .elementwise(let op, let d, let l, let r): return "$\(d) = " + op.call(([l] + (r.map { [$0] } ?? [])).map { "$\($0)" })
        case .concat(let d, let parts): return "$\(d) = concat(" + parts.map { "$\($0)" }.joined(separator: ", ") + ")"
        case .slice(let d, let s, let start): return "$\(d) = $\(s)[\(start)...]"
        case .gather(let d, let s, let m): return "$\(d) = M\(m)[$\(s)]"
        }
    }
}
