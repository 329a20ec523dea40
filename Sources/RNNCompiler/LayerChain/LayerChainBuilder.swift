import RNNOps
import RNNRuntime

/// Why a program has no layer chain.
package enum LayerChainError: Error, Sendable, CustomStringConvertible {
    /// The program uses what a chain of standard layers cannot express (E0603), at the
    /// source of the state or value that does.
    case unsupported(String, at: SourceRange? = nil)
    /// Building the chain would pass a compile-time work limit (E0601).
    case tooLarge(String)

    package var description: String { diagnostic.message }

    package var diagnostic: Diagnostic {
        switch self {
        case .unsupported(let why, let range): return Diagnostic(.noLayerChain, "the program has no layer chain: \(why)", at: range)
        case .tooLarge(let why): return Diagnostic(.tooLarge, "the layer chain is too large to build: \(why)", at: nil)
        }
    }
}

/// The dataflow of a program as the chain sees it: nonlinear nodes and state layers, each
/// reading affine functions (`LinearForm`s) of the lanes earlier nodes produce.
struct ChainGraph {
    /// A run of lanes one producer makes: the input, a nonlinear node's output, a state
    /// group's current or previous value.
    struct Atom {
        var first: Int
        var width: Int
    }

    struct Node {
        enum Kind: Hashable {
            /// An affine value computed by a layer of its own before a large factor scales it.
            case affine
            case unary(ElementwiseOp), binary(ElementwiseOp), state
        }

        var kind: Kind
        /// affine and unary: `[x]`; binary: `[a, b]`; state: `[v]`, the group's new value less
        /// `A s_{t-1}`.
        var inputs: [LinearForm]
        /// The atom it makes (a state layer's current value).
        var output: Int
        /// A state layer's: its group's `A` (rows over the group's lanes), initial value, and
        /// the atom of its previous value (read by later layers or not).
        var transition: [[Int: Double]] = []
        var initial: [Double] = []
        var previous: Int? = nil
    }

    var atoms: [Atom] = []
    var nodes: [Node] = []
    var outputs = LinearForm.constant([])
    var lanes = 0

    mutating func atom(width: Int) -> Int {
        atoms.append(Atom(first: lanes, width: width))
        lanes += width
        return atoms.count - 1
    }

    func form(of atom: Int) -> LinearForm { .lanes(atoms[atom].first, count: atoms[atom].width) }

    /// A node that a reader multiplies by this or more is computed by a layer of its own,
    /// as the program computes it, when it is made of several lanes (`Exactness`; LSRL's
    /// `simplify()` fuses them all and loses exactness so).
    static let exactProductLimit = Exactness.largeFactor

    /// `x` computed by an affine layer of its own (unless it is lanes or a constant already).
    mutating func materialize(_ x: LinearForm) -> LinearForm {
        let plain = (0..<x.width).allSatisfy { j in
            x.rows[j].isEmpty || (x.rows[j].count == 1 && x.rows[j].first!.value == 1 && x.bias[j] == 0)
        }
        guard !plain else { return x }
        let made = atom(width: x.width)
        nodes.append(Node(kind: .affine, inputs: [x], output: made))
        return form(of: made)
    }
}


/// Turns an IR program into its layer chain: the program's dataflow as nonlinear nodes and
/// state layers over affine forms (`ChainGraph`), then a schedule of that graph into
/// layers that keeps few lanes alive (`LayerScheduler`).
package enum LayerChainBuilder {
    package static func build(_ program: IRProgram) throws(LayerChainError) -> LayerChain {
        let graph = try graph(of: program)
        return try LayerScheduler.schedule(graph, modelName: program.modelName, inputWidth: program.inputWidth)
    }
}

extension Compiler {
    /// The layer chain of a compiled model (`--target layers`), built from its IR as
    /// elaborated (the optimizer's folds of large constants would cost the chain the
    /// exactness `ChainGraph.exactProductLimit` keeps); nil after reporting why there is
    /// none (E0603, or E0601 past a work limit).
    package func layerChain(of compiled: CompiledModel) -> LayerChain? {
        do {
            return try LayerChainBuilder.build(compiled.ir)
        } catch {
            diagnostics.emit(error.diagnostic)
            return nil
        }
    }
}

extension LayerChainBuilder {
    /// Most coefficients the composed affine forms of one program may hold (about 400 MB).
    package static let maxStoredEntries = 1 << 23


