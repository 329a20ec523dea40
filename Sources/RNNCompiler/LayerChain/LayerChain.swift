import RNNOps
import RNNRuntime

/// A program as one chain of standard layers, each reading only the previous layer's
/// output (LSRL's debranched form, `rnnc compile --target layers`). The input is the
/// model's inputs concatenated; the last layer's output is its outputs concatenated.
///
/// Element-wise layers act on the leading lanes and pass the others through unchanged, so
/// values a later layer needs ride along without the `relu(x) - relu(-x)` split LSRL uses;
/// a state layer passes lanes through as states with a zero row of `A`.
package struct LayerChain: Sendable {
    package enum Layer: Sendable {
        /// `W v + b`.
        case affine(WeightMatrix, bias: [Double])
        /// `[op(v[0..<lanes]), v[lanes...]]` for a unary op of the op table (`relu`).
        case elementwise(ElementwiseOp, lanes: Int, width: Int)
        /// `[op(v[0..<lanes], v[lanes..<2 lanes]), v[2 lanes...]]` for a binary op (`mul`:
        /// the multiplicative gate, `max`, `min`); `lanes` fewer lanes come out than go in.
        case binary(ElementwiseOp, lanes: Int, width: Int)
        /// A linear state `s_t = A s_{t-1} + v_t` (LSRL's LinState with `B = I`; the layer
        /// before it applies `B` and the bias), starting from `initial`. `A` is block
        /// diagonal over the program's state groups, with rows that copy a group's previous
        /// value where a later layer reads it, and zero rows for lanes passed through.
        case state(transition: WeightMatrix, initial: [Double])

        package var inputWidth: Int {
            switch self {
            case .affine(let w, _): return w.cols
            case .elementwise(_, _, let width), .binary(_, _, let width): return width
            case .state(let a, _): return a.cols
            }
        }

        package var outputWidth: Int {
            switch self {
            case .binary(_, let lanes, let width): return width - lanes
            case .affine(let w, _): return w.rows
            default: return inputWidth
            }
        }

        /// `affine`, `relu [4 of 10]`, `mul [2 of 7]`, `state`.
        package var kind: String {
            switch self {
            case .affine: return "affine"
            case .elementwise(let op, let lanes, let width), .binary(let op, let lanes, let width):
                return "\(op) [\(lanes) of \(width)]"
            case .state: return "state"
            }
        }

        /// Stored numbers: matrix entries (dense: all, sparse: the non-zeros), biases and
        /// initial values.
        package var parameters: Int {
            switch self {
            case .affine(let w, let b): return Self.stored(w) + b.count
            case .state(let a, let initial): return Self.stored(a) + initial.count
            case .elementwise, .binary: return 0
            }
        }

        /// Non-zero numbers among the parameters.
        package var nonZeros: Int {
            switch self {
            case .affine(let w, let b): return Self.nonZeros(w) + b.filter { $0 != 0 }.count
            case .state(let a, let initial): return Self.nonZeros(a) + initial.filter { $0 != 0 }.count
            case .elementwise, .binary: return 0
            }
        }

        static func stored(_ w: WeightMatrix) -> Int {
            switch w.storage {
            case .dense(let v): return v.count
            case .sparse(_, _, let v): return v.count
            }
        }

        static func nonZeros(_ w: WeightMatrix) -> Int {
            switch w.storage {
            case .dense(let v), .sparse(_, _, let v): return v.filter { $0 != 0 }.count
            }
        }
    }

    package var modelName: String
    package var inputWidth: Int
    package var layers: [Layer]

    package var outputWidth: Int { layers.last?.outputWidth ?? inputWidth }
    /// The widest vector between two layers (the input and output included).
    package var width: Int { layers.reduce(inputWidth) { max($0, $1.outputWidth) } }
    package var parameters: Int { layers.reduce(0) { $0 + $1.parameters } }
    package var nonZeros: Int { layers.reduce(0) { $0 + $1.nonZeros } }

    /// The report `--emit layers` prints: one line per layer, then the totals.
    package var report: String {
        var lines = ["layer chain of model \(modelName): \(layers.count) layers, input \(inputWidth), output \(outputWidth), widest \(width), \(parameters) parameters (\(nonZeros) non-zero)"]
        lines.append("  layer  kind                     in -> out   parameters   non-zeros")
        for (k, layer) in layers.enumerated() {
            let kind = layer.kind.padding(toLength: max(22, layer.kind.count), withPad: " ", startingAt: 0)
            let widths = "\(layer.inputWidth) -> \(layer.outputWidth)".padding(toLength: 11, withPad: " ", startingAt: 0)
            lines.append("  \(String(k).padding(toLength: 5, withPad: " ", startingAt: 0))  \(kind)   \(widths)  \(String(layer.parameters).padding(toLength: 11, withPad: " ", startingAt: 0))  \(layer.nonZeros)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
