/// The artifact's spelling of a scan plan (format version 3, docs/artifact.md):
/// `{"stages": [{"stage": "batched", "instructions": [...]}, {"stage": "recurrence",
/// "kind": "diagonal", "states": [...], "next_slots": [...], "instructions": [...]}]}`,
/// with `transition` (kind affine) or `modes` (kind modal) where they apply, and the terms the
/// compiler decided: `offsets`, `coefficients`, `direct`, `recompute`, `local_slots`.
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

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try c.decode(String.self, forKey: .stage) {
        case "batched": self = .batched(try c.decode([Int].self, forKey: .instructions))
        case "recurrence": self = .recurrence(try ScanPlan.Recurrence(from: decoder))
        case let other: throw DecodingError.dataCorruptedError(forKey: .stage, in: c, debugDescription: "unknown stage '\(other)'")
        }
    }

    package func encode(to encoder: Encoder) throws {
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
    private enum Key: String, CodingKey {
        case kind, states, nextSlots = "next_slots", instructions, transition, modes, powers
        case offsets, coefficients, direct, recompute, localSlots = "local_slots", chunked
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(kind: try c.decode(Kind.self, forKey: .kind), states: try c.decode([Int].self, forKey: .states),
                  nextSlots: try c.decode([Int].self, forKey: .nextSlots), instructions: try c.decode([Int].self, forKey: .instructions),
                  transition: try c.decodeIfPresent(Int.self, forKey: .transition), modes: try c.decodeIfPresent(ScanPlan.Modes.self, forKey: .modes),
                  powers: try c.decodeIfPresent([Int].self, forKey: .powers) ?? [],
                  offsets: try c.decode([ScanPlan.OffsetStep].self, forKey: .offsets),
                  coefficients: try c.decode([ScanPlan.CoefficientStep].self, forKey: .coefficients),
                  direct: try c.decodeIfPresent(ScanPlan.Direct.self, forKey: .direct),
                  recompute: try c.decode([Int].self, forKey: .recompute), localSlots: try c.decode([Int].self, forKey: .localSlots),
                  chunked: try c.decodeIfPresent(ScanPlan.Chunked.self, forKey: .chunked))
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(states, forKey: .states)
        try c.encode(nextSlots, forKey: .nextSlots)
        try c.encode(instructions, forKey: .instructions)
        try c.encodeIfPresent(transition, forKey: .transition)
        try c.encodeIfPresent(modes, forKey: .modes)
        if !powers.isEmpty { try c.encode(powers, forKey: .powers) }
        try c.encode(offsets, forKey: .offsets)
        try c.encode(coefficients, forKey: .coefficients)
        try c.encodeIfPresent(direct, forKey: .direct)
        try c.encode(recompute, forKey: .recompute)
        try c.encode(localSlots, forKey: .localSlots)
        try c.encodeIfPresent(chunked, forKey: .chunked)
    }
}

/// `{"transposed": false, "keys": [F], "values": [F], "decay": [F], "constant_decay": 2,
/// "readouts": [{"query": [F], "output": 9, "after_update": true}], "chunk_size": 64}`
/// (`constant_decay` absent: none), each factor F `{"slot": 4, "start": 0, "broadcast": false}`.
extension ScanPlan.Chunked: Codable {
    private enum Key: String, CodingKey { case transposed, keys, values, decay, constantDecay = "constant_decay", readouts, chunkSize = "chunk_size", delta }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(transposed: try c.decode(Bool.self, forKey: .transposed), keys: try c.decode([Factor].self, forKey: .keys),
                  values: try c.decode([Factor].self, forKey: .values), decay: try c.decode([Factor].self, forKey: .decay),
                  constantDecay: try c.decodeIfPresent(Int.self, forKey: .constantDecay),
                  readouts: try c.decode([Readout].self, forKey: .readouts), chunkSize: try c.decode(Int.self, forKey: .chunkSize),
                  delta: try c.decodeIfPresent(Delta.self, forKey: .delta))
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(transposed, forKey: .transposed)
        try c.encode(keys, forKey: .keys)
        try c.encode(values, forKey: .values)
        try c.encode(decay, forKey: .decay)
        try c.encodeIfPresent(constantDecay, forKey: .constantDecay)
        try c.encode(readouts, forKey: .readouts)
        try c.encode(chunkSize, forKey: .chunkSize)
        try c.encodeIfPresent(delta, forKey: .delta)
    }
}

/// `{"gain": [F], "scale": -1, "offset": 1}`.
extension ScanPlan.Chunked.Delta: Codable {
    private enum Key: String, CodingKey { case gain, scale, offset }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(gain: try c.decode([ScanPlan.Chunked.Factor].self, forKey: .gain), scale: try c.decode(Double.self, forKey: .scale),
                  offset: try c.decode(Double.self, forKey: .offset))
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(gain, forKey: .gain)
        try c.encode(scale, forKey: .scale)
        try c.encode(offset, forKey: .offset)
    }
}

extension ScanPlan.Chunked.Readout: Codable {
    private enum Key: String, CodingKey { case query, output, afterUpdate = "after_update" }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(query: try c.decode([ScanPlan.Chunked.Factor].self, forKey: .query), output: try c.decode(Int.self, forKey: .output),
                  afterUpdate: try c.decode(Bool.self, forKey: .afterUpdate))
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(query, forKey: .query)
        try c.encode(output, forKey: .output)
        try c.encode(afterUpdate, forKey: .afterUpdate)
    }
}