    /// Every state group must be affine time-invariant (LSRL's LinState: the only recurrence
    /// a chain of standard layers has), and inputs plain vectors.
    static func checkSupported(_ program: IRProgram, _ groups: [StateRecurrence]) throws(LayerChainError) {
        if let token = program.inputs.first(where: { $0.vocabulary != nil }) {
            throw .unsupported("input '\(token.name)' is a token input; the chain's input is a vector")
        }
        for group in groups where group.kind != .affine {
            let names = group.states.map { program.states[$0].name }.joined(separator: ", ")
            throw .unsupported("state \(names) is \(group.kind.rawValue) (\(group.reason)); a chain's states are linear, s_t = A s_{t-1} + v_t with a constant A",
                               at: program.states[group.states[0]].range)
        }
    }

    static func graph(of program: IRProgram) throws(LayerChainError) -> ChainGraph {
        let groups = RecurrenceAnalysis.analyze(program)
        try checkSupported(program, groups)
        var g = ChainGraph()
        let input = g.atom(width: program.inputWidth)
        var inputOffsets: [Int] = []
        var offset = 0
        for i in program.inputs { inputOffsets.append(offset); offset += i.size }
        // Each group's current and previous values get lanes up front; a state's lanes are
        // its group's at its offset.
        var groupOf: [Int: Int] = [:], cur: [Int] = [], prev: [Int] = [], laneOffset: [Int: Int] = [:]
        for (k, group) in groups.enumerated() {
            let width = group.states.reduce(0) { $0 + program.states[$1].size }
            cur.append(g.atom(width: width))
            prev.append(g.atom(width: width))
            var o = 0
            for s in group.states { groupOf[s] = k; laneOffset[s] = o; o += program.states[s].size }
        }
        var nextOf: [Int: [Int]] = [:]
        for (s, state) in program.states.enumerated() { nextOf[state.next.index, default: []].append(s) }
        let live = program.liveNodes()
        let earliest = earliestGroupFed(program, groupOf: groupOf, live: live)
        let scaled = largestFactorApplied(program)

        // The group whose previous value each lane is, if it is one.
        var prevGroupOfLane: [Int: Int] = [:]
        for (k, a) in prev.enumerated() {
            for lane in g.atoms[a].first..<(g.atoms[a].first + g.atoms[a].width) { prevGroupOfLane[lane] = k }
        }
        var forms = [LinearForm?](repeating: nil, count: program.nodes.count)
        var budget = CompilerLimits.maxFusionWork
        var stored = 0
        for (i, node) in program.nodes.enumerated() where live[i] {
            // A state's new value, computed (not a leaf), is read from its layer's output by
            // values that feed only later groups' layers (so no layer waits on a later one);
            // others recompute it, as A s_{t-1} + v, from the lanes it is made of.
            func operand(_ id: ValueID) -> LinearForm {
                if !program.nodes[id.index].op.isLeaf, let s = nextOf[id.index]?.first, let k = groupOf[s], earliest[i] > k {
                    return .lanes(g.atoms[cur[k]].first + laneOffset[s]!, count: program.nodes[id.index].size)
                }
                return forms[id.index]!
            }
            switch node.op {
            case .input(let k):
                forms[i] = .lanes(g.atoms[input].first + inputOffsets[k], count: node.size)
            case .stateRead(let s):
                forms[i] = .lanes(g.atoms[prev[groupOf[s]!]].first + laneOffset[s]!, count: node.size)
            case .constant(let values):
                forms[i] = .constant(values)
            case .affine(let w, let bias, let x):
                let input = operand(x)
                // Checked before the product is formed: at most rows x lanes read coefficients.
                guard stored + w.rows * input.lanesRead.count <= maxStoredEntries else {
                    throw .tooLarge("its affine maps compose into more than \(maxStoredEntries) coefficients")
                }
                forms[i] = try input.transformed(by: w, bias: bias, budget: &budget)
            case .concat(let parts):
                forms[i] = .concat(parts.map(operand))
            case .slice(let x, let start):
                forms[i] = operand(x).slice(start, count: node.size)
            case .gather:
                throw .unsupported("an embedding lookup reads a table by a token id; the chain's layers are affine and element-wise", at: node.range)
            case .elementwise(let op, let xs):
                forms[i] = elementwise(op, xs.map(operand), width: node.size, graph: &g)
            }
            // Not a value on a group's own recurrence (it reads the previous value of a group it
            // feeds): its layer would wait on that group's, which waits on it.
            if scaled[i] >= ChainGraph.exactProductLimit,
               forms[i]!.lanesRead.allSatisfy({ lane in prevGroupOfLane[lane].map { $0 < earliest[i] } ?? true }) {
                forms[i] = g.materialize(forms[i]!)
            }
            stored += forms[i]!.rows.reduce(0) { $0 + $1.count }
            guard stored <= maxStoredEntries else {
                throw .tooLarge("its affine maps compose into more than \(maxStoredEntries) coefficients")
            }
        }
        for (k, group) in groups.enumerated() {
            let value = LinearForm.concat(group.states.map { forms[program.states[$0].next.index]! })
            try addStateLayer(group, value: value, cur: cur[k], prev: prev[k], program: program, graph: &g)
        }
        // Outputs feed no state: they read every new value from its layer.
        var outputs: [LinearForm] = []
        for id in program.outputs {
            if !program.nodes[id.index].op.isLeaf, let s = nextOf[id.index]?.first, let k = groupOf[s] {
                outputs.append(.lanes(g.atoms[cur[k]].first + laneOffset[s]!, count: program.nodes[id.index].size))
            } else {
                outputs.append(forms[id.index]!)
            }
        }
        g.outputs = .concat(outputs)
        return g
    }

