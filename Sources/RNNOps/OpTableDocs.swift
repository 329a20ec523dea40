import Foundation

/// The op table as docs/language.md shows it; a test keeps the two equal, so the docs list
/// every op with its attributes and defaults.
public enum OpTableDocs {
    /// How a source writes the op: `x + y`, `relu(x)`, `leaky_relu(x, slope: 0.01)`.
    public static func signature(_ kind: ElementwiseKind) -> String {
        let entry = kind.entry
        switch kind {
        case .add: return "x + y"
        case .mul: return "x * y"
        default:
            let operands = entry.arity == 1 ? ["x"] : ["x", "y"]
            let attributes = entry.attributes.map { "\($0.name): \(formatAttribute($0.defaultValue))" }
            return "\(kind.name)(" + (operands + attributes).joined(separator: ", ") + ")"
        }
    }

    /// A markdown table: one row per op, its source form and its definition.
    public static func markdown() -> String {
        var lines = ["| op | definition |", "|---|---|"]
        for kind in ElementwiseKind.allCases {
            lines.append("| `\(signature(kind))` | \(kind.entry.summary) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The export table of docs/export.md: each op's ONNX and PyTorch spelling.
    public static func exportMarkdown() -> String {
        var lines = ["| op | ONNX | PyTorch |", "|---|---|---|"]
        for kind in ElementwiseKind.allCases {
            let entry = kind.entry
            var torch = entry.export.torch
            for a in entry.attributes { torch = torch.replacingOccurrences(of: "{\(a.name)}", with: a.name) }
            torch = torch.replacingOccurrences(of: "{x}", with: "x").replacingOccurrences(of: "{y}", with: "y")
            lines.append("| `\(signature(kind))` | `\(onnx(entry.export.onnx, entry))` | `\(torch)` |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `Mul(x, Sigmoid(x))`; attributes by name, constants as numbers.
    static func onnx(_ s: ONNXSpelling, _ entry: OpEntry) -> String {
        switch s {
        case .x: return "x"
        case .y: return "y"
        case .constant(let c): return c == c.rounded() && abs(c) < 1e15 ? String(Int(c)) : String(format: "%.6g", c)
        case .attribute(let k): return entry.attributes[k].name
        case .node(let op, let inputs): return op + "(" + inputs.map { onnx($0, entry) }.joined(separator: ", ") + ")"
        }
    }
}
