import RNNRuntime

/// Builds a new node list from an old one, node by node, keeping the program's states and
/// outputs pointing at the rewritten values. A pass maps each old node (with its operands
/// already rewritten) to a value in the new program: usually a new node, sometimes an
/// existing value (when the node simplifies away).
struct IRRewriter {
    private(set) var nodes: [IRNode] = []
    private var memo: [Int: ValueID] = [:]

    mutating func add(_ op: IROp, size: Int, range: SourceRange?) -> ValueID {
        nodes.append(IRNode(op: op, size: size, range: range))
        return ValueID(index: nodes.count - 1)
    }

    subscript(id: ValueID) -> IRNode { nodes[id.index] }

    /// Rewrites every node of `program` in order with `transform(rewriter, node with new
    /// operands, original node) -> new value`, then remaps states and outputs.
    static func rewrite(_ program: IRProgram, _ transform: (inout IRRewriter, IRNode, IRNode) -> ValueID) -> IRProgram {
        var r = IRRewriter()
        var map: [ValueID] = []
        map.reserveCapacity(program.nodes.count)
        for node in program.nodes {
            var n = node
            n.op = node.op.mapOperands { map[$0.index] }
            map.append(transform(&r, n, node))
        }
        var out = program
        out.nodes = r.nodes
        out.paramUses = [:]
        out.cells = []
        out.states = program.states.map { var s = $0; s.next = map[s.next.index]; return s }
        out.outputs = program.outputs.map { map[$0.index] }
        return out
    }
}

extension IROp {
    /// The same op with every operand replaced.
    func mapOperands(_ f: (ValueID) -> ValueID) -> IROp {
        switch self {
        case .input, .stateRead, .constant: return self
        case .affine(let w, let b, let x): return .affine(w, bias: b, f(x))
        case .elementwise(let op, let xs): return .elementwise(op, xs.map(f))
        case .concat(let xs): return .concat(xs.map(f))
        case .slice(let x, let s): return .slice(f(x), start: s)
        case .gather(let w, let x): return .gather(w, f(x))
        }
    }
}

extension IRProgram {
    /// How many nodes, state updates and outputs use each node.
    func useCounts() -> [Int] {
        var uses = [Int](repeating: 0, count: nodes.count)
        for n in nodes { for o in n.op.operands { uses[o.index] += 1 } }
        for s in states { uses[s.next.index] += 1 }
        for o in outputs { uses[o.index] += 1 }
        return uses
    }
}

extension IRProgram {
    /// Whether each node depends on a state's value (reads one, directly or through operands).
    func readsState() -> [Bool] {
        var reads = [Bool](repeating: false, count: nodes.count)
        for (i, n) in nodes.enumerated() {
            if case .stateRead = n.op { reads[i] = true } else { reads[i] = n.op.operands.contains { reads[$0.index] } }
        }
        return reads
    }
}
