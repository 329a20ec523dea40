import Foundation
import RNNCompiler
import RNNRuntime
import SwiftProtobuf

/// Writes a compiled model as an ONNX model (docs/export.md).
///
/// - `step`: one time step, for streaming servers. Inputs `x [B, n]` (the model's inputs
///   concatenated, as `rnnc run` reads a token) and one `[B, k]` tensor per state, named after
///   it; outputs `y [B, m]` and each state's next value, `NAME.next`.
/// - `sequence`: whole sequences. Inputs `x [B, T, n]` and each state's initial value, named
///   after it; outputs `y [B, T, m]` and each state's final value, `NAME.final`. The scan
///   plan's stages become the graph: state-independent work runs over all time steps at once
///   (time-batched `MatMul`s), each recurrence is an ONNX `Loop` whose body is its cycle.
///
/// A state input has the state's initial value as its default (an initializer of shape
/// `[1, k]`, broadcast over the batch), so a caller may leave it out. Weights are stored
/// under the artifact's tensor names, matrices transposed for `MatMul` (`[in, out]`).
public enum ONNXExporter {
    /// What the graph computes: one step, or whole sequences.
    public enum Form: String, CaseIterable, Sendable {
        /// `x [B, n]` and one tensor per state in; `y [B, m]` and the new states out.
        case step
        /// `x [B, T, n]` and optional initial states in; `y [B, T, m]` and final states out.
        case sequence
    }

    /// The opset the graphs use: every operator the op table spells exists there unchanged.
    public static let opset: Int64 = 17

    /// Room for the weights in one protobuf message (2 GiB), less 64 MiB for the graph.
    static let maxWeightBytes = (1 << 31) - (64 << 20)

    /// The names of the state inputs, in the order of `program.states`: each state's name,
    /// made unique against `x`, `y` and each other by a `_1`, `_2`, ... suffix.
    package static func stateNames(_ program: StepProgram) -> [String] {
        PublicNames(program, ONNXGraph(precision: .float64), resultSuffix: ".next").states
    }

    /// The model as a serialized ONNX `ModelProto` in the given form and float precision.
    /// Throws when the model cannot be spelled in ONNX (its weights pass 2 GiB).
    public static func export(_ model: Artifact.Model, form: Form, precision: Precision) throws(ExportError) -> Data {
        let graph = ONNXGraph(precision: precision)
        let lowering = ONNXLowering(model.program, graph: graph)
        let body: Onnx_GraphProto
        switch form {
        case .step: body = try StepGraph(lowering).build()
        case .sequence: body = try SequenceGraph(lowering, plan: model.plan).build()
        }
        return try serialize(body, name: model.program.modelName, form: form, precision: precision)
    }

    /// The export with ONNX's own `GRU`, `LSTM` and `RNN` ops for the stdlib's cells
    /// (`--onnx-native-cells`), from the elaborated program, whose every state must belong
    /// to a call of `gru`, `lstm`, `elman` or `elman_relu`.
    public static func exportNativeCells(_ compiled: CompiledModel, form: Form, precision: Precision) throws(ExportError) -> Data {
        try exportNativeCells(compiled.ir, form: form, precision: precision)
    }

    package static func exportNativeCells(_ ir: IRProgram, form: Form, precision: Precision) throws(ExportError) -> Data {
        let graph = ONNXGraph(precision: precision)
        let body = try NativeCellGraph(ir, form: form, graph: graph).build()
        return try serialize(body, name: ir.modelName, form: form, precision: precision)
    }

    private static func serialize(_ body: Onnx_GraphProto, name: String, form: Form, precision: Precision) throws(ExportError) -> Data {
        // A protobuf message is at most 2 GiB; larger models need ONNX's external data.
        let weightBytes = body.initializer.reduce(0) { $0 + $1.rawData.count + 8 * $1.int64Data.count }
        guard weightBytes < maxWeightBytes else {
            throw ExportError("the weights take \(weightBytes) bytes; an ONNX file holds at most 2 GiB (external data is not supported yet)")
        }
        let onnx = Onnx_ModelProto.with {
            $0.irVersion = 8
            $0.producerName = "rnnc"
            $0.opsetImport = [.with { $0.domain = ""; $0.version = opset }]
            $0.graph = body
            $0.graph.name = name
            $0.docString = "\(name), exported by rnnc (\(form.rawValue) form, \(precision.rawValue))"
        }
        do {
            return try onnx.serializedData()
        } catch {
            throw ExportError("the ONNX model cannot be serialized (\(error))")
        }
    }
}

/// Names shared by both forms: the model's input and output, and each state's tensors.
struct PublicNames {
    let x: String
    let y: String
    let states: [String]
    let results: [String]

    init(_ program: StepProgram, _ graph: ONNXGraph, resultSuffix: String) {
        x = graph.reserve("x")
        y = graph.reserve("y")
        states = program.states.map { graph.reserve($0.name) }
        results = program.states.map { graph.reserve($0.name + resultSuffix) }
    }
}

