/// How to run a step program over a whole sequence at once (the parallel-scan program).
///
/// Every slot becomes a `[T, size]` buffer, one row per time step. A state slot's row `t`
/// holds the state's value before step `t` (row 0 is the initial value). Stages run in order:
/// a `batched` stage runs its instructions over all rows at once (matrix-matrix products for
/// affine maps); a `recurrence` stage solves one group of coupled states over the sequence and
/// then fills the rows of the instructions in its cycle that something outside it reads.
///
/// The compiler decides everything here (`ScanLowering`): which recurrences are linear, how
/// their coefficient and offset terms are computed, which shapes are scanned straight from
/// their slots, which values are recomputed and which keep one row. The runtime follows the
/// plan; it holds no rules about ops (`validate` checks only that a plan is safe to run).
public struct ScanPlan: Sendable, Equatable {
    package enum Stage: Sendable, Equatable {
        /// Instruction indices (into `StepProgram.instructions`) that do not depend on any
        /// unsolved state, run over all time steps.
        case batched([Int])
        case recurrence(Recurrence)
    }

    /// One group of coupled states and the instructions on its cycle.
    package struct Recurrence: Sendable, Equatable {
        package enum Kind: String, Sendable {
            /// `s_t = a_t * s_{t-1} + b_t` element-wise: an associative scan.
            case diagonal = "diagonal"
            /// `s_t = A s_{t-1} + b_t` with a constant dense `A` (`transition`): input terms
            /// batched, then a sequential matrix-vector recurrence.
            case affine = "affine"
            /// `s_t = A s_{t-1} + b_t` with `A = P D P⁻¹` diagonalized at compile time (`modes`):
            /// input terms batched and moved to modal coordinates by one product, an
            /// element-wise scan over the modes, and one product back.
            case modal = "modal"
            /// `s_t = A s_{t-1} + b_t` with a nilpotent `A` (`A^m = 0`: a shift register, such
            /// as a convolution's window of past inputs): `s_t` is a finite sum of past
            /// offsets, `sum_{j<m} A^j b_{t-j}` (and `A^t s_0` while `t < m`), batched
            /// products by the powers `A, ..., A^{m-1}` (`powers`), no step by step work.
            case delay = "delay"
            /// A matrix state `S_t = diag(d_t) S_{t-1} + k_t v_tᵀ` read by queries (`chunked`):
            /// chunkwise-parallel, an attention-like product within each chunk of tokens and
            /// the state passed from chunk to chunk; the cycle's wide values are never stored.
            case chunked = "chunked"
            /// Anything else: the cycle's instructions run step by step.
            case sequential = "sequential"
        }

        package var kind: Kind
        /// Indices into `StepProgram.states`.
        package var states: [Int]
        /// For each state, the slot holding its next value.
        package var nextSlots: [Int]
        /// Instruction indices on the cycle (depend on the group and feed its next values), in order.
        package var instructions: [Int]
        /// Index into `StepProgram.matrices` of `A` over the concatenated states (kind `.affine`).
        package var transition: Int?
        /// The eigen-decomposition of `A` (kind `.modal`).
        package var modes: Modes?
        /// Indices into `StepProgram.matrices` of `A, A^2, ..., A^{m-1}`, where `A^m = 0`
        /// (kind `.delay`), at most `maxPowers` of them.
        package var powers: [Int]

        /// Most powers a delay plan holds (so a convolution kernel of up to 9 taps): the
        /// agreement check runs `powers + 3` steps, which a crafted plan must not inflate.
        package static let maxPowers = 8
        /// How the offsets `b_t` are computed (linear kinds): run with the states at zero, they
        /// leave `b_t` in the next slots.
        package var offsets: [OffsetStep]
        /// How the coefficients `a_t` are computed (kind `.diagonal` without `direct`).
        package var coefficients: [CoefficientStep]
        /// A one-state diagonal recurrence scanned straight from the slots holding `a_t` and `b_t`.
        package var direct: Direct?
        /// Cycle instructions run over all rows once the states are known (linear kinds): those
        /// whose values something outside the cycle reads, and what they depend on, in order.
        package var recompute: [Int]
        /// Slots that only the cycle reads (kind `.sequential`): they keep one row per sequence,
        /// reused each step, so a step works in cache.
        package var localSlots: [Int]
        /// The outer-product form of a matrix state (kind `.chunked`).
        package var chunked: Chunked?

        package init(kind: Kind, states: [Int], nextSlots: [Int], instructions: [Int], transition: Int? = nil, modes: Modes? = nil,
                    powers: [Int] = [], offsets: [OffsetStep] = [], coefficients: [CoefficientStep] = [], direct: Direct? = nil,
                    recompute: [Int] = [], localSlots: [Int] = [], chunked: Chunked? = nil) {
            self.kind = kind
            self.states = states
            self.nextSlots = nextSlots
            self.instructions = instructions
            self.transition = transition
            self.modes = modes
            self.powers = powers
            self.offsets = offsets
            self.coefficients = coefficients
            self.direct = direct
            self.recompute = recompute
            self.localSlots = localSlots
            self.chunked = chunked
        }
    }