/// `{"step": "instruction", "instruction": 4}` or `{"step": "fill", "slot": 7, "vector": 2}`
/// (`vector` absent: zeros).
extension ScanPlan.OffsetStep: Codable {
    private enum Key: String, CodingKey { case step, instruction, slot, vector }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try c.decode(String.self, forKey: .step) {
        case "instruction": self = .instruction(try c.decode(Int.self, forKey: .instruction))
        case "fill": self = .fill(slot: try c.decode(Int.self, forKey: .slot), vector: try c.decodeIfPresent(Int.self, forKey: .vector))
        case let other: throw DecodingError.dataCorruptedError(forKey: .step, in: c, debugDescription: "unknown offset step '\(other)'")
        }
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .instruction(let i):
            try c.encode("instruction", forKey: .step)
            try c.encode(i, forKey: .instruction)
        case .fill(let slot, let vector):
            try c.encode("fill", forKey: .step)
            try c.encode(slot, forKey: .slot)
            try c.encodeIfPresent(vector, forKey: .vector)
        }
    }
}

/// `{"step": "product", "dst": 5, "src": 2, "matrix": 0}`; `sum` has `lhs`, `rhs`; `scale` has
/// `coefficient`, `by`; `concat` has `parts`; `slice` has `src`, `start`.
extension ScanPlan.CoefficientStep: Codable {
    private enum Key: String, CodingKey { case step, dst, src, matrix, lhs, rhs, coefficient, by, parts, start }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func int(_ key: Key) throws -> Int { try c.decode(Int.self, forKey: key) }
        switch try c.decode(String.self, forKey: .step) {
        case "product": self = .product(dst: try int(.dst), src: try int(.src), matrix: try int(.matrix))
        case "sum": self = .sum(dst: try int(.dst), lhs: try int(.lhs), rhs: try int(.rhs))
        case "scale": self = .scale(dst: try int(.dst), coefficient: try int(.coefficient), by: try int(.by))
        case "concat": self = .concat(dst: try int(.dst), parts: try c.decode([Int].self, forKey: .parts))
        case "slice": self = .slice(dst: try int(.dst), src: try int(.src), start: try int(.start))
        case let other: throw DecodingError.dataCorruptedError(forKey: .step, in: c, debugDescription: "unknown coefficient step '\(other)'")
        }
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(destination, forKey: .dst)
        switch self {
        case .product(_, let src, let m):
            try c.encode("product", forKey: .step)
            try c.encode(src, forKey: .src)
            try c.encode(m, forKey: .matrix)
        case .sum(_, let l, let r):
            try c.encode("sum", forKey: .step)
            try c.encode(l, forKey: .lhs)
            try c.encode(r, forKey: .rhs)
        case .scale(_, let coefficient, let by):
            try c.encode("scale", forKey: .step)
            try c.encode(coefficient, forKey: .coefficient)
            try c.encode(by, forKey: .by)
        case .concat(_, let parts):
            try c.encode("concat", forKey: .step)
            try c.encode(parts, forKey: .parts)
        case .slice(_, let src, let start):
            try c.encode("slice", forKey: .step)
            try c.encode(src, forKey: .src)
            try c.encode(start, forKey: .start)
        }
    }
}

extension ScanPlan.Direct: Codable {
    private enum Key: String, CodingKey { case coefficient, offset, product, writesState = "writes_state", writesNext = "writes_next" }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(coefficient: try c.decodeIfPresent(Int.self, forKey: .coefficient), offset: try c.decode(Int.self, forKey: .offset),
                  product: try c.decodeIfPresent(Int.self, forKey: .product), writesState: try c.decode(Bool.self, forKey: .writesState),
                  writesNext: try c.decode(Bool.self, forKey: .writesNext))
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encodeIfPresent(coefficient, forKey: .coefficient)
        try c.encode(offset, forKey: .offset)
        try c.encodeIfPresent(product, forKey: .product)
        try c.encode(writesState, forKey: .writesState)
        try c.encode(writesNext, forKey: .writesNext)
    }
}

extension ScanPlan.Recurrence.Kind: Codable {}

extension ScanPlan.Modes: Codable {
    private enum Key: String, CodingKey { case basis, inverse, real, imaginary }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(basis: try c.decode(Int.self, forKey: .basis), inverse: try c.decode(Int.self, forKey: .inverse),
                  real: try c.decode([Double].self, forKey: .real), imaginary: try c.decode([Double].self, forKey: .imaginary))
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(basis, forKey: .basis)
        try c.encode(inverse, forKey: .inverse)
        try c.encode(real, forKey: .real)
        try c.encode(imaginary, forKey: .imaginary)
    }
}

/// `{"slot": 4, "start": 0, "broadcast": false, "scale": 0.5}` (`scale` absent: 1).
extension ScanPlan.Chunked.Factor: Codable {
    private enum Key: String, CodingKey { case slot, start, broadcast, scale }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(slot: try c.decode(Int.self, forKey: .slot), start: try c.decode(Int.self, forKey: .start),
                  broadcast: try c.decode(Bool.self, forKey: .broadcast), scale: try c.decodeIfPresent(Double.self, forKey: .scale) ?? 1)
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(slot, forKey: .slot)
        try c.encode(start, forKey: .start)
        try c.encode(broadcast, forKey: .broadcast)
        if scale != 1 { try c.encode(scale, forKey: .scale) }
    }
}
