import Foundation

/// Runs a step program over whole sequences following a `ScanPlan`: state-independent work
/// over all time steps at once, scan-able recurrences as associative scans, and the rest
/// step by step. Produces the same outputs as `StepSession` (up to rounding).
/// Immutable after creation; `run` allocates its own buffers, so one runner serves many threads.
///
/// Memory: every slot is a `[rows, size]` matrix whose row `r` starts at `slots[s] + r * ld[s]`
/// (`Buffers.row`). Most slots own their rows (`ld` = size), but copies are avoided where the
/// layout allows: a slice is a view into its source (same `ld`, shifted start); for a single
/// sequence, input slots are views into the caller's tokens and output slots computed by
/// instructions are written straight into the result (`ld` = the input or output width).
public final class ScanRunner<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    public let program: StepProgram
    public let plan: ScanPlan
    let matrices: [ConvertedMatrix<Scalar>]
    let vectors: ConvertedVectors<Scalar>
    /// Slices whose destination only that slice writes: run as views, never copied.
    let sliceViews: Set<Int>
    /// How many instructions read each slot, plus one for each output naming it.
    let readCounts: [Int: Int]
    /// Slots written by some instruction (and not inputs, constants or states).
    private let computedSlots: Set<Int>
    /// Values that only a sequential recurrence writes and reads (not its states, whose next
    /// row is written while cores splitting a step may still read the current one): they
    /// keep one row per sequence, reused each step.
    let recurrenceLocalSlots: [Int]

    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public init(program: StepProgram, plan: ScanPlan) throws(RuntimeError) {
        try program.validate()
        try plan.validate(against: program)
        self.program = program
        self.plan = plan
        matrices = program.matrices.map { ConvertedMatrix<Scalar>($0) }
        vectors = ConvertedVectors(program.vectors)
        let fixed = Set(program.inputSlots + program.constants.map(\.slot) + program.states.map(\.slot))
        var writers: [Int: Int] = [:]
        var reads: [Int: Int] = [:]
        for ins in program.instructions {
            writers[ins.destination, default: 0] += 1
            for s in ins.operands { reads[s, default: 0] += 1 }
        }
        for s in program.outputSlots { reads[s, default: 0] += 1 }
        // A state's update slot is read when the state takes its next value: another
        // recurrence may solve that state from rows a cycle computed.
        for s in program.states { reads[s.update, default: 0] += 1 }
        computedSlots = Set(writers.keys).subtracting(fixed)
        readCounts = reads
        sliceViews = Set(program.instructions.compactMap { ins in
            guard case .slice(let dst, _, _) = ins, writers[dst] == 1, !fixed.contains(dst) else { return nil }
            return dst
        })
        var local: [Int] = []
        for case .recurrence(let r) in plan.stages where r.kind == .sequential {
            let readsInside = Self.readsInside(r, program)
            let written = r.instructions.map { program.instructions[$0].destination }
            local += written.filter { readsInside[$0, default: 0] == reads[$0, default: 0] && !program.inputSlots.contains($0) }
        }
        recurrenceLocalSlots = local
    }

    /// How often the cycle of `r` reads each slot: its instructions' operands, and its own
    /// states' next values.
    static func readsInside(_ r: ScanPlan.Recurrence, _ program: StepProgram) -> [Int: Int] {
        var reads: [Int: Int] = [:]
        for i in r.instructions { for s in program.instructions[i].operands { reads[s, default: 0] += 1 } }
        for slot in r.nextSlots { reads[slot, default: 0] += 1 }
        return reads
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

        var rows: Int { steps * batch }

        func row(_ slot: Int, _ r: Int) -> UnsafeMutablePointer<Scalar> { slots[slot] + r * ld[slot] }
    }

    /// Memory for runs of up to a number of rows (tokens times sequences), kept between runs
    /// so repeated runs do not pay for fresh pages, and the number of cores a run may use.
    /// Use one workspace per thread.
    public final class Workspace: @unchecked Sendable {
        fileprivate var slots: [UnsafeMutablePointer<Scalar>] = []
        fileprivate var sizes: [Int] = []
        fileprivate var capacity = 0
        /// Cores one run's matrix products may use: all of them by default; pass 1 when you
        /// run sequences on several threads yourself, so the runs do not compete for cores.
        public let threads: Int
        /// Multiply-adds per step of a product (over the batch) from which a sequential
        /// recurrence runs split over the cores; 0 splits every one (for tests).
        var minimumSplitWork = ConvertedMatrix<Scalar>.teamWork
        /// Whether a split recurrence waits for the helper team when another thread has it
        /// (for tests; runs go on serially otherwise).
        var waitsForTeam = false
        /// Sequential recurrences that ran split over the cores (for tests).
        var splitRecurrences = 0

        public init(threads: Int? = nil) {
            self.threads = max(1, threads ?? Parallel.cores)
        }

        deinit { free() }

        private func free() {
            for p in slots { p.deallocate() }
            slots = []
        }

        /// Owned rows for every slot (not zeroed: every row is written before it is read).
        fileprivate func owned(sizes: [Int], rows: Int) -> [UnsafeMutablePointer<Scalar>] {
            if capacity >= rows, self.sizes == sizes, !slots.isEmpty { return slots }
            free()
            slots = sizes.map { UnsafeMutablePointer<Scalar>.allocate(capacity: max(1, $0 * rows)) }
            (self.sizes, capacity) = (sizes, rows)
            return slots
        }
    }

    /// Runs one sequence from the initial states; returns one output vector per token.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(_ sequence: [[Double]], workspace: Workspace = Workspace()) throws(RuntimeError) -> [[Double]] {
        try run(batch: [sequence], workspace: workspace)[0]
    }

    /// Runs sequences of equal length in lockstep (state-independent work as one product over
    /// all of them, each recurrence step as one product over the batch); each sequence starts
    /// from the initial states. Returns one output vector per token of each sequence.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(batch sequences: [[[Double]]], workspace: Workspace = Workspace()) throws(RuntimeError) -> [[[Double]]] {
        let width = program.inputWidth
        let steps = sequences.first?.count ?? 0
        guard sequences.allSatisfy({ $0.count == steps }) else {
            throw .inputMismatch("sequences run in lockstep must have equal lengths")
        }
        var flats: [[Scalar]] = []
        for sequence in sequences {
            for token in sequence where token.count != width {
                throw .inputMismatch("token has \(token.count) values, the model's input has \(width)")
            }
            var flat = [Scalar]()
            flat.reserveCapacity(steps * width)
            for token in sequence { for v in token { flat.append(Scalar(v)) } }
            flats.append(flat)
        }
        let n = program.outputWidth
        return run(flat: flats, steps: steps, workspace: workspace).map { out in
            (0..<steps).map { t in (0..<n).map { Double(out[t * n + $0]) } }
        }
    }

    /// Runs one sequence given as `steps` tokens back to back (`[T, inputWidth]`, row-major);
    /// returns the outputs the same way (`[T, outputWidth]`). Pass a `workspace` to reuse
    /// memory across runs.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(flat tokens: [Scalar], steps: Int, workspace: Workspace = Workspace()) -> [Scalar] {
        [Scalar](unsafeUninitializedCapacity: steps * program.outputWidth) { y, count in
            run(flat: tokens, steps: steps, into: y, workspace: workspace)
            count = steps * program.outputWidth
        }
    }

    /// Like `run(flat:steps:workspace:)`, writing the `[T, outputWidth]` outputs into
    /// `output` (which must hold exactly that many values), so a caller that runs long
    /// sequences repeatedly can keep one output buffer. Every value of `output` is written.
    // Not `exported`: Swift 6.3 emits no symbol for the exported specializations of this
    // signature; the generic entry dispatches to these specializations at run time instead.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(flat tokens: [Scalar], steps: Int, into output: UnsafeMutableBufferPointer<Scalar>, workspace: Workspace = Workspace()) {
        precondition(tokens.count == steps * program.inputWidth, "expected \(steps) tokens of \(program.inputWidth) values")
        precondition(output.count == steps * program.outputWidth, "expected room for \(steps) outputs of \(program.outputWidth) values")
        guard steps > 0, output.count > 0 else { return }
        tokens.withUnsafeBufferPointer { x in
            var b = Buffers(slots: workspace.owned(sizes: program.slotSizes, rows: steps), ld: program.slotSizes, steps: steps, batch: 1, workspace: workspace)
            let placed = viewInputsAndOutputs(&b, input: x.baseAddress, output: output.baseAddress!)
            shareRowsAndResolveViews(&b)
            execute(b, copyingInputs: [], placedOutputs: placed, into: [output.baseAddress!])
        }
    }

    /// Runs several sequences of `steps` tokens each in lockstep (see `run(batch:workspace:)`).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(flat sequences: [[Scalar]], steps: Int, workspace: Workspace = Workspace()) -> [[Scalar]] {
        if sequences.count == 1 { return [run(flat: sequences[0], steps: steps, workspace: workspace)] }
        let n = steps * program.outputWidth
        let all = [Scalar](unsafeUninitializedCapacity: sequences.count * n) { y, count in
            run(flat: sequences, steps: steps, into: y, workspace: workspace)
            count = sequences.count * n
        }
        return (0..<sequences.count).map { Array(all[$0 * n..<($0 + 1) * n]) }
    }

    /// Like `run(flat:steps:workspace:)` for several sequences, writing their outputs one
    /// after the other (`[B, T, outputWidth]`) into `output`, which must hold exactly that
    /// many values. Every value of `output` is written.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(flat sequences: [[Scalar]], steps: Int, into output: UnsafeMutableBufferPointer<Scalar>, workspace: Workspace = Workspace()) {
        let (width, batch, n) = (program.inputWidth, sequences.count, steps * program.outputWidth)
        precondition(output.count == batch * n, "expected room for \(batch) x \(steps) outputs of \(program.outputWidth) values")
        if batch == 1 { return run(flat: sequences[0], steps: steps, into: output, workspace: workspace) }
        for tokens in sequences { precondition(tokens.count == steps * width, "expected \(steps) tokens of \(width) values") }
        guard steps > 0, batch > 0, n > 0 else { return }
        let b = buffers(steps: steps, batch: batch, workspace: workspace)
        let out = output.baseAddress!
        execute(b, copyingInputs: sequences, placedOutputs: [], into: (0..<batch).map { out + $0 * n })
    }

    // MARK: Layout

    /// The slots of a run of `batch` sequences (the layout of `shareRowsAndResolveViews`).
    func buffers(steps: Int, batch: Int, workspace: Workspace) -> Buffers {
        var b = Buffers(slots: workspace.owned(sizes: program.slotSizes, rows: steps * batch), ld: program.slotSizes, steps: steps, batch: batch, workspace: workspace)
        shareRowsAndResolveViews(&b)
        return b
    }

    /// Rows that need not be stored: a constant keeps one row for all; the values local to a
    /// sequential recurrence keep one row per sequence that every step reuses, so a step
    /// works in cache instead of streaming fresh rows to memory. Then resolves slice views.
    private func shareRowsAndResolveViews(_ b: inout Buffers) {
        for c in program.constants { b.ld[c.slot] = 0 }
        b.perSequence = Set(recurrenceLocalSlots)
        resolveSliceViews(&b)
    }

    /// Points every slice view at its source's rows (in program order, so chains resolve).
    private func resolveSliceViews(_ b: inout Buffers) {
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
    private func viewInputsAndOutputs(_ b: inout Buffers, input: UnsafePointer<Scalar>?, output: UnsafeMutablePointer<Scalar>) -> Set<Int> {
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

    // MARK: Running

    /// Fills inputs (copied from `copyingInputs` when given), constants and initial states,
    /// runs the stages, and copies the outputs not placed in `into` already.
    private func execute(_ b: Buffers, copyingInputs sequences: [[Scalar]], placedOutputs: Set<Int>, into outputs: [UnsafeMutablePointer<Scalar>]) {
        let (sizes, steps, width) = (program.slotSizes, b.steps, program.inputWidth)
        for (q, tokens) in sequences.enumerated() {
            tokens.withUnsafeBufferPointer { x in
                var at = 0
                for slot in program.inputSlots {
                    let n = sizes[slot]
                    for t in 0..<steps { b.row(slot, q * steps + t).update(from: x.baseAddress! + t * width + at, count: n) }
                    at += n
                }
            }
        }
        for c in program.constants {
            let v = vectors[c.vector]
            b.row(c.slot, 0).update(from: v.baseAddress!, count: v.count)  // one row for all (ld 0)
        }
        for state in program.states {
            let v = vectors[state.initial]
            for q in 0..<b.batch { b.row(state.slot, q * steps).update(from: v.baseAddress!, count: v.count) }
        }
        for stage in plan.stages {
            switch stage {
            case .batched(let list): for i in list { execute(program.instructions[i], b, rows: 0..<b.rows) }
            case .recurrence(let r): solve(r, b)
            }
        }
        let n = program.outputWidth
        for (q, y) in outputs.enumerated() {
            var at = 0
            for (k, slot) in program.outputSlots.enumerated() {
                let m = sizes[slot]
                if !placedOutputs.contains(k) {
                    for t in 0..<steps { (y + t * n + at).update(from: b.row(slot, q * steps + t), count: m) }
                }
                at += m
            }
        }
    }

    // MARK: Instructions over rows

    func execute(_ ins: Instruction, _ b: Buffers, rows: Range<Int>) {
        let sizes = program.slotSizes
        switch ins {
        case .affine(let dst, let src, let m, let bias, let epilogue):
            product(matrices[m], src, dst, bias: bias, epilogue: epilogue, b, rows)
        case .elementwise(let op, let dst, let l, let r):
            elementwise(op, dst, l, r ?? l, b, rows)
        case .concat(let dst, let parts):
            for r in rows {
                var at = 0
                for p in parts {
                    (b.row(dst, r) + at).update(from: b.row(p, r), count: sizes[p])
                    at += sizes[p]
                }
            }
        case .slice(let dst, let src, let start):
            guard !sliceViews.contains(dst) else { return }
            for r in rows { b.row(dst, r).update(from: b.row(src, r) + start, count: sizes[dst]) }
        }
    }

    /// `dst = f(W src + bias)` over rows; the bias and the epilogue `f` run on each block of
    /// rows as the product finishes it, while it is in cache.
    private func product(_ w: ConvertedMatrix<Scalar>, _ src: Int, _ dst: Int, bias: Int?, epilogue f: ElementwiseOp?, _ b: Buffers, _ rows: Range<Int>) {
        let (first, ldy, n) = (rows.lowerBound, b.ld[dst], program.slotSizes[dst])
        let y = b.row(dst, first)
        let biasValues = bias.map { vectors[$0] }
        let epilogue: ((Int, Int) -> Void)? = bias == nil && f == nil ? nil : { at, count in
            for r in at..<(at + count) {
                let yr = y + r * ldy
                if let biasValues { Kernels.add(yr, biasValues.baseAddress!, yr, count: n) }
                if let f, ldy != n { Kernels.apply(f, yr, yr, yr, count: n) }
            }
            if let f, ldy == n { Kernels.apply(f, y + at * n, y + at * n, y + at * n, count: n * count) }
        }
        w.apply(b.row(src, first), y, count: rows.count, ldx: b.ld[src], ldy: ldy, threads: b.threads, epilogue: epilogue)
    }

    /// `dst = op(l, r)` over rows (unary ops pass `r = l`), as one run when the slots are contiguous.
    private func elementwise(_ op: ElementwiseOp, _ dst: Int, _ l: Int, _ r: Int, _ b: Buffers, _ rows: Range<Int>) {
        let n = program.slotSizes[dst]
        if b.ld[dst] == n, b.ld[l] == n, b.ld[r] == n {
            let (d, x, y) = (b.row(dst, rows.lowerBound), b.row(l, rows.lowerBound), b.row(r, rows.lowerBound))
            inChunks(n * rows.count, threads: b.threads) { at, m in Kernels.apply(op, x + at, y + at, d + at, count: m) }
        } else {
            for row in rows { Kernels.apply(op, b.row(l, row), b.row(r, row), b.row(dst, row), count: n) }
        }
    }

    /// `body(start, count)` over `0 ..< total` in one piece, or split over the cores when
    /// the work is large enough to pay for waking them (element-wise passes over [T, n]).
    private func inChunks(_ total: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let cores = total >= 1 << 17 ? min(threads, Parallel.cores) : 1
        Parallel.forEachChunk(of: total, cores: cores, granule: 16, body)  // whole vectors per chunk
    }

    /// Rows of a slot as one contiguous array.
    func gather(_ slot: Int, _ b: Buffers) -> [Scalar] {
        let n = program.slotSizes[slot]
        if b.ld[slot] == n { return Array(UnsafeBufferPointer(start: b.slots[slot], count: n * b.rows)) }
        return [Scalar](unsafeUninitializedCapacity: n * b.rows) { out, count in
            for r in 0..<b.rows { (out.baseAddress! + r * n).initialize(from: b.row(slot, r), count: n) }
            count = n * b.rows
        }
    }
}