    /// One step of the offset pass, over every row.
    package enum OffsetStep: Sendable, Equatable {
        /// Runs a cycle instruction as it is.
        case instruction(Int)
        /// Fills a slot with a vector (an affine map's bias, applied to a value known to be
        /// zero) or with zeros.
        case fill(slot: Int, vector: Int?)
    }

    /// One step of the coefficient pass. Each slot the state reaches has a coefficient buffer
    /// (one value per row and element); a state's own is all ones; a slot without one is zero.
    package enum CoefficientStep: Sendable, Equatable {
        /// `c[dst] = M c[src]` (rows of `matrix`, without bias).
        case product(dst: Int, src: Int, matrix: Int)
        /// `c[dst] = c[lhs] + c[rhs]`.
        case sum(dst: Int, lhs: Int, rhs: Int)
        /// `c[dst] = c[coefficient] * (the rows of slot `by`)`.
        case scale(dst: Int, coefficient: Int, by: Int)
        /// `c[dst] = concat(c[parts])`.
        case concat(dst: Int, parts: [Int])
        /// `c[dst] = c[src][start ..< start + size(dst)]`.
        case slice(dst: Int, src: Int, start: Int)

        package var destination: Int {
            switch self {
            case .product(let d, _, _), .sum(let d, _, _), .scale(let d, _, _), .concat(let d, _), .slice(let d, _, _): return d
            }
        }
    }

    /// `next = coefficient * s + offset` (or `s + offset` without a coefficient), element-wise,
    /// from row 0 of the state; every row of a written slot is filled.
    package struct Direct: Sendable, Equatable {
        package var coefficient: Int?
        package var offset: Int
        /// Where to write `coefficient * s` each step (something reads it), or nil.
        package var product: Int?
        /// Whether the state's rows `1 ..< T` are written (something reads them).
        package var writesState: Bool
        /// Whether the next slot's rows are written (something reads them).
        package var writesNext: Bool

        package init(coefficient: Int?, offset: Int, product: Int?, writesState: Bool, writesNext: Bool) {
            self.coefficient = coefficient
            self.offset = offset
            self.product = product
            self.writesState = writesState
            self.writesNext = writesNext
        }
    }

    /// A matrix state seen as `[keys, values]` (its rows and columns, or its columns and rows
    /// when `transposed`): `S_t = diag(d_t) S_{t-1} + k_t v_tᵀ`, read by queries as
    /// `o_t = q_tᵀ S_t` (or `q_tᵀ S_{t-1}`). Each of `k`, `v`, `d` and `q` is the element-wise
    /// product of a few factors, parts of slots computed before the stage (one element
    /// broadcasts); `d` also has a constant factor per key when `constantDecay` is given.
    package struct Chunked: Sendable, Equatable {
        /// Whether keys run along the state's columns (readouts `S @ q`).
        package var transposed: Bool
        package var keys: [Factor]
        package var values: [Factor]
        /// The time-varying decay's factors; none: only the constant one (or none at all).
        package var decay: [Factor]
        /// Index into `StepProgram.vectors` of a constant decay per key, or nil.
        package var constantDecay: Int?
        package var readouts: [Readout]
        /// Tokens per chunk.
        package var chunkSize: Int
        /// The delta rule's correction, or nil (`u_t = v_t`).
        package var delta: Delta?

        /// Largest chunk a plan may ask for (the runner's scratch grows with its square).
        package static let maxChunkSize = 1024

        /// Values `start ..< start + n` of a slot's row (a vector of the axis's `n`), or value
        /// `start` alone, spread over the whole axis (`broadcast`), times `scale`.
        package struct Factor: Sendable, Equatable {
            package var slot: Int
            package var start: Int
            package var broadcast: Bool
            package var scale: Double

            package init(slot: Int, start: Int = 0, broadcast: Bool = false, scale: Double = 1) {
                (self.slot, self.start, self.broadcast, self.scale) = (slot, start, broadcast, scale)
            }
        }

        /// The delta rule: `S_t = D_t + k_t u_tᵀ` with `D_t = d_t S_{t-1}` (one decay for the
        /// whole matrix) and `u_t = a_t D_tᵀ k_t + b_t`: a generalized Householder transition
        /// `d_t (I + a_t k_t k_tᵀ)`. `a_t` is `scale` times the product of the one-element
        /// factors `gain` (`-beta`); `b_t` is `offset` times the product of `values` (`beta v`).
        package struct Delta: Sendable, Equatable {
            package var gain: [Factor]
            package var scale: Double
            package var offset: Double

            package init(gain: [Factor], scale: Double, offset: Double) {
                (self.gain, self.scale, self.offset) = (gain, scale, offset)
            }
        }

        /// One query's readout: `output = q_tᵀ S_t` (after the step's update) or `q_tᵀ S_{t-1}`.
        package struct Readout: Sendable, Equatable {
            package var query: [Factor]
            package var output: Int
            package var afterUpdate: Bool

            package init(query: [Factor], output: Int, afterUpdate: Bool) {
                (self.query, self.output, self.afterUpdate) = (query, output, afterUpdate)
            }
        }

        package init(transposed: Bool, keys: [Factor], values: [Factor], decay: [Factor], constantDecay: Int?, readouts: [Readout], chunkSize: Int,
                     delta: Delta? = nil) {
            (self.transposed, self.keys, self.values, self.decay) = (transposed, keys, values, decay)
            (self.constantDecay, self.readouts, self.chunkSize, self.delta) = (constantDecay, readouts, chunkSize, delta)
        }
    }

