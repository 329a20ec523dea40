import RNNRuntime

/// Plans whole-sequence execution of a lowered program (see `ScanPlan`).
///
/// Every node that depends on no state runs over all time steps at once. Each group of
/// coupled states (from `RecurrenceAnalysis`, in dependency order) is solved as soon as
/// everything its cycle reads from outside is available: diagonal time-varying states and
/// affine states with a diagonal `A` as element-wise scans, affine states with a dense `A`
/// as a scan over its eigenvalues when `ModalDecomposition` accepts `A` and otherwise as a
/// matrix recurrence over time-batched input terms, nonlinear ones step by step. A
/// node on no cycle runs batched once its operands are known.
package enum ScanLowering {
    /// `diagonalize: false` keeps every dense `A` as a matrix recurrence (for comparisons).
    package static func plan(_ ir: IRProgram, _ lowered: StepLowering.Lowered, diagonalize: Bool = true) -> (ScanPlan, [WeightMatrix], [[Double]]) {
        let reads = RecurrenceAnalysis.stateDependencies(ir)
        let slotReads = RecurrenceTerms.readCounts(lowered.program)
        let groups = RecurrenceAnalysis.analyze(ir)
        let cycles = groups.map { cycleNodes($0, ir, reads: reads) }
        var users = [[Int]](repeating: [], count: ir.nodes.count)
        for (i, node) in ir.nodes.enumerated() { for operand in node.op.operands { users[operand.index].append(i) } }
        let chunked = chunkedForms(groups, ir, lowered, users: users, reads: reads)
        let absorbed = absorbedNodes(chunked.values, ir, users: users)
        var extraVectors: [[Double]] = []
        var available = [Bool](repeating: false, count: ir.nodes.count)
        var onCycle = [Bool](repeating: false, count: ir.nodes.count)
        for cycle in cycles { for n in cycle { onCycle[n] = true } }
        var extraMatrices: [WeightMatrix] = []
        var stages: [ScanPlan.Stage] = []
        // Which nodes become computable as groups are solved, kept incrementally (each node's
        // count of operands not yet available, and its users): tens of thousands of groups
        // (one per head or stateful call) must not cost a pass over every node per group.
        var missing = ir.nodes.map { $0.op.operands.count }
        var stateReads: [Int: [Int]] = [:]
        for (i, node) in ir.nodes.enumerated() {
            if case .stateRead(let s) = node.op { stateReads[s, default: []].append(i) }
        }
        /// Marks `i` available; users it completes that a batched stage can compute go to `ready`.
        func makeAvailable(_ i: Int, _ ready: inout [Int]) {
            guard !available[i] else { return }
            available[i] = true
            for u in users[i] {
                missing[u] -= 1
                if missing[u] == 0, !onCycle[u], !available[u], !absorbed.contains(u) {
                    if case .stateRead = ir.nodes[u].op { continue }
                    ready.append(u)
                }
            }
        }
        /// Everything `ready` makes computable, as one batched stage in node (topological) order.
        func sweep(_ ready: [Int]) {
            var work = ready, batch: [Int] = []
            while let i = work.popLast() {
                guard !available[i] else { continue }
                if lowered.instructionOfNode[i] != nil { batch.append(i) }
                makeAvailable(i, &work)
            }
            if !batch.isEmpty { stages.append(.batched(batch.sorted().compactMap { lowered.instructionOfNode[$0] })) }
        }

        sweep(ir.nodes.indices.filter { i in
            guard missing[i] == 0, !onCycle[i], !absorbed.contains(i) else { return false }
            if case .stateRead = ir.nodes[i].op { return false }
            return true
        })
        for (g, group) in groups.enumerated() {
            let program = lowered.program
            if let form = chunked[g] {
                let constant = form.constantDecay.map { v -> Int in
                    extraVectors.append(v)
                    return program.vectors.count + extraVectors.count - 1
                }
                stages.append(.recurrence(chunkedRecurrence(form, group, ir, lowered, constantDecay: constant)))
                var ready: [Int] = []
                for o in form.readouts { makeAvailable(o.output, &ready) }
                sweep(ready)
                continue
            }
            let kind: ScanPlan.Recurrence.Kind
            var transition: Int?
            var modes: ScanPlan.Modes?
            var powers: [Int] = []
            // Named after the group's states: `h.transition`, `h|c.modes.basis`.
            let groupName = group.states.map { ir.states[$0].name }.joined(separator: "|")
            func add(_ matrix: WeightMatrix, _ role: String) -> Int {
                var matrix = matrix
                matrix.name = groupName + "." + role
                extraMatrices.append(matrix)
                return program.matrices.count + extraMatrices.count - 1
            }
            switch group.kind {
            case .nonlinear, .linear: kind = .sequential
            case .diagonal: kind = .diagonal
            case .affine where group.diagonalA: kind = .diagonal
            case .affine:
                let width = group.states.reduce(0) { $0 + ir.states[$1].size }
                if let shifts = nilpotentPowers(group.transition ?? []) {
                    kind = .delay
                    powers = shifts.enumerated().map { add(.fromRows($1, cols: width), "power\($0 + 1)") }
                } else if diagonalize, case .success(let f) = modalForm(group, width: width) {
                    kind = .modal
                    modes = ScanPlan.Modes(basis: add(.fromDense(f.basis, n: width), "modes.basis"), inverse: add(.fromDense(f.inverse, n: width), "modes.inverse"),
                                           real: f.real, imaginary: f.imaginary)
                } else {
                    kind = .affine
                    transition = add(.fromRows(group.transition!.map { $0.map { ($0.key, $0.value) } }, cols: width), "transition")
                }
            }
            let instructions = cycles[g].compactMap { lowered.instructionOfNode[$0] }
            var recurrence = ScanPlan.Recurrence(
                kind: kind,
                states: group.states,
                nextSlots: group.states.map { lowered.slotOfNode[ir.states[$0].next.index] },
                instructions: instructions,
                transition: transition,
                modes: modes,
                powers: powers)
            RecurrenceTerms.complete(&recurrence, program, reads: slotReads)
            stages.append(.recurrence(recurrence))
            var ready: [Int] = []
            for n in cycles[g] { makeAvailable(n, &ready) }
            for s in group.states { for read in stateReads[s] ?? [] { makeAvailable(read, &ready) } }
            sweep(ready)
        }
        return (ScanPlan(stages: stages), extraMatrices, extraVectors)
    }

    /// The eigen-decomposition a dense affine group's scan uses, or why it keeps the matrix
    /// recurrence (`ModalDecomposition` states the rule).
    package static func modalForm(_ group: StateRecurrence, width: Int) -> Result<ModalForm, ModalDecomposition.Refusal> {
        // Checked before the dense copy of `A`: a wide state must not cost width² memory here.
        guard width <= ModalDecomposition.maxWidth else { return .failure(.tooWide(width)) }
        var a = [Double](repeating: 0, count: width * width)
        for (i, row) in (group.transition ?? []).enumerated() { for (j, v) in row { a[i * width + j] += v } }
        return ModalDecomposition.decompose(a, n: width)
    }

    /// `A, A^2, ..., A^{m-1}` (rows of entries) when `A^m = 0` for some
    /// `m <= ScanPlan.Recurrence.maxPowers + 1` (a convolution of kernel k is a shift register
    /// with `A^{k-1} = 0`) and no power holds more entries than `A` (shifts and selections,
    /// whose powers thin out); nil otherwise, or when `A` is zero (a diagonal plan covers that). Each power's
    /// product may cost at most twice `A`'s entries, so a dense `A` is given up after about
    /// n² steps, not n³.
    static func nilpotentPowers(_ a: [[Int: Double]]) -> [[[(Int, Double)]]]? {
        let entries = a.reduce(0) { $0 + $1.count }
        guard entries > 0 else { return nil }
        var powers: [[[Int: Double]]] = [a]
        while powers.count <= ScanPlan.Recurrence.maxPowers {
            var next = [[Int: Double]](repeating: [:], count: a.count)
            var count = 0, work = 0
            for (i, row) in powers.last!.enumerated() {
                for (k, v) in row {
                    work += a[k].count
                    guard work <= 2 * entries else { return nil }
                    for (j, w) in a[k] { next[i][j, default: 0] += v * w }
                }
                next[i] = next[i].filter { $0.value != 0 }
                count += next[i].count
                guard count <= entries else { return nil }
            }
            if count == 0 { return powers.map { $0.map { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } } } }
            powers.append(next)
        }
        return nil
    }

    /// Nodes that depend on the group's previous state and feed its next state, in order.
    static func cycleNodes(_ group: StateRecurrence, _ ir: IRProgram, reads: [Set<Int>]) -> [Int] {
        let members = Set(group.states)
        // A set, not a flag per node: a program of thousands of heads has as many groups.
        var feeds = Set<Int>()
        var work = group.states.map { ir.states[$0].next.index }
        while let i = work.popLast() {
            guard !feeds.contains(i), !reads[i].isDisjoint(with: members) else { continue }
            if case .stateRead = ir.nodes[i].op { continue }
            feeds.insert(i)
            work += ir.nodes[i].op.operands.map(\.index)
        }
        return feeds.sorted()
    }

    /// The compiled model: the step program with the scan plan's extra matrices, the plan, and
    /// its default precision: Float32 when weights come from a weights file (trained models,
    /// which their frameworks run in Float32), Float64 when every weight is written in the
    /// source (hand-built programs such as LSRL's, whose large constants and exact
    /// thresholds need Float64; docs/runtime.md gives the counterexamples).
    package static func lowerModel(_ ir: IRProgram) -> Artifact.Model {
        let (program, plan) = lower(ir)
        return Artifact.Model(program: program, plan: plan, precision: precision(of: ir))
    }

    /// Float32 when any weight came from a weights file, Float64 otherwise (see `lowerModel`).
    package static func precision(of ir: IRProgram) -> Precision {
        ir.params.contains { if case .weightsFile = $0.origin { return true } else { return false } } ? .float32 : .float64
    }

    /// Lowers an IR program to a step program that also carries its scan plan.
    package static func lower(_ ir: IRProgram, diagonalize: Bool = true) -> (StepProgram, ScanPlan) {
        let lowered = StepLowering.lowerWithMap(ir)
        let (plan, extra, extraVectors) = self.plan(ir, lowered, diagonalize: diagonalize)
        var program = lowered.program
        program.matrices += extra
        program.vectors += extraVectors
        return (program, plan)
    }
}

