import RNNOps
import RNNRuntime

/// An IR program as a Graphviz graph (`rnnc graph`): one node per value that reaches an
/// output or a state, edges from operands to their users, and each state a loop from its
/// new value back to its read, coloured by its recurrence class. Constants and weight
/// matrices are summarised by shape and sparsity, never printed.
package enum Graphviz {
    /// Fill colours of the recurrence classes (and of inputs, outputs and constants).
    static func colour(_ kind: RecurrenceClass) -> String {
        switch kind {
        case .affine: return "#cfe2ff"
        case .diagonal: return "#d3f2dc"
        case .linear: return "#fde8c8"
        case .nonlinear: return "#ffd8d8"
        }
    }

    static let inputColour = "#fff3bf"
    static let outputColour = "#e9ecef"
    static let constantColour = "#f8f9fa"

    package static func dot(_ program: IRProgram) -> String {
        let classes = stateClasses(program)
        let live = program.liveNodes()
        var out = ["digraph \(quote(program.modelName)) {"]
        out.append("  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, labelloc=t, label=\(quote("model \(program.modelName)"))];")
        out.append("  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=white];")
        out.append("  edge [color=\"#555555\", arrowsize=0.6];")
        for (i, node) in program.nodes.enumerated() where live[i] {
            out.append("  n\(i) [\(attributes(node, program: program, classes: classes))];")
        }
        for (i, node) in program.nodes.enumerated() where live[i] {
            for operand in node.op.operands { out.append("  n\(operand.index) -> n\(i);") }
        }
        for (k, output) in program.outputs.enumerated() {
            let size = program[output].size
            out.append("  out\(k) [label=\(quote("output \(k)\n[\(size)]")), shape=house, fillcolor=\(quote(outputColour))];")
            out.append("  n\(output.index) -> out\(k);")
        }
        // A state's new value feeds its read at the next step: a back edge, kept out of
        // the ranking so the graph still flows from inputs to outputs.
        for (s, state) in program.states.enumerated() {
            // A state whose previous value nothing reads has no loop to draw.
            guard let read = program.nodes.firstIndex(where: { $0.op == .stateRead(s) }), live[read] else { continue }
            let colour = classes[s].map { darker($0) } ?? "#555555"
            out.append("  n\(state.next.index) -> n\(read) [style=dashed, color=\(quote(colour)), penwidth=1.5, constraint=false, label=\" t+1\", fontsize=9];")
        }
        out += legend(Set(classes.compactMap { $0 }))
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: Nodes

    private static func attributes(_ node: IRNode, program: IRProgram, classes: [RecurrenceClass?]) -> String {
        switch node.op {
        case .input(let k):
            let input = program.inputs[k]
            let type = input.vocabulary.map { "0..<\($0)" } ?? "[\(input.size)]"
            return "label=\(quote("input \(input.name)\n\(type)")), shape=invhouse, fillcolor=\(quote(inputColour))"
        case .stateRead(let s):
            let state = program.states[s]
            let kind = classes[s]
            let label = "state \(state.name)\n\(Tensor.describe(state.shape))" + (kind.map { "\n\($0.rawValue)" } ?? "")
            return "label=\(quote(label)), shape=box, style=\"filled,bold\", fillcolor=\(quote(kind.map(colour) ?? "white"))"
        case .constant(let values):
            return "label=\(quote("constant [\(values.count)]\n\(summary(values))")), shape=note, fillcolor=\(quote(constantColour))"
        case .affine(let w, let bias, _):
            var label = affineSummary(w)
            if let bias, bias.contains(where: { $0 != 0 }) {
                let b = summary(bias)
                let added = b.hasPrefix("= ") ? "+ " + b.dropFirst(2) : "+ bias " + b
                label = label == "× 1" ? added : label + "\n" + added
            }
            return "label=\(quote(label))"
        case .elementwise(let op, _):
            let label = op.kind == .mul ? "× (gate)" : op.kind == .add ? "+" : op.description
            return "label=\(quote("\(label)\n[\(node.size)]")), shape=ellipse"
        case .concat(let parts):
            return "label=\(quote("concat \(parts.count)\n[\(node.size)]")), shape=trapezium"
        case .slice(_, let start):
            return "label=\(quote("slice [\(start):\(start + node.size)]")), shape=invtrapezium"
        case .gather(let w, _):
            return "label=\(quote("embedding\n\(w.rows) × \(w.cols)" + (w.name.map { "\n\($0)" } ?? ""))), shape=box3d"
        }
    }

    /// `× 1000` for a scaling by one number, `× diag [4]` for a diagonal, else the matrix's
    /// shape and sparsity (`W 64 × 32 dense`, `W 3 × 3 sparse, 3 non-zeros (33%)`), with
    /// the params it came from.
    static func affineSummary(_ w: WeightMatrix) -> String {
        var text: String
        if let d = diagonal(w) {
            text = Set(d).count == 1 ? "× \(formatNumber(d[0]))" : "× diag [\(d.count)] \(summary(d))"
        } else {
            text = "W \(w.rows) × \(w.cols) "
            switch w.storage {
            case .dense: text += "dense"
            case .sparse(_, _, let values):
                let percent = (Double(values.count) * 100 / Double(max(1, w.rows * w.cols))).rounded()
                text += "sparse, \(values.count) non-zero\(values.count == 1 ? "" : "s") (\(formatNumber(percent))%)"
            }
        }
        if let name = w.name { text += "\n" + (name.count > 60 ? String(name.prefix(57)) + "..." : name) }
        return text
    }

    /// The diagonal of a square matrix that has entries only there (nil otherwise).
    static func diagonal(_ w: WeightMatrix) -> [Double]? {
        guard w.rows == w.cols else { return nil }
        var d = [Double](repeating: 0, count: w.rows)
        switch w.storage {
        case .dense(let values):
            for r in 0..<w.rows {
                for c in 0..<w.cols where values[r * w.cols + c] != 0 {
                    guard r == c else { return nil }
                    d[r] = values[r * w.cols + c]
                }
            }
        case .sparse(let offsets, let columns, let values):
            for r in 0..<w.rows {
                for k in offsets[r]..<offsets[r + 1] where values[k] != 0 {
                    guard columns[k] == r else { return nil }
                    d[r] = values[k]
                }
            }
        }
        return d
    }

    /// `= 0`, `in [-1, 3]`: what a constant vector holds, without its values.
    static func summary(_ values: [Double]) -> String {
        guard let low = values.min(), let high = values.max() else { return "empty" }
        return low == high ? "= \(formatNumber(low))" : "in [\(formatNumber(low)), \(formatNumber(high))]"
    }

    // MARK: Structure

    /// The recurrence class of each state (nil for a state no analysis group holds).
    static func stateClasses(_ program: IRProgram) -> [RecurrenceClass?] {
        var classes = [RecurrenceClass?](repeating: nil, count: program.states.count)
        for group in RecurrenceAnalysis.analyze(program) {
            for s in group.states { classes[s] = group.kind }
        }
        return classes
    }

    private static func legend(_ present: Set<RecurrenceClass>) -> [String] {
        let kinds = RecurrenceClass.allCases.filter(present.contains)
        guard !kinds.isEmpty else { return [] }
        var out = ["  subgraph cluster_legend {", "    label=\"recurrence classes\"; fontsize=9; style=dashed; color=\"#aaaaaa\";"]
        for (k, kind) in kinds.enumerated() {
            out.append("    legend\(k) [label=\(quote(kind.rawValue)), shape=box, style=\"filled,bold\", fillcolor=\(quote(colour(kind))), fontsize=9];")
        }
        out.append("  }")
        return out
    }

    private static func darker(_ kind: RecurrenceClass) -> String {
        switch kind {
        case .affine: return "#1f5fbf"
        case .diagonal: return "#1e8a44"
        case .linear: return "#d35400"
        case .nonlinear: return "#c0392b"
        }
    }

    /// A DOT string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for c in text {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
