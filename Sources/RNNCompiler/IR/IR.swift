import RNNOps
import RNNRuntime

/// Identifies one value (node) of an IR program.
package struct ValueID: Hashable, Sendable, CustomStringConvertible {
    package let index: Int
    package var description: String { "%\(index)" }
}

/// The primitive operations of the IR. Every value is a vector of `IRNode.size` Float64s.
package enum IROp: Sendable, Equatable {
    /// The `n`-th model input at the current step.
    case input(Int)
    /// The value of state `n` at the previous step (its initial value at step 1).
    case stateRead(Int)
    case constant([Double])
    /// `W x + b`, W dense or sparse.
    case affine(WeightMatrix, bias: [Double]?, ValueID)
    /// An op of the op table applied element-wise to operands of the node's size (`+`, the
    /// multiplicative gate `*`, activations, `max`, ...).
    case elementwise(ElementwiseOp, [ValueID])
    case concat([ValueID])
    case slice(ValueID, start: Int)
    /// Row `id` of a constant table, where `id` is the one value of a token input
    /// (`E[token]`: an embedding lookup). The node's size is the table's column count.
    case gather(WeightMatrix, ValueID)

    package static func add(_ a: ValueID, _ b: ValueID) -> IROp { .elementwise(.add, [a, b]) }
    package static func mul(_ a: ValueID, _ b: ValueID) -> IROp { .elementwise(.mul, [a, b]) }
    package static func unary(_ kind: ElementwiseKind, _ x: ValueID) -> IROp { .elementwise(ElementwiseOp(kind), [x]) }

    /// The two operands when this is a binary op of `kind`.
    package func binary(_ kind: ElementwiseKind) -> (ValueID, ValueID)? {
        guard case .elementwise(let op, let xs) = self, op.kind == kind, xs.count == 2 else { return nil }
        return (xs[0], xs[1])
    }

    /// Inputs, state reads and constants: values that no instruction computes.
    package var isLeaf: Bool {
        switch self {
        case .input, .stateRead, .constant: return true
        default: return false
        }
    }

    package var operands: [ValueID] {
        switch self {
        case .input, .stateRead, .constant: return []
        case .affine(_, _, let x), .slice(let x, _), .gather(_, let x): return [x]
        case .elementwise(_, let xs), .concat(let xs): return xs
        }
    }
}

package struct IRNode: Sendable {
    package var op: IROp
    package var size: Int
    /// Where the value came from in the source (for dumps and error messages).
    package var range: SourceRange?
}

package struct IRInput: Sendable {
    package var name: String
    package var size: Int
    /// For a token input (`input token: 0..<V`): `V`; its size is 1.
    package var vocabulary: Int? = nil
    /// The values the source declares the input takes (`in [0, 1]`, `in {0, 1}`); nil for
    /// any value. A token input's are its ids.
    package var domain: InputDomainValues? = nil

    /// The declared values, a token input's ids included.
    package var declaredValues: InputDomainValues? {
        if let vocabulary { return .interval(lower: [0], upper: [Double(vocabulary - 1)]) }
        return domain
    }

    /// As `rnnc check` prints it: `x: [4]`, `token: 0..<50280`.
    package var signature: String { Port(name: name, size: size, vocabulary: vocabulary).signature }
}

/// The values an input promises to take, element by element.
package enum InputDomainValues: Sendable, Equatable, CustomStringConvertible {
    /// Each element `i` in `[lower[i], upper[i]]`.
    case interval(lower: [Double], upper: [Double])
    /// Every element one of these values (sorted, distinct).
    case set([Double])

    /// `in [0, 1]`, `in {0, 1}` (bounds that differ by element are shown as ranges of them).
    package var description: String {
        func text(_ v: [Double]) -> String {
            let distinct = Set(v)
            if distinct.count == 1 { return Self.number(v[0]) }
            return "\(Self.number(v.min()!))..\(Self.number(v.max()!))"
        }
        switch self {
        case .interval(let lo, let hi): return "in [\(text(lo)), \(text(hi))]"
        case .set(let values): return "in {" + values.map(Self.number).joined(separator: ", ") + "}"
        }
    }

    /// `1`, `0.25`, `1e+10`: integers without a fraction, others as Swift prints them.
    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }

    /// Each element's smallest and largest value.
    package func bounds(size: Int) -> (lower: [Double], upper: [Double]) {
        switch self {
        case .interval(let lo, let hi): return (lo, hi)
        case .set(let values): return ([Double](repeating: values.first!, count: size), [Double](repeating: values.last!, count: size))
        }
    }
}

