/// The artifact's spelling of a scan plan (format version 3, docs/artifact.md):
/// `{"stages": [{"stage": "batched", "instructions": [...]}, {"stage": "recurrence",
/// "kind": "diagonal", "states": [...], "next_slots": [...], "instructions": [...]}]}`,
/// with `transition` (kind affine) or `modes` (kind modal) where they apply.
extension ScanPlan: Codable {
    private enum Key: String, CodingKey { case stages }

    public init(from decoder: Decoder) throws {
        stages = try decoder.container(keyedBy: Key.self).decode([Stage].self, forKey: .stages)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(stages, forKey: .stages)
    }
}

extension ScanPlan.Stage: Codable {
    private enum Key: String, CodingKey { case stage, instructions }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try c.decode(String.self, forKey: .stage) {
        case "batched": self = .batched(try c.decode([Int].self, forKey: .instructions))
        case "recurrence": self = .recurrence(try ScanPlan.Recurrence(from: decoder))
        case let other: throw DecodingError.dataCorruptedError(forKey: .stage, in: c, debugDescription: "unknown stage '\(other)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .batched(let list):
            var c = encoder.container(keyedBy: Key.self)
            try c.encode("batched", forKey: .stage)
            try c.encode(list, forKey: .instructions)
        case .recurrence(let r):
            var c = encoder.container(keyedBy: Key.self)
            try c.encode("recurrence", forKey: .stage)
            try r.encode(to: encoder)
        }
    }
}

extension ScanPlan.Recurrence: Codable {
    private enum Key: String, CodingKey { case kind, states, nextSlots = "next_slots", instructions, transition, modes }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(kind: try c.decode(Kind.self, forKey: .kind), states: try c.decode([Int].self, forKey: .states),
                  nextSlots: try c.decode([Int].self, forKey: .nextSlots), instructions: try c.decode([Int].self, forKey: .instructions),
                  transition: try c.decodeIfPresent(Int.self, forKey: .transition), modes: try c.decodeIfPresent(ScanPlan.Modes.self, forKey: .modes))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(states, forKey: .states)
        try c.encode(nextSlots, forKey: .nextSlots)
        try c.encode(instructions, forKey: .instructions)
        try c.encodeIfPresent(transition, forKey: .transition)
        try c.encodeIfPresent(modes, forKey: .modes)
    }
}

extension ScanPlan.Recurrence.Kind: Codable {}

extension ScanPlan.Modes: Codable {
    private enum Key: String, CodingKey { case basis, inverse, real, imaginary }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(basis: try c.decode(Int.self, forKey: .basis), inverse: try c.decode(Int.self, forKey: .inverse),
                  real: try c.decode([Double].self, forKey: .real), imaginary: try c.decode([Double].self, forKey: .imaginary))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(basis, forKey: .basis)
        try c.encode(inverse, forKey: .inverse)
        try c.encode(real, forKey: .real)
        try c.encode(imaginary, forKey: .imaginary)
    }
}
