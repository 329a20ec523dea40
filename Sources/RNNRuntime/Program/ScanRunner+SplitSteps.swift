import RNNKernels

/// Sequential recurrences on several cores. A step of an LSTM or GRU is a matrix-vector
/// product and a handful of element-wise ops, a few microseconds in all: too short to hand
/// pieces to threads one at a time. So the whole loop over the steps runs as one job of the
/// helper team (`Team`), every core running every op on its share: its panels of a product's
/// matrix (the same ones each step, which stay in that core's cache) and its columns of an
/// element-wise op. The cores meet at a barrier where one might read or overwrite what
/// another wrote since the last barrier (found once, before the loop, from the addresses
/// each share touches), and at the end of every step.
extension ScanRunner {
    /// Runs the cycle split over the run's cores when a product is large enough to be worth
    /// it (the size at which a lone product goes to the team); false, having done nothing,
    /// otherwise or when the team is busy.
    func solveSplit(_ ops: [StepOp], _ b: Buffers, streamed: [SlotRows]) -> Bool {
        let parts = min(b.threads, Parallel.cores)
        guard parts > 1, worthSplitting(ops, b, parts: parts), let schedule = splitSchedule(ops, parts: parts),
              Team.run(parts: parts, wait: b.workspace.waitsForTeam, { part, _ in runSplit(schedule[part], b, streamed: streamed) })
        else { return false }
        b.workspace.splitRecurrences += 1
        return true
    }

    private func worthSplitting(_ ops: [StepOp], _ b: Buffers, parts: Int) -> Bool {
        let least = b.workspace.minimumSplitWork
        return least == 0 || ops.contains { op in
            op.kind == .product && op.matrix!._withUnsafeGuaranteedRef { m in
                m.isPacked && m.rows * m.cols * b.batch >= least && m.panels >= 2 * parts
            }
        }
    }

    /// Each sequential recurrence's split schedule for a run of `batch` sequences (for tests).
    func splitSchedules(steps: Int, batch: Int, parts: Int) -> [[[StepOp]]?] {
        let b = buffers(steps: steps, batch: batch, workspace: Workspace(threads: parts))
        var schedules: [[[StepOp]]?] = []
        for case .recurrence(let r) in plan.stages where r.kind == .sequential {
            let stateSlots = r.states.map { program.states[$0].slot }
            schedules.append(splitSchedule(resolveSteps(r, b) + stateCopies(r, b, stateSlots: stateSlots), parts: parts))
        }
        return schedules
    }

    /// One core's loop over the steps: its share of every op, meeting the others at barriers.
    private func runSplit(_ ops: [StepOp], _ b: Buffers, streamed: [SlotRows]) {
        let ahead = streamedReads(ops, streamed)
        bindingKernels(ops) { ops in
            for t in 0..<b.steps {
                for (rows, columns) in ahead { prefetch(rows, step: t + 1, b, columns: columns) }
                for op in ops {
                    if op.barrierBefore { Team.barrier() }
                    if op.kind == .stateCopy, t + 1 == b.steps { continue }
                    perform(op, step: t, b)
                }
                Team.barrier()  // the next step reads what every core wrote in this one
            }
        }
    }

    /// The operands of `ops` that lie in `streamed` rows, with the columns the ops read:
    /// what a core asks for a step ahead.
    private func streamedReads(_ ops: [StepOp], _ streamed: [SlotRows]) -> [(SlotRows, Range<Int>)] {
        func isStreamed(_ rows: SlotRows) -> Bool {
            let start = rows.row(0, 0)
            return streamed.contains { start >= $0.row(0, 0) && start + rows.width <= $0.row(0, 0) + $0.width && rows.ld == $0.ld }
        }
        return ops.flatMap { op -> [(SlotRows, Range<Int>)] in
            guard !op.columns.isEmpty else { return [] }
            switch op.kind {
            case .product: return isStreamed(op.l) ? [(op.l, 0..<op.l.width)] : []
            case .elementwise where op.op!.arity == 2: return [op.l, op.r].filter(isStreamed).map { ($0, op.columns) }
            case .elementwise, .copy, .stateCopy: return isStreamed(op.l) ? [(op.l, op.columns)] : []
            }
        }
    }

