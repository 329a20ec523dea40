import Foundation
import RNNOps
import RNNRuntime

extension Elaborator {
    /// Applies `+ - * / @ ^` to two values. Constants fold at compile time; an operation on a
    /// runtime vector becomes affine (with constants) or add/mul (two runtime vectors).
    func binary(_ op: BinaryOp, _ a: Value, _ b: Value, range: SourceRange, lhsRange: SourceRange, rhsRange: SourceRange) -> Value {
        switch (a, b) {
        case (.error, _), (_, .error): return .error
        case (.constant(let x), .constant(let y)): return constantBinary(op, x, y, range: range)
        default: return runtimeBinary(op, a, b, range: range, lhsRange: lhsRange, rhsRange: rhsRange)
        }
    }

    // MARK: Compile time

    private func constantBinary(_ op: BinaryOp, _ x: Tensor, _ y: Tensor, range: SourceRange) -> Value {
        if op == .matmul { return constantMatmul(x, y, range: range) }
        let shape: [Int]
        if x.shape == y.shape || y.isScalar { shape = x.shape } else if x.isScalar { shape = y.shape } else {
            error(.shapeMismatch, "shape mismatch: \(x.shapeDescription) \(op.rawValue) \(y.shapeDescription)", at: range)
            return .error
        }
        let n = shape.reduce(1, *)
        guard spend(n, at: range) else { return .error }
        var out = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let (p, q) = (x.data[x.isScalar ? 0 : i], y.data[y.isScalar ? 0 : i])
            switch op {
            case .add: out[i] = p + q
            case .sub: out[i] = p - q
            case .mul: out[i] = p * q
            case .div:
                guard q != 0 else {
                    error(.invalidValue, "division by zero", at: range)
                    return .error
                }
                out[i] = p / q
            case .pow: out[i] = Foundation.pow(p, q)
            case .matmul: break
            }
            recordExact(out[i], [p, q]) { op.exact($0[0], $0[1]) }
        }
        return finite(Tensor(shape: shape, data: out), range: range)
    }

    /// Rejects NaN and infinite compile-time results with a located error.
    func finite(_ t: Tensor, range: SourceRange) -> Value {
        guard spend(t.data.count, at: range) else { return .error }
        guard t.data.allSatisfy(\.isFinite) else {
            error(.invalidValue, "the compile-time value is not finite (overflow, or a function outside its domain)", at: range)
            return .error
        }
        return .constant(t)
    }

    private func constantMatmul(_ x: Tensor, _ y: Tensor, range: SourceRange) -> Value {
        guard x.rank >= 1, y.rank >= 1, x.cols == (y.rank == 2 ? y.rows : y.data.count) else {
            error(.matmulMismatch, "cannot multiply \(x.shapeDescription) @ \(y.shapeDescription): inner dimensions differ", at: range)
            return .error
        }
        let (m, k) = (x.rank == 2 ? x.rows : 1, x.cols)
        let p = y.rank == 2 ? y.cols : 1
        let (size, o1) = m.multipliedReportingOverflow(by: p)
        let (flops, o2) = size.multipliedReportingOverflow(by: k)
        guard !o1, !o2, size <= limits.tensorElements else {
            limitError(.tensorElements, "compile-time product \(x.shapeDescription) @ \(y.shapeDescription) has more than \(limits.tensorElements) elements", at: range)
            return .error
        }
        guard spend(flops, at: range) else { return .error }
        var out = [Double](repeating: 0, count: m * p)
        for i in 0..<m {
            for l in 0..<k where x.data[i * k + l] != 0 {
                let a = x.data[i * k + l]
                for j in 0..<p { out[i * p + j] += a * y.data[l * p + j] }
            }
        }
        if exact != nil {
            for i in 0..<m {
                let terms = (0..<k).filter { x.data[i * k + $0] != 0 }
                for j in 0..<p {
                    recordExact(out[i * p + j], terms.flatMap { [x.data[i * k + $0], y.data[$0 * p + j]] }) { e in
                        stride(from: 0, to: e.count, by: 2).reduce(ExactExpr.rational(.zero)) { ExactExpr.sum($0, ExactExpr.product(e[$1], e[$1 + 1])) }
                    }
                }
            }
        }
        let shape: [Int]
        switch (x.rank, y.rank) {
        case (2, 2): shape = [m, p]
        case (2, 1): shape = [m]
        case (1, 2): shape = [p]
        default: shape = []
        }
        return finite(Tensor(shape: shape, data: out), range: range)
    }

    // MARK: Run time

    private func runtimeBinary(_ op: BinaryOp, _ a: Value, _ b: Value, range: SourceRange, lhsRange: SourceRange, rhsRange: SourceRange) -> Value {
        switch op {
        case .add: return addValues(a, b, range: range)
        case .sub:
            let negated: Value
            switch b {
            case .constant(let t): negated = .constant(t.map { -$0 })
            case .runtime(let id, let n): negated = .runtime(builder.scale(id, by: [-1], range: rhsRange), size: n)
            case .matrix(let id, let m, let n): negated = .matrix(builder.scale(id, by: [-1], range: rhsRange), rows: m, cols: n)
            case .string, .function, .error: return .error
            }
            return addValues(a, negated, range: range)
        case .mul: return multiply(a, b, range: range)
        case .div:
            guard case .constant(let t) = b else {
                guard let (y, shape) = b.runtimeShape else { return .error }
                let inverse = Value.runtime(builder.add(.unary(.reciprocal, y), size: builder.size(y), range: rhsRange), shape: shape)
                return multiply(a, inverse, range: range)
            }
            guard t.data.allSatisfy({ $0 != 0 }) else {
                error(.invalidValue, "division by zero", at: rhsRange)
                return .error
            }
            let inverse = t.map { 1 / $0 }
            recordExact(inverse.data, [t.data]) { ExactExpr.inverse($0[0]) }
            return multiply(a, .constant(inverse), range: range)
        case .matmul:
            guard case .constant(let w) = a, case .runtime(let x, let n) = b else { return runtimeMatmul(a, b, range: range) }
            guard w.cols == n, w.rank >= 1 else {
                error(.matmulMismatch, "cannot multiply \(w.shapeDescription) @ [\(n)]: inner dimensions differ", at: range)
                return .error
            }
            let rows = w.rank == 2 ? w.rows : 1
            let id = builder.affine(WeightMatrix(rows: rows, cols: n, dense: w.data, name: w.origin?.description), x, range: range, origin: ParamUse(weight: w.origin))
            return .runtime(id, size: rows)
        case .pow:
            error(.unsupportedRuntimeOp, "'^' is only defined on compile-time values; write x * x for a runtime square", at: range)
            return .error
        }
    }

    /// Width of the result of an element-wise operation: equal sizes, or one side of size 1.
    private func broadcastWidth(_ m: Int, _ n: Int) -> Int? {
        m == n || n == 1 ? m : (m == 1 ? n : nil)
    }

    private func widen(_ id: ValueID, to n: Int, range: SourceRange) -> ValueID {
        builder.size(id) == n ? id : builder.broadcast(id, to: n, range: range)
    }

    private func addValues(_ a: Value, _ b: Value, range: SourceRange) -> Value {
        if Value.makesRuntimeMatrix(a, b) {
            return matrixElementwise(a, b, symbol: "+", range: range,
                                     nodes: { self.builder.add(.add($0, $1), size: $2, range: range) },
                                     constant: { self.builder.addConstant($0, $1, range: range) })
        }
        switch (a, b) {
        case (.runtime(let x, let m), .runtime(let y, let n)):
            guard let w = broadcastWidth(m, n) else { return mismatch(a, "+", b, range) }
            return .runtime(builder.add(.add(widen(x, to: w, range: range), widen(y, to: w, range: range)), size: w, range: range), size: w)
        case (.runtime(let x, let m), .constant(let t)), (.constant(let t), .runtime(let x, let m)):
            guard t.rank <= 1, let w = broadcastWidth(m, t.data.count) else { return mismatch(a, "+", b, range) }
            let bias = t.data.count == w ? t.data : [Double](repeating: t.data[0], count: w)
            if m == w { return .runtime(builder.addConstant(x, bias, range: range, origin: t.data.count == w ? t.origin : nil), size: w) }
            return .runtime(builder.affine(.broadcastColumn(w), bias: bias, x, range: range), size: w)
        default: return .error
        }
    }

    private func multiply(_ a: Value, _ b: Value, range: SourceRange) -> Value {
        if Value.makesRuntimeMatrix(a, b) {
            return matrixElementwise(a, b, symbol: "*", range: range,
                                     nodes: { self.builder.add(.mul($0, $1), size: $2, range: range) },
                                     constant: { self.builder.scale($0, by: $1, range: range) })
        }
        switch (a, b) {
        case (.runtime(let x, let m), .runtime(let y, let n)):
            guard let w = broadcastWidth(m, n) else { return mismatch(a, "*", b, range) }
            return .runtime(builder.add(.mul(widen(x, to: w, range: range), widen(y, to: w, range: range)), size: w, range: range), size: w)
        case (.runtime(let x, let m), .constant(let t)), (.constant(let t), .runtime(let x, let m)):
            guard t.rank <= 1, let w = broadcastWidth(m, t.data.count) else { return mismatch(a, "*", b, range) }
            if m == w { return .runtime(builder.scale(x, by: t.data, range: range, origin: t.origin), size: w) }
            // A one-element runtime value times a constant vector: a single column.
            let column = WeightMatrix(rows: w, cols: 1, storage: .sparse(rowOffsets: Array(0...w), columns: Array(repeating: 0, count: w), values: t.data))
            return .runtime(builder.affine(column, x, range: range, origin: ParamUse(weight: t.origin)), size: w)
        default: return .error
        }
    }

    // MARK: Ops of the op table

    /// A unary op of the op table: folded by its reference definition on a constant.
    func elementwiseUnary(_ op: ElementwiseOp, _ a: Value, range: SourceRange) -> Value {
        switch a {
        case .constant(let t):
            let out = t.map { op.apply($0) }
            recordExact(out.data, [t.data] + op.attributeValues.map { [$0] }) { op.exactExpr($0) }
            return finite(out, range: range)
        case .runtime(let id, let n): return .runtime(builder.add(.elementwise(op, [id]), size: n, range: range), size: n)
        case .matrix(let id, let m, let n): return .matrix(builder.add(.elementwise(op, [id]), size: m * n, range: range), rows: m, cols: n)
        case .string, .function, .error: return .error
        }
    }

    /// A binary op of the op table (`max`, `min`): constants fold by its reference definition
    /// (a scalar broadcasts); otherwise both sides become runtime vectors of one width, a
    /// one-element side repeated.
    func elementwiseBinary(_ op: ElementwiseOp, _ a: Value, _ b: Value, range: SourceRange) -> Value {
        switch (a, b) {
        case (.error, _), (_, .error): return .error
        case (.constant(let x), .constant(let y)):
            let shape: [Int]
            if x.shape == y.shape || y.isScalar { shape = x.shape } else if x.isScalar { shape = y.shape } else {
                return mismatch(a, op.name, b, range)
            }
            let n = shape.reduce(1, *)
            guard spend(n, at: range) else { return .error }
            let out = (0..<n).map { i in op.apply(x.data[x.isScalar ? 0 : i], y.data[y.isScalar ? 0 : i]) }
            recordExact(out, [x.data, y.data] + op.attributeValues.map { [$0] }) { op.exactExpr($0) }
            return finite(Tensor(shape: shape, data: out), range: range)
        case _ where Value.makesRuntimeMatrix(a, b):
            return matrixElementwise(a, b, symbol: op.name, range: range,
                                     nodes: { self.builder.add(.elementwise(op, [$0, $1]), size: $2, range: range) })
        default:
            guard let (x, m) = runtimeOperand(a, range: range), let (y, n) = runtimeOperand(b, range: range),
                  let w = broadcastWidth(m, n) else { return mismatch(a, op.name, b, range) }
            return .runtime(builder.add(.elementwise(op, [widen(x, to: w, range: range), widen(y, to: w, range: range)]), size: w, range: range), size: w)
        }
    }

    /// A value as a runtime vector: a constant vector or scalar becomes a constant node.
    private func runtimeOperand(_ v: Value, range: SourceRange) -> (ValueID, Int)? {
        switch v {
        case .runtime(let id, let n): return (id, n)
        case .constant(let t) where t.rank <= 1: return (builder.constant(t.data, range: range, origin: t.origin), t.data.count)
        default: return nil
        }
    }

    private func mismatch(_ a: Value, _ op: String, _ b: Value, _ range: SourceRange) -> Value {
        error(.shapeMismatch, "shape mismatch: \(a.shapeDescription) \(op) \(b.shapeDescription)", at: range)
        return .error
    }
}
