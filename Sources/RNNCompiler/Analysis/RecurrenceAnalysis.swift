import RNNOps
import RNNRuntime

/// The kinds of state recurrence `s_t = F(s_{t-1}, u_t)` the compiler distinguishes.
package enum RecurrenceClass: String, Sendable, CaseIterable {
    /// `s_t = A s_{t-1} + B u_t + c` with a constant `A` (LSRL's LinState): scan-able.
    case affine = "affine time-invariant"
    /// `s_t = a_t * s_{t-1} + b_t` element-wise, `a_t` and `b_t` independent of `s`: scan-able.
    case diagonal = "diagonal time-varying"
    /// `s_t = A_t s_{t-1} + b_t` with an input-dependent `A_t` that mixes elements (the delta
    /// rule's `(I - beta k k^T) S`): linear, but run step by step.
    case linear = "linear time-varying"
    /// Anything else (Elman, LSTM, GRU): sequential.
    case nonlinear = "nonlinear"
}

/// The classification of one group of states. States whose updates read each other's
/// previous values are coupled and classified together, as one concatenated state.
package struct StateRecurrence: Sendable {
    /// Indices into `IRProgram.states`, in declaration order.
    package var states: [Int]
    package var kind: RecurrenceClass
    /// For `.affine`: whether `A` is diagonal (an element-wise scan suffices).
    package var diagonalA: Bool
    /// One line saying why.
    package var reason: String
    /// For `.affine`: the rows of the constant `A` over the group's concatenated state
    /// (column -> coefficient), in the order of `states`.
    package var transition: [[Int: Double]]? = nil
}

