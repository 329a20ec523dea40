import Foundation
import RNNCompiler
import RNNOps
import RNNRuntime

/// Writes a model as a PyTorch module: one readable Python file that needs only torch, and a
/// safetensors file of its tensors beside it (docs/export.md).
///
/// The module is made from the IR as elaborated, before the optimizer folds params together,
/// so its parameters are the `.rnn` params with their names and shapes: a value that is a
/// param or a slice of one (`W[0:4]`) reads the parameter, and gradients reach it. Values
/// computed from params by more than slicing (`2 * W`, `-exp(A)`), literal matrices and the
/// initial states are buffers: they move with the module (`.to`, `.double()`) but are not
/// trained. `save_weights(path)` writes the parameters under the params' names, which
/// `rnnc --weights path` binds.
public enum TorchExporter {
    /// A module's source and the tensors it loads.
    public struct Output {
        /// The module's source.
        public var python: String
        /// Its parameters and buffers, Float64.
        public var tensors: SafeTensors.File
    }

    /// The compiled model's elaborated program as a PyTorch module.
    ///
    /// - Parameters:
    ///   - compiled: the compiled model (its elaborated program is exported).
    ///   - className: the module's class name (a Python identifier).
    ///   - weightsFile: the safetensors file's name, looked up beside the Python file.
    ///   - dtype: the module's default dtype, `float32` or `float64`.
    public static func export(_ compiled: CompiledModel, className: String, weightsFile: String, dtype: Precision) throws(ExportError) -> Output {
        try export(compiled.ir, className: className, weightsFile: weightsFile, dtype: dtype)
    }

    package static func export(_ ir: IRProgram, className: String, weightsFile: String, dtype: Precision) throws(ExportError) -> Output {
        var writer = TorchWriter(ir, weightsFile: weightsFile)
        return Output(python: try writer.module(className: className, dtype: dtype), tensors: SafeTensors.File(tensors: writer.tensors))
    }

    /// A Python class name from a model or file name: `GRU2`, `more_ones` → `MoreOnes`.
    public static func className(_ name: String) -> String {
        let words = name.split { !$0.isLetter && !$0.isNumber }
        var result = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if result.isEmpty || result.first!.isNumber { result = "Model" + result }
        return result
    }
}

/// Builds the module's source and tensors.
struct TorchWriter {
    let ir: IRProgram
    let weightsFile: String
    private(set) var tensors: [NamedTensor] = []
    /// Each param's attribute name.
    private var paramAttributes: [String: String] = [:]
    private var used = NameSet(reserved: TorchWriter.reserved)
    private var bufferCount = 0

