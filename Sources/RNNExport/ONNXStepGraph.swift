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
        let states = lowering.stateInputs(names, batch: lead)
        for (state, value) in zip(program.states, states.values) { values[state.slot] = value }
        for i in program.instructions.indices { try lowering.emit(i, &values) }
        var next: [String] = []
        for state in program.states {
            guard let v = values[state.update] else { throw ExportError("state '\(state.name)' has no next value") }
            next.append(v)
        }
        return lowering.graphProto(names, x: [.symbol("B"), .size(program.inputWidth)], y: try lowering.outputs(values, lead: lead),
                                   yDims: [.symbol("B"), .size(program.outputWidth)], results: next, states: states)
    }
}

extension Onnx_ValueInfoProto {
    /// The last dimension's size.
    var size: Int { Int(type.tensorType.shape.dim.last?.dimValue ?? 0) }
}
