import RNNRuntime

/// The outer-product form of a matrix state, which the scan program runs chunkwise
/// (`ScanPlan.Chunked`): `S <- d ⊙ S + outer(k, v)` with `d` a decay per key (or one for
/// the whole matrix, or none), read only by queries, `q @ S` (keys along rows) or `S @ q`
/// (keys along columns), of the state before or after the update.
///
/// The elaborator spells these with element-wise products of expanded vectors: `outer(k, v)`
/// is `repeat(k) * tile(v)`, `transpose(a) * S` is `repeat(a) * S`, `q @ S` is the column
/// sums of `repeat(q) * S`. The form is read off those selections (which may also pick a
/// part of a wider vector: a head's slice); `k`, `v`, `d` and `q` may each be products of
/// several vectors (`beta * outer(k, v)`, `dt * x`). Anything else
/// reading the state or its update, or a factor that is not a plain vector, leaves the
/// state to the other plans.
struct ChunkedForm {
    var transposed: Bool
    var keys: [Factor]
    var values: [Factor]
    var decay: [Factor]
    var constantDecay: [Double]?
    var readouts: [Readout]
    /// The cycle and the readouts' products and sums: nodes the stage computes (the sums)
    /// or makes unnecessary.
    var replaced: Set<Int>
    /// Expansions of state-free vectors, and products of them, that the form reads through:
    /// unnecessary once every node reading them is replaced.
    var wide: Set<Int>

    /// Values `start ..< start + n` of a node (the optimizer folds slices into the
    /// expansions), or value `start` spread over the whole axis.
    struct Factor {
        var node: Int
        var start: Int
        var broadcast: Bool
    }

    struct Readout {
        var query: [Factor]
        var output: Int
        var afterUpdate: Bool
    }

    /// How a selection spreads a vector over an `m x n` matrix, or which axis a sum removes.
    enum Axis: Equatable { case rows, columns, whole }

    /// The form of state `s`, or nil. `users[i]` are the nodes reading node `i`; `reads[i]`
    /// the states whose previous values node `i` depends on.
    static func recognize(state s: Int, _ ir: IRProgram, users: [[Int]], outputs: Set<Int>, reads: [Set<Int>]) -> ChunkedForm? {
        guard let shape = ir.states[s].matrixShape, shape.count == 2 else { return nil }
        var r = Recognizer(ir: ir, state: s, m: shape[0], n: shape[1], users: users, outputs: outputs, reads: reads)
        return r.form()
    }
}

private struct Recognizer {
    let ir: IRProgram
    let state: Int
    let m: Int
    let n: Int
    let users: [[Int]]
    let outputs: Set<Int>
    let reads: [Set<Int>]
    var wide = Set<Int>()
    typealias Axis = ChunkedForm.Axis
    /// A factor as found: a node, where its part starts, and the axis it spreads along.
    typealias Piece = (node: Int, start: Int, axis: Axis)

    mutating func form() -> ChunkedForm? {
        let next = ir.states[state].next.index
        let stateReads = Set(ir.nodes.indices.filter { if case .stateRead(let k) = ir.nodes[$0].op { return k == state } else { return false } })
        guard !stateReads.isEmpty, !outputs.contains(next), stateReads.isDisjoint(with: outputs),
              let (a, b) = ir.nodes[next].op.binary(.add) else { return nil }
        let (decayTerm, outerTerm) = reads[a.index].contains(state) ? (a.index, b.index) : (b.index, a.index)
        guard let outer = factors(outerTerm) else { return nil }
        var replaced: Set<Int> = [next]
        // The decay: the state itself, a product with state-free factors, or a constant diagonal map.
        var decay: [Piece] = []
        var constant: [Double]?
        // Down a chain of products with state-free factors (`f * (g * S)`), each read only by
        // the one above it, to the state or a constant diagonal map of it.
        var node = decayTerm, parent = next
        while !stateReads.contains(node) {
            guard users[node] == [parent], !outputs.contains(node) else { return nil }
            replaced.insert(node)
            if let (x, y) = ir.nodes[node].op.binary(.mul), reads[x.index].contains(state) != reads[y.index].contains(state) {
                let (inner, other) = reads[x.index].contains(state) ? (x.index, y.index) : (y.index, x.index)
                guard let f = factors(other), decay.count + f.count <= 16 else { return nil }
                decay += f
                (node, parent) = (inner, node)
            } else if case .affine(let w, nil, let x) = ir.nodes[node].op, stateReads.contains(x.index), constant == nil, let d = diagonal(w) {
                constant = d
                (node, parent) = (x.index, node)
            } else {
                return nil
            }
        }
        // Everything else reading the state or its update must be a readout.
        var readouts: [(query: [Piece], output: Int, afterUpdate: Bool, sums: Axis)] = []
        for source in stateReads.union([next]) {
            for product in users[source] where !replaced.contains(product) {
                guard let readout = readout(product, of: source), readout.afterUpdate == (source == next) else { return nil }
                readouts.append(readout)
                replaced.formUnion([product, readout.output])
            }
        }
        guard let sums = readouts.first?.sums, readouts.allSatisfy({ $0.sums == sums }) else { return nil }
        // `q @ S` sums over rows: keys run along rows. `S @ q` sums over columns.
        let transposed = sums == .columns
        let keyAxis: Axis = transposed ? .columns : .rows
        let valueAxis: Axis = transposed ? .rows : .columns
        func factor(_ p: Piece) -> ChunkedForm.Factor { ChunkedForm.Factor(node: p.node, start: p.start, broadcast: p.axis == .whole) }
        func onKeys(_ f: [Piece]) -> [ChunkedForm.Factor]? { f.allSatisfy { $0.axis != valueAxis } ? f.map(factor) : nil }
        guard let decayKeys = onKeys(decay), let queries = Optional(readouts.compactMap { onKeys($0.query) }), queries.count == readouts.count else { return nil }
        if let c = constant {
            guard let perKey = constantPerKey(c, keyAxis) else { return nil }
            constant = perKey
        }
        return ChunkedForm(transposed: transposed, keys: outer.filter { $0.axis != valueAxis }.map(factor),
                           values: outer.filter { $0.axis == valueAxis }.map(factor),
                           decay: decayKeys, constantDecay: constant,
                           readouts: zip(readouts, queries).map { ChunkedForm.Readout(query: $1, output: $0.output, afterUpdate: $0.afterUpdate) },
                           replaced: replaced, wide: wide)
    }