    /// Every core's ops (`schedule[part]`): its shares of each op in order, with a barrier
    /// before each op that touches memory another core wrote (or writes memory another core
    /// read) since the last barrier. Nil when the shares of one op overlap.
    ///
    /// Addresses are those of step 0 and the first sequence: a slot's rows for other steps
    /// and sequences are its row 0 moved by a multiple of its row stride, which moves every
    /// view into it the same way, so overlaps are the same at every step.
    func splitSchedule(_ ops: [StepOp], parts: Int) -> [[StepOp]]? {
        let shares = assignShares(ops, parts: parts)
        var read = Array(repeating: [Range<Int>](), count: parts)
        var written = read
        var schedule = Array(repeating: [StepOp](), count: parts)
        for (op, opShares) in zip(ops, shares) {
            let access = opShares.map { pieces in pieces.map(touched).reduce(into: (reads: [Range<Int>](), writes: [Range<Int>]())) {
                $0.reads += $1.reads
                $0.writes += $1.writes
            } }
            func others(_ k: Int) -> [Int] { (0..<parts).filter { $0 != k } }
            for k in 0..<parts where others(k).contains(where: { Self.overlap(access[k].writes, access[$0].reads + access[$0].writes) }) {
                return nil
            }
            let conflict = (0..<parts).contains { k in
                others(k).contains { j in
                    Self.overlap(access[k].reads + access[k].writes, written[j]) || Self.overlap(access[k].writes, read[j])
                }
            }
            if conflict {
                read = Array(repeating: [], count: parts)
                written = read
            }
            for k in 0..<parts {
                read[k] += access[k].reads
                written[k] += access[k].writes
                var pieces = opShares[k]
                if conflict {
                    if pieces.isEmpty { pieces = [narrowed(op, to: 0..<0)] }  // nothing to do but meet
                    pieces[0].barrierBefore = true
                }
                schedule[k] += pieces
            }
        }
        return schedule
    }

    /// Every core's share of every op (`shares[op][part]`, in pieces of contiguous columns),
    /// chosen from the last op back: an op's columns go to the cores that read them later in
    /// the step when those readers split them cleanly (so a value is made on the core that
    /// uses it, with no barrier in between), else in equal contiguous pieces. An LSTM's
    /// gate product thus gives each core the rows of all four gates for its hidden units.
    private func assignShares(_ ops: [StepOp], parts: Int) -> [[[StepOp]]] {
        var demand = Array(repeating: [Range<Int>](), count: parts)  // bytes each core reads later
        var shares: [[[StepOp]]] = []
        for op in ops.reversed() {
            let owners = ownersByDemand(op, demand, parts: parts) ?? evenOwners(op, parts: parts)
            let pieces = owners.map { $0.map { narrowed(op, to: $0) } }
            for k in 0..<parts { for piece in pieces[k] { demand[k] += touched(piece).reads } }
            shares.append(pieces)
        }
        return shares.reversed()
    }

