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
    var delta: Delta?
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
        var scale: Double
    }

    /// The delta rule's correction (`ScanPlan.Chunked.Delta`).
    struct Delta {
        var gain: [Factor]
        var scale: Double
        var offset: Double
    }

    struct Readout {
        var query: [Factor]
        var output: Int
        var afterUpdate: Bool
    }

    /// How a selection spreads a vector over an `m x n` matrix, or which axis a sum removes.
    enum Axis: Equatable { case rows, columns, whole }

    /// The form of state `s`, or nil. `users[i]` are the nodes reading node `i`; `reads[i]`
    /// the states whose previous values node `i` depends on; `stateReads` the nodes reading
    /// `s`; `nexts[i]` the states whose next value node `i` is. (All computed once for every
    /// state: a program of thousands of heads must not scan its nodes once per head.)
    static func recognize(state s: Int, _ ir: IRProgram, users: [[Int]], outputs: Set<Int>, reads: [Set<Int>], stateReads: Set<Int>,
                          nexts: [Int: [Int]]) -> ChunkedForm? {
        guard let shape = ir.states[s].matrixShape, shape.count == 2 else { return nil }
        var r = Recognizer(ir: ir, state: s, m: shape[0], n: shape[1], users: users, outputs: outputs, reads: reads, stateReads: stateReads, nexts: nexts)
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
    let stateReads: Set<Int>
    let nexts: [Int: [Int]]
    var wide = Set<Int>()
    typealias Axis = ChunkedForm.Axis
    /// A factor as found: a node, where its part starts, and the axis it spreads along.
    typealias Piece = (node: Int, start: Int, axis: Axis, scale: Double)

    mutating func form() -> ChunkedForm? {
        let next = ir.states[state].next.index
        guard !stateReads.isEmpty, !outputs.contains(next), stateReads.isDisjoint(with: outputs),
              let (a, b) = ir.nodes[next].op.binary(.add) else { return nil }
        for (decayTerm, outerTerm) in [(a.index, b.index), (b.index, a.index)] {
            var attempt = self
            if let form = attempt.form(next: next, decayTerm: decayTerm, outerTerm: outerTerm, stateReads: stateReads) {
                self = attempt
                return form
            }
        }
        return nil
    }

    /// The form with `next = decayTerm + outerTerm`: the outer product of state-free factors,
    /// or the delta rule's `outer(k, u)` with `u` linear in `k @ decayTerm`.
    mutating func form(next: Int, decayTerm: Int, outerTerm: Int, stateReads: Set<Int>) -> ChunkedForm? {
        var replaced: Set<Int> = [next]
        let outer: [Piece]
        var delta: DeltaUpdate?
        if let f = factors(outerTerm) {
            outer = f
        } else if let d = deltaUpdate(outerTerm, next: next, decayTerm: decayTerm) {
            (outer, delta) = (d.keys + d.offset, d)
            replaced.formUnion(d.nodes)
        } else {
            return nil
        }
        // The decay: the state itself, a product with state-free factors, or a constant diagonal map.
        var decay: [Piece] = []
        var constant: [Double]?
        // Down a chain of products with state-free factors (`f * (g * S)`), each read only by
        // the one above it, to the state or a constant diagonal map of it.
        var node = decayTerm, parent = next
        while !stateReads.contains(node) {
            // The delta rule's correction reads the decayed state too.
            let allowed = node == decayTerm ? [parent] + (delta.map { [$0.innerProduct] } ?? []) : [parent]
            guard Set(users[node]) == Set(allowed), users[node].count == allowed.count, !outputs.contains(node) else { return nil }
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
        guard let sums = readouts.first?.sums, readouts.allSatisfy({ $0.sums == sums }), delta.map({ $0.sums == sums }) ?? true else { return nil }
        // `q @ S` sums over rows: keys run along rows. `S @ q` sums over columns.
        let transposed = sums == .columns
        let keyAxis: Axis = transposed ? .columns : .rows
        let valueAxis: Axis = transposed ? .rows : .columns
        func factor(_ p: Piece) -> ChunkedForm.Factor { ChunkedForm.Factor(node: p.node, start: p.start, broadcast: p.axis == .whole, scale: p.scale) }
        func onKeys(_ f: [Piece]) -> [ChunkedForm.Factor]? { f.allSatisfy { $0.axis != valueAxis } ? f.map(factor) : nil }
        guard let decayKeys = onKeys(decay), let queries = Optional(readouts.compactMap { onKeys($0.query) }), queries.count == readouts.count else { return nil }
        if let c = constant {
            guard let perKey = constantPerKey(c, keyAxis) else { return nil }
            constant = perKey
        }
        // No other state may take a value the stage never computes as its next value.
        guard replaced.allSatisfy({ (nexts[$0] ?? []).allSatisfy { $0 == state } }) else { return nil }
        var form = ChunkedForm(transposed: transposed, keys: outer.filter { $0.axis != valueAxis }.map(factor),
                               values: outer.filter { $0.axis == valueAxis }.map(factor),
                               decay: decayKeys, constantDecay: constant,
                               readouts: zip(readouts, queries).map { ChunkedForm.Readout(query: $1, output: $0.output, afterUpdate: $0.afterUpdate) },
                               replaced: replaced, wide: wide)
        if let delta {
            // One decay for the whole matrix; the keys are `delta.keys`, the offset's factors the values.
            guard decay.allSatisfy({ $0.axis == .whole }), Set(constant ?? []).count <= 1 else { return nil }
            form.keys = delta.keys.map(factor)
            form.values = delta.offset.map(factor)
            form.delta = ChunkedForm.Delta(gain: delta.gain.map(factor), scale: delta.scale, offset: delta.offsetScale)
        }
        return form
    }

    /// The delta rule's `outer(k, u)`: `u = a * (k @ D) + b` along the values, `D` the decayed
    /// state (`decayTerm`), `a` one element (times a constant), `b` a product of vectors.
    struct DeltaUpdate {
        var keys: [Piece]
        var gain: [Piece]
        var scale: Double
        var offset: [Piece]
        var offsetScale: Double
        var innerProduct: Int
        /// The axis the correction's `k @ D` sums over.
        var sums: Axis
        var nodes: Set<Int>
    }

    mutating func deltaUpdate(_ outerTerm: Int, next: Int, decayTerm: Int) -> DeltaUpdate? {
        guard users[outerTerm] == [next], !outputs.contains(outerTerm), let (x, y) = ir.nodes[outerTerm].op.binary(.mul) else { return nil }
        for (keySide, uSide) in [(x.index, y.index), (y.index, x.index)] {
            guard !reads[keySide].contains(state), reads[uSide].contains(state), var attempt = Optional(self),
                  let keys = attempt.factors(keySide), let keyAxis = Set(keys.map(\.axis)).subtracting([.whole]).first,
                  keys.allSatisfy({ $0.axis == keyAxis || $0.axis == .whole }),
                  case .affine(let w, nil, let u) = ir.nodes[uSide].op, users[uSide] == [outerTerm],
                  let (axis, start, expansionScale) = expansion(w), axis != keyAxis, axis != .whole, start == 0
            else { continue }
            let width = keyAxis == .rows ? n : m
            guard ir.nodes[u.index].size == width, var lin = attempt.linear(u.index, parent: uSide, decayTerm: decayTerm, keys: keys, width: width) else { continue }
            guard let inner = lin.inner, lin.offset != nil else { continue }
            lin.nodes.formUnion([outerTerm, uSide])
            (lin.scale, lin.offsetScale) = (lin.scale * expansionScale, lin.offsetScale * expansionScale)  // u's expansion may carry a constant
            self = attempt
            return DeltaUpdate(keys: keys, gain: lin.gain, scale: lin.scale, offset: lin.offset!, offsetScale: lin.offsetScale,
                               innerProduct: inner.product, sums: inner.sums, nodes: lin.nodes)
        }
        return nil
    }

    /// `a * r + b` over the values, `r = k @ D`: `a = scale * gain` (one-element factors),
    /// `b = offsetScale * offset` (nil: none yet).
    struct Linear {
        var scale = 1.0
        var gain: [Piece] = []
        var offsetScale = 1.0
        var offset: [Piece]?
        var inner: (product: Int, sums: Axis)?
        var nodes = Set<Int>()
    }

    /// `node` as `Linear`, each of its nodes read only by the one above (`parent`).
    mutating func linear(_ node: Int, parent: Int, decayTerm: Int, keys: [Piece], width: Int) -> Linear? {
        guard users[node] == [parent], !outputs.contains(node) else { return nil }
        let op = ir.nodes[node].op
        if case .affine(let w, nil, let x) = op, let (product, sums, scale) = innerReadout(w, x.index, node, decayTerm: decayTerm, keys: keys) {
            return Linear(scale: scale, inner: (product, sums), nodes: [node, product])
        }
        if case .affine(let w, nil, let x) = op, w.rows == width, w.cols == width, let d = diagonal(w, size: width), Set(d).count == 1 {
            guard var lin = linear(x.index, parent: node, decayTerm: decayTerm, keys: keys, width: width) else { return nil }
            lin.scale *= d[0]
            if lin.offset != nil { lin.offsetScale *= d[0] }
            lin.nodes.insert(node)
            return lin
        }
        guard let (a, b) = op.binary(.mul) ?? op.binary(.add) else { return nil }
        let isProduct = op.binary(.mul) != nil
        guard reads[a.index].contains(state) != reads[b.index].contains(state) else { return nil }
        let (inner, other) = reads[a.index].contains(state) ? (a.index, b.index) : (b.index, a.index)
        guard var lin = linear(inner, parent: node, decayTerm: decayTerm, keys: keys, width: width),
              let f = narrowFactors(other, width: width, valueAxis: keys.contains { $0.axis == .rows } ? .columns : .rows)
        else { return nil }
        lin.nodes.insert(node)
        if isProduct {
            guard f.allSatisfy({ $0.axis == .whole }) else { return nil }
            lin.gain += f
            lin.offset? += f
        } else {
            guard lin.offset == nil else { return nil }
            (lin.offset, lin.offsetScale) = (f, 1)
        }
        return lin
    }

    /// `w @ (repeat(k) * D)` summing over the keys: the correction's `k @ D`.
    func innerReadout(_ w: WeightMatrix, _ product: Int, _ sum: Int, decayTerm: Int, keys: [Piece]) -> (Int, Axis, Double)? {
        guard let (sums, scale) = scaledReduction(w), users[product] == [sum], let (x, y) = ir.nodes[product].op.binary(.mul),
              x.index == decayTerm || y.index == decayTerm
        else { return nil }
        var copy = self
        guard let k = copy.factors(x.index == decayTerm ? y.index : x.index),
              k.map({ "\($0.node):\($0.start):\($0.axis):\($0.scale)" }).sorted() == keys.map({ "\($0.node):\($0.start):\($0.axis):\($0.scale)" }).sorted(),
              keys.contains(where: { $0.axis == sums })
        else { return nil }
        return (product, sums, scale)
    }

    /// The factors of a state-free vector of `width` values: itself, a broadcast of one
    /// element of a vector, or products of those.
    func narrowFactors(_ node: Int, width: Int, valueAxis: Axis, depth: Int = 0) -> [Piece]? {
        guard depth < 16, !reads[node].contains(state), ir.nodes[node].size == width else { return nil }
        if case .affine(let w, nil, let x) = ir.nodes[node].op, w.cols >= 1, let first = w.entries(ofRow: 0).first,
           (0..<w.rows).allSatisfy({ w.entries(ofRow: $0).elementsEqual([first], by: { $0 == $1 }) }), isPlainVector(x.index) {
            return [(x.index, first.0, .whole, first.1)]
        }
        if let (a, b) = ir.nodes[node].op.binary(.mul), let fa = narrowFactors(a.index, width: width, valueAxis: valueAxis, depth: depth + 1),
           let fb = narrowFactors(b.index, width: width, valueAxis: valueAxis, depth: depth + 1) {
            return fa + fb
        }
        return isPlainVector(node) ? [(node, 0, valueAxis, 1)] : nil
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
            guard let (axis, start, scale) = expansion(w), isPlainVector(x.index) else { return nil }
            wide.insert(node)
            return [(x.index, start, axis, scale)]
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
    /// one element; every entry the same `scale` (a constant the optimizer folded in).
    func expansion(_ w: WeightMatrix) -> (Axis, start: Int, scale: Double)? {
        guard w.rows == m * n, w.rows > 0, let (start, scale) = w.entries(ofRow: 0).first else { return nil }
        let candidates: [(Axis, Int, (Int) -> Int)] = [(.whole, 1, { _ in 0 }), (.rows, m, { $0 / n }), (.columns, n, { $0 % n })]
        return candidates.first { axis, count, index in
            start + count <= w.cols && (0..<w.rows).allSatisfy { r in w.entries(ofRow: r).elementsEqual([(start + index(r), scale)], by: { $0 == $1 }) }
        }.map { ($0.0, start, scale) }
    }

    /// The axis a sum removes: column sums of `S` (`q @ S`) remove the rows.
    func reduction(_ w: WeightMatrix) -> Axis? {
        scaledReduction(w).flatMap { $0.scale == 1 ? $0.axis : nil }
    }

    /// A sum over one axis times a constant (the optimizer folds `-(k @ S)` into the sum).
    func scaledReduction(_ w: WeightMatrix) -> (axis: Axis, scale: Double)? {
        guard w.cols == m * n, w.cols > 0, let c = w.entries(ofRow: 0).first?.1 else { return nil }
        if w.rows == n, (0..<n).allSatisfy({ j in w.entries(ofRow: j).elementsEqual((0..<m).map { ($0 * n + j, c) }, by: { $0 == $1 }) }) { return (.rows, c) }
        if w.rows == m, (0..<m).allSatisfy({ i in w.entries(ofRow: i).elementsEqual((0..<n).map { (i * n + $0, c) }, by: { $0 == $1 }) }) { return (.columns, c) }
        return nil
    }

    /// The entries of a diagonal `size x size` map (the matrix's by default), or nil.
    func diagonal(_ w: WeightMatrix, size: Int? = nil) -> [Double]? {
        let size = size ?? m * n
        guard w.rows == size, w.cols == size, w.storedCount <= w.rows || w.rows <= 64 else { return nil }
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
