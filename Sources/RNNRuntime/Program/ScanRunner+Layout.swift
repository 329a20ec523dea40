/// Where a run keeps each slot's rows: the run's buffers, the workspace they come from, and
/// the views that avoid copies (slices, the caller's inputs and outputs, shared rows).
extension ScanRunner {
    /// The bytes a run of `batch` sequences of `steps` tokens allocates for its slots (the
    /// caller's inputs and outputs included, as the worst case); `Int.max` when that overflows.
    package func workspaceBytes(steps: Int, batch: Int) -> Int {
        let (rows, o1) = max(1, steps).multipliedReportingOverflow(by: max(1, batch))
        let (perRow, o2) = program.slotSizes.reduce(0, +).multipliedReportingOverflow(by: MemoryLayout<Scalar>.stride)
        let (bytes, o3) = rows.multipliedReportingOverflow(by: perRow)
        return o1 || o2 || o3 ? Int.max : bytes
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

        var rows: Int { steps * batch }

        func row(_ slot: Int, _ r: Int) -> UnsafeMutablePointer<Scalar> { slots[slot] + r * ld[slot] }
    }

    /// Memory for runs of up to a number of rows (tokens times sequences), kept between runs
    /// so repeated runs do not pay for fresh pages, and the number of cores a run may use.
    /// Use one workspace per thread.
    public final class Workspace: @unchecked Sendable {
        var slots: [UnsafeMutablePointer<Scalar>] = []
        var sizes: [Int] = []
        var capacity = 0
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

        /// Owned rows for every slot (not zeroed: every row is written before it is read).
        func owned(sizes: [Int], rows: Int) -> [UnsafeMutablePointer<Scalar>] {
            if capacity >= rows, self.sizes == sizes, !slots.isEmpty { return slots }
            free()
            slots = sizes.map { UnsafeMutablePointer<Scalar>.allocate(capacity: max(1, $0 * rows)) }
            (self.sizes, capacity) = (sizes, rows)
            return slots
        }
    }

    /// The slots of a run of `batch` sequences (the layout of `shareRowsAndResolveViews`).
    func buffers(steps: Int, batch: Int, workspace: Workspace) -> Buffers {
        var b = Buffers(slots: workspace.owned(sizes: program.slotSizes, rows: steps * batch), ld: program.slotSizes, steps: steps, batch: batch, workspace: workspace)
        shareRowsAndResolveViews(&b)
        return b
    }

    /// Rows that need not be stored: a constant keeps one row for all; the values local to a
    /// sequential recurrence keep one row per sequence that every step reuses, so a step
    /// works in cache instead of streaming fresh rows to memory. Then resolves slice views.
    func shareRowsAndResolveViews(_ b: inout Buffers) {
        for c in program.constants { b.ld[c.slot] = 0 }
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
