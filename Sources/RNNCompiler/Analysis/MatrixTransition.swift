import Foundation
import RNNRuntime

/// How the transition of a linear matrix state `S: [m, n]` acts, beyond its class: which
/// decay a diagonal one applies (one for the whole matrix as in RetNet and Mamba-2, one per
/// row as in GLA, one per column, one per element), and whether a time-varying one multiplies
/// `S` by `alpha I` minus a low-rank matrix (a generalized Householder transition, as the
/// delta rule's `(I - beta k k^T) S`). These decide which chunked algorithm fits the state.
///
/// Found by probing the reference semantics, not by matching how the source is written: with
/// the inputs and every state at random values, `L(D) = next(S + D) - next(S)` is the
/// transition applied to `D` (exactly, for a linear state), so a few probes read its shape.
package enum MatrixTransition: Equatable, Sendable, CustomStringConvertible {
    package enum Gate: String, Sendable {
        case scalar = "one decay for the whole matrix"
        case rows = "a decay per row"
        case columns = "a decay per column"
        case elements = "a decay per element"
    }

    /// Which side of `S` a matrix multiplies: `A S` mixes each column's elements, `S A` each row's.
    package enum Side: String, Sendable {
        case left, right
    }

    /// `S_t = a_t * S_{t-1} + B_t`, `a_t` of the given shape.
    case gate(Gate)
    /// `S_t = (alpha_t I - W_t) S_{t-1} + B_t` (or `S_{t-1} (alpha_t I - W_t)`), `W_t` of rank `rank`.
    case householder(side: Side, rank: Int)
    /// A matrix `A_t` on one side of `S`, not a low-rank change of a scaling.
    case oneSided(Side)
    /// None of these.
    case general

    package var description: String {
        switch self {
        case .gate(let gate): return gate.rawValue
        case .householder(let side, let rank):
            let product = side == .left ? "(alpha_t I - W_t) S" : "S (alpha_t I - W_t)"
            return "generalized Householder: \(product) with W_t of rank \(rank)" + (rank == 1 ? " (the delta rule's beta k k^T)" : "")
        case .oneSided(let side): return "a matrix on the \(side.rawValue) of S"
        case .general: return "mixes elements across rows and columns"
        }
    }

    /// Most probes of the state's cycle one classification may evaluate, in elements.
    static let workLimit = 1 << 27

    /// The transition of matrix state `index` of `program`, whose group has `kind`; nil for a
    /// vector state, a nonlinear one, one coupled with others, or one too large to probe.
    package static func classify(_ program: IRProgram, state index: Int, kind: RecurrenceClass) -> MatrixTransition? {
        classify(ProbeSample(program), state: index, kind: kind)
    }

    /// The same from a sample shared by all of a program's states (one evaluation of the
    /// program, however many heads it has).
    package static func classify(_ sample: ProbeSample, state index: Int, kind: RecurrenceClass) -> MatrixTransition? {
        guard let shape = sample.program.states[index].matrixShape, kind != .nonlinear else { return nil }
        let probe = TransitionProbe(sample, state: index)
        let (m, n) = (shape[0], shape[1])
        guard probe.cycleWork * (max(m, n) + 4) <= workLimit else { return nil }
        if kind != .linear { return .gate(gateShape(probe.apply([Double](repeating: 1, count: m * n)), m, n)) }
        if let a = probe.sideMatrix(.left, m, n) { return lowRankChange(a, m).map { .householder(side: .left, rank: $0) } ?? .oneSided(.left) }
        if let a = probe.sideMatrix(.right, m, n) { return lowRankChange(a, n).map { .householder(side: .right, rank: $0) } ?? .oneSided(.right) }
        return .general
    }

    /// The shape of a diagonal transition's coefficients `a` (an `[m, n]` matrix, row-major).
    static func gateShape(_ a: [Double], _ m: Int, _ n: Int) -> Gate {
        let same = { (x: Double, y: Double) in abs(x - y) <= 1e-9 * max(1, abs(x), abs(y)) }
        if a.allSatisfy({ same($0, a[0]) }) { return .scalar }
        if (0..<m).allSatisfy({ i in (0..<n).allSatisfy { same(a[i * n + $0], a[i * n]) } }) { return .rows }
        if (0..<m).allSatisfy({ i in (0..<n).allSatisfy { same(a[i * n + $0], a[$0]) } }) { return .columns }
        return .elements
    }

    /// `r` when `A - alpha I` has rank `r` for an eigenvalue `alpha` of `A` of multiplicity
    /// `m - r` (`1 <= r <= m / 2`); nil otherwise.
    static func lowRankChange(_ a: [Double], _ m: Int) -> Int? {
        guard m >= 2, let schur = ComplexSchur(a, m) else { return nil }
        let eigenvalues = (0..<m).map { schur.t[$0 * m + $0] }
        let scale = max(1, eigenvalues.map(\.length).max() ?? 1)
        let multiplicity = eigenvalues.map { e in eigenvalues.filter { ($0 - e).length <= 1e-7 * scale }.count }.max() ?? 1
        let rank = m - multiplicity
        return rank >= 1 && rank <= m / 2 ? rank : nil
    }
}

