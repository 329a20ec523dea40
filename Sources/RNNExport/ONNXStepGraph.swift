import RNNRuntime

/// The step form: one time step over a batch, states in and next states out.
struct StepGraph {
    let lowering: ONNXLowering

    init(_ lowering: ONNXLowering) { self.lowering = lowering }

    func build() throws(ExportError) -> Onnx_GraphProto {
        let (graph, program) = (lowering.graph, lowering.program)
        let names = PublicNames(program, graph, resultSuffix: ".next")
        var values: [Int: String] = [:]
        lowering.bindInputs(names.x, &values)
        let lead = lowering.leadingDimensions(of: names.x)
        for c in program.constants { values[c.slot] = lowering.constant(c, lead: lead) }
        var inputs = [graph.valueInfo(names.x, [.symbol("B"), .size(program.inputWidth)])]
        var defaults: [Onnx_TensorProto] = []
        for (k, state) in program.states.enumerated() {
            let (info, initial) = lowering.stateInput(k, name: names.states[k])
            inputs.append(info)
            defaults.append(initial)
            values[state.slot] = graph.node("Expand", [names.states[k], lowering.shape(lead: lead, info.size)], hint: state.name)
        }
        for i in program.instructions.indices { try lowering.emit(i, &values) }
        graph.node("Identity", [try lowering.outputs(values, lead: lead)], output: names.y)
        var outputs = [graph.valueInfo(names.y, [.symbol("B"), .size(program.outputWidth)])]
        for (k, state) in program.states.enumerated() {
            guard let next = values[state.update] else { throw ExportError("state '\(state.name)' has no next value") }
            graph.node("Identity", [next], output: names.results[k])
            outputs.append(graph.valueInfo(names.results[k], [.symbol("B"), .size(program.slotSizes[state.slot])]))
        }
        return Onnx_GraphProto.with {
            $0.node = graph.nodes
            $0.initializer = defaults + graph.initializers
            $0.input = inputs
            $0.output = outputs
        }
    }
}

extension Onnx_ValueInfoProto {
    /// The last dimension's size.
    var size: Int { Int(type.tensorType.shape.dim.last?.dimValue ?? 0) }
}
