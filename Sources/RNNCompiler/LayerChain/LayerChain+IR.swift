import RNNOps
import RNNRuntime

extension LayerChain {
    /// The chain as an IR program of one input and one output, one state per state layer
    /// (`layers.K`): what the reference interpreter checks against the source program, and
    /// what the step and scan runtimes run for `--target layers`.
    package func asIR() -> IRProgram {
        var nodes: [IRNode] = []
        var states: [IRState] = []
        func add(_ op: IROp, _ size: Int) -> ValueID {
            nodes.append(IRNode(op: op, size: size, range: nil))
            return ValueID(index: nodes.count - 1)
        }
        /// `[f(v[0..<lanes]), v[skip...]]` with the untouched lanes passed through.
        func partial(_ v: ValueID, width: Int, lanes: Int, skip: Int, _ f: (ValueID) -> ValueID) -> ValueID {
            let head = f(lanes == width ? v : add(.slice(v, start: 0), lanes))
            guard skip < width else { return head }
            let tail = add(.slice(v, start: skip), width - skip)
            return add(.concat([head, tail]), nodes[head.index].size + width - skip)
        }
        var v = add(.input(0), inputWidth)
        for (k, layer) in layers.enumerated() {
            switch layer {
            case .affine(let w, let bias):
                v = add(.affine(w, bias: bias, v), w.rows)
            case .elementwise(let op, let lanes, let width):
                v = partial(v, width: width, lanes: lanes, skip: lanes) { add(.elementwise(op, [$0]), lanes) }
            case .binary(let op, let lanes, let width):
                v = partial(v, width: width, lanes: 2 * lanes, skip: 2 * lanes) { pair in
                    let (a, b) = (add(.slice(pair, start: 0), lanes), add(.slice(pair, start: lanes), lanes))
                    return add(.elementwise(op, [a, b]), lanes)
                }
            case .state(let a, let initial):
                let previous = add(.stateRead(states.count), a.rows)
                let next = add(.elementwise(.add, [add(.affine(a, bias: nil, previous), a.rows), v]), a.rows)
                states.append(IRState(name: "layers.\(k)", size: a.rows, initial: initial, next: next, range: nil))
                v = next
            }
        }
        return IRProgram(modelName: modelName, inputs: [IRInput(name: "x", size: inputWidth)], states: states, params: [],
                         nodes: nodes, outputs: [v])
    }
}
