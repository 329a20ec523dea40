import RNNOps
import RNNRuntime

// Runtime matrices: values of shape [m, n] known only at run time (a matrix state, an outer
// product of two runtime vectors). The IR holds one as a vector of m * n elements, row by
// row, and every operation on it is an IR op that already exists: an element-wise op, or a
// sparse affine map that picks, sums or repeats elements. So the interpreter, the optimizer,
// recurrence analysis, both lowerings and every exporter handle matrix states unchanged, and
// `S_t = g * S_{t-1} + outer(k, v)` is the diagonal time-varying recurrence it is.

extension Value {
    /// A runtime value of `shape`: `[n]` a vector, `[m, n]` a matrix.
    static func runtime(_ id: ValueID, shape: [Int]) -> Value {
        shape.count == 2 ? .matrix(id, rows: shape[0], cols: shape[1]) : .runtime(id, size: shape[0])
    }

    /// The node and shape of a runtime vector or matrix.
    var runtimeShape: (id: ValueID, shape: [Int])? {
        switch self {
        case .runtime(let id, let n): return (id, [n])
        case .matrix(let id, let m, let n): return (id, [m, n])
        case .constant, .string, .function, .error: return nil
        }
    }

    var isRuntimeMatrix: Bool {
        if case .matrix = self { return true }
        return false
    }

    /// Whether an element-wise operation of `a` and `b` has a matrix result that depends on
    /// runtime values: a runtime matrix, or a compile-time matrix with a runtime vector.
    static func makesRuntimeMatrix(_ a: Value, _ b: Value) -> Bool {
        if a.isRuntimeMatrix || b.isRuntimeMatrix { return true }
        switch (a, b) {
        case (.constant(let t), .runtime), (.runtime, .constant(let t)): return t.rank == 2
        default: return false
        }
    }
}

/// NumPy's broadcasting of shapes of rank at most 2 (a vector is a row, a scalar `[]`):
/// axes are matched from the right and must be equal or 1. Nil when they do not broadcast.
func broadcastShapes(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: rank - a.count) + a
    let pb = [Int](repeating: 1, count: rank - b.count) + b
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
        if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else { return nil }
    }
    return out
}

/// For each element of a `result`-shaped value, the element of a `shape`-shaped one that
/// broadcasting reads (both row-major).
func broadcastSources(from shape: [Int], to result: [Int]) -> [Int] {
    let (rows, cols) = result.count == 2 ? (result[0], result[1]) : (1, result.first ?? 1)
    let padded = [Int](repeating: 1, count: max(0, 2 - shape.count)) + shape
    let (sr, sc) = (padded[0], padded[1])
    var sources: [Int] = []
    sources.reserveCapacity(rows * cols)
    for i in 0..<rows {
        for j in 0..<cols { sources.append((sr == 1 ? 0 : i) * sc + (sc == 1 ? 0 : j)) }
    }
    return sources
}

extension Elaborator {
    // MARK: Element-wise operations

    /// `a op b` where the result is a runtime matrix: both sides broadcast to one shape
    /// (NumPy's rules: `S * g` scales S's columns by a vector g, `transpose(g) * S` its rows,
    /// `transpose(k) * v` is the outer product). `nodes` combines two runtime operands;
    /// `constant`, when given, applies a compile-time side directly (a bias, a scaling).
    func matrixElementwise(_ a: Value, _ b: Value, symbol: String, range: SourceRange,
                           nodes: (ValueID, ValueID, Int) -> ValueID,
                           constant: ((ValueID, [Double]) -> ValueID)? = nil) -> Value {
        guard let sa = a.shape, let sb = b.shape, let shape = broadcastShapes(sa, sb) else {
            error(.shapeMismatch, "shape mismatch: \(a.shapeDescription) \(symbol) \(b.shapeDescription)", at: range)
            return .error
        }
        guard let total = checkedWidth(shape, range: range) else { return .error }
        switch (a, b) {
        case (.constant(let t), _) where constant != nil:
            let x = expand(b, to: shape, range: range)!
            return .runtime(constant!(x, broadcastSources(from: t.shape, to: shape).map { t.data[$0] }), shape: shape)
        case (_, .constant(let t)) where constant != nil:
            let x = expand(a, to: shape, range: range)!
            return .runtime(constant!(x, broadcastSources(from: t.shape, to: shape).map { t.data[$0] }), shape: shape)
        default:
            guard let x = expand(a, to: shape, range: range), let y = expand(b, to: shape, range: range) else { return .error }
            return .runtime(nodes(x, y, total), shape: shape)
        }
    }

