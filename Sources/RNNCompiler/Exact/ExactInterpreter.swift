import RNNOps
import RNNRuntime

/// Exact mode: runs the IR as elaborated in exact rational arithmetic, with certified
/// enclosures where a value is irrational (`cos(2 pi / 5)`, `e^x`). Every sequence runs at a
/// working precision; when some output's enclosure does not yet decide its nearest Double,
/// everything runs again with as many bits as the widest enclosure needs (at least twice
/// as many), up to `maxBits`.
package struct ExactInterpreter {
    package let program: IRProgram
    package let constants: ExactConstants
    package var maxBits: Int

    package static let startBits = 64
    package static let defaultMaxBits = 8192

    /// Why exact mode stopped, with the node (and so the source place) it stopped at.
    package struct Failure: Error, CustomStringConvertible {
        package var message: String
        package var range: SourceRange?
        package var description: String { message }
    }

    /// Outputs as exact values or enclosures that decide their nearest Double, and the
    /// precision that decided them.
    package struct Result {
        package var outputs: [[[RationalInterval]]]
        package var bits: Int
    }

    package init(program: IRProgram, constants: ExactConstants, maxBits: Int = defaultMaxBits) {
        (self.program, self.constants, self.maxBits) = (program, constants, maxBits)
    }

    /// Runs each sequence (tokens of exact input values) from the initial states; a
    /// sequence's `initialStates` entry replaces the states it gives (by state index).
    package func run(_ sequences: [[[Rational]]], initialStates: [[[Rational]?]]? = nil) throws(Failure) -> Result {
        var bits = Self.startBits
        let field = FieldElements.field(for: constants.recordedExpressions)
        while true {
            let arithmetic = ExactArithmetic(bits: bits, field: field)
            var lastProblem: Failure
            var needed = 2 * bits
            do throws(StepFailure) {
                let prepared = try Prepared(program: program, constants: constants, arithmetic: arithmetic)
                let outputs = try sequences.indices.map { (q) throws(StepFailure) in
                    try prepared.run(sequences[q], from: initialStates?[q]).map { token in
                        token.map { arithmetic.decided($0, maxBits: maxBits) }
                    }
                }
                if let (q, t, i) = firstUndecided(outputs) {
                    let v = outputs[q][t][i]
                    needed = Swift.max(needed, Self.bitsToDecide(outputs, at: bits))
                    lastProblem = Failure(message: "output \(i) at token \(t)\(sequences.count > 1 ? " of sequence \(q)" : "") is only known to lie in \(v)", range: nil)
                } else {
                    return Result(outputs: outputs, bits: bits)
                }
            } catch {
                switch error.reason {
                case .failure(let why): throw Failure(message: why, range: error.range)
                case .undecided(let why): lastProblem = Failure(message: why, range: error.range)
                }
            }
            guard bits < maxBits else {
                lastProblem.message = "not decided at \(bits) bits: " + lastProblem.message
                throw lastProblem
            }
            bits = Swift.min(needed, maxBits)
        }
    }

    /// The precision that should decide every output, from the widths of the enclosures at
    /// `bits`: each must shrink below a quarter of the spacing of the Doubles at its value (an
    /// enclosure of zero below the smallest subnormal), and widths shrink as the precision
    /// grows. Jumping there spares the runs in between (an exact zero reached through an
    /// irrational constant needs more than 1,074 bits).
    static func bitsToDecide(_ outputs: [[[RationalInterval]]], at bits: Int) -> Int {
        var needed = bits
        for v in outputs.joined().joined() where !v.isPoint && v.decidedDouble == nil {
            let nearest = Swift.min(v.lo.magnitude, v.hi.magnitude).doubleValue
            let spacing = v.containsZero || nearest.ulp <= Double.leastNonzeroMagnitude ? -1076 : Int(nearest.ulp.exponent) - 2
            needed = Swift.max(needed, bits + v.width.binaryMagnitude - spacing + 8)
        }
        return needed
    }

    private func firstUndecided(_ outputs: [[[RationalInterval]]]) -> (Int, Int, Int)? {
        for (q, sequence) in outputs.enumerated() {
            for (t, token) in sequence.enumerated() {
                if let i = token.firstIndex(where: { !$0.isPoint && $0.decidedDouble == nil }) { return (q, t, i) }
            }
        }
        return nil
    }

    /// A failure at one node.
    struct StepFailure: Error {
        var reason: ExactFailure
        var range: SourceRange?
    }

    /// The program's numbers at one precision.
    private struct Prepared {
        let program: IRProgram
        let arithmetic: ExactArithmetic
        var nodes: [ExactNode] = []
        var initialStates: [[ExactNumber]] = []

        init(program: IRProgram, constants: ExactConstants, arithmetic: ExactArithmetic) throws(StepFailure) {
            (self.program, self.arithmetic) = (program, arithmetic)
            var converter = NumberConverter(constants: constants, arithmetic: arithmetic)
            for node in program.nodes {
                do throws(ExactFailure) { nodes.append(try ExactNode(node, converter: &converter)) } catch { throw StepFailure(reason: error, range: node.range) }
            }
            for state in program.states {
                do throws(ExactFailure) { initialStates.append(try converter.values(state.initial)) } catch { throw StepFailure(reason: error, range: state.range) }
            }
        }

        func run(_ tokens: [[Rational]], from initial: [[Rational]?]?) throws(StepFailure) -> [[ExactNumber]] {
            var states = initialStates
            for (s, values) in (initial ?? []).enumerated() {
                if let values { states[s] = values.map(arithmetic.number) }
            }
            var outputs: [[ExactNumber]] = []
            for token in tokens {
                var inputs: [[ExactNumber]] = [], k = 0
                for input in program.inputs {
                    inputs.append(token[k..<(k + input.size)].map(arithmetic.number))
                    k += input.size
                }
                var values: [[ExactNumber]] = []
                values.reserveCapacity(nodes.count)
                for (i, node) in nodes.enumerated() {
                    do throws(ExactFailure) {
                        values.append(try arithmetic.bounded(node.evaluate(values: values, inputs: inputs, states: states, arithmetic: arithmetic)))
                    } catch {
                        throw StepFailure(reason: error, range: program.nodes[i].range)
                    }
                }
                states = program.states.map { values[$0.next.index] }
                outputs.append(program.outputs.flatMap { values[$0.index] })
            }
            return outputs
        }
    }
}

