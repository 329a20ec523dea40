import RNNOps
import RNNRuntime

/// How each IR op moves enclosures: the exact value's range by interval arithmetic, the
/// computed value's error by the standard model of floating-point arithmetic (each operation
/// within a factor 1 ± u of its exact result; a dot product of n terms within γ_n of the sum
/// of its terms' magnitudes, in any order), and exactness by grids: terms that are multiples
/// of 2^g with partial sums below 2^(p+g) are computed exactly.
struct PrecisionTransfer {
    let precision: RunPrecision
    /// Large terms beside small ones, as (node, large magnitude, small magnitude).
    var absorptions: [Int: (large: Double, small: Double)] = [:]

    /// Tables' row ranges, enclosed once: (node, first row, last row) -> enclosures.
    private var gathered: [[Int]: [Enclosure]] = [:]

    /// Whether bounds keep the nodes their roundings come from (for reports), or only totals.
    let attributes: Bool

    init(precision: RunPrecision, attributes: Bool = true) { (self.precision, self.attributes) = (precision, attributes) }

    /// A rounding of `amount` at `node`.
    func source(_ node: Int, _ amount: Double) -> ErrorSources {
        attributes ? ErrorSources(node: node, amount: amount) : .unnamed(amount.isNaN ? .infinity : amount)
    }

    /// The enclosure of any of `rows` of `table` (an embedding lookup's row by a token id).
    mutating func rows(of table: WeightMatrix, _ rows: ClosedRange<Int>, node: Int) -> [Enclosure] {
        let key = [node, rows.lowerBound, rows.upperBound]
        if let e = gathered[key] { return e }
        var out = table.row(rows.lowerBound).map { Enclosure.point($0, precision: precision, node: node, attributes: attributes) }
        for r in rows.dropFirst() {
            for (c, v) in table.row(r).enumerated() { out[c] = out[c].joined(.point(v, precision: precision, node: node, attributes: attributes)) }
        }
        gathered[key] = out
        return out
    }

    // MARK: Sums

    /// One term of a sum: `weight * x` (weight as the program holds it, in Float64).
    struct Term {
        var weight: Double
        var x: Enclosure
    }

    /// `Σ weight_j x_j + bias`, evaluated in `precision` at `node`.
    mutating func sum(_ terms: [Term], bias: Double, node: Int) -> Enclosure {
        let u = precision
        var lo = bias, hi = bias
        var magnitude = abs(bias)      // Σ |w| |x| over exact values: the partial sums' bound
        var computed = abs(u.round(bias))
        var parts: [(ErrorSources, Double)] = []
        var stored = u.storageError(bias)  // weights' and the bias's storage in this precision
        var grid: Int? = bias == 0 ? Enclosure.zeroGrid : Enclosure.gridExponent(bias)
        var count = bias == 0 ? 0 : 1
        var exactInputs = stored == 0
        var largest = abs(bias), smallest = bias == 0 ? Double.infinity : abs(bias)
        for t in terms where t.weight != 0 && !t.x.isZero {
            let w = t.weight, wr = u.round(w)
            let (a, b) = (w * t.x.lo, w * t.x.hi)
            lo += min(a, b)
            hi += max(a, b)
            let m = abs(w) * t.x.magnitude
            magnitude += m
            computed += abs(wr) * t.x.computedMagnitude
            if !t.x.isExact { parts.append((t.x.sources, abs(wr))) }
            if wr != w { stored += abs(wr - w) * t.x.magnitude }
            exactInputs = exactInputs && t.x.isExact && wr == w
            grid = grid.flatMap { g in t.x.grid.flatMap { xg in Enclosure.gridExponent(w).map { min(g, xg + $0) } } }
            count += 1
            largest = max(largest, m)
            let low = abs(w) * min(abs(t.x.lo), abs(t.x.hi))
            if low > 0 { smallest = min(smallest, m) }
        }
        if largest.isFinite, smallest.isFinite, smallest < u.spacing(at: largest) / 2 {
            let previous = absorptions[node]
            absorptions[node] = (max(previous?.large ?? 0, largest), min(previous?.small ?? .infinity, smallest))
        }
        let points = terms.filter { $0.weight != 0 && !$0.x.isZero }
        let exact = exactInputs && count > 0 && (grid.map { precision.holdsEveryMultiple(of: $0, upTo: magnitude) } ?? false
            || exactPoint(points.map { ($0.weight, $0.x.lo) }, bias: bias, count: count, allPoints: points.allSatisfy { $0.x.lo == $0.x.hi }))
        // One term scaled by a power of two (a copy, a negation) rounds nothing.
        let scaledCopy = count == 1 && bias == 0 && points.count == 1 && points[0].weight.significandBitPattern == 0
            && u.round(points[0].weight) == points[0].weight && points[0].weight.exponent >= 0
        let rounding = count == 0 || exact || scaledCopy ? 0 : u.gamma(count) * computed + Double(count) * u.underflow
        // The analysis's own rounding of lo and hi, none where Float64 holds every partial sum.
        let slack = grid.map { RunPrecision.float64.holdsEveryMultiple(of: $0, upTo: magnitude) } == true ? 0 : magnitude * 0x1p-50
        return Enclosure(lo: lo - slack, hi: hi + slack, sources: .sum(parts, plus: source(node, rounding + stored)), grid: grid).sanitized()
    }