/// A state of the program: `next` is its value at the end of each step.
package struct IRState: Sendable {
    /// Qualified name: `count` in a model, `larger#2.s` for a state declared in an inlined call.
    public var name: String
    package var size: Int
    package var initial: [Double]
    package var next: ValueID
    package var range: SourceRange?
    /// The source's states this one holds, one after another, when the optimizer merged
    /// several into it (`StateMerging`); nil when it is one source state, `name`.
    package var parts: [Port]? = nil
    /// `[m, n]` for a matrix state (its `size` elements are the matrix row by row); nil for
    /// a vector.
    package var matrixShape: [Int]? = nil

    /// The shape the source declares: `[size]`, or `matrixShape`.
    package var shape: [Int] { matrixShape ?? [size] }

    /// The source's states this one holds.
    package var sourceStates: [Port] { parts ?? [Port(name: name, size: size, matrixShape: matrixShape)] }
}

/// One entry of the program's weights table: a param bound at compile time. Its values live
/// in the weight matrices made from it, which carry its name (`WeightMatrix.name`).
public struct IRParam: Sendable {
    /// Where a param's values came from.
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        /// A tensor of the weights file at this path (`--weights`).
        case weightsFile(String)
        /// Its initializer in the source (`param W: [2, 2] = eye(2)`).
        case source

        /// Where the values came from, as `rnnc check` prints it.
        public var description: String {
            switch self {
            case .weightsFile(let path): return "weights" + (path.isEmpty ? "" : " (\(path))")
            case .source: return "initializer"
            }
        }
    }

    /// The param's name in the source.
    public var name: String
    /// Its shape as declared (`[rows, cols]` for a matrix).
    public var shape: [Int]
    /// The dtype of the tensor it was read from (F64 for an initializer).
    public var dtype: DType
    /// Where its values came from.
    public var origin: Origin
    /// Its values, row-major.
    public var values: [Double]
}

/// A call of one of the stdlib's standard cells (`cells.gru`'s `gru`), as elaborated, so an
/// exporter may emit an engine's own op for it (ONNX's `GRU`): the cell's input and returned
/// value, its states (in declaration order: `h`, then `c` for an LSTM) and its weights as
/// bound (`W_ih`, `W_hh`, `b_ih`, `b_hh`, in PyTorch's gate order).
package struct CellCall: Sendable {
    package enum Kind: String, Sendable {
        case gru, lstm, elman, elmanRelu = "elman_relu"
    }

    package var kind: Kind
    package var input: ValueID
    package var output: ValueID
    package var states: [Int]
    package var weights: [Tensor]

    /// The cell a stdlib function is, by its module and name.
    static func kind(module: String, function: String) -> Kind? {
        switch (module, function) {
        case ("cells.gru", "gru"): .gru
        case ("cells.lstm", "lstm"): .lstm
        case ("cells.rnn", "elman"): .elman
        case ("cells.rnn", "elman_relu"): .elmanRelu
        default: nil
        }
    }
}

/// Which params an elaborated node's compile-time data is (for exporters that keep params
/// trainable). An affine node's `weight` is its matrix's origin — or, when the matrix is the
/// diagonal of a vector (`x * b`), that vector's — and `bias` its bias's; a constant node's
/// `weight` is its vector's. Nil where the data was computed from a param by more than
/// slicing (`2 * W`), or comes from no param.
package struct ParamUse: Sendable, Equatable {
    package var weight: ParamSlice?
    package var bias: ParamSlice?

    package init(weight: ParamSlice? = nil, bias: ParamSlice? = nil) {
        self.weight = weight
        self.bias = bias
    }
}

/// One model as a typed dataflow graph. Nodes are in topological order: every operand
/// precedes its user. The output at each step is the concatenation of `outputs`.
package struct IRProgram: Sendable {
    package var modelName: String
    package var inputs: [IRInput]
    package var states: [IRState]
    package var params: [IRParam]
    package var nodes: [IRNode]
    package var outputs: [ValueID]
    /// The params each node's data is, by node index, as elaborated. Passes that rewrite
    /// nodes drop it (the optimized IR folds params together).
    package var paramUses: [Int: ParamUse] = [:]
    /// The standard cells called, as elaborated; passes that rewrite nodes drop them.
    package var cells: [CellCall] = []
    /// Each output's expression in the source (as many as `outputs` when elaborated from one).
    package var outputRanges: [SourceRange] = []
    /// How its compile-time Doubles were made, when elaborated for exact mode.
    package var exactConstants: ExactConstants?

    package subscript(id: ValueID) -> IRNode { nodes[id.index] }

    package var inputWidth: Int { inputs.reduce(0) { $0 + $1.size } }
    /// The inputs as a step program declares them (for checking token ids).
    package var inputPorts: [Port] { inputs.map { Port(name: $0.name, size: $0.size, vocabulary: $0.vocabulary) } }
    package var outputWidth: Int { outputs.reduce(0) { $0 + nodes[$1.index].size } }

    /// For each node, whether an output or a state's new value depends on it (nodes are in
    /// topological order, so one backward sweep finds them).
    package func liveNodes() -> [Bool] {
        var live = [Bool](repeating: false, count: nodes.count)
        for id in outputs + states.map(\.next) { live[id.index] = true }
        for i in nodes.indices.reversed() where live[i] {
            for operand in nodes[i].op.operands { live[operand.index] = true }
        }
        return live
    }
}
