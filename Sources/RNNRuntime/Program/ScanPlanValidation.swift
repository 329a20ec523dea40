/// Checks that a scan plan is safe to run against its program: every index exists, every
/// size agrees, and every row a stage reads was written before (an artifact is untrusted,
/// and the runner's buffers are not zeroed). It checks no rule about ops: a plan whose
/// terms are wrong gives wrong numbers, never a bad read or write.
extension ScanPlan {
    package func validate(against program: StepProgram) throws(RuntimeError) {
        var check = PlanCheck(program)
        for stage in stages {
            switch stage {
            case .batched(let list):
                for i in list {
                    try check.claim(i)
                    // Checked, then inserted: `run(i, &check.defined)` would pass `defined` while
                    // `check` is read too, and copy the whole set for every instruction.
                    let destination = try check.operandsKnown(i, check.defined)
                    check.defined.insert(destination)
                }
            case .recurrence(let r):
                try check.recurrence(r)
            }
        }
        for s in program.outputSlots where !check.defined.contains(s) {
            throw .invalidProgram("scan plan never computes output slot \(s)")
        }
    }
}

/// The state of one plan's check: what has run and which slots hold every row.
private struct PlanCheck {
    let program: StepProgram
    let sizes: [Int]
    let views: Set<Int>
    /// Slots a plan may not write: the caller's inputs, constants and states.
    let fixed: Set<Int>
    /// Slots whose every row holds its value.
    var defined: Set<Int>
    var claimed = Set<Int>()
    var solved = Set<Int>()
    /// For each slot, the slices that are views of it.
    let viewsOf: [Int: [Int]]

    init(_ program: StepProgram) {
        self.program = program
        sizes = program.slotSizes
        views = program.sliceViews
        var viewsOf: [Int: [Int]] = [:]
        for case .slice(let dst, let src, _) in program.instructions where program.sliceViews.contains(dst) { viewsOf[src, default: []].append(dst) }
        self.viewsOf = viewsOf
        fixed = Set(program.inputSlots + program.constants.map(\.slot) + program.states.map(\.slot))
        defined = Set(program.inputSlots + program.constants.map(\.slot))
    }

    func fail(_ message: String) -> RuntimeError { .invalidProgram("scan plan: " + message) }

    func size(_ slot: Int) -> Int? { slot >= 0 && slot < sizes.count ? sizes[slot] : nil }

    mutating func claim(_ i: Int) throws(RuntimeError) {
        guard i >= 0, i < program.instructions.count, claimed.insert(i).inserted else {
            throw fail("names instruction \(i) twice or out of range")
        }
        guard !fixed.contains(program.instructions[i].destination) else { throw fail("instruction \(i) writes an input, constant or state") }
    }

    /// Instruction `i` over all rows: its operands must hold every row (be in `known`, or in
    /// `base`). A recurrence's checks keep what its cycle adds apart from `defined` rather than
    /// copying it: tens of thousands of recurrences must not copy every slot each.
    func run(_ i: Int, over base: Set<Int>? = nil, _ known: inout Set<Int>) throws(RuntimeError) {
        known.insert(try operandsKnown(i, known, over: base))
    }

    /// Instruction `i`'s destination, after checking that its operands are in `known` or `base`.
    func operandsKnown(_ i: Int, _ known: Set<Int>, over base: Set<Int>? = nil) throws(RuntimeError) -> Int {
        let ins = program.instructions[i]
        for s in ins.operands where !known.contains(s) && base?.contains(s) != true {
            throw fail("instruction \(i) reads slot \(s) before it is computed")
        }
        return ins.destination
    }

    mutating func recurrence(_ r: ScanPlan.Recurrence) throws(RuntimeError) {
        for i in r.instructions { try claim(i) }
        for i in r.instructions {
            if case .gather = program.instructions[i] { throw fail("instruction \(i), a gather, cannot be on a recurrence's cycle") }
        }
        let width = try checkStates(r)
        guard (r.kind == .chunked) == (r.chunked != nil) else { throw fail("a chunked recurrence needs its outer-product form, and only it has one") }
        if let chunked = r.chunked { return try checkChunked(chunked, r) }
        let stateSlots = r.states.map { program.states[$0].slot }
        var cycle = Set(stateSlots)
        for i in r.instructions { try run(i, over: defined, &cycle) }
        for s in r.nextSlots where !cycle.contains(s) && !defined.contains(s) { throw fail("a recurrence's next value \(s) is never computed") }
        switch r.kind {
        case .sequential:
            defined.formUnion(try sequentialResult(r, stateSlots))
            return
        case .affine:
            guard isSquare(r.transition, width) else { throw fail("an affine recurrence has no valid transition matrix") }
        case .modal:
            guard let modes = r.modes, isSquare(modes.basis, width), isSquare(modes.inverse, width),
                  modes.real.count == width, modes.partners() != nil
            else { throw fail("a modal recurrence has no valid modal decomposition") }
        case .delay:
            guard !r.powers.isEmpty, r.powers.count <= ScanPlan.Recurrence.maxPowers, r.powers.allSatisfy({ isSquare($0, width) }) else {
                throw fail("a delay recurrence has no valid powers of its transition (1 to \(ScanPlan.Recurrence.maxPowers) square matrices)")
            }
        case .diagonal, .chunked:
            break
        }
        var added = Set<Int>()
        if let direct = r.direct {
            added.formUnion(try directResult(direct, r, stateSlots))
        } else {
            try checkOffsets(r, stateSlots)
            if r.kind == .diagonal { try checkCoefficients(r) }
            added.formUnion(stateSlots)
        }
        let cycleSet = Set(r.instructions)
        for i in r.recompute {
            guard cycleSet.contains(i) else { throw fail("recomputes instruction \(i), which is not on its cycle") }
            try run(i, over: defined, &added)
        }
        defined.formUnion(added)
    }

