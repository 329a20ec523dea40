extension ScanPlan.Stage: CustomStringConvertible {
    /// One line per stage; a recurrence adds an indented line for each decision of the
    /// compiler (slots as `$n`, matrices as `Mn`, vectors as `vn`).
    package var description: String {
        switch self {
        case .batched(let list): return "batched over all steps: instructions " + list.map(String.init).joined(separator: ", ")
        case .recurrence(let r):
            var lines = ["\(r.kind.rawValue) recurrence of states \(r.states.map(String.init).joined(separator: ", ")): instructions "
                + r.instructions.map(String.init).joined(separator: ", ") + (r.transition.map { ", A = M\($0)" } ?? "")
                + (r.modes.map { ", A = M\($0.basis) D M\($0.inverse)" } ?? "")
                + (r.powers.isEmpty ? "" : ", powers of A: " + r.powers.map { "M\($0)" }.joined(separator: ", "))]
            func list(_ items: [String]) -> String { items.joined(separator: ", ") }
            if let d = r.direct {
                let written = [d.writesState ? "state" : nil, d.writesNext ? "next" : nil, d.product.map { "product $\($0)" }].compactMap { $0 }
                lines.append("  direct scan: next = " + (d.coefficient.map { "$\($0) * state + " } ?? "state + ") + "$\(d.offset)"
                             + "; writes " + (written.isEmpty ? "only what the cycle reads" : list(written)))
            }
            if let c = r.chunked {
                func product(_ factors: [ScanPlan.Chunked.Factor]) -> String { factors.isEmpty ? "1" : factors.map(\.description).joined(separator: " * ") }
                let decay = ([c.constantDecay.map { "v\($0)" }].compactMap { $0 } + c.decay.map(\.description)).joined(separator: " * ")
                let update: String
                if let d = c.delta {
                    let decayed = (decay.isEmpty ? "" : "\(decay) * ") + "state"
                    update = "D + outer(k, \(d.scale) * \(product(d.gain)) * (k @ D) + \(d.offset) * \(product(c.values))), D = \(decayed), k = \(product(c.keys))"
                } else {
                    update = (decay.isEmpty ? "" : "diag(\(decay)) ") + "state + outer(\(product(c.keys)), \(product(c.values)))"
                }
                lines.append("  chunks of \(c.chunkSize): state = " + update + (c.transposed ? ", keys along columns" : ""))
                for o in c.readouts {
                    lines.append("  $\(o.output) = \(product(o.query)) @ " + (o.afterUpdate ? "next" : "state"))
                }
            }
            if !r.offsets.isEmpty { lines.append("  offsets: " + list(r.offsets.map(\.description))) }
            if !r.coefficients.isEmpty { lines.append("  coefficients: " + list(r.coefficients.map(\.description))) }
            if !r.recompute.isEmpty { lines.append("  recompute: instructions " + list(r.recompute.map(String.init))) }
            if !r.localSlots.isEmpty { lines.append("  one row per sequence: " + list(r.localSlots.map { "$\($0)" })) }
            return lines.joined(separator: "\n  ")
        }
    }
}

extension ScanPlan.OffsetStep: CustomStringConvertible {
    package var description: String {
        switch self {
        case .instruction(let i): return "\(i)"
        case .fill(let slot, let v): return "$\(slot) = " + (v.map { "v\($0)" } ?? "0")
        }
    }
}

extension ScanPlan.CoefficientStep: CustomStringConvertible {
    /// `a$5 = M0 a$3`: `a$n` is the coefficient of the state in slot `n`.
    package var description: String {
        switch self {
        case .product(let d, let s, let m): return "a$\(d) = M\(m) a$\(s)"
        case .sum(let d, let l, let r): return "a$\(d) = a$\(l) + a$\(r)"
        case .scale(let d, let c, let by): return "a$\(d) = a$\(c) * $\(by)"
        case .concat(let d, let parts): return "a$\(d) = concat(" + parts.map { "a$\($0)" }.joined(separator: ", ") + ")"
        case .slice(let d, let s, let start): return "a$\(d) = a$\(s)[\(start)...]"
        }
    }
}

extension ScanPlan.Chunked.Factor: CustomStringConvertible {
    /// `$4`, `$4[128...]` (a part of the slot), `$4[3]` (one value, broadcast), `0.2 $4` (scaled).
    package var description: String { (scale == 1 ? "" : "\(scale) ") + "$\(slot)" + (broadcast ? "[\(start)]" : start == 0 ? "" : "[\(start)...]") }
}