/// A program evaluated once at random inputs and states, with what a probe needs to find the
/// nodes that depend on one state.
package struct ProbeSample {
    let program: IRProgram
    let states: [[Double]]
    let values: [[Double]]
    private let users: [[Int]]
    private let readsOfState: [Int: [Int]]

    package init(_ program: IRProgram, seed: UInt64 = 1) {
        self.program = program
        var rng = SplitMix64(seed: seed)
        states = program.states.map { s in (0..<s.size).map { _ in rng.nextGaussian() } }
        let inputs = program.inputs.map { input in
            input.vocabulary.map { [Double(Int(rng.next() % UInt64($0)))] } ?? (0..<input.size).map { _ in rng.nextGaussian() }
        }
        var values: [[Double]] = [], users = [[Int]](repeating: [], count: program.nodes.count), readsOfState: [Int: [Int]] = [:]
        for (i, node) in program.nodes.enumerated() {
            for operand in node.op.operands { users[operand.index].append(i) }
            switch node.op {
            case .input(let k): values.append(inputs[k])
            case .stateRead(let s):
                values.append(states[s])
                readsOfState[s, default: []].append(i)
            default:
                let value = Interpreter.evaluate(node, operand: { values[$0.index] })
                values.append(value)
            }
        }
        (self.values, self.users, self.readsOfState) = (values, users, readsOfState)
    }

    /// The nodes between state `s`'s previous value and its next one (those that depend on
    /// the first and feed the second), in topological order: not the outputs' concatenation
    /// of every head, which would make each probe cost the whole program.
    func cycle(of s: Int) -> [Int] {
        var dependents = Set(readsOfState[s] ?? []), work = Array(dependents)
        while let i = work.popLast() {
            for u in users[i] where dependents.insert(u).inserted { work.append(u) }
        }
        var cycle = Set<Int>()
        work = [program.states[s].next.index]
        while let i = work.popLast() {
            guard dependents.contains(i), cycle.insert(i).inserted else { continue }
            work += program.nodes[i].op.operands.map(\.index)
        }
        return cycle.sorted()
    }
}

/// Re-evaluates only the nodes that read one state, to apply its transition to a change `D`
/// of that state.
struct TransitionProbe {
    let program: IRProgram
    let state: Int
    private let base: [[Double]]
    /// The nodes that read the state, in topological order.
    private let cycle: [Int]
    private let start: [Double]

    init(_ sample: ProbeSample, state: Int) {
        (program, self.state, base, start) = (sample.program, state, sample.values, sample.states[state])
        cycle = sample.cycle(of: state)
    }

    /// Elements one probe computes.
    var cycleWork: Int { cycle.reduce(0) { $0 + program.nodes[$1].size } }

    /// `next(S + D) - next(S)`.
    func apply(_ delta: [Double]) -> [Double] {
        // Only the cycle's values change: kept apart, so a probe costs its cycle, not the program.
        var changed: [Int: [Double]] = [:]
        for i in cycle {
            let node = program.nodes[i]
            if case .stateRead = node.op {
                changed[i] = zip(start, delta).map { $0 + $1 }
            } else {
                changed[i] = Interpreter.evaluate(node, operand: { changed[$0.index] ?? base[$0.index] })
            }
        }
        let next = program.states[state].next.index
        return zip(changed[next] ?? base[next], base[next]).map { $0 - $1 }
    }

    /// The matrix `A` with `L(D) = A D` (`.left`, `m x m`) or `L(D) = D A` (`.right`, `n x n`),
    /// when the transition acts on one side alone; nil when it does not.
    func sideMatrix(_ side: MatrixTransition.Side, _ m: Int, _ n: Int) -> [Double]? {
        let k = side == .left ? m : n
        // D holding vector u in column (left) or row (right) j.
        func placed(_ u: [Double], at j: Int) -> [Double] {
            var d = [Double](repeating: 0, count: m * n)
            for (i, x) in u.enumerated() { d[side == .left ? i * n + j : j * n + i] = x }
            return d
        }
        func extract(_ l: [Double], at j: Int) -> (part: [Double], rest: Double) {
            var part = [Double](repeating: 0, count: k), rest = 0.0
            for r in 0..<m { for c in 0..<n {
                let inside = side == .left ? c == j : r == j
                if inside { part[side == .left ? r : c] = l[r * n + c] } else { rest = max(rest, abs(l[r * n + c])) }
            } }
            return (part, rest)
        }
        var a = [Double](repeating: 0, count: k * k)  // row-major; column i is A e_i
        var largest = 0.0
        for i in 0..<k {
            var e = [Double](repeating: 0, count: k)
            e[i] = 1
            let (column, rest) = extract(apply(placed(e, at: 0)), at: 0)
            largest = max(largest, column.map(abs).max() ?? 0)
            guard rest <= 1e-9 * max(1, largest) else { return nil }
            for r in 0..<k { a[r * k + i] = column[r] }
        }
        // The same A on the other end, for a random vector.
        var rng = SplitMix64(seed: 7)
        let u = (0..<k).map { _ in rng.nextGaussian() }
        let (got, rest) = extract(apply(placed(u, at: (side == .left ? n : m) - 1)), at: (side == .left ? n : m) - 1)
        let want = (0..<k).map { r in (0..<k).reduce(0.0) { $0 + a[r * k + $1] * u[$1] } }
        let scale = max(1, want.map(abs).max() ?? 0)
        guard rest <= 1e-9 * scale, zip(got, want).allSatisfy({ abs($0 - $1) <= 1e-9 * scale }) else { return nil }
        return side == .left ? a : transposed(a, k)
    }

    /// For `.right`, `L(D) = D A` puts `A`'s row i (not column) in the probed row: the matrix
    /// read is `A^T`.
    private func transposed(_ a: [Double], _ k: Int) -> [Double] {
        (0..<(k * k)).map { a[($0 % k) * k + $0 / k] }
    }
}