/// Reads the Doubles of the IR as exact values: through the recorded expressions, else as
/// the dyadic rationals they are.
struct NumberConverter {
    let constants: ExactConstants
    let arithmetic: ExactArithmetic
    private var known: [UInt64: ExactNumber] = [:]

    init(constants: ExactConstants, arithmetic: ExactArithmetic) {
        (self.constants, self.arithmetic) = (constants, arithmetic)
    }

    mutating func value(_ x: Double) throws(ExactFailure) -> ExactNumber {
        if let v = known[x.bitPattern] { return v }
        guard let expr = constants.expression(of: x) else {
            throw .failure("the compile-time value \(x) is made by two different expressions; exact mode cannot tell which it stands for")
        }
        let v = try arithmetic.number(expr)
        known[x.bitPattern] = v
        return v
    }

    mutating func values(_ xs: [Double]) throws(ExactFailure) -> [ExactNumber] {
        try xs.map { (x) throws(ExactFailure) in try value(x) }
    }
}

/// One IR node with its numbers as exact numbers.
private enum ExactNode {
    case input(Int)
    case stateRead(Int)
    case constant([ExactNumber])
    /// Rows of (column, weight), and the bias.
    case affine(rows: [[(Int, ExactNumber)]], bias: [ExactNumber]?, ValueID)
    case elementwise(OpFormula, attributes: [ExactNumber], [ValueID])
    case concat([ValueID])
    case slice(ValueID, start: Int, size: Int)
    case gather(rows: Int, cols: Int, table: [ExactNumber], ValueID)

    init(_ node: IRNode, converter: inout NumberConverter) throws(ExactFailure) {
        switch node.op {
        case .input(let i): self = .input(i)
        case .stateRead(let s): self = .stateRead(s)
        case .constant(let v): self = .constant(try converter.values(v))
        case .affine(let w, let bias, let x):
            var rows: [[(Int, ExactNumber)]] = []
            rows.reserveCapacity(w.rows)
            switch w.storage {
            case .dense(let values):
                for r in 0..<w.rows {
                    var row: [(Int, ExactNumber)] = []
                    for c in 0..<w.cols where values[r * w.cols + c] != 0 { row.append((c, try converter.value(values[r * w.cols + c]))) }
                    rows.append(row)
                }
            case .sparse(let offsets, let columns, let values):
                for r in 0..<w.rows {
                    var row: [(Int, ExactNumber)] = []
                    for k in offsets[r]..<offsets[r + 1] where values[k] != 0 { row.append((columns[k], try converter.value(values[k]))) }
                    rows.append(row)
                }
            }
            self = .affine(rows: rows, bias: try bias.map { (b) throws(ExactFailure) in try converter.values(b) }, x)
        case .elementwise(let op, let xs):
            self = .elementwise(op.entry.formula, attributes: try converter.values(op.attributeValues), xs)
        case .concat(let parts): self = .concat(parts)
        case .slice(let x, let start): self = .slice(x, start: start, size: node.size)
        case .gather(let table, let x): self = .gather(rows: table.rows, cols: table.cols, table: try converter.values(table.denseValues()), x)
        }
    }

    func evaluate(values: [[ExactNumber]], inputs: [[ExactNumber]], states: [[ExactNumber]],
                  arithmetic: ExactArithmetic) throws(ExactFailure) -> [ExactNumber] {
        switch self {
        case .input(let i): return inputs[i]
        case .stateRead(let s): return states[s]
        case .constant(let v): return v
        case .affine(let rows, let bias, let x):
            let v = values[x.index]
            return rows.enumerated().map { r, row in arithmetic.dot(row, v, plus: bias?[r]) }
        case .elementwise(let formula, let attributes, let xs):
            let a = values[xs[0].index], b = values[xs.count > 1 ? xs[1].index : xs[0].index]
            return try a.indices.map { (i) throws(ExactFailure) in try arithmetic.apply(formula, x: a[i], y: b[i], attributes: attributes) }
        case .concat(let parts): return parts.flatMap { values[$0.index] }
        case .slice(let x, let start, let size): return Array(values[x.index][start..<(start + size)])
        case .gather(let rows, let cols, let table, let x):
            let id = values[x.index][0].enclosure
            guard id.isPoint else { throw .undecided("a token id known only to lie in \(id)") }
            guard id.lo.isInteger, id.lo.sign >= 0, id.lo < Rational(rows) else { throw .failure("token id \(id.lo) is not a row of the \(rows)-row table") }
            let r = Int(id.lo.numerator)
            return Array(table[(r * cols)..<((r + 1) * cols)])
        }
    }
}
