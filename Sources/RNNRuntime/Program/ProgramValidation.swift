/// Checks that a step program only references slots, matrices and vectors that exist and
/// that every size agrees, so the executor can never index out of bounds.
extension StepProgram {
    /// Largest total number of scalars in all slots of one program.
    package static let maxSlotElements = 1 << 28

    package func validate() throws(RuntimeError) {
        if let problem = firstProblem() { throw .invalidProgram(problem) }
    }

    private func size(_ s: Int) -> Int? { s >= 0 && s < slotSizes.count ? slotSizes[s] : nil }
    private func vectorSize(_ v: Int?) -> Int? { v.flatMap { $0 >= 0 && $0 < vectors.count ? vectors[$0].count : nil } }

    private func firstProblem() -> String? {
        var total = 0
        for (i, s) in slotSizes.enumerated() {
            guard s >= 0 else { return "slot \(i) has negative size \(s)" }
            guard s <= Self.maxSlotElements - total else { return "slots hold more than \(Self.maxSlotElements) values" }
            total += s
        }
        guard inputs.count == inputSlots.count else { return "inputs and input slots differ in number" }
        for (port, s) in zip(inputs, inputSlots) where size(s) == nil || size(s) != port.size {
            return "input '\(port.name)' does not match its slot \(s)"
        }
        for port in inputs where port.vocabulary != nil && (port.size != 1 || port.vocabulary! < 1) {
            return "token input '\(port.name)' must have one value and a vocabulary of at least 1"
        }
        for s in outputSlots where size(s) == nil { return "output slot \(s) does not exist" }
        for m in matrices { if let problem = m.validate() { return problem } }
        for st in states {
            guard let n = size(st.slot), size(st.update) == n, vectorSize(st.initial) == n else {
                return "state '\(st.name)' has inconsistent slots or initial value"
            }
            if let parts = st.parts, parts.isEmpty || parts.contains(where: { $0.size < 0 || $0.size > n }) || parts.reduce(0, { $0 + $1.size }) != n {
                return "state '\(st.name)''s parts do not add up to its \(n) values"
            }
            for (name, shape, size) in [(st.name, st.matrixShape, n)] + (st.parts ?? []).map({ ($0.name, $0.matrixShape, $0.size) }) {
                guard let shape else { continue }
                let product = shape.count == 2 ? shape[0].multipliedReportingOverflow(by: shape[1]) : (partialValue: 0, overflow: true)
                guard shape.allSatisfy({ $0 >= 1 }), !product.overflow, product.partialValue == size else {
                    return "state '\(name)' has matrix shape \(shape), which does not hold its \(size) values"
                }
            }
        }
        for c in constants where size(c.slot) == nil || size(c.slot) != vectorSize(c.vector) {
            return "constant for slot \(c.slot) has the wrong size"
        }
        for (n, ins) in instructions.enumerated() where !isConsistent(ins) {
            return "instruction \(n) (\(ins)) references a missing slot or has inconsistent sizes"
        }
        return nil
    }

    private func isConsistent(_ ins: Instruction) -> Bool {
        switch ins {
        case .affine(let dst, let src, let m, let bias, let epilogue):
            guard m >= 0, m < matrices.count, let d = size(dst), let s = size(src), epilogue?.arity ?? 1 == 1 else { return false }
            let w = matrices[m]
            return w.rows == d && w.cols == s && (bias == nil || vectorSize(bias) == d)
        case .elementwise(let op, let d, let a, let b):
            guard let n = size(d), (b == nil ? 1 : 2) == op.arity else { return false }
            return size(a) == n && (b.map { size($0) == n } ?? true)
        case .concat(let d, let parts):
            var sum = 0
            for p in parts {
                guard let n = size(p) else { return false }
                sum += n
            }
            return size(d) == sum
        case .slice(let d, let s, let start):
            guard let n = size(d), let m = size(s) else { return false }
            return start >= 0 && start <= m && n <= m - start
        case .gather(let d, let s, let m):
            // The index must be a token input: its ids are checked against its vocabulary,
            // which the table must cover.
            guard m >= 0, m < matrices.count, let n = size(d), let k = inputSlots.firstIndex(of: s),
                  let vocabulary = inputs[k].vocabulary else { return false }
            return matrices[m].cols == n && matrices[m].rows >= vocabulary
        }
    }
}