    /// A chunked stage reads only its factor slots, computed before it for every row, and
    /// writes only its readouts. Its cycle's instructions never run: their slots stay
    /// undefined, and so does the state (its rows hold only the initial value and, when a run
    /// keeps states, the value before the last token).
    mutating func checkChunked(_ c: ScanPlan.Chunked, _ r: ScanPlan.Recurrence) throws(RuntimeError) {
        let slot = program.states[r.states[0]].slot
        guard r.states.count == 1, let shape = program.states[r.states[0]].matrixShape, shape.count == 2, shape.allSatisfy({ $0 > 0 }),
              case let (n, overflow) = shape[0].multipliedReportingOverflow(by: shape[1]), !overflow, n == sizes[slot]
        else { throw fail("a chunked recurrence needs one matrix state") }
        let (keys, values) = c.transposed ? (shape[1], shape[0]) : (shape[0], shape[1])
        func factors(_ list: [ScanPlan.Chunked.Factor], _ n: Int) -> Bool {
            list.count <= 16 && list.allSatisfy { f in
                guard defined.contains(f.slot), let size = size(f.slot), f.start >= 0, f.scale.isFinite else { return false }
                return f.start < size && (f.broadcast ? 1 : n) <= size - f.start
            }
        }
        guard (1...ScanPlan.Chunked.maxChunkSize).contains(c.chunkSize), factors(c.keys, keys), factors(c.values, values), factors(c.decay, keys),
              c.constantDecay.map({ $0 >= 0 && $0 < program.vectors.count && program.vectors[$0].count == keys }) ?? true,
              !c.readouts.isEmpty, c.readouts.count <= 16
        else { throw fail("a chunked recurrence names missing slots or has inconsistent sizes") }
        if let delta = c.delta {
            // One decay for the whole matrix, and a one-element gain.
            let uniform = c.constantDecay.map { Set(program.vectors[$0]).count <= 1 } ?? true
            guard uniform, (c.decay + delta.gain).allSatisfy(\.broadcast), factors(delta.gain, keys), delta.scale.isFinite, delta.offset.isFinite
            else { throw fail("a chunked delta rule needs one decay and one gain for the whole matrix") }
        }
        var outputs = Set<Int>()
        for o in c.readouts {
            guard factors(o.query, keys), size(o.output) == values, !fixed.contains(o.output), !views.contains(o.output), outputs.insert(o.output).inserted
            else { throw fail("a chunked recurrence's readout names a missing, unsafe or repeated slot") }
        }
        defined.formUnion(outputs)
    }

    /// Checks the states and next slots; returns the width of the concatenated state.
    mutating func checkStates(_ r: ScanPlan.Recurrence) throws(RuntimeError) -> Int {
        guard r.states.count == r.nextSlots.count, !r.states.isEmpty else { throw fail("a recurrence is malformed") }
        var width = 0
        for (s, next) in zip(r.states, r.nextSlots) {
            guard s >= 0, s < program.states.count, let n = size(next), n == sizes[program.states[s].slot]
            else { throw fail("a recurrence names a missing state or slot") }
            guard solved.insert(s).inserted else { throw fail("state \(s) is solved twice") }
            width += n
        }
        return width
    }

    func isSquare(_ m: Int?, _ width: Int) -> Bool {
        guard let m, m >= 0, m < program.matrices.count else { return false }
        return program.matrices[m].rows == width && program.matrices[m].cols == width
    }