    /// Columns per core for an op by who reads them later (`demand`, bytes per core), in
    /// whole granules (a product's panels, else 64-byte lines); columns nobody reads go by
    /// the even split. Nil when two cores read one granule, nobody reads any, the op is a
    /// state copy (read in the next step), or a product would be split too unevenly.
    private func ownersByDemand(_ op: StepOp, _ demand: [[Range<Int>]], parts: Int) -> [[Range<Int>]]? {
        guard op.kind != .stateCopy, op.d.width > 0 else { return nil }
        let stride = MemoryLayout<Scalar>.stride, g = granule(op)
        let start = Int(bitPattern: op.d.row(0, 0))
        let count = (op.d.width + g - 1) / g
        var owner = [Int?](repeating: nil, count: count)
        for k in 0..<parts {
            for range in demand[k] {
                let lo = max(range.lowerBound, start), hi = min(range.upperBound, start + op.d.width * stride)
                guard lo < hi else { continue }
                for granule in ((lo - start) / stride / g)...((hi - start - 1) / stride / g) {
                    if let other = owner[granule], other != k { return nil }
                    owner[granule] = k
                }
            }
        }
        guard owner.contains(where: { $0 != nil }) else { return nil }
        let even = evenOwners(op, parts: parts)
        let resolved = owner.enumerated().map { granule, k in
            k ?? even.firstIndex { $0.contains { $0.contains(granule * g) } }!
        }
        if op.kind == .product {
            let most = (0..<parts).map { k in resolved.filter { $0 == k }.count }.max()!
            if most * 4 > (count + parts - 1) / parts * 5 + 4 { return nil }
        }
        var owners = Array(repeating: [Range<Int>](), count: parts)
        var first = 0
        for granule in 1...count where granule == count || resolved[granule] != resolved[first] {
            owners[resolved[first]].append((first * g)..<min(op.d.width, granule * g))
            first = granule
        }
        return owners
    }

    /// Columns per core in equal contiguous pieces of whole granules.
    private func evenOwners(_ op: StepOp, parts: Int) -> [[Range<Int>]] {
        let (g, width) = (granule(op), op.d.width)
        let granules = (width + g - 1) / g
        return (0..<parts).map { k in
            let piece = min(width, granules * k / parts * g)..<min(width, granules * (k + 1) / parts * g)
            return piece.isEmpty ? [] : [piece]
        }
    }

    /// The unit an op's columns are shared out in: a product's panels, else 64-byte lines
    /// (no two cores write into one cache line).
    private func granule(_ op: StepOp) -> Int {
        op.kind == .product ? op.matrix!._withUnsafeGuaranteedRef { $0.panelRows } : max(1, 64 / MemoryLayout<Scalar>.stride)
    }

    /// `op` over the columns `columns` only (a product over the panels behind them).
    private func narrowed(_ op: StepOp, to columns: Range<Int>) -> StepOp {
        var piece = op
        piece.columns = columns
        if op.kind == .product {
            let g = granule(op)
            piece.panels = (columns.lowerBound / g)..<((columns.upperBound + g - 1) / g)
        }
        return piece
    }

    /// The byte ranges a share of an op reads and writes at step 0 of the first sequence.
    private func touched(_ op: StepOp) -> (reads: [Range<Int>], writes: [Range<Int>]) {
        func bytes(_ rows: SlotRows, _ columns: Range<Int>, row: Int = 0) -> [Range<Int>] {
            guard !columns.isEmpty else { return [] }
            let start = Int(bitPattern: rows.row(0, row) + columns.lowerBound)
            return [start..<(start + columns.count * MemoryLayout<Scalar>.stride)]
        }
        let c = op.columns
        switch op.kind {
        case .product:
            guard !c.isEmpty else { return ([], []) }
            let diagonal = op.matrix!._withUnsafeGuaranteedRef { $0.isDiagonal }
            return (bytes(op.l, diagonal ? c : 0..<op.l.width), bytes(op.d, c))
        case .elementwise where op.op!.arity == 2: return (bytes(op.l, c) + bytes(op.r, c), bytes(op.d, c))
        case .elementwise, .copy: return (bytes(op.l, c), bytes(op.d, c))
        case .stateCopy: return (bytes(op.l, c), bytes(op.d, c, row: 1))
        }
    }

    private static func overlap(_ a: [Range<Int>], _ b: [Range<Int>]) -> Bool {
        a.contains { x in b.contains { x.overlaps($0) } }
    }
}
