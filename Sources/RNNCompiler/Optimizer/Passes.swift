import RNNOps
import RNNRuntime

/// A named IR-to-IR transformation. Every pass preserves the program's outputs (checked
/// against the reference interpreter by the optimizer tests).
package struct Pass: Sendable {
    package let name: String
    let run: @Sendable (IRProgram) -> IRProgram
}

extension Pass {
    /// Evaluates nodes whose operands are all constants, and turns operations with one
    /// constant operand into affine maps (`x + c`, `x * c`) so later passes can fuse them.
    static let constantFolding = Pass(name: "constant-folding") { p in
        IRRewriter.rewrite(p) { r, node, _ in
            func constant(_ id: ValueID) -> [Double]? {
                if case .constant(let v) = r[id].op { return v }
                return nil
            }
            let operands = node.op.operands
            if !operands.isEmpty, operands.allSatisfy({ constant($0) != nil }) {
                let value = Interpreter.evaluate(node) { constant($0)! }
                return r.add(.constant(value), size: node.size, range: node.range)
            }
            if let (a, b) = node.op.binary(.add) {
                if let c = constant(b) { return r.add(.affine(.diagonal([Double](repeating: 1, count: node.size)), bias: c, a), size: node.size, range: node.range) }
                if let c = constant(a) { return r.add(.affine(.diagonal([Double](repeating: 1, count: node.size)), bias: c, b), size: node.size, range: node.range) }
            }
            if let (a, b) = node.op.binary(.mul) {
                if let c = constant(b) { return r.add(.affine(.diagonal(c), bias: nil, a), size: node.size, range: node.range) }
                if let c = constant(a) { return r.add(.affine(.diagonal(c), bias: nil, b), size: node.size, range: node.range) }
            }
            switch node.op {
            case .affine(let w, let bias, _) where w.nonZeroCount == 0:
                return r.add(.constant(bias ?? [Double](repeating: 0, count: node.size)), size: node.size, range: node.range)
            default: break
            }
            return r.add(node.op, size: node.size, range: node.range)
        }
    }

    /// Removes identity slices and affines, looks through concatenations and nested slices,
    /// flattens nested concatenations and joins adjacent slices of one value.
    static let concatSliceSimplification = Pass(name: "concat-slice") { p in
        IRRewriter.rewrite(p) { r, node, _ in
            switch node.op {
            case .slice(let x, 0) where r[x].size == node.size:
                return x
            case .slice(let x, let start):
                if case .slice(let y, let inner) = r[x].op { return r.add(.slice(y, start: inner + start), size: node.size, range: node.range) }
                if case .concat(let parts) = r[x].op {
                    var offset = 0
                    for part in parts {
                        let n = r[part].size
                        if start >= offset, start + node.size <= offset + n {
                            if start == offset && node.size == n { return part }
                            return r.add(.slice(part, start: start - offset), size: node.size, range: node.range)
                        }
                        offset += n
                    }
                }
            case .affine(let w, nil, let x) where w.isIdentity:
                return x
            case .concat(let parts):
                var flat: [ValueID] = []
                for part in parts {
                    if case .concat(let inner) = r[part].op { flat += inner } else { flat.append(part) }
                }
                // Join runs of adjacent slices of the same value.
                var joined: [ValueID] = []
                for part in flat {
                    if let last = joined.last, case .slice(let a, let s1) = r[last].op, case .slice(let b, let s2) = r[part].op,
                       a == b, s1 + r[last].size == s2 {
                        joined[joined.count - 1] = r.add(.slice(a, start: s1), size: r[last].size + r[part].size, range: node.range)
                    } else {
                        joined.append(part)
                    }
                }
                if joined.count == 1 {
                    if case .slice(let a, 0) = r[joined[0]].op, r[a].size == node.size { return a }
                    return joined[0]
                }
                return r.add(.concat(joined), size: node.size, range: node.range)
            default: break
            }
            return r.add(node.op, size: node.size, range: node.range)
        }
    }

    /// Fuses an affine map applied to the result of another (used only there) into one, and
    /// the sum of two affine maps of the same value into one; folds a slice into the columns
    /// of the affine map that reads it; moves a bias added to a sum of affine maps into one of
    /// them (one that does not read a state when there is one, so that it is time-batched).
    /// A fusion is done only when it stores no more weights, and (unless `everyFold`) not
    /// where a large factor would scale a value the program computes on its own (`Exactness`).
    static let affineFusion = affineFusion(everyFold: false)