    /// For each node, the largest constant factor a reader multiplies it by (an affine map's
    /// entry, or a constant in a product).
    static func largestFactorApplied(_ program: IRProgram) -> [Double] {
        var factor = [Double](repeating: 0, count: program.nodes.count)
        for node in program.nodes {
            switch node.op {
            case .affine(let w, _, let x):
                factor[x.index] = max(factor[x.index], w.columnMagnitudes().max() ?? 0)
            case .elementwise(let op, let xs) where op.kind == .mul && xs.count == 2:
                for (a, b) in [(xs[0], xs[1]), (xs[1], xs[0])] {
                    if case .constant(let values) = program.nodes[b.index].op {
                        factor[a.index] = max(factor[a.index], values.map(abs).max() ?? 0)
                    }
                }
            default: break
            }
        }
        return factor
    }

    /// For each node, the first group (in dependency order) whose new value it feeds; the
    /// group count for nodes that feed none.
    static func earliestGroupFed(_ program: IRProgram, groupOf: [Int: Int], live: [Bool]) -> [Int] {
        var earliest = [Int](repeating: Int.max, count: program.nodes.count)
        for (s, state) in program.states.enumerated() {
            if let k = groupOf[s] { earliest[state.next.index] = min(earliest[state.next.index], k) }
        }
        for i in program.nodes.indices.reversed() where live[i] {
            for operand in program.nodes[i].op.operands { earliest[operand.index] = min(earliest[operand.index], earliest[i]) }
        }
        return earliest
    }

    /// An element-wise op's form: linear ones (`+`, a product with a constant) compose,
    /// constants fold, anything else is a new nonlinear node whose output is a new atom.
    static func elementwise(_ op: ElementwiseOp, _ xs: [LinearForm], width: Int, graph g: inout ChainGraph) -> LinearForm {
        if op.kind == .add { return xs[0].adding(xs[1]) }
        if xs.allSatisfy(\.isConstant) {
            return .constant((0..<width).map { op.apply(xs[0].bias[$0], xs.count > 1 ? xs[1].bias[$0] : 0) })
        }
        if op.kind == .mul, let k = xs.firstIndex(where: \.isConstant) {
            return xs[1 - k].scaled(xs[k].bias)
        }
        let atom = g.atom(width: width)
        g.nodes.append(ChainGraph.Node(kind: xs.count == 1 ? .unary(op) : .binary(op), inputs: xs, output: atom))
        return g.form(of: atom)
    }

    /// The layer of one group: `A` from its new value's coefficients on its previous value,
    /// and the rest as the layer's input.
    static func addStateLayer(_ group: StateRecurrence, value: LinearForm, cur: Int, prev: Int, program: IRProgram,
                              graph g: inout ChainGraph) throws(LayerChainError) {
        let (curFirst, prevFirst, width) = (g.atoms[cur].first, g.atoms[prev].first, g.atoms[cur].width)
        var transition = [[Int: Double]](repeating: [:], count: width)
        var input = LinearForm.constant(value.bias)
        for r in 0..<width {
            for (l, c) in value.rows[r] {
                if l >= prevFirst && l < prevFirst + width {
                    transition[r][l - prevFirst] = c
                } else if l >= curFirst && l < curFirst + width {
                    // Values that feed a group's layer never read its output (`earliestGroupFed`).
                    throw .unsupported("internal: the new value of \(group.states.map { program.states[$0].name }.joined(separator: ", ")) reads itself")
                } else {
                    input.rows[r][l] = c
                }
            }
        }
        let initial = group.states.flatMap { program.states[$0].initial }
        g.nodes.append(ChainGraph.Node(kind: .state, inputs: [input], output: cur, transition: transition, initial: initial, previous: prev))
    }
}
