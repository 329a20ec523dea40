import RNNRuntime

/// The inputs' enclosures, one list per case: each element of a set-valued input takes each
/// of its values in turn (while the number of combinations stays within `maxCases`; later
/// elements take the interval that holds their set), interval-valued elements their
/// interval, undeclared ones any value.
struct InputCases {
    /// `inputs[case][input][element]`.
    let inputs: [[[Enclosure]]]

    init(program: IRProgram, precision: RunPrecision, maxCases: Int) {
        var base: [[Enclosure]] = program.inputs.map { input in
            guard let values = input.declaredValues else { return [Enclosure](repeating: .unknown, count: input.size) }
            let (lower, upper) = values.bounds(size: input.size)
            let grid: Int? = input.vocabulary != nil ? 0 : nil
            return zip(lower, upper).map { lo, hi in
                Enclosure(lo: Self.roundDown(lo, precision), hi: Self.roundUp(hi, precision), sources: .none, grid: grid)
            }
        }
        var splits: [(input: Int, element: Int, values: [Double])] = []
        var count = 1
        for (k, input) in program.inputs.enumerated() {
            guard case .set(let values) = input.domain else { continue }
            let stored = Array(Set(values.map(precision.round))).sorted()
            for e in 0..<input.size {
                if count * stored.count <= maxCases {
                    count *= stored.count
                    splits.append((k, e, stored))
                } else {
                    let grids = stored.map(Enclosure.gridExponent)
                    base[k][e] = Enclosure(lo: stored.first!, hi: stored.last!, sources: .none,
                                           grid: grids.contains { $0 == nil } ? nil : grids.map { $0! }.min())
                }
            }
        }
        var all = [base]
        for split in splits {
            all = all.flatMap { inputs in
                split.values.map { v in
                    var c = inputs
                    c[split.input][split.element] = Enclosure(lo: v, hi: v, sources: .none, grid: Enclosure.gridExponent(v))
                    return c
                }
            }
        }
        inputs = all
    }

    /// The largest number of this precision at or below x (what a run can receive).
    static func roundDown(_ x: Double, _ p: RunPrecision) -> Double {
        let r = p.round(x)
        return r <= x ? r : (p == .float32 ? Double(Float(r).nextDown) : r.nextDown)
    }

    static func roundUp(_ x: Double, _ p: RunPrecision) -> Double {
        let r = p.round(x)
        return r >= x ? r : (p == .float32 ? Double(Float(r).nextUp) : r.nextUp)
    }
}

extension WeightMatrix {
    /// Calls `body(column, value)` for each stored non-zero of row `r`.
    func forEachNonZero(inRow r: Int, _ body: (Int, Double) -> Void) {
        switch storage {
        case .dense(let v):
            for c in 0..<cols where v[r * cols + c] != 0 { body(c, v[r * cols + c]) }
        case .sparse(let offsets, let columns, let values):
            for k in offsets[r]..<offsets[r + 1] where values[k] != 0 { body(columns[k], values[k]) }
        }
    }
}
