/// Where a run keeps each slot's rows: the run's buffers, the workspace they come from, and
/// the views that avoid copies (slices, the caller's inputs and outputs, shared rows).
extension ScanRunner {
    /// The bytes a run of `batch` sequences of `steps` tokens allocates for its slots (the
    /// caller's inputs and outputs included, as the worst case) and its chunked recurrences'
    /// scratch; `Int.max` when that overflows.
    package func workspaceBytes(steps: Int, batch: Int) -> Int {
        guard let counts = slotCounts(steps: max(1, steps), batch: max(1, batch)) else { return Int.max }
        var total = 0
        for n in counts {
            let (sum, o1) = total.addingReportingOverflow(n)
            guard !o1 else { return Int.max }
            total = sum
        }
        let (bytes, o2) = total.multipliedReportingOverflow(by: MemoryLayout<Scalar>.stride)
        // A chunked recurrence's scratch: the state at each chunk's start and per-token terms.
        let scratch = plan.chunkScratchValues(steps: max(1, steps), program: program) * Double(MemoryLayout<Scalar>.stride)
        guard !o2, scratch < Double(Int.max / 2) else { return Int.max }
        let (sum, o3) = bytes.addingReportingOverflow(Int(scratch))
        return o3 ? Int.max : sum
    }

    /// How many values each slot's memory holds in a run: every row for most slots, two
    /// rows per sequence for a chunked recurrence's state (`Buffers.stateRow`), none for a
    /// slot the plan never writes (a chunked recurrence's cycle); nil when that overflows.
    func slotCounts(steps: Int, batch: Int) -> [Int]? {
        let (rows, o1) = steps.multipliedReportingOverflow(by: batch)
        guard !o1 else { return nil }
        var counts: [Int] = []
        counts.reserveCapacity(program.slotSizes.count)
        for (slot, size) in program.slotSizes.enumerated() {
            let (n, o2) = size.multipliedReportingOverflow(by: edgeStateSlots[slot] ? 2 * batch : unwrittenSlots[slot] ? 0 : rows)
            guard !o2 else { return nil }
            counts.append(n)
        }
        return counts
    }
    /// The slots of one run: row `r` of slot `s` is at `slots[s] + r * ld[s]`; rows are
    /// `sequence * steps + t`.
    struct Buffers {
        var slots: [UnsafeMutablePointer<Scalar>]
        var ld: [Int]
        let steps: Int
        let batch: Int
        /// The run's workspace (cores it may use, when to split recurrences).
        let workspace: Workspace
        var threads: Int { workspace.threads }
        /// Slots (and views into them) local to a sequential recurrence: one row per
        /// sequence (`ld` apart), which every step reuses; `row` does not apply to them.
        var perSequence: Set<Int> = []
        /// Whether every state row is written, even where the plan says nothing reads it
        /// (the final states are computed from the last row).
        var keepsStateRows = false
        /// Per slot: whether it is a state holding only each sequence's first and last rows
        /// (a chunked recurrence's matrix state), read and written through `stateRow`.
        var edgeRows: [Bool] = []

        var rows: Int { steps * batch }

        func row(_ slot: Int, _ r: Int) -> UnsafeMutablePointer<Scalar> { slots[slot] + r * ld[slot] }

        /// A state's row for step `t` of sequence `q`; a state with edge rows only has
        /// `t == 0` (the initial value) and `t == steps - 1` (the value before the last token).
        func stateRow(_ slot: Int, sequence q: Int, step t: Int) -> UnsafeMutablePointer<Scalar> {
            guard slot < edgeRows.count, edgeRows[slot] else { return row(slot, q * steps + t) }
            return slots[slot] + (2 * q + (t == 0 ? 0 : 1)) * ld[slot]
        }
    }

    /// Memory for runs of up to a number of rows (tokens times sequences), kept between runs
    /// so repeated runs do not pay for fresh pages, and the number of cores a run may use.
    /// Use one workspace per thread.
    public final class Workspace: @unchecked Sendable {
        var slots: [UnsafeMutablePointer<Scalar>] = []
        /// Values allocated for each slot.
        var allocated: [Int] = []
        /// Cores one run's matrix products may use: all of them by default; pass 1 when you
        /// run sequences on several threads yourself, so the runs do not compete for cores.
        package let threads: Int
        /// Multiply-adds per step of a product (over the batch) from which a sequential
        /// recurrence runs split over the cores; 0 splits every one (for tests).
        var minimumSplitWork = ConvertedMatrix<Scalar>.teamWork
        /// Whether a split recurrence waits for the helper team when another thread has it
        /// (for tests; runs go on serially otherwise).
        var waitsForTeam = false
        /// Sequential recurrences that ran split over the cores (for tests).
        var splitRecurrences = 0