    /// `A = P D P⁻¹` over a recurrence's concatenated state. In modal coordinates
    /// `z = P⁻¹ s`, mode `j` steps as `z_j ← real[j] * z_j + imaginary[j] * z_partner + c_j`:
    /// a real eigenvalue has `imaginary[j] = 0` (its partner is itself); a complex pair
    /// `a ± ib` is modes `k, k+1` with `imaginary[k] = b > 0`, `imaginary[k+1] = -b`.
    package struct Modes: Sendable, Equatable {
        /// Indices into `StepProgram.matrices` of `P` and `P⁻¹`.
        package var basis: Int
        package var inverse: Int
        package var real: [Double]
        package var imaginary: [Double]

        package init(basis: Int, inverse: Int, real: [Double], imaginary: [Double]) {
            self.basis = basis
            self.inverse = inverse
            self.real = real
            self.imaginary = imaginary
        }

        /// Each mode's partner (itself for a real mode), or nil when pairs are malformed.
        package func partners() -> [Int]? {
            guard real.count == imaginary.count, (real + imaginary).allSatisfy(\.isFinite) else { return nil }
            var partner = Array(real.indices), j = 0
            while j < imaginary.count {
                if imaginary[j] == 0 { j += 1; continue }
                guard imaginary[j] > 0, j + 1 < imaginary.count, imaginary[j + 1] == -imaginary[j], real[j + 1] == real[j] else { return nil }
                (partner[j], partner[j + 1]) = (j + 1, j)
                j += 2
            }
            return partner
        }
    }

    package var stages: [Stage]

    /// The matrices the plan itself multiplies by: transitions, modal bases, coefficient products.
    var matrixIndices: Set<Int> {
        var out = Set<Int>()
        for case .recurrence(let r) in stages {
            if let t = r.transition { out.insert(t) }
            if let modes = r.modes { out.formUnion([modes.basis, modes.inverse]) }
            out.formUnion(r.powers)
            for case .product(_, _, let m) in r.coefficients { out.insert(m) }
        }
        return out
    }

    package init(stages: [Stage]) {
        self.stages = stages
    }
}

extension ScanPlan {
    /// Per slot: whether the plan never writes it (so a run gives it no memory), and whether
    /// it is a chunked recurrence's state (first and last rows only). Inputs, constants and
    /// states count as written; a recurrence other than a chunked one may write any slot of
    /// its cycle.
    func slotUse(_ program: StepProgram) -> (unwritten: [Bool], edgeStates: [Bool]) {
        let count = program.slotSizes.count
        var written = [Bool](repeating: false, count: count)
        var edge = written
        func write(_ slot: Int) { if slot >= 0 && slot < count { written[slot] = true } }
        for slot in program.inputSlots + program.constants.map(\.slot) + program.states.map(\.slot) { write(slot) }
        func writeInstruction(_ i: Int) { if i >= 0 && i < program.instructions.count { write(program.instructions[i].destination) } }
        for stage in stages {
            switch stage {
            case .batched(let list): list.forEach(writeInstruction)
            case .recurrence(let r):
                if let c = r.chunked {
                    c.readouts.forEach { write($0.output) }
                    for s in r.states where s >= 0 && s < program.states.count && program.states[s].slot < count { edge[program.states[s].slot] = true }
                } else {
                    r.instructions.forEach(writeInstruction)
                    r.nextSlots.forEach(write)
                    for case .fill(let slot, _) in r.offsets { write(slot) }
                    if let p = r.direct?.product { write(p) }
                }
            }
        }
        return (written.map { !$0 }, edge)
    }
}
