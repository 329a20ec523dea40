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
}
