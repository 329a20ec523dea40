import RNNOps
import RNNRuntime

/// Decides how the scan program solves each recurrence, from its lowered cycle and the op
/// table's linearity, and writes it into the plan (`ScanPlan.Recurrence`): the offset and
/// coefficient passes of a linear recurrence, the shapes scanned straight from their slots,
/// the values recomputed once the states are known, and the slots a sequential cycle keeps
/// one row of.
enum RecurrenceTerms {
    /// Fills in everything but the kind, states and cycle, which `r` already has.
    static func complete(_ r: inout ScanPlan.Recurrence, _ program: StepProgram, reads: [Int: Int]) {
        guard r.kind != .sequential else {
            r.localSlots = localSlots(r, program, reads: reads)
            return
        }
        if r.kind == .diagonal, let direct = direct(r, program, reads: reads) {
            r.direct = direct
            return
        }
        r.offsets = offsets(r, program)
        if r.kind == .diagonal { r.coefficients = coefficients(r, program) }
        r.recompute = recompute(r, program, reads: reads)
    }

    /// How many times each slot is read: by instructions, by outputs, and by the states
    /// taking their next values.
    static func readCounts(_ program: StepProgram) -> [Int: Int] {
        var reads: [Int: Int] = [:]
        for ins in program.instructions { for s in ins.operands { reads[s, default: 0] += 1 } }
        for s in program.outputSlots { reads[s, default: 0] += 1 }
        for s in program.states { reads[s.update, default: 0] += 1 }
        return reads
    }

    /// How often the cycle of `r` reads each slot: its instructions' operands and its states'
    /// next values.
    private static func readsInside(_ r: ScanPlan.Recurrence, _ program: StepProgram) -> [Int: Int] {
        var reads: [Int: Int] = [:]
        for i in r.instructions { for s in program.instructions[i].operands { reads[s, default: 0] += 1 } }
        for slot in r.nextSlots { reads[slot, default: 0] += 1 }
        return reads
    }

    /// Values only the cycle reads. Not its states: their next row is written while cores
    /// splitting a step may still read the current one.
    private static func localSlots(_ r: ScanPlan.Recurrence, _ program: StepProgram, reads: [Int: Int]) -> [Int] {
        let inside = readsInside(r, program)
        let written = r.instructions.map { program.instructions[$0].destination }
        return written.filter { inside[$0, default: 0] == reads[$0, default: 0] && !program.inputSlots.contains($0) }
    }

    /// The cycle's instructions whose values something outside the cycle reads (an output, a
    /// later stage), with the cycle instructions those depend on, in order.
    private static func recompute(_ r: ScanPlan.Recurrence, _ program: StepProgram, reads: [Int: Int]) -> [Int] {
        let inside = readsInside(r, program)
        var needed = Set<Int>(), result: [Int] = []
        for i in r.instructions.reversed() {
            let ins = program.instructions[i]
            guard needed.contains(ins.destination) || reads[ins.destination, default: 0] > inside[ins.destination, default: 0] else { continue }
            result.append(i)
            needed.formUnion(ins.operands)
        }
        return result.reversed()
    }

