import RNNOps
import RNNRuntime

/// Bounds how far a program's computed outputs can be from the outputs of exact arithmetic
/// on the same program (its constants as the compiler holds them, in Float64), over the
/// values its inputs declare (`input x: [n] in [0, 1]`, `in {0, 1}`), for every step or for
/// the first `steps`. Runs the program once per combination of the set-valued inputs'
/// values (up to `maxCases`; the rest as intervals), step after step, each state's
/// enclosure the union over the cases; a state's enclosure, widened, that the step maps into
/// itself makes the bounds hold for every step after.
///
/// Bounds hold for the step program and the reference interpreter, whose roundings the
/// analysis models node by node; the scan program reorders linear recurrences.
package struct PrecisionAnalysis {
    package struct Options: Sendable {
        /// Steps analysed one by one before the bounds are given for them only.
        package var steps: Int
        package var maxCases: Int
        /// Most element operations (nodes' elements × cases × steps) the analysis does.
        package var maxWork: Int
        /// Whether bounds name the nodes that make them up (`OutputBound.sources`).
        package var attributes: Bool

        package init(steps: Int = 1000, maxCases: Int = 256, maxWork: Int = 20_000_000, attributes: Bool = true) {
            (self.steps, self.maxCases, self.maxWork, self.attributes) = (steps, maxCases, maxWork, attributes)
        }
    }

    /// One output element's bound.
    package struct OutputBound: Sendable {
        package var lo: Double
        package var hi: Double
        package var error: Double
        /// The nodes whose roundings make up most of `error`, largest first, with their parts.
        package var sources: [(node: Int, amount: Double)]
    }

    package struct Result: Sendable {
        package var precision: RunPrecision
        /// One per element of the output (all outputs concatenated).
        package var outputs: [OutputBound]
        /// True when the bounds hold for every step; else for the first `stepsAnalysed`.
        package var everyStep: Bool
        package var stepsAnalysed: Int
        package var cases: Int
        /// Nodes where an operand falls below half the spacing of a larger one, so that the
        /// sum loses it entirely: (node, the large magnitude, the small one).
        package var absorptions: [(node: Int, large: Double, small: Double)]
    }

    package let program: IRProgram
    package let options: Options

    package init(program: IRProgram, options: Options = Options()) {
        self.program = program
        self.options = options
    }

    package func run(_ precision: RunPrecision) -> Result {
        var transfer = PrecisionTransfer(precision: precision, attributes: options.attributes)
        let cases = InputCases(program: program, precision: precision, maxCases: options.maxCases)
        // Work per step and case: an affine map's non-zeros, other nodes' elements.
        let elements = max(1, program.nodes.reduce(0) { total, node in
            if case .affine(let w, _, _) = node.op { return total + w.nonZeroCount + node.size }
            return total + node.size
        })
        let affordable = max(1, options.maxWork / (elements * cases.inputs.count))
        let steps = program.states.isEmpty ? 1 : min(options.steps, affordable)
        var outputs = [Enclosure?](repeating: nil, count: program.outputWidth)
        func record(_ values: [[Enclosure]]) {
            let out = program.outputs.flatMap { values[$0.index] }
            for (i, e) in out.enumerated() { outputs[i] = outputs[i].map { $0.joined(e) } ?? e }
        }
        var states = program.states.enumerated().map { k, s in s.initial.map { Enclosure.point($0, precision: precision, node: -1 - k, attributes: options.attributes) } }
        var seen = states
        var everyStep = program.states.isEmpty
        var analysed = 0
        for step in 1...steps {
            var next: [[Enclosure]]? = nil
            for inputs in cases.inputs {
                let values = evaluate(inputs: inputs, states: states, transfer: &transfer)
                record(values)
                let n = program.states.map { values[$0.next.index] }
                next = next.map { zip($0, n).map { zip($0, $1).map { $0.joined($1) } } } ?? n
            }
            analysed = step
            guard let n = next, !program.states.isEmpty else { break }
            states = n
            seen = zip(seen, states).map { zip($0, $1).map { $0.joined($1) } }
            // States whose errors are unbounded bound nothing that depends on them: one step from
            // states that may hold anything covers every later step.
            if seen.allSatisfy({ $0.allSatisfy { !$0.error.isFinite } }) {
                let anything = seen.map { [Enclosure](repeating: Enclosure(lo: -.infinity, hi: .infinity, sources: .unnamed(.infinity), grid: nil), count: $0.count) }
                for inputs in cases.inputs { record(evaluate(inputs: inputs, states: anything, transfer: &transfer)) }
                everyStep = true
                break
            }
            // An invariant, tried now and then: the widened union of the states so far, if one
            // step maps it into itself, holds every later state.
            if step.nonzeroBitCount == 1 || step == steps, isInductive(widen(seen), cases: cases, transfer: &transfer, record: record) {
                everyStep = true
                break
            }
        }
        let bounds = outputs.map { e -> OutputBound in
            let e = e ?? .unknown
            return OutputBound(lo: e.lo, hi: e.hi, error: e.error, sources: e.sources.largest.sorted { $0.amount > $1.amount })
        }
        let absorbed = transfer.absorptions.map { ($0.key, $0.value.large, $0.value.small) }.sorted { $0.0 < $1.0 }
        return Result(precision: precision, outputs: bounds, everyStep: everyStep, stepsAnalysed: analysed,
                      cases: cases.inputs.count, absorptions: absorbed)
    }

    /// Enclosures of every node for one case of the inputs and the states' enclosures.
    func evaluate(inputs: [[Enclosure]], states: [[Enclosure]], transfer: inout PrecisionTransfer) -> [[Enclosure]] {
        var values: [[Enclosure]] = []
        values.reserveCapacity(program.nodes.count)
        for (i, node) in program.nodes.enumerated() {
            values.append(evaluate(node, index: i, values: values, inputs: inputs, states: states, transfer: &transfer))
        }
        return values
    }

    private func evaluate(_ node: IRNode, index i: Int, values: [[Enclosure]], inputs: [[Enclosure]], states: [[Enclosure]],
                          transfer: inout PrecisionTransfer) -> [Enclosure] {
        let precision = transfer.precision
        switch node.op {
        case .input(let k): return inputs[k]
        case .stateRead(let s): return states[s]
        case .constant(let v): return v.map { .point($0, precision: precision, node: i, attributes: transfer.attributes) }
        case .affine(let w, let bias, let x):
            let xs = values[x.index]
            return (0..<w.rows).map { r in
                var terms: [PrecisionTransfer.Term] = []
                w.forEachNonZero(inRow: r) { c, v in terms.append(.init(weight: v, x: xs[c])) }
                return transfer.sum(terms, bias: bias?[r] ?? 0, node: i)
            }
        case .elementwise(let op, let xs) where op.kind == .add:
            return zip(values[xs[0].index], values[xs[1].index]).map { transfer.sum([.init(weight: 1, x: $0), .init(weight: 1, x: $1)], bias: 0, node: i) }
        case .elementwise(let op, let xs) where op.kind == .mul:
            return zip(values[xs[0].index], values[xs[1].index]).map { transfer.product($0, $1, node: i) }
        case .elementwise(let op, let xs) where xs.count == 2:
            return zip(values[xs[0].index], values[xs[1].index]).map { transfer.select(op, $0, $1) }
        case .elementwise(let op, let xs):
            return values[xs[0].index].map { transfer.unary(op, $0, node: i) }
        case .concat(let parts): return parts.flatMap { values[$0.index] }
        case .slice(let x, let start): return Array(values[x.index][start..<(start + node.size)])
        case .gather(let table, let x):
            let id = values[x.index][0]
            let first = max(0, Int(max(id.lo, 0).rounded(.up).clamped(to: 0...Double(table.rows))))
            let last = min(table.rows - 1, Int(min(id.hi, Double(table.rows - 1)).rounded(.down).clamped(to: -1...Double(table.rows))))
            guard first <= last else { return [Enclosure](repeating: .unknown, count: node.size) }
            return transfer.rows(of: table, first...last, node: i)
        }
    }

    /// `seen` made a little larger, so that a contracting recurrence's limit fits inside.
    private func widen(_ seen: [[Enclosure]]) -> [[Enclosure]] {
        seen.map { lanes in lanes.map { e in
            let pad = (e.hi - e.lo) / 8 + e.magnitude * 0x1p-20
            return Enclosure(lo: e.lo - pad, hi: e.hi + pad, sources: e.sources.scaled(2), grid: e.grid)
        } }
    }

    /// Whether one step from `candidate` (every case) stays inside it; records the outputs
    /// there when it does.
    private func isInductive(_ candidate: [[Enclosure]], cases: InputCases, transfer: inout PrecisionTransfer,
                             record: ([[Enclosure]]) -> Void) -> Bool {
        var runs: [[[Enclosure]]] = []
        for inputs in cases.inputs {
            let values = evaluate(inputs: inputs, states: candidate, transfer: &transfer)
            for (k, s) in program.states.enumerated() where !zip(candidate[k], values[s.next.index]).allSatisfy({ $0.contains($1) }) {
                return false
            }
            runs.append(values)
        }
        runs.forEach(record)
        return true
    }
}

extension Double {
    fileprivate func clamped(to r: ClosedRange<Double>) -> Double { Swift.min(Swift.max(self, r.lowerBound), r.upperBound) }
}
