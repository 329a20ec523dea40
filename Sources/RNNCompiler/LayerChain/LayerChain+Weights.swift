import Foundation
import RNNOps
import RNNRuntime

extension LayerChain {
    /// Most elements one tensor of the weights file may hold (its matrices are written dense).
    package static let maxTensorElements = ResourceLimits().tensorElements

    /// The chain as a safetensors file: `layers.K.weight` [out, in] and `layers.K.bias` for an
    /// affine layer, `layers.K.A` [w, w] and `layers.K.initial` for a state layer (all
    /// Float64, matrices dense), and in the metadata `layers`, a JSON array with each layer's
    /// kind, widths and op (`docs/layers.md`).
    package func weightsFile() throws(LayerChainError) -> SafeTensors.File {
        var tensors: [NamedTensor] = []
        var described: [[String: Any]] = []
        for (k, layer) in layers.enumerated() {
            var entry: [String: Any] = ["kind": Self.kindName(layer), "in": layer.inputWidth, "out": layer.outputWidth]
            switch layer {
            case .affine(let w, let bias):
                tensors.append(NamedTensor(name: "layers.\(k).weight", shape: [w.rows, w.cols], float64: try Self.dense(w)))
                tensors.append(NamedTensor(name: "layers.\(k).bias", shape: [bias.count], float64: bias))
            case .elementwise(let op, let lanes, _), .binary(let op, let lanes, _):
                entry["op"] = op.name
                entry["lanes"] = lanes
                let attributes = Dictionary(uniqueKeysWithValues: zip(op.entry.attributes.map(\.name), op.attributeValues))
                if !attributes.isEmpty { entry["attributes"] = attributes }
            case .state(let a, let initial):
                tensors.append(NamedTensor(name: "layers.\(k).A", shape: [a.rows, a.cols], float64: try Self.dense(a)))
                tensors.append(NamedTensor(name: "layers.\(k).initial", shape: [initial.count], float64: initial))
            }
            described.append(entry)
        }
        let json = (try? JSONSerialization.data(withJSONObject: described, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        return SafeTensors.File(tensors: tensors, metadata: [
            "format": "rnnc layer chain 1", "model": modelName, "layers": json,
            "input_width": String(inputWidth), "output_width": String(outputWidth),
        ])
    }

    /// `affine`, `elementwise`, `binary` or `state`: the layer kinds of the weights file.
    static func kindName(_ layer: Layer) -> String {
        switch layer {
        case .affine: return "affine"
        case .elementwise: return "elementwise"
        case .binary: return "binary"
        case .state: return "state"
        }
    }

    static func dense(_ w: WeightMatrix) throws(LayerChainError) -> [Double] {
        guard w.rows * w.cols <= maxTensorElements else {
            throw .tooLarge("a \(w.rows) x \(w.cols) layer is more than \(maxTensorElements) elements written dense")
        }
        switch w.storage {
        case .dense(let v): return v
        case .sparse(let offsets, let columns, let values):
            var out = [Double](repeating: 0, count: w.rows * w.cols)
            for r in 0..<w.rows {
                for k in offsets[r]..<offsets[r + 1] { out[r * w.cols + columns[k]] = values[k] }
            }
            return out
        }
    }
}