    /// The two common shapes of a one-state diagonal recurrence, `next = u * s + v` (with
    /// `p = u * s`) and `next = s + v`, read straight from the slots of `u` and `v`; only the
    /// rows something besides the cycle reads are written, so no recomputation follows.
    private static func direct(_ r: ScanPlan.Recurrence, _ program: StepProgram, reads: [Int: Int]) -> ScanPlan.Direct? {
        guard r.states.count == 1 else { return nil }
        let s = program.states[r.states[0]].slot
        let ins = r.instructions.map { program.instructions[$0] }
        func binary(_ ins: Instruction, _ kind: ElementwiseKind) -> (dst: Int, lhs: Int, rhs: Int)? {
            guard case .elementwise(let op, let d, let l, let rr?) = ins, op.kind == kind else { return nil }
            return (d, l, rr)
        }
        var u: Int?, product: Int?, v: Int, next: Int
        switch ins.count {
        case 1:
            guard let sum = binary(ins[0], .add), (sum.lhs == s) != (sum.rhs == s) else { return nil }
            (next, v) = (sum.dst, sum.lhs == s ? sum.rhs : sum.lhs)
        case 2:
            guard let gate = binary(ins[0], .mul), (gate.lhs == s) != (gate.rhs == s),
                  let sum = binary(ins[1], .add), (sum.lhs == gate.dst) != (sum.rhs == gate.dst) else { return nil }
            (u, product, next, v) = (gate.lhs == s ? gate.rhs : gate.lhs, gate.dst, sum.dst, sum.lhs == gate.dst ? sum.rhs : sum.lhs)
            guard v != s, v != product, u != product else { return nil }
        default: return nil
        }
        guard v != s, next == r.nextSlots[0] else { return nil }
        // Besides the cycle: it reads s once, p once, and next as the state's update.
        return ScanPlan.Direct(coefficient: u, offset: v, product: product.flatMap { reads[$0, default: 0] > 1 ? $0 : nil },
                               writesState: reads[s, default: 0] > 1, writesNext: reads[next, default: 0] > 1)
    }

    /// The cycle run with the states at zero. Values known to be zero (the states, and what
    /// only scales or moves them) need no work: a matrix applied to one is its bias.
    private static func offsets(_ r: ScanPlan.Recurrence, _ program: StepProgram) -> [ScanPlan.OffsetStep] {
        var zero = Set(r.states.map { program.states[$0].slot })
        var steps: [ScanPlan.OffsetStep] = []
        for i in r.instructions {
            let ins = program.instructions[i]
            switch ins {
            case .affine(let dst, let src, _, let bias, nil) where zero.contains(src):
                steps.append(.fill(slot: dst, vector: bias))
                if bias == nil { zero.insert(dst) }
                continue
            case .slice(let dst, let src, _) where zero.contains(src): zero.insert(dst)
            case .concat(let dst, let parts) where parts.allSatisfy(zero.contains): zero.insert(dst)
            case .elementwise(let op, let dst, _, _) where op.entry.linearity == .multiplicative && ins.operands.contains(where: zero.contains):
                zero.insert(dst)
            default: zero.remove(ins.destination)
            }
            steps.append(.instruction(i))
        }
        return steps
    }

    /// The coefficient of the state in each value it reaches: through affine maps (without
    /// their bias), sums, gates (scaled by the operand the state does not reach), concatenations
    /// and slices. The recurrence analysis guarantees no other op touches the state.
    private static func coefficients(_ r: ScanPlan.Recurrence, _ program: StepProgram) -> [ScanPlan.CoefficientStep] {
        var reached = Set(r.states.map { program.states[$0].slot })
        var steps: [ScanPlan.CoefficientStep] = []
        for i in r.instructions {
            let step: ScanPlan.CoefficientStep?
            switch program.instructions[i] {
            case .affine(let dst, let src, let m, _, nil):
                step = reached.contains(src) ? .product(dst: dst, src: src, matrix: m) : nil
            case .affine:
                step = nil
            case .elementwise(let op, let dst, let l, let rr):
                let r = rr ?? l
                switch (op.entry.linearity, reached.contains(l), reached.contains(r)) {
                case (.additive, true, _), (.additive, _, true): step = .sum(dst: dst, lhs: l, rhs: r)
                case (.multiplicative, true, false): step = .scale(dst: dst, coefficient: l, by: r)
                case (.multiplicative, false, true): step = .scale(dst: dst, coefficient: r, by: l)
                default: step = nil
                }
            case .concat(let dst, let parts):
                step = parts.contains(where: reached.contains) ? .concat(dst: dst, parts: parts) : nil
            case .slice(let dst, let src, let start):
                step = reached.contains(src) ? .slice(dst: dst, src: src, start: start) : nil
            case .gather:
                step = nil
            }
            if let step {
                steps.append(step)
                reached.insert(step.destination)
            }
        }
        return steps
    }
}
