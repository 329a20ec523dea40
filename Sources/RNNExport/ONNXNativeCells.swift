import Foundation
import RNNCompiler
import RNNRuntime

/// ONNX with the engine's own recurrent ops: each call of a stdlib cell (`gru`, `lstm`,
/// `elman`, `elman_relu`) becomes ONNX's `GRU`, `LSTM` or `RNN` over the whole sequence (or
/// one step), its weights re-laid out in ONNX's gate order; everything else is lowered as in
/// the plain export, over all time steps at once. Made from the elaborated program, where the
/// cells' calls are known; every state must belong to such a call.
struct NativeCellGraph {
    let lowering: ONNXLowering
    let ir: IRProgram
    let cells: [Cell]
    let form: ONNXExporter.Form

    /// A cell call with its slots in the lowered program.
    struct Cell {
        var call: CellCall
        var input: Int
        var output: Int
        var stateSlots: [Int]
        var name: String
    }

    init(_ ir: IRProgram, form: ONNXExporter.Form, graph: ONNXGraph) throws(ExportError) {
        let lowered = StepLowering.lowerWithMap(ir)
        let program = lowered.program
        var owner: [Int: Int] = [:]
        var cells: [Cell] = []
        for call in ir.cells {
            let stateSlots = call.states.map { program.states[$0].slot }
            let name = ir.states[call.states[0]].name.split(separator: ".").dropLast().joined(separator: ".")
            for s in call.states { owner[s] = cells.count }
            cells.append(Cell(call: call, input: lowered.slotOfNode[call.input.index], output: lowered.slotOfNode[call.output.index],
                              stateSlots: stateSlots, name: name.isEmpty ? call.kind.rawValue : name))
        }
        if let k = ir.states.indices.first(where: { owner[$0] == nil }) {
            throw ExportError("--onnx-native-cells: state '\(ir.states[k].name)' is not a state of a stdlib cell (gru, lstm, elman); export without the flag")
        }
        self.lowering = ONNXLowering(program, graph: graph)
        self.ir = ir
        self.cells = cells
        self.form = form
    }

    func build() throws(ExportError) -> Onnx_GraphProto {
        let (graph, program) = (lowering.graph, lowering.program)
        let suffix = form == .step ? ".next" : ".final"
        let names = PublicNames(program, graph, resultSuffix: suffix)
        // Time-major for sequences, so a cell's input is ONNX's [T, B, n] as it is.
        let x = form == .step ? names.x : graph.node("Transpose", [names.x], attributes: [.ints("perm", [1, 0, 2])], hint: "x_time_major")
        var values: [Int: String] = [:]
        lowering.bindInputs(x, &values)
        let lead = lowering.leadingDimensions(of: x)
        let batch = form == .step ? lead : graph.node("Slice", [lead, graph.int64s([1]), graph.int64s([2])], hint: "batch")
        for c in program.constants { values[c.slot] = lowering.constant(c, lead: lead) }
        let states = lowering.stateInputs(names, batch: batch)
        let (insideCells, live) = liveInstructions()
        var results: [Int: String] = [:]
        for (i, ins) in program.instructions.enumerated() where live[i] {
            guard insideCells.contains(ins.destination) else {
                try lowering.emit(i, &values)
                continue
            }
            if let cell = cells.first(where: { $0.output == ins.destination }) {
                guard let input = values[cell.input] else { throw ExportError("cell \(cell.name)'s input is not computed before it") }
                let (sequence, finals) = emit(cell, input: input, initial: cell.call.states.map { states.values[$0] })
                values[cell.output] = sequence
                for (k, final) in zip(cell.call.states, finals) { results[k] = final }
            }
        }
        for s in program.outputSlots where values[s] == nil {
            throw ExportError("--onnx-native-cells: an output reads a value inside a cell; export without the flag")
        }
        var y = try lowering.outputs(values, lead: lead)
        var (xDims, yDims): ([ONNXGraph.Dimension], [ONNXGraph.Dimension]) = ([.symbol("B")], [.symbol("B")])
        if form == .sequence {
            y = graph.node("Transpose", [y], attributes: [.ints("perm", [1, 0, 2])], hint: "y")
            (xDims, yDims) = ([.symbol("B"), .symbol("T")], [.symbol("B"), .symbol("T")])
        }
        return lowering.graphProto(names, x: xDims + [.size(program.inputWidth)], y: y, yDims: yDims + [.size(program.outputWidth)],
                                   results: program.states.indices.map { results[$0]! }, states: states)
    }

