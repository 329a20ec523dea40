/// Checks the structural invariants of an IR program: operands precede their users, every
/// reference exists, and every size agrees. Run between passes with `--verify-each`.
package enum IRVerifier {
    /// Every problem found (empty when the program is well formed).
    package static func verify(_ p: IRProgram) -> [String] {
        var problems: [String] = []
        func size(_ id: ValueID, usedBy i: Int) -> Int? {
            guard id.index >= 0, id.index < i else {
                problems.append("%\(i) uses \(id), which does not precede it")
                return nil
            }
            return p.nodes[id.index].size
        }
        for (i, node) in p.nodes.enumerated() {
            let sizes = node.op.operands.map { size($0, usedBy: i) }
            if sizes.contains(where: { $0 == nil }) { continue }
            let s = sizes.map { $0! }
            let ok: Bool
            switch node.op {
            case .input(let k): ok = k >= 0 && k < p.inputs.count && p.inputs[k].size == node.size
            case .stateRead(let k): ok = k >= 0 && k < p.states.count && p.states[k].size == node.size
            case .constant(let v): ok = v.count == node.size
            case .affine(let w, let bias, _): ok = w.rows == node.size && w.cols == s[0] && (bias?.count ?? w.rows) == w.rows && w.validate() == nil
            case .elementwise(let op, _): ok = s.count == op.arity && s.allSatisfy { $0 == node.size }
            case .concat: ok = s.reduce(0, +) == node.size && !s.isEmpty
            case .slice(_, let start): ok = start >= 0 && start + node.size <= s[0] && node.size > 0
            case .gather(let w, let x):
                // The index is a token input, whose ids the table covers.
                guard case .input(let k) = p.nodes[x.index].op, k >= 0, k < p.inputs.count, let vocabulary = p.inputs[k].vocabulary else { ok = false; break }
                ok = w.cols == node.size && w.rows >= vocabulary && w.validate() == nil
            }
            if !ok { problems.append("%\(i) = \(Dump.op(node.op, p)) has inconsistent sizes or references") }
        }
        for (k, st) in p.states.enumerated() {
            if st.next.index < 0 || st.next.index >= p.nodes.count { problems.append("state \(k) \(st.name) updates from a missing node"); continue }
            if p.nodes[st.next.index].size != st.size || st.initial.count != st.size { problems.append("state \(k) \(st.name) has inconsistent sizes") }
        }
        for o in p.outputs where o.index < 0 || o.index >= p.nodes.count { problems.append("output \(o) does not exist") }
        return problems
    }
}
