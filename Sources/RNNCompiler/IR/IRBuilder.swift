import RNNRuntime

/// Appends nodes to an IR program under construction, enforcing the size limits.
final class IRBuilder {
    private(set) var nodes: [IRNode] = []
    /// The params nodes are made from (`IRProgram.paramUses`).
    private(set) var paramUses: [Int: ParamUse] = [:]
    /// Total weight entries stored in affine and gather nodes (dense entries or sparse
    /// non-zeros); a matrix used twice (a tied embedding and head) counts twice.
    private(set) var storedWeights = 0
    private(set) var overLimit = false
    private let diagnostics: DiagnosticEngine
    /// `irNodes` and `storedWeights`: the default of the latter has room for a model of
    /// mamba-130m's size, whose 38.6M-entry embedding is also its head.
    private let limits: ResourceLimits

    init(diagnostics: DiagnosticEngine, limits: ResourceLimits) {
        self.diagnostics = diagnostics
        self.limits = limits
    }

    func size(_ id: ValueID) -> Int { nodes[id.index].size }

    func add(_ op: IROp, size: Int, range: SourceRange?) -> ValueID {
        if nodes.count >= limits.irNodes, !overLimit {
            overLimit = true
            diagnostics.error(.tooLarge, "the model needs more than \(limits.irNodes) IR nodes (the limit)" + ResourceLimits.hint(.irNodes), at: range)
        }
        switch op {
        case .affine(let w, _, _), .gather(let w, _): storedWeights += w.storedCount
        default: break
        }
        if storedWeights > limits.storedWeights, !overLimit {
            overLimit = true
            diagnostics.error(.tooLarge, "the model's weights exceed \(limits.storedWeights) stored entries (the limit)" + ResourceLimits.hint(.storedWeights), at: range)
        }
        nodes.append(IRNode(op: op, size: size, range: range))
        return ValueID(index: nodes.count - 1)
    }

    func constant(_ v: [Double], range: SourceRange?, origin: ParamSlice? = nil) -> ValueID {
        record(add(.constant(v), size: v.count, range: range), ParamUse(weight: origin))
    }

    func affine(_ w: WeightMatrix, bias: [Double]? = nil, _ x: ValueID, range: SourceRange?, origin: ParamUse = ParamUse()) -> ValueID {
        record(add(.affine(w, bias: bias, x), size: w.rows, range: range), origin)
    }

    /// Row `x` of a table (`E[token]`).
    func gather(_ table: WeightMatrix, _ x: ValueID, range: SourceRange?, origin: ParamSlice?) -> ValueID {
        record(add(.gather(table, x), size: table.cols, range: range), ParamUse(weight: origin))
    }

    /// `c * x` element-wise for a per-element (or single) constant `c`.
    func scale(_ x: ValueID, by c: [Double], range: SourceRange?, origin: ParamSlice? = nil) -> ValueID {
        let n = size(x)
        let d = c.count == 1 ? [Double](repeating: c[0], count: n) : c
        return affine(.diagonal(d), x, range: range, origin: ParamUse(weight: c.count == n ? origin : nil))
    }

    /// `x + b` for a constant `b` of the same size.
    func addConstant(_ x: ValueID, _ b: [Double], range: SourceRange?, origin: ParamSlice? = nil) -> ValueID {
        affine(.diagonal([Double](repeating: 1, count: size(x))), bias: b, x, range: range, origin: ParamUse(bias: origin))
    }

    /// Repeats a one-element vector `n` times.
    func broadcast(_ x: ValueID, to n: Int, range: SourceRange?) -> ValueID {
        affine(.broadcastColumn(n), x, range: range)
    }

    /// Drops the nodes from `count` on (what checking an uncalled function made).
    func truncate(to count: Int) {
        for i in count..<nodes.count {
            switch nodes[i].op {
            case .affine(let w, _, _), .gather(let w, _): storedWeights -= w.storedCount
            default: break
            }
            paramUses[i] = nil
        }
        nodes.removeSubrange(count...)
    }

    private func record(_ id: ValueID, _ use: ParamUse) -> ValueID {
        if use != ParamUse() { paramUses[id.index] = use }
        return id
    }
}
