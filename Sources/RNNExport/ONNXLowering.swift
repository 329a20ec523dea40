import RNNOps
import RNNRuntime

/// Lowers a step program's instructions to ONNX nodes. A slot's value is a tensor whose last
/// axis holds the slot's elements; its leading axes are the batch (`[B]`, in the step graph
/// and in a `Loop` body) or time and batch (`[T, B]`, work hoisted out of the recurrence).
/// Every instruction acts on the last axis, so one lowering serves all three.
final class ONNXLowering {
    let graph: ONNXGraph
    let program: StepProgram
    private let matrixNames: [String]
    private let vectorNames: [String]
    private var weights: [Int: String] = [:]
    private var tables: [Int: String] = [:]
    private var vectors: [Int: String] = [:]

    init(_ program: StepProgram, graph: ONNXGraph) {
        self.program = program
        self.graph = graph
        (matrixNames, vectorNames) = Artifact.tensorNames(program)
    }

    /// Matrix `m` as the right operand of `MatMul` (`x Wᵀ`): stored transposed, `[cols, rows]`,
    /// under the artifact's name for it.
    func weight(_ m: Int) -> String {
        if let name = weights[m] { return name }
        let w = program.matrices[m]
        let dense = w.denseValues()
        var t = [Double](repeating: 0, count: dense.count)
        for r in 0..<w.rows { for c in 0..<w.cols { t[c * w.rows + r] = dense[r * w.cols + c] } }
        let name = graph.initializer(matrixNames[m], t, shape: [w.cols, w.rows])
        weights[m] = name
        return name
    }

    /// Matrix `m` as a `Gather` table, `[rows, cols]` as stored.
    func table(_ m: Int) -> String {
        if let name = tables[m] { return name }
        let w = program.matrices[m]
        let name = graph.initializer(matrixNames[m], w.denseValues(), shape: [w.rows, w.cols])
        tables[m] = name
        return name
    }

    /// Vector `v` (a bias, constant or initial state), under the artifact's name for it.
    func vector(_ v: Int) -> String {
        if let name = vectors[v] { return name }
        let name = graph.initializer(vectorNames[v], program.vectors[v], shape: [program.vectors[v].count])
        vectors[v] = name
        return name
    }

    /// A 1-D int64 tensor: the leading dimensions followed by `size`.
    func shape(lead: String, _ size: Int) -> String {
        graph.node("Concat", [lead, graph.int64s([size])], attributes: [.int("axis", 0)], hint: "shape")
    }

    /// A constant slot's vector, repeated over the leading dimensions (concatenations and
    /// slices need the full shape; element-wise ops would broadcast it anyway).
    func constant(_ c: ConstantSlot, lead: String) -> String {
        graph.node("Expand", [vector(c.vector), shape(lead: lead, program.slotSizes[c.slot])], hint: "constant")
    }

    /// Emits instruction `i`, reading and updating the slots' current tensors.
    func emit(_ i: Int, _ values: inout [Int: String]) throws(ExportError) {
        let ins = program.instructions[i]
        var operands: [String] = []
        for s in ins.operands {
            guard let v = values[s] else { throw ExportError("instruction \(i) reads slot \(s), which has no value here") }
            operands.append(v)
        }
        let hint = "s\(ins.destination)"
        switch ins {
        case .affine(_, _, let m, let bias, let epilogue):
            var v = graph.node("MatMul", [operands[0], weight(m)], hint: hint)
            if let bias { v = graph.node("Add", [v, vector(bias)], hint: hint) }
            if let epilogue { v = spell(epilogue, x: v, y: nil) }
            values[ins.destination] = v
        case .elementwise(let op, _, _, _):
            values[ins.destination] = spell(op, x: operands[0], y: operands.count > 1 ? operands[1] : nil)
        case .concat:
            values[ins.destination] = operands.count == 1
                ? graph.node("Identity", operands, hint: hint)
                : graph.node("Concat", operands, attributes: [.int("axis", -1)], hint: hint)
        case .slice(let dst, _, let start):
            let end = start + program.slotSizes[dst]
            values[dst] = graph.node("Slice", [operands[0], graph.int64s([start]), graph.int64s([end]), graph.int64s([-1])], hint: hint)
        case .gather(let dst, _, let m):
            // The id arrives as a float `[..., 1]`; ids were checked by the caller's data.
            let ids = graph.node("Cast", [operands[0]], attributes: [.int("to", Int(Onnx_TensorProto.DataType.int64.rawValue))], hint: "ids")
            let squeezed = graph.node("Squeeze", [ids, graph.int64s([-1])], hint: "ids")
            values[dst] = graph.node("Gather", [table(m), squeezed], attributes: [.int("axis", 0)], hint: hint)
        }
    }

    /// An op as its table entry spells it in ONNX.
    func spell(_ op: ElementwiseOp, x: String, y: String?) -> String {
        func build(_ s: ONNXSpelling) -> String {
            switch s {
            case .x: return x
            case .y: return y ?? x
            case .constant(let c): return graph.scalar(c)
            case .attribute(let k): return graph.scalar(op.attributes[k])
            case .node("Erf", let inputs) where graph.elementType == .double:
                return ONNXErf.emit(build(inputs[0]), graph)
            case .node(let name, let inputs):
                return graph.node(name, inputs.map(build), hint: op.name)
            }
        }
        return build(op.entry.export.onnx)
    }
}
