import RNNOps

/// The artifact's spelling of instructions (format version 3, docs/artifact.md): an object
/// whose `op` names the instruction — `affine`, `concat`, `slice`, `gather`, or an element-wise op's
/// table name (`add`, `relu`, `leaky_relu`, ...) — with explicitly named fields. Nothing here
/// depends on how Swift spells the cases, so renaming one cannot change the file format.
extension Instruction: Codable {
    private enum Key: String, CodingKey {
        case op, dst, src, matrix, bias, epilogue, operands, attributes, parts, start
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let name = try c.decode(String.self, forKey: .op)
        let dst = try c.decode(Int.self, forKey: .dst)
        switch name {
        case "affine":
            let epilogue = try c.decodeIfPresent(EpilogueCoding.self, forKey: .epilogue)?.op
            if let epilogue, epilogue.arity != 1 {
                throw DecodingError.dataCorruptedError(forKey: .epilogue, in: c, debugDescription: "an affine epilogue must be a unary op, not '\(epilogue.name)'")
            }
            self = .affine(dst: dst, src: try c.decode(Int.self, forKey: .src), matrix: try c.decode(Int.self, forKey: .matrix),
                           bias: try c.decodeIfPresent(Int.self, forKey: .bias), epilogue: epilogue)
        case "concat": self = .concat(dst: dst, parts: try c.decode([Int].self, forKey: .parts))
        case "slice": self = .slice(dst: dst, src: try c.decode(Int.self, forKey: .src), start: try c.decode(Int.self, forKey: .start))
        case "gather": self = .gather(dst: dst, src: try c.decode(Int.self, forKey: .src), matrix: try c.decode(Int.self, forKey: .matrix))
        default:
            let op = try ElementwiseOp.decode(name: name, attributes: c.decodeIfPresent([String: Double].self, forKey: .attributes) ?? [:]) {
                DecodingError.dataCorruptedError(forKey: .op, in: c, debugDescription: $0)
            }
            let operands = try c.decode([Int].self, forKey: .operands)
            guard operands.count == op.arity else {
                throw DecodingError.dataCorruptedError(forKey: .operands, in: c, debugDescription: "'\(name)' takes \(op.arity) operand(s), found \(operands.count)")
            }
            self = .elementwise(op, dst: dst, lhs: operands[0], rhs: operands.count > 1 ? operands[1] : nil)
        }
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(destination, forKey: .dst)
        switch self {
        case .affine(_, let src, let matrix, let bias, let epilogue):
            try c.encode("affine", forKey: .op)
            try c.encode(src, forKey: .src)
            try c.encode(matrix, forKey: .matrix)
            try c.encodeIfPresent(bias, forKey: .bias)
            try c.encodeIfPresent(epilogue.map(EpilogueCoding.init), forKey: .epilogue)
        case .elementwise(let op, _, _, _):
            try c.encode(op.name, forKey: .op)
            try c.encode(operands, forKey: .operands)
            if !op.entry.attributes.isEmpty { try c.encode(op.namedAttributes, forKey: .attributes) }
        case .concat(_, let parts):
            try c.encode("concat", forKey: .op)
            try c.encode(parts, forKey: .parts)
        case .slice(_, let src, let start):
            try c.encode("slice", forKey: .op)
            try c.encode(src, forKey: .src)
            try c.encode(start, forKey: .start)
        case .gather(_, let src, let matrix):
            try c.encode("gather", forKey: .op)
            try c.encode(src, forKey: .src)
            try c.encode(matrix, forKey: .matrix)
        }
    }
}

/// An affine instruction's epilogue: `{"op": "leaky_relu", "attributes": {"slope": 0.2}}`.
private struct EpilogueCoding: Codable {
    var op: ElementwiseOp

    init(_ op: ElementwiseOp) { self.op = op }

    private enum Key: String, CodingKey { case op, attributes }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        op = try ElementwiseOp.decode(name: try c.decode(String.self, forKey: .op),
                                      attributes: c.decodeIfPresent([String: Double].self, forKey: .attributes) ?? [:]) {
            DecodingError.dataCorruptedError(forKey: .op, in: c, debugDescription: $0)
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(op.name, forKey: .op)
        if !op.entry.attributes.isEmpty { try c.encode(op.namedAttributes, forKey: .attributes) }
    }
}

extension ElementwiseOp {
    /// Attribute values by name, as an artifact stores them.
    var namedAttributes: [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(entry.attributes.map(\.name), attributeValues))
    }

    /// The op named `name` with the given attributes (defaults for those not given); throws
    /// `problem(message)` for an unknown op or attribute, a non-finite value or values the
    /// op's entry rejects.
    static func decode(name: String, attributes: [String: Double], problem: (String) -> Error) throws -> ElementwiseOp {
        guard let kind = ElementwiseKind(name: name) else { throw problem("unknown instruction '\(name)'") }
        let known = kind.entry.attributes
        if let extra = attributes.keys.sorted().first(where: { key in !known.contains { $0.name == key } }) {
            throw problem("'\(name)' has no attribute '\(extra)'")
        }
        let values = known.map { attributes[$0.name] ?? $0.defaultValue }
        guard values.allSatisfy(\.isFinite) else { throw problem("an attribute of '\(name)' is not finite") }
        let op = ElementwiseOp(kind, attributes: values)
        if let why = kind.entry.check?(op.attributes) { throw problem(why) }
        return op
    }
}