    /// `sum(repeat(q) * X)` over one axis, with `X` the state or its update: the query's
    /// factors, the sum's node and the axis it sums over.
    mutating func readout(_ product: Int, of source: Int) -> (query: [Piece], output: Int, afterUpdate: Bool, sums: Axis)? {
        guard let (x, y) = ir.nodes[product].op.binary(.mul), !outputs.contains(product), users[product].count == 1 else { return nil }
        let other = x.index == source ? y.index : x.index
        guard x.index == source || y.index == source, other != source, let query = factors(other) else { return nil }
        let sum = users[product][0]
        guard case .affine(let w, nil, _) = ir.nodes[sum].op, let axis = reduction(w) else { return nil }
        return (query, sum, source == ir.states[state].next.index, axis)
    }

    /// The factors of a state-free `m x n` value made of expanded vectors and their products.
    mutating func factors(_ node: Int, depth: Int = 0) -> [Piece]? {
        guard depth < 16, !reads[node].contains(state), ir.nodes[node].size == m * n else { return nil }
        switch ir.nodes[node].op {
        case .affine(let w, nil, let x):
            guard let (axis, start) = expansion(w), isPlainVector(x.index) else { return nil }
            wide.insert(node)
            return [(x.index, start, axis)]
        case .elementwise(let op, let xs) where op.kind == .mul && xs.count == 2:
            guard let a = factors(xs[0].index, depth: depth + 1), let b = factors(xs[1].index, depth: depth + 1), a.count + b.count <= 16 else { return nil }
            wide.insert(node)
            return a + b
        default:
            return nil
        }
    }

    /// Whether a node's slot holds its value for every row before the stage: not a state
    /// (whose rows a recurrence may not write) and not an affine map fused with its
    /// activation (whose slot holds the activation).
    func isPlainVector(_ node: Int) -> Bool {
        switch ir.nodes[node].op {
        case .stateRead: return false
        case .affine: return !(users[node].count == 1 && { if case .elementwise(let op, let xs) = ir.nodes[users[node][0]].op { return op.arity == 1 && xs.count == 1 } else { return false } }())
        default: return true
        }
    }

    /// The axis a selection spreads a vector (or the part of one from `start`) along:
    /// `repeat` (each element over a row), `tile` (the vector on every row) or a broadcast of
    /// one element.
    func expansion(_ w: WeightMatrix) -> (Axis, start: Int)? {
        guard w.rows == m * n, w.rows > 0, let first = w.entries(ofRow: 0).first else { return nil }
        let start = first.0
        let candidates: [(Axis, Int, (Int) -> Int)] = [(.whole, 1, { _ in 0 }), (.rows, m, { $0 / n }), (.columns, n, { $0 % n })]
        return candidates.first { axis, count, index in
            start + count <= w.cols && (0..<w.rows).allSatisfy { r in w.entries(ofRow: r).elementsEqual([(start + index(r), 1.0)], by: { $0 == $1 }) }
        }.map { ($0.0, start) }
    }

    /// The axis a sum removes: column sums of `S` (`q @ S`) remove the rows.
    func reduction(_ w: WeightMatrix) -> Axis? {
        guard w.cols == m * n else { return nil }
        if w.rows == n, (0..<n).allSatisfy({ j in w.entries(ofRow: j).elementsEqual((0..<m).map { ($0 * n + j, 1.0) }, by: { $0 == $1 }) }) { return .rows }
        if w.rows == m, (0..<m).allSatisfy({ i in w.entries(ofRow: i).elementsEqual((0..<n).map { (i * n + $0, 1.0) }, by: { $0 == $1 }) }) { return .columns }
        return nil
    }

    /// The entries of a diagonal `mn x mn` map, or nil.
    func diagonal(_ w: WeightMatrix) -> [Double]? {
        guard w.rows == m * n, w.cols == m * n, w.storedCount <= w.rows else { return nil }
        var d: [Double] = []
        for r in 0..<w.rows {
            let e = w.entries(ofRow: r)
            guard e.count == 1, e[0].0 == r else { return nil }
            d.append(e[0].1)
        }
        return d
    }

    /// A constant decay of every element as one per key, when it is constant along the values.
    func constantPerKey(_ d: [Double], _ keyAxis: Axis) -> [Double]? {
        let perKey = keyAxis == .rows ? (0..<m).map { d[$0 * n] } : (0..<n).map { d[$0] }
        for i in 0..<m { for j in 0..<n where d[i * n + j] != perKey[keyAxis == .rows ? i : j] { return nil } }
        return perKey
    }
}

extension WeightMatrix {
    /// Row `r`'s non-zero entries as (column, value), in column order.
    func entries(ofRow r: Int) -> [(Int, Double)] {
        switch storage {
        case .dense(let v): return (0..<cols).compactMap { v[r * cols + $0] != 0 ? ($0, v[r * cols + $0]) : nil }
        case .sparse(let offsets, let columns, let values): return (offsets[r]..<offsets[r + 1]).compactMap { values[$0] != 0 ? (columns[$0], values[$0]) : nil }
        }
    }
}