/// Matrix states run chunkwise (`ChunkedForm`, `ScanPlan.Chunked`).
extension ScanLowering {
    /// Tokens per chunk. Measured on W7 (heads of 128 x 128, bench/): chunks of 64 tokens took
    /// 9.4 ms a head over 8,192 tokens, 32 took 12 to 16 ms (more chunks, each product
    /// smaller) and 128 took 9.8 ms (the intra-chunk product grows with the chunk).
    static let chunkSize = 64

    /// The chunked form of each one-state group of a matrix state that has one, by group index.
    static func chunkedForms(_ groups: [StateRecurrence], _ ir: IRProgram, _ lowered: StepLowering.Lowered, users: [[Int]],
                             reads: [Set<Int>]) -> [Int: ChunkedForm] {
        let outputs = Set(ir.outputs.map(\.index))
        var stateReads: [Int: Set<Int>] = [:], nexts: [Int: [Int]] = [:]
        for (i, node) in ir.nodes.enumerated() { if case .stateRead(let s) = node.op { stateReads[s, default: []].insert(i) } }
        for (s, state) in ir.states.enumerated() { nexts[state.next.index, default: []].append(s) }
        var forms: [Int: ChunkedForm] = [:]
        for (g, group) in groups.enumerated() where group.states.count == 1 && ir.states[group.states[0]].matrixShape != nil {
            switch group.kind {
            case .diagonal, .linear: break  // the delta rule is linear time-varying
            case .affine where group.diagonalA: break
            default: continue
            }
            let s = group.states[0]
            guard let form = ChunkedForm.recognize(state: s, ir, users: users, outputs: outputs, reads: reads, stateReads: stateReads[s] ?? [], nexts: nexts),
                  form.readouts.allSatisfy({ lowered.instructionOfNode[$0.output] != nil })
            else { continue }
            forms[g] = form
        }
        return forms
    }

