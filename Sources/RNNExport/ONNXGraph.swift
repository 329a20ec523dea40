import Foundation
import RNNRuntime
import SwiftProtobuf

/// Builds ONNX graphs: nodes with fresh value names, initializers shared by a graph and the
/// bodies nested in it (a `Loop` body reads the weights from the outer scope), and typed
/// value infos. Values are tensors of the model's element type unless said otherwise.
final class ONNXGraph {
    let elementType: Onnx_TensorProto.DataType
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var used = NameSet()
    private var int64Constants: [[Int]: String] = [:]
    private var scalarConstants: [Double: String] = [:]

    init(precision: Precision) {
        elementType = precision == .float32 ? .float : .double
    }

    /// Reserves a name the caller chose (a graph input or output); returns it, made unique.
    func reserve(_ name: String) -> String { used.unique(name) }

    /// Emits `op(inputs)` and returns its output's name.
    @discardableResult
    func node(_ op: String, _ inputs: [String], attributes: [Onnx_AttributeProto] = [], output: String? = nil, hint: String = "v") -> String {
        let out = output ?? reserve(hint)
        nodes.append(Onnx_NodeProto.with {
            $0.opType = op
            $0.input = inputs
            $0.output = [out]
            $0.name = reserve("\(op)_\(nodes.count)")
            $0.attribute = attributes
        })
        return out
    }

    /// Emits a node with several outputs (a `Loop`), named as given.
    func node(_ op: String, _ inputs: [String], outputs: [String], attributes: [Onnx_AttributeProto]) {
        nodes.append(Onnx_NodeProto.with {
            $0.opType = op
            $0.input = inputs
            $0.output = outputs
            $0.name = reserve("\(op)_\(nodes.count)")
            $0.attribute = attributes
        })
    }

    /// Builds a body with its own nodes (sharing names and initializers) and returns them.
    func nested(_ build: () throws(ExportError) -> Void) throws(ExportError) -> [Onnx_NodeProto] {
        let outer = nodes
        nodes = []
        defer { nodes = outer }
        try build()
        return nodes
    }

    /// An initializer of the element type.
    func initializer(_ name: String, _ values: [Double], shape: [Int]) -> String {
        let name = reserve(name)
        initializers.append(Onnx_TensorProto.with {
            $0.name = name
            $0.dims = shape.map(Int64.init)
            $0.dataType = Int32(elementType.rawValue)
            if elementType == .float {
                $0.rawData = values.map(Float.init).withUnsafeBytes { Data($0) }
            } else {
                $0.rawData = values.withUnsafeBytes { Data($0) }
            }
        })
        return name
    }

    /// A 1-D int64 constant (shapes, indices), made once per value.
    func int64s(_ values: [Int]) -> String {
        if let name = int64Constants[values] { return name }
        let name = reserve("const_i64")
        initializers.append(Onnx_TensorProto.with {
            $0.name = name
            $0.dims = [Int64(values.count)]
            $0.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            $0.int64Data = values.map(Int64.init)
        })
        int64Constants[values] = name
        return name
    }

    /// An int64 scalar (a `Gather` index that drops the axis).
    func int64Scalar(_ value: Int) -> String {
        let name = reserve("const_i64")
        initializers.append(Onnx_TensorProto.with {
            $0.name = name
            $0.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            $0.int64Data = [Int64(value)]
        })
        return name
    }

    /// A scalar of the element type, made once per value.
    func scalar(_ value: Double) -> String {
        if let name = scalarConstants[value] { return name }
        let name = initializer("const", [value], shape: [])
        scalarConstants[value] = name
        return name
    }

    /// The value info of a tensor (of the element type unless `type` says otherwise); a
    /// dimension is a size or a symbol.
    func valueInfo(_ name: String, _ dims: [Dimension], type: Onnx_TensorProto.DataType? = nil) -> Onnx_ValueInfoProto {
        Onnx_ValueInfoProto.with {
            $0.name = name
            $0.type.tensorType.elemType = Int32((type ?? elementType).rawValue)
            $0.type.tensorType.shape.dim = dims.map { d in
                Onnx_TensorShapeProto.Dimension.with {
                    switch d {
                    case .size(let n): $0.dimValue = Int64(n)
                    case .symbol(let s): $0.dimParam = s
                    }
                }
            }
        }
    }

    enum Dimension {
        case size(Int)
        case symbol(String)
    }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        .with { $0.name = name; $0.type = .int; $0.i = Int64(value) }
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        .with { $0.name = name; $0.type = .ints; $0.ints = values.map(Int64.init) }
    }

    static func strings(_ name: String, _ values: [String]) -> Onnx_AttributeProto {
        .with { $0.name = name; $0.type = .strings; $0.strings = values.map { Data($0.utf8) } }
    }

    static func graph(_ name: String, _ graph: Onnx_GraphProto) -> Onnx_AttributeProto {
        .with { $0.name = name; $0.type = .graph; $0.g = graph }
    }
}

/// Why a model cannot be exported.
public struct ExportError: Error, CustomStringConvertible, Equatable {
    /// Why the model cannot be exported.
    public let message: String

    /// An export error saying `message`.
    public init(_ message: String) { self.message = message }

    /// The message as the command line prints it.
    public var description: String { "error: cannot export: \(message)" }
}

/// Names handed out once each: a name taken already gets `_1`, `_2`, ... (ONNX values,
/// PyTorch module attributes).
struct NameSet {
    private var taken: Set<String>

    init(reserved: Set<String> = []) { taken = reserved }

    mutating func unique(_ name: String) -> String {
        var candidate = name, k = 1
        while taken.contains(candidate) {
            candidate = "\(name)_\(k)"
            k += 1
        }
        taken.insert(candidate)
        return candidate
    }
}