    static func affineFusion(everyFold: Bool) -> Pass { Pass(name: "affine-fusion") { p in
        let uses = p.useCounts()
        let readsState = p.readsState()
        return IRRewriter.rewrite(p) { r, node, original in
            func emit(_ op: IROp) -> ValueID { r.add(op, size: node.size, range: node.range) }
            switch node.op {
            case .affine(let w2, let b2?, let x) where w2.isIdentity:
                let sum = original.op.operands[0].index
                guard uses[sum] == 1, let (a, b) = r[x].op.binary(.add), let (oa, ob) = p.nodes[sum].op.binary(.add), oa != ob else { break }
                // (operand in the new program, its original index): single-use affine maps.
                let candidates = [(a, oa.index), (b, ob.index)].filter { new, old in
                    if case .affine = r[new].op { return uses[old] == 1 }
                    return false
                }
                guard let (target, _) = candidates.first(where: { !readsState[$0.1] }) ?? candidates.first,
                      case .affine(let w1, let b1, let y) = r[target].op else { break }
                let folded = r.add(.affine(w1, bias: zip(b1 ?? [Double](repeating: 0, count: b2.count), b2).map(+), y),
                                   size: r[target].size, range: r[target].range)
                return emit(target == a ? .add(folded, b) : .add(a, folded))
            default: break
            }
            switch node.op {
            case .affine(let w2, let b2, let x):
                // The product's cost is checked first: `B @ (A @ x)` of two dense 4096-wide
                // matrices is 69 G multiply-adds, and would be refused for its size after.
                if case .affine(let w1, let b1, let y) = r[x].op, uses[original.op.operands[0].index] == 1,
                   w2.productWork(w1) <= CompilerLimits.maxFusionWork,
                   everyFold || !Exactness.fusionLosesExactness(outer: w2, inner: w1, innerBias: b1) {
                    let fused = w2.times(w1)
                    if fused.storedCount <= w1.storedCount + w2.storedCount {
                        var bias = b1.map { w2.apply($0) }
                        if let b2 { bias = bias.map { zip($0, b2).map(+) } ?? b2 }
                        return emit(.affine(fused, bias: bias, y))
                    }
                }
                if case .slice(let y, let start) = r[x].op, w2.isSparse || r[y].size <= 2 * w2.cols {
                    return emit(.affine(w2.embeddingColumns(at: start, width: r[y].size), bias: b2, y))
                }
            case .elementwise(let op, let xs) where op.kind == .add:
                let (a, b) = (xs[0], xs[1])
                if case .affine(let w1, let b1, let x) = r[a].op, case .affine(let w2, let bb2, let y) = r[b].op, x == y {
                    let bias: [Double]? = (b1 == nil && bb2 == nil) ? nil : zip(b1 ?? [Double](repeating: 0, count: node.size), bb2 ?? [Double](repeating: 0, count: node.size)).map(+)
                    return emit(.affine(w1.plus(w2), bias: bias, x))
                }
            default: break
            }
            return emit(node.op)
        }
    } }

    /// Replaces a node by an identical earlier one (same op, same operands).
    static let commonSubexpressions = Pass(name: "cse") { p in
        var seen: [IROpKey: ValueID] = [:]
        return IRRewriter.rewrite(p) { r, node, _ in
            if case .stateRead = node.op { return r.add(node.op, size: node.size, range: node.range) }
            let key = IROpKey(op: node.op, size: node.size)
            if let existing = seen[key] { return existing }
            let id = r.add(node.op, size: node.size, range: node.range)
            seen[key] = id
            return id
        }
    }

    /// Removes nodes that no output needs, and states that no output depends on.
    static let deadCodeElimination = Pass(name: "dce") { p in
        var live = [Bool](repeating: false, count: p.nodes.count)
        var liveStates = [Bool](repeating: false, count: p.states.count)
        var work = p.outputs.map(\.index)
        while let i = work.popLast() {
            guard !live[i] else { continue }
            live[i] = true
            if case .stateRead(let s) = p.nodes[i].op, !liveStates[s] {
                liveStates[s] = true
                work.append(p.states[s].next.index)
            }
            work += p.nodes[i].op.operands.map(\.index)
        }
        var stateMap: [Int: Int] = [:]
        for (k, alive) in liveStates.enumerated() where alive { stateMap[k] = stateMap.count }
        var out = p
        var map = [Int](repeating: -1, count: p.nodes.count)
        out.nodes = []
        out.paramUses = [:]
        out.cells = []
        for (i, node) in p.nodes.enumerated() where live[i] {
            var n = node
            n.op = node.op.mapOperands { ValueID(index: map[$0.index]) }
            if case .stateRead(let s) = n.op { n.op = .stateRead(stateMap[s]!) }
            map[i] = out.nodes.count
            out.nodes.append(n)
        }
        out.states = p.states.enumerated().filter { liveStates[$0.offset] }.map { var s = $0.element; s.next = ValueID(index: map[s.next.index]); return s }
        out.outputs = p.outputs.map { ValueID(index: map[$0.index]) }
        return out
    }

    /// Stores each weight matrix dense or sparse by its density.
    static let sparsity = Pass(name: "sparsity") { p in
        var out = p
        for i in out.nodes.indices {
            if case .affine(let w, let b, let x) = out.nodes[i].op { out.nodes[i].op = .affine(w.restored(), bias: b, x) }
        }
        return out
    }
}

/// A hashable identity of an op, for common-subexpression elimination.
struct IROpKey: Hashable {
    let op: IROp
    let size: Int

    static func == (a: IROpKey, b: IROpKey) -> Bool { a.size == b.size && a.op == b.op }

    func hash(into h: inout Hasher) {
        h.combine(size)
        switch op {
        case .input(let i): h.combine(0); h.combine(i)
        case .stateRead(let s): h.combine(1); h.combine(s)
        // A few values besides the shape, so that thousands of same-shaped constants and maps
        // (`x * 1`, `x * 2`, ...) do not all share one hash and make CSE quadratic.
        case .constant(let v): h.combine(2); h.combine(v.count); for x in v.prefix(8) { h.combine(x) }
        case .affine(let w, let b, let x):
            h.combine(3); h.combine(x); h.combine(w.rows); h.combine(w.cols); h.combine(w.nonZeroCount)
            for v in w.leadingValues(8) { h.combine(v) }
            for v in (b ?? []).prefix(8) { h.combine(v) }
        case .elementwise(let f, let xs): h.combine(4); h.combine(f); h.combine(xs)
        case .concat(let xs): h.combine(6); h.combine(xs)
        case .slice(let x, let s): h.combine(7); h.combine(x); h.combine(s)
        case .gather(let w, let x): h.combine(8); h.combine(x); h.combine(w.rows); h.combine(w.cols); h.combine(w.name)
        }
    }
}