    /// A sequential cycle computes all its slots, but local ones keep one row (so do views of them).
    func sequentialResult(_ r: ScanPlan.Recurrence, _ stateSlots: [Int]) throws(RuntimeError) -> Set<Int> {
        let written = Set(r.instructions.map { program.instructions[$0].destination })
        var local = Set(r.localSlots)
        guard local.isSubset(of: written) else { throw fail("a local slot is not computed by its cycle") }
        var work = Array(local)
        while let src = work.popLast() {
            for dst in viewsOf[src] ?? [] where local.insert(dst).inserted { work.append(dst) }
        }
        return written.subtracting(local).union(stateSlots)
    }

    /// The slots a direct scan writes, after checking what it reads.
    func directResult(_ d: ScanPlan.Direct, _ r: ScanPlan.Recurrence, _ stateSlots: [Int]) throws(RuntimeError) -> Set<Int> {
        let n = sizes[stateSlots[0]]
        guard r.kind == .diagonal, r.states.count == 1, size(d.offset) == n, defined.contains(d.offset),
              d.coefficient.map({ size($0) == n && defined.contains($0) }) ?? true,
              d.product.map({ size($0) == n && !fixed.contains($0) }) ?? true,
              !d.writesNext || !fixed.contains(r.nextSlots[0])
        else { throw fail("a direct scan names missing or unsafe slots") }
        var written = Set(d.product.map { [$0] } ?? [])
        if d.writesState { written.formUnion(stateSlots) }
        if d.writesNext { written.insert(r.nextSlots[0]) }
        return written
    }

    /// The offset pass runs cycle instructions or fills cycle slots, in an order that computes
    /// what it reads, and leaves every next value computed.
    func checkOffsets(_ r: ScanPlan.Recurrence, _ stateSlots: [Int]) throws(RuntimeError) {
        let cycleSet = Set(r.instructions)
        let written = Set(r.instructions.map { program.instructions[$0].destination })
        var known = Set(stateSlots)
        for step in r.offsets {
            switch step {
            case .instruction(let i):
                guard cycleSet.contains(i) else { throw fail("an offset pass runs instruction \(i), which is not on its cycle") }
                try run(i, over: defined, &known)
            case .fill(let slot, let vector):
                guard written.contains(slot), vector.map({ $0 >= 0 && $0 < program.vectors.count && program.vectors[$0].count == sizes[slot] }) ?? true
                else { throw fail("an offset pass fills slot \(slot) wrongly") }
                known.insert(slot)
            }
        }
        for s in r.nextSlots where !known.contains(s) && !defined.contains(s) { throw fail("an offset pass leaves next value \(s) uncomputed") }
    }

    /// Coefficient steps only need consistent sizes; `scale` reads rows computed before the cycle.
    func checkCoefficients(_ r: ScanPlan.Recurrence) throws(RuntimeError) {
        for step in r.coefficients {
            let ok: Bool
            switch step {
            case .product(let d, let s, let m):
                ok = m >= 0 && m < program.matrices.count && program.matrices[m].rows == size(d) && program.matrices[m].cols == size(s)
            case .sum(let d, let l, let rr):
                ok = size(d) != nil && size(l) == size(d) && size(rr) == size(d)
            case .scale(let d, let c, let by):
                ok = size(d) != nil && size(c) == size(d) && size(by) == size(d) && defined.contains(by)
            case .concat(let d, let parts):
                let partSizes = parts.compactMap(size)
                ok = partSizes.count == parts.count && size(d) == partSizes.reduce(0, +)
            case .slice(let d, let s, let start):
                if let n = size(d), let m = size(s) { ok = start >= 0 && start <= m && n <= m - start } else { ok = false }
            }
            guard ok else { throw fail("a coefficient step (\(step)) names a missing slot or has inconsistent sizes") }
        }
    }
}

extension StepProgram {
    /// Slices run as views into their source in a scan program, never copied: those whose
    /// destination only that slice writes (and is no input, constant or state).
    package var sliceViews: Set<Int> {
        let fixed = Set(inputSlots + constants.map(\.slot) + states.map(\.slot))
        var writers: [Int: Int] = [:]
        for ins in instructions { writers[ins.destination, default: 0] += 1 }
        return Set(instructions.compactMap { ins in
            guard case .slice(let dst, _, _) = ins, writers[dst] == 1, !fixed.contains(dst) else { return nil }
            return dst
        })
    }

    /// Per instruction: whether its value reaches some state's next value, through the
    /// instructions after it (the others feed only outputs). Conservative where a slot has
    /// several writers: each of them counts once the slot is read.
    package var feedsStates: [Bool] {
        var live = Set(states.map(\.update))
        var feeds = [Bool](repeating: false, count: instructions.count)
        for (i, ins) in instructions.enumerated().reversed() where live.contains(ins.destination) {
            feeds[i] = true
            live.formUnion(ins.operands)
        }
        return feeds
    }
}