    /// Nodes no stage computes: what chunked stages replace, and the expansions they read
    /// through that nothing else reads (an expansion shared with a node outside is computed).
    static func absorbedNodes(_ forms: Dictionary<Int, ChunkedForm>.Values, _ ir: IRProgram, users: [[Int]]) -> Set<Int> {
        let replaced = forms.reduce(into: Set<Int>()) { $0.formUnion($1.replaced) }
        var wide = forms.reduce(into: Set<Int>()) { $0.formUnion($1.wide) }.subtracting(replaced)
        // Outputs and states' next values are read outside any node: those are computed.
        let outside = Set(ir.outputs.map(\.index) + ir.states.map(\.next.index))
        var changed = true
        while changed {
            let kept = wide.filter { node in !outside.contains(node) && users[node].allSatisfy { replaced.contains($0) || wide.contains($0) } }
            changed = kept.count != wide.count
            wide = kept
        }
        return replaced.union(wide)
    }

    static func chunkedRecurrence(_ form: ChunkedForm, _ group: StateRecurrence, _ ir: IRProgram, _ lowered: StepLowering.Lowered,
                                  constantDecay: Int?) -> ScanPlan.Recurrence {
        let slot = { (node: Int) in lowered.slotOfNode[node] }
        let factor = { (f: ChunkedForm.Factor) in ScanPlan.Chunked.Factor(slot: slot(f.node), start: f.start, broadcast: f.broadcast, scale: f.scale) }
        let chunked = ScanPlan.Chunked(
            transposed: form.transposed, keys: form.keys.map(factor), values: form.values.map(factor), decay: form.decay.map(factor),
            constantDecay: constantDecay,
            readouts: form.readouts.map { ScanPlan.Chunked.Readout(query: $0.query.map(factor), output: slot($0.output), afterUpdate: $0.afterUpdate) },
            chunkSize: chunkSize,
            delta: form.delta.map { ScanPlan.Chunked.Delta(gain: $0.gain.map(factor), scale: $0.scale, offset: $0.offset) })
        return ScanPlan.Recurrence(kind: .chunked, states: group.states, nextSlots: group.states.map { slot(ir.states[$0].next.index) },
                                   instructions: form.replaced.sorted().compactMap { lowered.instructionOfNode[$0] }, chunked: chunked)
    }
}