/// Classifies every state of a program by tracking, node by node, how each value depends
/// on the previous values of one group of states: not at all, linearly with constant
/// coefficients, element-wise linearly with input-dependent coefficients, or otherwise.
package enum RecurrenceAnalysis {
    /// One entry per group of coupled states, dependencies first.
    package static func analyze(_ program: IRProgram) -> [StateRecurrence] {
        let reads = stateDependencies(program)
        let groups = coupledGroups(program, reads: reads)
        return groups.map { classify($0, program, reads: reads) }
    }

    /// For every node, the states whose previous value it reads (directly or transitively).
    static func stateDependencies(_ program: IRProgram) -> [Set<Int>] {
        var deps: [Set<Int>] = []
        deps.reserveCapacity(program.nodes.count)
        for node in program.nodes {
            if case .stateRead(let s) = node.op { deps.append([s]); continue }
            var d = Set<Int>()
            for operand in node.op.operands { d.formUnion(deps[operand.index]) }
            deps.append(d)
        }
        return deps
    }

    /// Strongly connected components of "the update of i reads the previous value of j",
    /// in dependency order (Tarjan's algorithm emits a component after all it depends on).
    static func coupledGroups(_ program: IRProgram, reads: [Set<Int>]) -> [[Int]] {
        let n = program.states.count
        let edges = (0..<n).map { i in reads[program.states[i].next.index].filter { $0 != i }.sorted() }
        var index = [Int?](repeating: nil, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n), stack: [Int] = [], counter = 0
        var groups: [[Int]] = []
        // Iterative: a chain of thousands of states must not recurse once per state.
        func visit(_ root: Int) {
            var work: [(v: Int, next: Int)] = [(root, 0)]
            index[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while let (v, k) = work.last {
                if k < edges[v].count {
                    work[work.count - 1].next = k + 1
                    let w = edges[v][k]
                    if index[w] == nil {
                        index[w] = counter; low[w] = counter; counter += 1
                        stack.append(w); onStack[w] = true
                        work.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w]!)
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.v { low[parent] = min(low[parent], low[v]) }
                if low[v] == index[v] {
                    var group: [Int] = []
                    while let w = stack.popLast() {
                        onStack[w] = false
                        group.append(w)
                        if w == v { break }
                    }
                    groups.append(group.sorted())
                }
            }
        }
        for v in 0..<n where index[v] == nil { visit(v) }
        return groups
    }

    /// How a value depends on the group's concatenated previous state `s`.
    enum Dependence {
        case none
        /// `value[i] = sum_j rows[i][j] * s[j] + (terms independent of s)`. When `varying`,
        /// the coefficients depend on inputs (only the columns are tracked) and every row
        /// has at most one column.
        case linear(rows: [[Int: Double]], varying: Bool)
        /// Linear in `s` with input-dependent coefficients that mix its elements; which
        /// elements is not tracked (a delta rule's matrix state would need millions of entries).
        case mixing
        case nonlinear(String)
    }

    /// Each node's dependence on one group; nodes not stored have none.
    struct DependenceMap {
        var known: [Int: Dependence] = [:]
        subscript(_ i: Int) -> Dependence {
            get { known[i] ?? .none }
            set { known[i] = newValue }
        }
    }

    static func classify(_ group: [Int], _ program: IRProgram, reads: [Set<Int>]) -> StateRecurrence {
        var offset: [Int: Int] = [:]
        var width = 0
        for s in group { offset[s] = width; width += program.states[s].size }
        // Only the nodes between the group's states and their next values matter (not, say,
        // an output concatenating every state): walking back from the next values keeps
        // thousands of small states linear in time, not states x nodes.
        let members = Set(group)
        var cycle = Set<Int>()
        var work = group.map { program.states[$0].next.index }
        while let i = work.popLast() {
            guard !cycle.contains(i), !reads[i].isDisjoint(with: members) else { continue }
            cycle.insert(i)
            work += program.nodes[i].op.operands.map(\.index)
        }
        var dep = DependenceMap()
        for i in cycle.sorted() {
            dep[i] = dependence(of: program.nodes[i], offset: offset, dep: dep, nodes: program.nodes)
        }
        var rows: [[Int: Double]] = []
        var varying = false
        var mixing = false
        for s in group {
            switch dep[program.states[s].next.index] {
            case .none: rows += Array(repeating: [:], count: program.states[s].size)
            case .linear(let r, let v): rows += r; varying = varying || v
            case .mixing: mixing = true
            case .nonlinear(let why):
                return StateRecurrence(states: group, kind: .nonlinear, diagonalA: false, reason: why + coupling(group, program))
            }
        }
        let diagonal = !mixing && rows.enumerated().allSatisfy { i, row in row.keys.allSatisfy { $0 == i } }
        if varying || mixing {
            guard diagonal else {
                return StateRecurrence(states: group, kind: .linear, diagonalA: false,
                                       reason: "s_t = A_t s_{t-1} + b_t; A_t depends on the input and moves values between state elements" + coupling(group, program))
            }
            return StateRecurrence(states: group, kind: .diagonal, diagonalA: true,
                                   reason: "s_t = a_t * s_{t-1} + b_t; a_t and b_t do not depend on the state" + coupling(group, program))
        }
        let nonZeros = rows.reduce(0) { $0 + $1.values.filter { $0 != 0 }.count }
        let why: String
        if nonZeros == 0 { why = "s_t does not depend on s_{t-1}" }
        else if diagonal { why = "s_t = A s_{t-1} + b_t with a constant diagonal A" }
        else { why = "s_t = A s_{t-1} + b_t with a constant \(width)x\(width) A (\(nonZeros) non-zeros)" }
        return StateRecurrence(states: group, kind: .affine, diagonalA: diagonal, reason: why + coupling(group, program), transition: rows)
    }

    private static func coupling(_ group: [Int], _ program: IRProgram) -> String {
        group.count > 1 ? " (coupled: " + group.map { program.states[$0].name }.joined(separator: ", ") + ")" : ""
    }

    private static func location(_ node: IRNode) -> String {
        guard let r = node.range else { return "" }
        return " at \((r.file.path as NSString).lastPathComponent):\(r.line):\(r.column)"
    }

    static func dependence(of node: IRNode, offset: [Int: Int], dep: DependenceMap, nodes: [IRNode]) -> Dependence {
        let at = location(node)
        switch node.op {
        case .input, .constant, .gather: return .none
        case .stateRead(let s):
            guard let o = offset[s] else { return .none }
            return .linear(rows: (0..<node.size).map { [o + $0: 1] }, varying: false)
        case .affine(let w, _, let x):
            guard case .linear(let rows, let varying) = dep[x.index] else { return dep[x.index] }
            return combine(w, rows, varying: varying, at: at)
        case .elementwise(let op, let xs):
            return elementwise(op, xs.map { dep[$0.index] }, at: at)
        case .concat(let parts):
            var rows: [[Int: Double]] = []
            var varying = false, mixing = false
            for p in parts {
                switch dep[p.index] {
                case .none: rows += Array(repeating: [:], count: nodes[p.index].size)
                case .linear(let r, let v): rows += r; varying = varying || v
                case .mixing: mixing = true
                case .nonlinear(let why): return .nonlinear(why)
                }
            }
            return mixing ? .mixing : .linear(rows: rows, varying: varying)
        case .slice(let x, let start):
            guard case .linear(let rows, let varying) = dep[x.index] else { return dep[x.index] }
            return .linear(rows: Array(rows[start..<(start + node.size)]), varying: varying)
        }
    }

    /// An element-wise op's dependence on the state, from its linearity in the op table.
    private static func elementwise(_ op: ElementwiseOp, _ operands: [Dependence], at: String) -> Dependence {
        let dependent = operands.filter { if case .none = $0 { return false } else { return true } }
        if dependent.isEmpty { return .none }
        for case .nonlinear(let why) in dependent { return .nonlinear(why) }
        switch op.entry.linearity {
        case .additive:
            return operands.dropFirst().reduce(operands[0]) { add($0, $1, at: at) }
        case .multiplicative:
            guard dependent.count == 1 else { return .nonlinear("product of two state-dependent values\(at)") }
            // An input-dependent gate on a mix of state elements: linear, mixing.
            guard case .linear(let rows, _) = dependent[0], rows.allSatisfy({ $0.count <= 1 }) else { return .mixing }
            return .linear(rows: rows, varying: true)
        case .nonlinear:
            return .nonlinear("\(op.name) of a state-dependent value\(at)")
        }
    }

    private static func add(_ a: Dependence, _ b: Dependence, at: String) -> Dependence {
        switch (a, b) {
        case (.none, let x), (let x, .none): return x
        case (.nonlinear(let why), _), (_, .nonlinear(let why)): return .nonlinear(why)
        case (.mixing, _), (_, .mixing): return .mixing
        case (.linear(let r1, let v1), .linear(let r2, let v2)):
            var rows = r1
            for i in rows.indices { rows[i].merge(r2[i], uniquingKeysWith: +) }
            let varying = v1 || v2
            // A sum that mixes state elements under input-dependent coefficients.
            if varying, !rows.allSatisfy({ $0.count <= 1 }) { return .mixing }
            return .linear(rows: rows, varying: varying)
        }
    }

    /// `W` applied to a value whose rows depend linearly on the state.
    private static func combine(_ w: WeightMatrix, _ rows: [[Int: Double]], varying: Bool, at: String) -> Dependence {
        var out = [[Int: Double]](repeating: [:], count: w.rows)
        func accumulate(_ r: Int, _ k: Int, _ c: Double) {
            guard c != 0 else { return }
            for (col, coef) in rows[k] { out[r][col, default: 0] += c * coef }
        }
        switch w.storage {
        case .dense(let v):
            for r in 0..<w.rows { for k in 0..<w.cols where !rows[k].isEmpty { accumulate(r, k, v[r * w.cols + k]) } }
        case .sparse(let offsets, let columns, let values):
            for r in 0..<w.rows { for e in offsets[r]..<offsets[r + 1] where !rows[columns[e]].isEmpty { accumulate(r, columns[e], values[e]) } }
        }
        // A matrix that mixes state elements scaled by input-dependent coefficients.
        if varying, !out.allSatisfy({ $0.count <= 1 }) { return .mixing }
        return .linear(rows: out, varying: varying)
    }
}

import Foundation
