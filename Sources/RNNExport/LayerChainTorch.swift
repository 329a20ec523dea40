import Foundation
import RNNCompiler
import RNNOps
import RNNRuntime

/// Writes a layer chain (docs/layers.md) as a PyTorch module: a stack of standard layers in
/// an `nn.ModuleList` named `layers` — `nn.Linear` for the affine layers, one small module
/// per element-wise op, `LinearState` for the state layers — whose state_dict keys are the
/// names of the chain's weights file (`layers.K.weight`, `layers.K.A`, ...), so
/// `load_state_dict` reads that file as it is.
package enum LayerChainTorch {
    /// The module's source; the weights are `chain.weightsFile()`, saved beside it as `weightsFile`.
    package static func python(_ chain: LayerChain, className: String, weightsFile: String, dtype: Precision) -> String {
        var lines = [
            "\"\"\"The layer chain of model \(chain.modelName), written by rnnc (docs/layers.md).",
            "",
            "A stack of \(chain.layers.count) standard layers, each reading the output of the one before it:",
            "\(className)().step(x, state) for one token, \(className)()(x) for whole sequences.",
            "\"\"\"",
            "import json",
            "import os",
            "from typing import Dict, List, Optional, Tuple",
            "",
            "import torch",
            "from torch import Tensor, nn",
            "",
            "",
            "class LinearState(nn.Module):",
            "    \"\"\"s_t = A s_{t-1} + v_t from s_0 = initial: LSRL's LinState with B = I.\"\"\"",
            "",
            "    def __init__(self, width: int):",
            "        super().__init__()",
            "        self.A = nn.Parameter(torch.zeros(width, width))",
            "        self.initial = nn.Parameter(torch.zeros(width))",
            "",
            "    def forward(self, v: Tensor, state: Tensor) -> Tensor:",
            "        return state @ self.A.T + v",
        ]
        for (name, op, binary) in opClasses(chain) {
            lines += ["", ""] + opClass(name, op, binary: binary)
        }
        lines += ["", ""] + chainClass(chain, className: className, weightsFile: weightsFile, dtype: dtype)
        lines += [""] + TorchWriter.safetensorsHelpers
        return lines.joined(separator: "\n") + "\n"
    }

    /// One module class per element-wise op (with its attributes) the chain uses.
    static func opClasses(_ chain: LayerChain) -> [(name: String, op: ElementwiseOp, binary: Bool)] {
        var seen: [ElementwiseOp] = []
        var out: [(String, ElementwiseOp, Bool)] = []
        for layer in chain.layers {
            let (op, binary): (ElementwiseOp, Bool)
            switch layer {
            case .elementwise(let o, _, _): (op, binary) = (o, false)
            case .binary(let o, _, _): (op, binary) = (o, true)
            default: continue
            }
            guard !seen.contains(op) else { continue }
            seen.append(op)
            out.append((className(op, seen.count), op, binary))
        }
        return out
    }

    static func className(_ op: ElementwiseOp, _ k: Int) -> String {
        let base = op.name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return op.attributeValues.isEmpty ? base + "Lanes" : "\(base)Lanes\(k)"
    }

    static func opClass(_ name: String, _ op: ElementwiseOp, binary: Bool) -> [String] {
        var spelling = op.entry.export.torch.replacingOccurrences(of: "{x}", with: "x")
        spelling = spelling.replacingOccurrences(of: "{y}", with: "y")
        for (a, value) in zip(op.entry.attributes, op.attributeValues) {
            spelling = spelling.replacingOccurrences(of: "{\(a.name)}", with: pythonNumber(value))
        }
        let what = binary ? "\(op) of lanes [0, k) and [k, 2k)" : "\(op) on lanes [0, k)"
        return [
            "class \(name)(nn.Module):",
            "    \"\"\"\(what); the other lanes pass through.\"\"\"",
            "",
            "    def __init__(self, lanes: int):",
            "        super().__init__()",
            "        self.lanes = lanes",
            "",
            "    def forward(self, v: Tensor) -> Tensor:",
            "        k = self.lanes",
            binary ? "        x, y = v[..., :k], v[..., k:2 * k]" : "        x = v[..., :k]",
            "        return torch.cat([\(spelling), v[..., \(binary ? "2 * k" : "k"):]], dim=-1)",
        ]
    }

    static func chainClass(_ chain: LayerChain, className: String, weightsFile: String, dtype: Precision) -> [String] {
        let ops = Dictionary(opClasses(chain).map { ($0.op, $0.name) }, uniquingKeysWith: { a, _ in a })
        let modules = chain.layers.map { layer -> String in
            switch layer {
            case .affine(let w, _): return "nn.Linear(\(w.cols), \(w.rows))"
            case .elementwise(let op, let lanes, _), .binary(let op, let lanes, _): return "\(ops[op]!)(\(lanes))"
            case .state(let a, _): return "LinearState(\(a.rows))"
            }
        }
        let states = chain.layers.indices.filter { if case .state = chain.layers[$0] { return true } else { return false } }
        return [
            "class \(className)(nn.Module):",
            "    \"\"\"Model \(chain.modelName) as a chain: x [B, \(chain.inputWidth)] -> y [B, \(chain.outputWidth)] per token.\"\"\"",
            "",
            "    def __init__(self, weights: Optional[str] = None, dtype: torch.dtype = torch.\(dtype == .float32 ? "float32" : "float64")):",
            "        super().__init__()",
            "        self.input_width = \(chain.inputWidth)",
            "        self.output_width = \(chain.outputWidth)",
            "        self.layers = nn.ModuleList([",
        ] + modules.map { "            \($0)," } + [
            "        ])",
            "        # The positions of the state layers, whose outputs carry over to the next token.",
            "        self.state_layers: List[int] = [\(states.map(String.init).joined(separator: ", "))]",
            "        # Made in the dtype first: loading into Float32 parameters would round the weights.",
            "        self.to(dtype)",
            "        path = weights or os.path.join(os.path.dirname(os.path.abspath(__file__)), \(pythonString(weightsFile)))",
            "        self.load_state_dict({name: value.to(dtype) for name, value in read_safetensors(path).items()})",
            "",
            "    def initial_state(self, batch: int) -> List[Tensor]:",
            "        return [self.layers[k].initial.expand(batch, -1) for k in self.state_layers]",
            "",
            "    def step(self, x: Tensor, state: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:",
            "        \"\"\"One token for a batch: x [B, \(chain.inputWidth)] -> y [B, \(chain.outputWidth)] and the new states.\"\"\"",
            "        v, new_state, s = x, [], 0",
            "        for layer in self.layers:",
            "            if isinstance(layer, LinearState):",
            "                v = layer(v, state[s])",
            "                new_state.append(v)",
            "                s += 1",
            "            else:",
            "                v = layer(v)",
            "        return v, new_state",
            "",
            "    def forward(self, x: Tensor, state: Optional[List[Tensor]] = None) -> Tuple[Tensor, List[Tensor]]:",
            "        \"\"\"Whole sequences: x [B, T, \(chain.inputWidth)] -> y [B, T, \(chain.outputWidth)] and the final states.\"\"\"",
            "        current = self.initial_state(x.shape[0]) if state is None else state",
            "        ys: List[Tensor] = []",
            "        for t in range(x.shape[1]):",
            "            y, current = self.step(x[:, t], current)",
            "            ys.append(y)",
            "        y = torch.stack(ys, dim=1) if ys else x.new_zeros(x.shape[0], 0, self.output_width)",
            "        return y, current",
        ]
    }
}