extension ONNXLowering {
    /// The model input's ports, sliced from `x` along its last axis.
    func bindInputs(_ x: String, _ values: inout [Int: String]) {
        var offset = 0
        for (port, slot) in zip(program.inputs, program.inputSlots) {
            values[slot] = graph.node("Slice", [x, graph.int64s([offset]), graph.int64s([offset + port.size]), graph.int64s([-1])],
                                      hint: port.name)
            offset += port.size
        }
    }

    /// `x`'s leading dimensions (all but the last), as a 1-D int64 tensor.
    func leadingDimensions(of x: String) -> String {
        graph.node("Slice", [graph.node("Shape", [x], hint: "shape"), graph.int64s([0]), graph.int64s([-1])], hint: "lead")
    }

    /// The graph's state inputs, each with its initial value as its default, and each state
    /// as a `[B, k]` tensor (`batch`: the batch size as a 1-D int64 tensor). A matrix state's
    /// input is `[B, m, n]`, its elements row by row inside.
    func stateInputs(_ names: PublicNames, batch: String) -> (infos: [Onnx_ValueInfoProto], defaults: [Onnx_TensorProto], values: [String]) {
        var result: (infos: [Onnx_ValueInfoProto], defaults: [Onnx_TensorProto], values: [String]) = ([], [], [])
        for (k, state) in program.states.enumerated() {
            let (info, initial) = stateInput(k, name: names.states[k])
            result.infos.append(info)
            result.defaults.append(initial)
            if let matrix = state.matrixShape {
                let dims = graph.node("Concat", [batch, graph.int64s(matrix)], attributes: [.int("axis", 0)], hint: "shape")
                let expanded = graph.node("Expand", [names.states[k], dims], hint: state.name)
                result.values.append(graph.node("Reshape", [expanded, graph.int64s([0, matrix[0] * matrix[1]])], hint: state.name))
            } else {
                result.values.append(graph.node("Expand", [names.states[k], shape(lead: batch, info.size)], hint: state.name))
            }
        }
        return result
    }

    /// The finished graph: inputs `x` and the states, outputs `y` and each state's result.
    func graphProto(_ names: PublicNames, x xDims: [ONNXGraph.Dimension], y: String, yDims: [ONNXGraph.Dimension], results: [String],
                    states: (infos: [Onnx_ValueInfoProto], defaults: [Onnx_TensorProto], values: [String])) -> Onnx_GraphProto {
        graph.node("Identity", [y], output: names.y)
        var outputs = [graph.valueInfo(names.y, yDims)]
        for (k, state) in program.states.enumerated() {
            if let matrix = state.matrixShape {
                graph.node("Reshape", [results[k], graph.int64s([0] + matrix)], output: names.results[k])
                outputs.append(graph.valueInfo(names.results[k], [.symbol("B")] + matrix.map { .size($0) }))
            } else {
                graph.node("Identity", [results[k]], output: names.results[k])
                outputs.append(graph.valueInfo(names.results[k], [.symbol("B"), .size(program.slotSizes[state.slot])]))
            }
        }
        return Onnx_GraphProto.with {
            $0.node = graph.nodes
            $0.initializer = states.defaults + graph.initializers
            $0.input = [graph.valueInfo(names.x, xDims)] + states.infos
            $0.output = outputs
        }
    }

    /// A state input with the state's initial value as its default: `[1, k]` (a matrix
    /// state's `[1, m, n]`), to broadcast.
    func stateInput(_ k: Int, name: String) -> (Onnx_ValueInfoProto, Onnx_TensorProto) {
        let state = program.states[k]
        let size = program.slotSizes[state.slot]
        let dims = state.matrixShape ?? [size]
        let info = graph.valueInfo(name, [.symbol("B")] + dims.map { .size($0) })
        let tensor = Onnx_TensorProto.with {
            $0.name = name
            $0.dims = [1] + dims.map(Int64.init)
            $0.dataType = Int32(graph.elementType.rawValue)
            let values = program.vectors[state.initial]
            $0.rawData = graph.elementType == .float ? values.map(Float.init).withUnsafeBytes { Data($0) } : values.withUnsafeBytes { Data($0) }
        }
        return (info, tensor)
    }

    /// The concatenated outputs (or an empty tensor for a model without outputs).
    func outputs(_ values: [Int: String], lead: String) throws(ExportError) -> String {
        var parts: [String] = []
        for s in program.outputSlots {
            guard let v = values[s] else { throw ExportError("output slot \(s) is never computed") }
            parts.append(v)
        }
        if parts.isEmpty { return graph.node("Expand", [graph.scalar(0), shape(lead: lead, 0)], hint: "y") }
        return parts.count == 1 ? graph.node("Identity", parts, hint: "y") : graph.node("Concat", parts, attributes: [.int("axis", -1)], hint: "y")
    }
}