        /// A workspace whose runs use `threads` cores (all by default).
        public init(threads: Int? = nil) {
            self.threads = max(1, threads ?? Parallel.cores)
        }

        deinit {
            free()
            for p in scratchBuffers { p.deallocate() }
        }

        private var scratchBuffers: [UnsafeMutablePointer<Scalar>] = []
        private var scratchCounts: [Int] = []

        /// Scratch memory number `k` of at least `count` values (not zeroed), kept between runs
        /// like the slots, so a recurrence's terms do not cost fresh pages every run.
        func scratch(_ k: Int, count: Int) -> UnsafeMutablePointer<Scalar> {
            while scratchBuffers.count <= k {
                scratchBuffers.append(.allocate(capacity: 1))
                scratchCounts.append(1)
            }
            if scratchCounts[k] < count {
                scratchBuffers[k].deallocate()
                scratchBuffers[k] = .allocate(capacity: count)
                scratchCounts[k] = count
            }
            return scratchBuffers[k]
        }

        private func free() {
            for p in slots { p.deallocate() }
            slots = []
        }

        /// Memory for every slot, `counts[s]` values for slot `s` (not zeroed: every row is
        /// written before it is read); kept while later runs fit in it.
        func owned(counts: [Int]) -> [UnsafeMutablePointer<Scalar>] {
            if !slots.isEmpty, allocated.count == counts.count, zip(counts, allocated).allSatisfy({ $0 <= $1 }) { return slots }
            free()
            slots = counts.map { UnsafeMutablePointer<Scalar>.allocate(capacity: max(1, $0)) }
            allocated = counts
            return slots
        }

        /// Every row of every slot (`rows` rows of `sizes[s]` values).
        func owned(sizes: [Int], rows: Int) -> [UnsafeMutablePointer<Scalar>] {
            owned(counts: sizes.map { $0 * rows })
        }
    }

    /// The slots of a run of `batch` sequences (the layout of `shareRowsAndResolveViews`).
    func buffers(steps: Int, batch: Int, workspace: Workspace) -> Buffers {
        var b = Buffers(slots: workspace.owned(counts: slotCounts(steps: steps, batch: batch)!), ld: program.slotSizes, steps: steps, batch: batch, workspace: workspace)
        shareRowsAndResolveViews(&b)
        return b
    }

    /// Rows that need not be stored: a constant keeps one row for all; the values local to a
    /// sequential recurrence keep one row per sequence that every step reuses, so a step
    /// works in cache instead of streaming fresh rows to memory. Then resolves slice views.
    func shareRowsAndResolveViews(_ b: inout Buffers) {
        for c in program.constants { b.ld[c.slot] = 0 }
        b.edgeRows = edgeStateSlots
        b.perSequence = Set(recurrenceLocalSlots)
        resolveSliceViews(&b)
    }

    /// Points every slice view at its source's rows (in program order, so chains resolve).
    func resolveSliceViews(_ b: inout Buffers) {
        for ins in program.instructions {
            if case .slice(let dst, let src, let start) = ins, sliceViews.contains(dst) {
                b.slots[dst] = b.slots[src] + start
                b.ld[dst] = b.ld[src]
                if b.perSequence.contains(src) { b.perSequence.insert(dst) } else { b.perSequence.remove(dst) }
            }
        }
    }

    /// For one sequence: input slots read the caller's tokens in place, and output slots that
    /// instructions compute are written into the result. Returns the output positions placed.
    /// Resolve slice views afterwards, so views of inputs and outputs follow them.
    func viewInputsAndOutputs(_ b: inout Buffers, input: UnsafePointer<Scalar>?, output: UnsafeMutablePointer<Scalar>) -> Set<Int> {
        let sizes = program.slotSizes
        var at = 0
        for slot in program.inputSlots {
            guard let input else { break }  // no input values at all
            b.slots[slot] = UnsafeMutablePointer(mutating: input) + at  // only ever read
            b.ld[slot] = program.inputWidth
            at += sizes[slot]
        }
        var placed = Set<Int>()
        var placedSlots = Set<Int>()
        at = 0
        for (k, slot) in program.outputSlots.enumerated() {
            if computedSlots.contains(slot), !sliceViews.contains(slot), placedSlots.insert(slot).inserted {
                b.slots[slot] = output + at
                b.ld[slot] = program.outputWidth
                placed.insert(k)
            }
            at += sizes[slot]
        }
        return placed
    }

}
