import RNNRuntime

/// The reference semantics of the IR: evaluates every node in order, one step at a time,
/// in Float64. Written to be obviously correct, not fast; every lowering and optimization
/// is tested against it.
package struct Interpreter {
    package let program: IRProgram
    /// Each state's current value (settable, to start from other than the initial values;
    /// sizes must match the program's states).
    package var states: [[Double]]

    package init(program: IRProgram) {
        self.program = program
        self.states = program.states.map(\.initial)
    }

    package mutating func reset() {
        states = program.states.map(\.initial)
    }

    /// Feeds one token (all inputs concatenated) and returns the output vector.
    package mutating func step(_ token: [Double]) -> [Double] {
        precondition(token.count == program.inputWidth, "token width does not match the model's input")
        var inputValues: [[Double]] = []
        var k = 0
        for input in program.inputs {
            inputValues.append(Array(token[k..<(k + input.size)]))
            k += input.size
        }
        var values: [[Double]] = []
        values.reserveCapacity(program.nodes.count)
        for node in program.nodes {
            values.append(evaluate(node, values: values, inputs: inputValues))
        }
        states = program.states.map { values[$0.next.index] }
        return program.outputs.flatMap { values[$0.index] }
    }

    private func evaluate(_ node: IRNode, values: [[Double]], inputs: [[Double]]) -> [Double] {
        switch node.op {
        case .input(let i): return inputs[i]
        case .stateRead(let s): return states[s]
        default: return Self.evaluate(node, operand: { values[$0.index] })
        }
    }

    /// The value of a computing node (not an input or state read) from its operands' values.
    static func evaluate(_ node: IRNode, operand value: (ValueID) -> [Double]) -> [Double] {
        switch node.op {
        case .input, .stateRead: preconditionFailure("inputs and state reads have no operands to evaluate")
        case .constant(let v): return v
        case .affine(let w, let bias, let x):
            let y = w.apply(value(x))
            guard let bias else { return y }
            return zip(y, bias).map { $0 + $1 }
        case .elementwise(let op, let xs) where xs.count == 1: return value(xs[0]).map { op.apply($0) }
        case .elementwise(let op, let xs): return zip(value(xs[0]), value(xs[1])).map { op.apply($0, $1) }
        case .concat(let parts): return parts.flatMap { value($0) }
        case .slice(let x, let start): return Array(value(x)[start..<(start + node.size)])
        case .gather(let table, let x):
            // Token ids are checked before a run; a bad one here gives NaNs, as the runtime does.
            let id = value(x)[0]
            guard id >= 0, id < Double(table.rows), id == id.rounded(.towardZero) else { return Array(repeating: .nan, count: node.size) }
            return table.row(Int(id))
        }
    }

    /// Runs a whole sequence from the initial states.
    package mutating func run(_ sequence: [[Double]]) -> [[Double]] {
        reset()
        return sequence.map { step($0) }
    }
}