    /// Names a module attribute may not take: Python's keywords and what `nn.Module` and the
    /// generated class define.
    static let reserved: Set<String> = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
        "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
        "pass", "raise", "return", "try", "while", "with", "yield", "training", "forward", "step", "state_names", "input_width",
        "output_width", "initial_state", "save_weights", "param_names", "dtype", "device", "type", "float", "double", "half",
        "cuda", "cpu", "to", "train", "eval", "parameters", "buffers", "children", "modules", "apply", "zero_grad", "state_dict",
        "load_state_dict", "register_buffer", "register_parameter", "named_parameters", "named_buffers", "extra_repr", "x",
        "y", "state", "batch", "torch", "nn", "F", "Tensor", "List", "Tuple", "Optional", "self",
    ]

    init(_ ir: IRProgram, weightsFile: String) {
        self.ir = ir
        self.weightsFile = weightsFile
    }

    mutating func module(className: String, dtype: Precision) throws(ExportError) -> String {
        var lines: [String] = []
        let params = declareParams()
        let initials = ir.states.map { state in buffer(state.initial, shape: state.shape, hint: "initial") }
        let body = try stepBody()
        lines += header(className, dtype: dtype)
        lines += ["    def __init__(self, weights: Optional[str] = None, dtype: torch.dtype = torch.\(dtype == .float32 ? "float32" : "float64")):",
                  "        super().__init__()",
                  "        self.input_width = \(ir.inputWidth)",
                  "        self.output_width = \(ir.outputWidth)",
                  "        self.state_names: List[str] = [\(ir.states.map { pythonString($0.name) }.joined(separator: ", "))]",
                  "        # Each param's attribute, by its name in the source.",
                  "        self.param_names: Dict[str, str] = {\(ir.params.compactMap { p in paramAttributes[p.name].map { "\(pythonString(p.name)): \(pythonString($0))" } }.joined(separator: ", "))}",
                  "        tensors = read_safetensors(os.path.join(os.path.dirname(os.path.abspath(__file__)), \(pythonString(weightsFile))))",
                  "        if weights is not None:  # params by their source names, as save_weights writes them",
                  "            for name, value in read_safetensors(weights).items():",
                  "                if name in self.param_names:",
                  "                    if list(value.shape) != list(tensors[self.param_names[name]].shape):",
                  "                        raise ValueError(f\"{weights}: {name} has shape {list(value.shape)}, the param {list(tensors[self.param_names[name]].shape)}\")",
                  "                    tensors[self.param_names[name]] = value",
                  "        # The params of the source, as it names and shapes them."]
        lines += params.isEmpty ? ["        # (none)"] : params
        lines += ["        # Values the compiler computed, and the initial states: moved with the module, not trained."]
        lines += buffers.map { "        self.register_buffer(\(pythonString($0)), tensors[\(pythonString($0))])" }
        lines += ["        self.to(dtype)", ""]
        lines += ["    def initial_state(self, batch: int) -> List[Tensor]:",
                  "        \"\"\"Each state's initial value, repeated over a batch.\"\"\"",
                  "        return [" + zip(initials, ir.states).map { name, state in
                      "self.\(name).expand(batch" + String(repeating: ", -1", count: state.shape.count) + ").clone()"
                  }.joined(separator: ", ") + "]", ""]
        lines += ["    def step(self, x: Tensor, state: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:",
                  "        \"\"\"One token per sequence: x [B, \(ir.inputWidth)] and the states -> y [B, \(ir.outputWidth)] and the next states.\"\"\"",
                  "        batch = x.shape[0]"]
        lines += body.map { "        " + $0 }
        lines += [""] + forward() + [""] + saveWeights() + [""] + Self.safetensorsHelpers
        return lines.joined(separator: "\n") + "\n"
    }

    private var buffers: [String] { tensors.map(\.name).filter { !paramAttributes.values.contains($0) } }

    private func header(_ className: String, dtype: Precision) -> [String] {
        return [
            "\"\"\"\(ir.modelName), exported by rnnc (docs/export.md).",
            "",
            "    model = \(className)()                 # reads \(weightsFile) beside this file",
            "    y, state = model(x)                   # x: [B, T, \(ir.inputWidth)] -> y: [B, T, \(ir.outputWidth)]",
            "    y_t, state = model.step(x_t, state)   # one token: x_t: [B, \(ir.inputWidth)]",
            "    model.save_weights(\"tuned.safetensors\")  # the params, for rnnc --weights",
            "\"\"\"",
            "import json",
            "import os",
            "from typing import Dict, List, Optional, Tuple",
            "",
            "import torch",
            "import torch.nn.functional as F",
            "from torch import Tensor, nn",
            "",
            "",
            "class \(className)(nn.Module):",
        ]
    }

    /// One `nn.Parameter` per param that some node reads as it is (or a slice of it). A param
    /// the compiler computed with (`-exp(A_log)`) is a buffer under its name: frozen, and
    /// written back unchanged by `save_weights`.
    private mutating func declareParams() -> [String] {
        let read = Set(ir.paramUses.values.flatMap { [$0.weight?.param, $0.bias?.param].compactMap { $0 } })
        var lines: [String] = []
        for p in ir.params {
            let attribute = unique(p.name)
            paramAttributes[p.name] = attribute
            tensors.append(NamedTensor(name: attribute, shape: p.shape, float64: p.values))
            if read.contains(p.name) {
                lines.append("        self.\(attribute) = nn.Parameter(tensors[\(pythonString(attribute))])")
            } else {
                lines.append("        self.register_buffer(\(pythonString(attribute)), tensors[\(pythonString(attribute))])  # frozen: computed with at compile time")
            }
        }
        return lines
    }

    private mutating func unique(_ base: String) -> String {
        var name = base.map { $0.isLetter || $0.isNumber || $0 == "_" ? String($0) : "_" }.joined()
        if name.first?.isNumber ?? true { name = "_" + name }
        return used.unique(name)
    }

    /// A buffer holding `values`; returns its attribute name.
    private mutating func buffer(_ values: [Double], shape: [Int], hint: String) -> String {
        let name = unique("\(hint)_\(bufferCount)")
        bufferCount += 1
        tensors.append(NamedTensor(name: name, shape: shape, float64: values))
        return name
    }

    /// `self.W`, `self.W[0:4]`, `self.W[0:4, 2:6]`: a param's block.
    private func read(_ slice: ParamSlice) -> String {
        let attribute = "self." + paramAttributes[slice.param]!
        if slice.paramShape.isEmpty { return attribute + ".reshape(1)" }  // a scalar param, as a one-element vector
        if slice.isWhole { return attribute }
        var index = "\(slice.rows.lowerBound):\(slice.rows.upperBound)"
        if let c = slice.columns { index += ", \(c.lowerBound):\(c.upperBound)" }
        return attribute + "[" + index + "]"
    }

    private mutating func stepBody() throws(ExportError) -> [String] {
        var lines: [String] = []
        var inputOffsets: [Int] = []
        var offset = 0
        for input in ir.inputs {
            inputOffsets.append(offset)
            offset += input.size
        }
        let live = ir.liveNodes()
        for (i, node) in ir.nodes.enumerated() where live[i] {
            let use = ir.paramUses[i] ?? ParamUse()
            let value: String
            switch node.op {
            case .input(let k):
                value = "x[:, \(inputOffsets[k]):\(inputOffsets[k] + ir.inputs[k].size)]"
            case .stateRead(let k):
                // A matrix state [B, m, n] is its elements row by row inside the step.
                value = ir.states[k].matrixShape == nil ? "state[\(k)]" : "state[\(k)].reshape(batch, \(ir.states[k].size))"
            case .constant(let v):
                let source = use.weight.map(read) ?? "self." + buffer(v, shape: [v.count], hint: "constant")
                value = "\(source).expand(batch, -1)"
            case .affine(let w, let bias, let x):
                value = affine(w, bias: bias, x: "v\(x.index)", use: use)
            case .elementwise(let op, let xs):
                value = elementwise(op, xs.map { "v\($0.index)" })
            case .concat(let parts):
                value = "torch.cat([" + parts.map { "v\($0.index)" }.joined(separator: ", ") + "], dim=-1)"
            case .slice(let x, let start):
                value = "v\(x.index)[:, \(start):\(start + node.size)]"
            case .gather(let w, let x):
                let table = use.weight.map { read($0) + ($0.columns == nil ? ".unsqueeze(1)" : "") }
                    ?? "self." + buffer(w.denseValues(), shape: [w.rows, w.cols], hint: "table")
                value = "F.embedding(v\(x.index)[:, 0].long(), \(table))"
            }
            lines.append("v\(i) = \(value)")
        }
        let y = ir.outputs.isEmpty ? "x.new_zeros(batch, 0)" : "torch.cat([" + ir.outputs.map { "v\($0.index)" }.joined(separator: ", ") + "], dim=-1)"
        lines.append("return \(y), [" + ir.states.map { state in
            state.matrixShape.map { "v\(state.next.index).reshape(batch, \($0[0]), \($0[1]))" } ?? "v\(state.next.index)"
        }.joined(separator: ", ") + "]")
        return lines
    }

    /// `W x + b` with the matrix and bias read from params where they are params.
    private mutating func affine(_ w: WeightMatrix, bias: [Double]?, x: String, use: ParamUse) -> String {
        var product: String
        let diagonal = w.rows == w.cols && w.isDiagonal
        if let origin = use.weight, origin.columns == nil, diagonal {
            product = "\(x) * \(read(origin))"
        } else if let origin = use.weight, origin.columns == nil, w.rows == 1 {
            product = "F.linear(\(x), \(read(origin)).unsqueeze(0))"
        } else if let origin = use.weight, origin.columns == nil, w.cols == 1 {
            product = "F.linear(\(x), \(read(origin)).unsqueeze(1))"  // a one-element value times a vector
        } else if let origin = use.weight, origin.columns != nil {
            product = "F.linear(\(x), \(read(origin)))"
        } else if diagonal, w.isIdentity {
            product = x
        } else if diagonal {
            product = "\(x) * self.\(buffer(w.diagonalValues, shape: [w.rows], hint: "scale"))"
        } else {
            product = "F.linear(\(x), self.\(buffer(w.denseValues(), shape: [w.rows, w.cols], hint: "matrix")))"
        }
        guard let bias else { return product }
        let b = use.bias.map(read) ?? "self." + buffer(bias, shape: [bias.count], hint: "bias")
        product += " + \(b)"
        return product
    }

    private func elementwise(_ op: ElementwiseOp, _ operands: [String]) -> String {
        var s = op.entry.export.torch.replacingOccurrences(of: "{x}", with: operands[0])
        if operands.count > 1 { s = s.replacingOccurrences(of: "{y}", with: operands[1]) }
        for (a, value) in zip(op.entry.attributes, op.attributeValues) { s = s.replacingOccurrences(of: "{\(a.name)}", with: pythonNumber(value)) }
        return s
    }

    private func forward() -> [String] {
        [
            "    def forward(self, x: Tensor, state: Optional[List[Tensor]] = None) -> Tuple[Tensor, List[Tensor]]:",
            "        \"\"\"Whole sequences: x [B, T, \(ir.inputWidth)] -> y [B, T, \(ir.outputWidth)] and the final states.\"\"\"",
            "        current = self.initial_state(x.shape[0]) if state is None else state",
            "        ys: List[Tensor] = []",
            "        for t in range(x.shape[1]):",
            "            y, current = self.step(x[:, t], current)",
            "            ys.append(y)",
            "        if len(ys) == 0:",
            "            return x.new_zeros(x.shape[0], 0, self.output_width), current",
            "        return torch.stack(ys, dim=1), current",
        ]
    }

    private func saveWeights() -> [String] {
        let pairs = ir.params.compactMap { p in paramAttributes[p.name].map { "\(pythonString(p.name)): self.\($0)" } }
        return [
            "    @torch.jit.unused",
            "    def save_weights(self, path: str) -> None:",
            "        \"\"\"Writes the params under their names in the source, for rnnc's --weights.\"\"\"",
            "        write_safetensors(path, {" + pairs.joined(separator: ", ") + "})",
        ]
    }
}