    /// The slots inside the cells (what depends on their states, their outputs included,
    /// which the native ops give), and which instructions to emit: those the outputs and the
    /// cells' final states need,
    /// through the cells' inputs — not, say, a cell's input projection, which its native op
    /// computes itself.
    private func liveInstructions() -> (inside: Set<Int>, live: [Bool]) {
        let program = lowering.program
        var inside = Set(cells.flatMap(\.stateSlots))
        for ins in program.instructions where ins.operands.contains(where: inside.contains) { inside.insert(ins.destination) }
        // Every cell runs: its final states are outputs of the graph even when nothing reads h.
        var needed = Set(program.outputSlots).union(cells.map(\.output))
        var live = [Bool](repeating: false, count: program.instructions.count)
        for (i, ins) in program.instructions.enumerated().reversed() where needed.contains(ins.destination) {
            if let cell = cells.first(where: { $0.output == ins.destination }) {
                live[i] = true
                needed.insert(cell.input)
            } else if !inside.contains(ins.destination) {
                live[i] = true
                needed.formUnion(ins.operands)
            }
        }
        return (inside, live)
    }

    /// The cell's native op. `input`: `[T, B, n]` (or `[B, n]` in the step form); `initial`:
    /// its states, `[B, k]`. Returns its output (`h` at every step, shaped like `input`) and
    /// its final states, `[B, k]`.
    private func emit(_ cell: Cell, input: String, initial: [String]) -> (String, [String]) {
        let graph = lowering.graph
        let w = cell.call.weights
        let hidden = w[1].cols
        let zero = graph.int64s([0]), one = graph.int64s([1])
        let x = form == .step ? graph.node("Unsqueeze", [input, zero], hint: "\(cell.name).x") : input
        // ONNX's gate order from PyTorch's: GRU z, r, n from r, z, n; LSTM i, o, f, c from i, f, g, o.
        let order: [Int] = switch cell.call.kind {
        case .gru: [1, 0, 2]
        case .lstm: [0, 3, 1, 2]
        case .elman, .elmanRelu: [0]
        }
        func gates(_ t: Tensor) -> [Double] {
            let width = t.rank == 2 ? t.cols : 1
            let rowsPerGate = t.data.count / width / order.count
            return order.flatMap { g in Array(t.data[(g * rowsPerGate * width)..<((g + 1) * rowsPerGate * width)]) }
        }
        let W = graph.initializer("\(cell.name).W", gates(w[0]), shape: [1, w[0].rows, w[0].cols])
        let R = graph.initializer("\(cell.name).R", gates(w[1]), shape: [1, w[1].rows, w[1].cols])
        let B = graph.initializer("\(cell.name).B", gates(w[2]) + gates(w[3]), shape: [1, 2 * w[2].data.count])
        let states = initial.map { graph.node("Unsqueeze", [$0, zero], hint: "\(cell.name).initial") }
        let (op, attributes): (String, [Onnx_AttributeProto]) = switch cell.call.kind {
        case .gru: ("GRU", [.int("hidden_size", hidden), .int("linear_before_reset", 1)])
        case .lstm: ("LSTM", [.int("hidden_size", hidden)])
        case .elman: ("RNN", [.int("hidden_size", hidden), .strings("activations", ["Tanh"])])
        case .elmanRelu: ("RNN", [.int("hidden_size", hidden), .strings("activations", ["Relu"])])
        }
        let outputs = (["Y", "Y_h"] + (cell.call.kind == .lstm ? ["Y_c"] : [])).map { graph.reserve("\(cell.name).\($0)") }
        graph.node(op, [x, W, R, B, ""] + states, outputs: outputs, attributes: attributes)
        // Y is [T, 1, B, hidden]; the final states [1, B, hidden].
        var sequence = graph.node("Squeeze", [outputs[0], one], hint: "\(cell.name).h")
        if form == .step { sequence = graph.node("Squeeze", [sequence, zero], hint: "\(cell.name).h") }
        let finals = outputs.dropFirst().map { graph.node("Squeeze", [$0, zero], hint: "\(cell.name).final") }
        // The stdlib's states are h, then c; ONNX's outputs Y_h, then Y_c.
        return (sequence, finals)
    }
}