    /// The element count of a runtime value of `shape`, or nil after reporting it too wide.
    private func checkedWidth(_ shape: [Int], range: SourceRange) -> Int? {
        let (total, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        guard !overflow, total <= limits.vectorWidth else {
            limitError(.vectorWidth, "a runtime value of shape \(Tensor.describe(shape)) exceeds the limit of \(limits.vectorWidth) elements", at: range)
            return nil
        }
        guard spend(total, at: range) else { return nil }
        return total
    }

    /// `value` (runtime, or a constant made a constant node) broadcast to `shape`.
    private func expand(_ value: Value, to shape: [Int], range: SourceRange) -> ValueID? {
        switch value {
        case .constant(let t):
            return builder.constant(broadcastSources(from: t.shape, to: shape).map { t.data[$0] }, range: range)
        default:
            guard let (id, own) = value.runtimeShape else { return nil }
            if own == shape { return id }
            let count = own.reduce(1, *)
            if count == 1 { return builder.broadcast(id, to: shape.reduce(1, *), range: range) }
            return select(id, count: count, broadcastSources(from: own, to: shape), range: range)
        }
    }

    /// The elements `indices` of a runtime value of `count` elements: a slice when they are
    /// consecutive, else a sparse affine map with a single 1 per row.
    func select(_ id: ValueID, count: Int, _ indices: [Int], range: SourceRange) -> ValueID {
        if let first = indices.first, indices.last! - first == indices.count - 1,
           indices.indices.allSatisfy({ indices[$0] == first + $0 }) {
            if first == 0 && indices.count == count { return id }
            return builder.add(.slice(id, start: first), size: indices.count, range: range)
        }
        let w = WeightMatrix(rows: indices.count, cols: count, storage: .sparse(
            rowOffsets: Array(0...indices.count), columns: indices, values: [Double](repeating: 1, count: indices.count)))
        return builder.affine(w, id, range: range)
    }

    /// A sparse affine map of `rows` rows over `cols` inputs whose row `r` holds the entries
    /// `entries(r)` (column, value).
    private func sparseMap(_ id: ValueID, rows: Int, cols: Int, range: SourceRange, bias: [Double]? = nil,
                           entries: (Int) -> [(Int, Double)]) -> ValueID {
        var offsets = [0], columns: [Int] = [], values: [Double] = []
        for r in 0..<rows {
            for (c, v) in entries(r) where v != 0 {
                columns.append(c)
                values.append(v)
            }
            offsets.append(columns.count)
        }
        let w = WeightMatrix(rows: rows, cols: cols, storage: .sparse(rowOffsets: offsets, columns: columns, values: values))
        return builder.affine(w, bias: bias, id, range: range)
    }

    // MARK: Products

    /// `a @ b` when either side is a runtime matrix, or a runtime vector stands on the left:
    /// matrix-vector and vector-matrix products (`S @ q`, `k @ S`), products with a
    /// compile-time matrix on either side, and the dot product of two runtime vectors.
    func runtimeMatmul(_ a: Value, _ b: Value, range: SourceRange) -> Value {
        guard let sa = a.shape, let sb = b.shape, !sa.isEmpty, !sb.isEmpty else {
            error(.unsupportedRuntimeOp, "'@' needs vectors or matrices on both sides, found \(a.shapeDescription) @ \(b.shapeDescription)", at: range)
            return .error
        }
        let inner = sa.last!, other = sb[0]
        guard inner == other else {
            error(.matmulMismatch, "cannot multiply \(a.shapeDescription) @ \(b.shapeDescription): inner dimensions differ", at: range)
            return .error
        }
        let m = sa.count == 2 ? sa[0] : 1, p = sb.count == 2 ? sb[1] : 1
        let shape: [Int] = switch (sa.count, sb.count) {
        case (2, 2): [m, p]
        case (2, 1): [m]
        case (1, 2): [p]
        default: [1]
        }
        guard checkedWidth(shape, range: range) != nil else { return .error }
        switch (a, b) {
        case (.constant(let w), _):
            // W [m, k] @ S [k, p]: out[i, j] = sum_l W[i, l] S[l, j].
            let (s, _) = b.runtimeShape!
            guard spend([m, inner, p].saturatingProduct, at: range) else { return .error }
            return .runtime(sparseMap(s, rows: m * p, cols: inner * p, range: range) { r in
                let (i, j) = (r / p, r % p)
                return (0..<inner).map { l in (l * p + j, w.data[i * inner + l]) }
            }, shape: shape)
        case (_, .constant(let w)):
            // x [m, k] @ W [k, p]: out[i, j] = sum_l x[i, l] W[l, j].
            let (x, _) = a.runtimeShape!
            guard spend([m, inner, p].saturatingProduct, at: range) else { return .error }
            return .runtime(sparseMap(x, rows: m * p, cols: m * inner, range: range) { r in
                let (i, j) = (r / p, r % p)
                return (0..<inner).map { l in (i * inner + l, w.data[l * p + j]) }
            }, shape: shape)
        default:
            guard sa.count == 1 || sb.count == 1 else {
                error(.unsupportedRuntimeOp, "'@' of two runtime matrices is not supported; multiply a runtime matrix by a vector (S @ q, k @ S) or by a compile-time matrix", at: range)
                return .error
            }
            // An element-wise product, then sums: S @ q sums the rows of S * q, k @ S the
            // columns of transpose(k) * S, a @ b all of a * b.
            let (x, _) = a.runtimeShape!, (y, _) = b.runtimeShape!
            switch (sa.count, sb.count) {
            case (2, 1):
                let rowVector = select(y, count: inner, broadcastSources(from: [inner], to: sa), range: range)
                let product = builder.add(.mul(x, rowVector), size: m * inner, range: range)
                return .runtime(sparseMap(product, rows: m, cols: m * inner, range: range) { i in (0..<inner).map { (i * inner + $0, 1) } }, shape: shape)
            case (1, 2):
                let columnVector = select(x, count: inner, broadcastSources(from: [inner, 1], to: sb), range: range)
                let product = builder.add(.mul(columnVector, y), size: inner * p, range: range)
                return .runtime(sparseMap(product, rows: p, cols: inner * p, range: range) { j in (0..<inner).map { ($0 * p + j, 1) } }, shape: shape)
            default:
                let product = builder.add(.mul(x, y), size: inner, range: range)
                return .runtime(sparseMap(product, rows: 1, cols: inner, range: range) { _ in (0..<inner).map { ($0, 1) } }, shape: shape)
            }
        }
    }

    // MARK: Builtins on runtime matrices

    /// `outer(a, b)`: the `[m, n]` matrix of products `a[i] * b[j]`.
    func outer(_ a: Value, _ b: Value, range: SourceRange, ranges: (SourceRange, SourceRange)) -> Value {
        guard let sa = a.shape, sa.count <= 1 else {
            error(.shapeMismatch, "'outer' takes two vectors, found \(a.shapeDescription)", at: ranges.0)
            return .error
        }
        guard let sb = b.shape, sb.count <= 1 else {
            error(.shapeMismatch, "'outer' takes two vectors, found \(b.shapeDescription)", at: ranges.1)
            return .error
        }
        let column = transpose(a, range: ranges.0)
        return binary(.mul, column, b, range: range, lhsRange: ranges.0, rhsRange: ranges.1)
    }

    /// `transpose(x)` of a runtime value: a vector becomes a column `[n, 1]`; a matrix's
    /// elements are permuted.
    func transpose(_ value: Value, range: SourceRange) -> Value {
        switch value {
        case .runtime(let id, let n): return .matrix(id, rows: n, cols: 1)
        case .matrix(let id, let m, let n):
            if m == 1 || n == 1 { return .matrix(id, rows: n, cols: m) }
            let indices = (0..<(m * n)).map { r in (r % m) * n + r / m }
            return .matrix(select(id, count: m * n, indices, range: range), rows: n, cols: m)
        case .constant(let t):
            if t.rank < 2 { return .constant(.matrix(rows: t.data.count, cols: 1, t.data)) }
            var data = [Double](repeating: 0, count: t.data.count)
            for i in 0..<t.rows { for j in 0..<t.cols { data[j * t.rows + i] = t.data[i * t.cols + j] } }
            return .constant(.matrix(rows: t.cols, cols: t.rows, data))
        case .string, .function, .error: return .error
        }
    }

    /// `M[...]` of a runtime matrix: rows, columns, blocks and elements as for a compile-time
    /// matrix (`S[i]` a row, `S[:, j]` a column, `S[a:b, c:d]` a block, `S[i, j]` one element).
    func indexMatrix(_ id: ValueID, rows: Int, cols: Int, _ selections: [(start: Int, count: Int, isRange: Bool)], range: SourceRange) -> Value {
        let r = selections[0]
        let c = selections.count > 1 ? selections[1] : (start: 0, count: cols, isRange: true)
        guard r.count > 0, c.count > 0 else {
            error(.indexOutOfRange, "empty slice of a runtime matrix", at: range)
            return .error
        }
        var indices: [Int] = []
        for i in r.start..<(r.start + r.count) { for j in c.start..<(c.start + c.count) { indices.append(i * cols + j) } }
        let picked = select(id, count: rows * cols, indices, range: range)
        switch (r.isRange, c.isRange) {
        case (true, true): return .matrix(picked, rows: r.count, cols: c.count)
        default: return .runtime(picked, size: indices.count)
        }
    }
}