    /// Whether `w x + bias` or `w1 x1 + w2 x2` of known exact values is exact in this
    /// precision in every order of evaluation (each product, and the sum of the two, a
    /// number of the precision): Sterbenz's `x - y` for `y/2 <= x <= 2y`, for one.
    private func exactPoint(_ products: [(Double, Double)], bias: Double, count: Int, allPoints: Bool) -> Bool {
        guard allPoints, count <= 2 else { return false }
        var parts: [Double] = bias == 0 ? [] : [bias]
        for (w, x) in products {
            let p = w * x
            guard (-p).addingProduct(w, x) == 0, precision.round(p) == p else { return false }
            parts.append(p)
        }
        guard parts.count == 2 else { return parts.count < 2 }
        let s = parts[0] + parts[1]
        let bb = s - parts[0]
        let residual = (parts[0] - (s - bb)) + (parts[1] - bb)
        return residual == 0 && s.isFinite && precision.round(s) == s
    }

    // MARK: Products and ops

    /// `x * y` element-wise.
    func product(_ x: Enclosure, _ y: Enclosure, node: Int) -> Enclosure {
        if x.isZero || y.isZero { return Enclosure(lo: 0, hi: 0, sources: .none, grid: Enclosure.zeroGrid) }
        let c = [x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi].map { $0.isNaN ? 0 : $0 }
        let magnitude = x.magnitude * y.magnitude
        let grid = x.grid.flatMap { a in y.grid.map { a + $0 } }
        let exact = x.isExact && y.isExact && grid.map { precision.holdsEveryMultiple(of: $0, upTo: magnitude) } ?? false
        let rounding = exact ? 0 : precision.unitRoundoff * x.computedMagnitude * y.computedMagnitude + precision.underflow
        let sources = x.sources.scaled(y.magnitude) + y.sources.scaled(x.magnitude) + source(node, (x.isExact || y.isExact ? 0 : x.error * y.error) + rounding)
        let slack = magnitude * 0x1p-50
        return Enclosure(lo: c.min()! - slack, hi: c.max()! + slack, sources: sources, grid: grid).sanitized()
    }

    /// A unary op of the op table, by its accuracy entry.
    func unary(_ op: ElementwiseOp, _ x: Enclosure, node: Int) -> Enclosure {
        let accuracy = op.entry.accuracy
        if accuracy.selects { return clamp(op, x, node: node) }
        let (lo, hi) = op.entry.image(x.lo, x.hi, op.attributes)
        let (clo, chi) = op.entry.image(x.lo - x.error, x.hi + x.error, op.attributes)
        let slope = x.isExact ? 0 : accuracy.slope(x.lo - x.error, x.hi + x.error, op.attributes)
        let ulps = precision == .float32 ? accuracy.ulps32 : accuracy.ulps64
        let own = ulps * precision.unitRoundoff * (max(abs(clo), abs(chi)) + accuracy.floor * (1 + x.computedMagnitude)) + precision.underflow
        let sources = (slope == 0 ? ErrorSources.none : x.sources.scaled(slope)) + source(node, own)
        return Enclosure(lo: lo, hi: hi, sources: sources, grid: nil).sanitized()
    }

    /// `relu` and `hardtanh`: the operand, or a bound when the computed and the exact value
    /// are both past it (then exactly the bound).
    private func clamp(_ op: ElementwiseOp, _ x: Enclosure, node: Int) -> Enclosure {
        let (bottom, top) = op.kind == .relu ? (0.0, Double.infinity) : (op.attributes[0], op.attributes[1])
        func constant(_ v: Double) -> Enclosure { .point(v, precision: precision, node: node, attributes: attributes) }
        if x.hi + x.error <= bottom { return constant(bottom) }
        if x.lo - x.error >= top { return constant(top) }
        if x.lo - x.error >= bottom && x.hi + x.error <= top { return x }
        let grids = [x.grid, x.lo - x.error < bottom ? Enclosure.gridExponent(bottom) : Enclosure.zeroGrid,
                     x.hi + x.error > top ? Enclosure.gridExponent(top) : Enclosure.zeroGrid]
        let boundsStored = precision.storageError(bottom) + (top.isFinite ? precision.storageError(top) : 0)
        return Enclosure(lo: min(max(x.lo, bottom), top), hi: min(max(x.hi, bottom), top),
                         sources: x.sources + source(node, boundsStored),
                         grid: grids.contains { $0 == nil } ? nil : grids.map { $0! }.min())
    }

    /// `max` and `min`: one of the operands.
    func select(_ op: ElementwiseOp, _ x: Enclosure, _ y: Enclosure) -> Enclosure {
        let larger = op.kind == .max
        if larger ? x.lo - x.error >= y.hi + y.error : x.hi + x.error <= y.lo - y.error { return x }
        if larger ? y.lo - y.error >= x.hi + x.error : y.hi + y.error <= x.lo - x.error { return y }
        let (lo, hi) = larger ? (max(x.lo, y.lo), max(x.hi, y.hi)) : (min(x.lo, y.lo), min(x.hi, y.hi))
        return Enclosure(lo: lo, hi: hi, sources: .larger(x.sources, y.sources), grid: x.grid.flatMap { a in y.grid.map { min(a, $0) } })
    }
}
