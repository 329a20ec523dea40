/// How to run a step program over a whole sequence at once (the parallel-scan program).
///
/// Every slot becomes a `[T, size]` buffer, one row per time step. A state slot's row `t`
/// holds the state's value before step `t` (row 0 is the initial value). Stages run in order:
/// a `batched` stage runs its instructions over all rows at once (matrix-matrix products for
/// affine maps); a `recurrence` stage solves one group of coupled states over the sequence and
/// then fills the rows of the instructions in its cycle.
public struct ScanPlan: Sendable, Equatable {
    public enum Stage: Sendable, Equatable {
        /// Instruction indices (into `StepProgram.instructions`) that do not depend on any
        /// unsolved state, run over all time steps.
        case batched([Int])
        case recurrence(Recurrence)
    }

    /// One group of coupled states and the instructions on its cycle.
    public struct Recurrence: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// `s_t = a_t * s_{t-1} + b_t` element-wise: an associative scan.
            case diagonal = "diagonal"
            /// `s_t = A s_{t-1} + b_t` with a constant dense `A` (`transition`): input terms
            /// batched, then a sequential matrix-vector recurrence.
            case affine = "affine"
            /// `s_t = A s_{t-1} + b_t` with `A = P D P⁻¹` diagonalized at compile time (`modes`):
            /// input terms batched and moved to modal coordinates by one product, an
            /// element-wise scan over the modes, and one product back.
            case modal = "modal"
            /// Anything else: the cycle's instructions run step by step.
            case sequential = "sequential"
        }

        public var kind: Kind
        /// Indices into `StepProgram.states`.
        public var states: [Int]
        /// For each state, the slot holding its next value.
        public var nextSlots: [Int]
        /// Instruction indices on the cycle (depend on the group and feed its next values), in order.
        public var instructions: [Int]
        /// Index into `StepProgram.matrices` of `A` over the concatenated states (kind `.affine`).
        public var transition: Int?
        /// The eigen-decomposition of `A` (kind `.modal`).
        public var modes: Modes?

        public init(kind: Kind, states: [Int], nextSlots: [Int], instructions: [Int], transition: Int?, modes: Modes? = nil) {
            self.kind = kind
            self.states = states
            self.nextSlots = nextSlots
            self.instructions = instructions
            self.transition = transition
            self.modes = modes
        }
    }

    /// `A = P D P⁻¹` over a recurrence's concatenated state. In modal coordinates
    /// `z = P⁻¹ s`, mode `j` steps as `z_j ← real[j] * z_j + imaginary[j] * z_partner + c_j`:
    /// a real eigenvalue has `imaginary[j] = 0` (its partner is itself); a complex pair
    /// `a ± ib` is modes `k, k+1` with `imaginary[k] = b > 0`, `imaginary[k+1] = -b`.
    public struct Modes: Sendable, Equatable {
        /// Indices into `StepProgram.matrices` of `P` and `P⁻¹`.
        public var basis: Int
        public var inverse: Int
        public var real: [Double]
        public var imaginary: [Double]

        public init(basis: Int, inverse: Int, real: [Double], imaginary: [Double]) {
            self.basis = basis
            self.inverse = inverse
            self.real = real
            self.imaginary = imaginary
        }

        /// Each mode's partner (itself for a real mode), or nil when pairs are malformed.
        public func partners() -> [Int]? {
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

    public var stages: [Stage]

    public init(stages: [Stage]) {
        self.stages = stages
    }
}

extension ScanPlan {
    /// A diagonal or affine recurrence's cycle may only scale, add, move and mix (affine) the
    /// state: each op's linearity (from the op table) decides what it may do to the state.
    private func checkLinear(_ r: Recurrence, _ program: StepProgram) throws(RuntimeError) {
        var dependent = Set(r.states.map { program.states[$0].slot })
        for i in r.instructions {
            switch program.instructions[i] {
            case .affine(let d, let s, _, _, let f?):
                if dependent.contains(s) { throw .invalidProgram("scan plan: a \(r.kind.rawValue) recurrence applies \(f.name) to its state") }
                dependent.remove(d)
            case .affine(let d, let s, _, _, nil), .slice(let d, let s, _):
                if dependent.contains(s) { dependent.insert(d) } else { dependent.remove(d) }
            case .elementwise(let op, let d, _, _):
                let count = program.instructions[i].operands.filter(dependent.contains).count
                switch op.entry.linearity {
                case _ where count == 0: dependent.remove(d)
                case .additive: dependent.insert(d)
                case .multiplicative where count == 1: dependent.insert(d)
                case .multiplicative: throw .invalidProgram("scan plan: a \(r.kind.rawValue) recurrence multiplies two state-dependent values")
                case .nonlinear: throw .invalidProgram("scan plan: a \(r.kind.rawValue) recurrence applies \(op.name) to its state")
                }
            case .concat(let d, let parts):
                if parts.contains(where: dependent.contains) { dependent.insert(d) } else { dependent.remove(d) }
            }
        }
    }

    /// Checks every reference against the program, so a bad plan is rejected before running.
    public func validate(against program: StepProgram) throws(RuntimeError) {
        var seen = Set<Int>()
        func instruction(_ i: Int) throws(RuntimeError) {
            guard i >= 0, i < program.instructions.count, seen.insert(i).inserted else {
                throw .invalidProgram("scan plan names instruction \(i) twice or out of range")
            }
        }
        for stage in stages {
            switch stage {
            case .batched(let list): for i in list { try instruction(i) }
            case .recurrence(let r):
                for i in r.instructions { try instruction(i) }
                guard r.states.count == r.nextSlots.count, !r.states.isEmpty else { throw .invalidProgram("scan plan recurrence is malformed") }
                var width = 0
                for (s, next) in zip(r.states, r.nextSlots) {
                    guard s >= 0, s < program.states.count, next >= 0, next < program.slotSizes.count,
                          program.slotSizes[next] == program.slotSizes[program.states[s].slot]
                    else { throw .invalidProgram("scan plan recurrence names a missing state or slot") }
                    width += program.slotSizes[next]
                }
                if r.kind != .sequential { try checkLinear(r, program) }
                func isSquare(_ m: Int?) -> Bool {
                    guard let m, m >= 0, m < program.matrices.count else { return false }
                    return program.matrices[m].rows == width && program.matrices[m].cols == width
                }
                if r.kind == .affine, !isSquare(r.transition) {
                    throw .invalidProgram("scan plan recurrence has no valid transition matrix")
                }
                if r.kind == .modal {
                    guard let modes = r.modes, isSquare(modes.basis), isSquare(modes.inverse),
                          modes.real.count == width, modes.partners() != nil
                    else { throw .invalidProgram("scan plan recurrence has no valid modal decomposition") }
                }
            }
        }
    }
}
