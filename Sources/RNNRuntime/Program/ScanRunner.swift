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
///
/// The entry points are specialized for Float and Double inside the module, and the generic
/// entry dispatches to those at run time. The specializations are not `exported`: Swift 6.3's
/// release builds left their symbols undefined at link time.
public final class ScanRunner<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    /// The step program whose instructions the plan's stages run.
    public let program: StepProgram
    /// The plan the compiler made for whole sequences.
    public let plan: ScanPlan
    /// The program's weights, maybe shared with a step session.
    let weights: ConvertedWeights<Scalar>
    var matrices: [ConvertedMatrix<Scalar>] { weights.matrices }
    let vectors: ConvertedVectors<Scalar>
    /// Slices whose destination only that slice writes: run as views, never copied.
    let sliceViews: Set<Int>
    /// Slots written by some instruction (and not inputs, constants or states).
    let computedSlots: Set<Int>
    /// The plan's slots local to sequential recurrences (`ScanPlan.Recurrence.localSlots`).
    let recurrenceLocalSlots: [Int]
    /// Row-major copies of the tables that `gather` reads, by matrix index.
    var tables: [Int: UnsafeMutablePointer<Scalar>] { weights.tables }
    /// Per instruction: whether its value reaches some state (`StepProgram.feedsStates`).
    let feedsStates: [Bool]
    /// Per slot: whether the plan never writes it (a chunked recurrence's cycle), so a run
    /// gives it no rows.
    let unwrittenSlots: [Bool]
    /// Per slot: whether it is the state of a chunked recurrence (`Buffers.stateRow`).
    let edgeStateSlots: [Bool]

    /// A runner of `plan`; the program and the plan are validated first (and against each
    /// other), so a bad artifact never runs.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(program: StepProgram, plan: ScanPlan) throws(RuntimeError) {
        try self.init(program: program, plan: plan, weights: nil)
    }

    /// A runner that uses `weights` (converted from `program` with the plan's matrices), or
    /// its own when nil.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    init(program: StepProgram, plan: ScanPlan, weights: ConvertedWeights<Scalar>?) throws(RuntimeError) {
        try program.validate()
        try plan.validate(against: program)
        self.program = program
        self.plan = plan
        let weights = weights ?? ConvertedWeights(program, multiplied: plan.matrixIndices)
        precondition(weights.matrices.count == program.matrices.count, "weights of another program")
        self.weights = weights
        vectors = ConvertedVectors(program.vectors)
        let fixed = Set(program.inputSlots + program.constants.map(\.slot) + program.states.map(\.slot))
        computedSlots = Set(program.instructions.map(\.destination)).subtracting(fixed)
        sliceViews = program.sliceViews
        feedsStates = program.feedsStates
        recurrenceLocalSlots = plan.stages.flatMap { stage -> [Int] in
            if case .recurrence(let r) = stage { return r.localSlots } else { return [] }
        }
        (unwrittenSlots, edgeStateSlots) = plan.slotUse(program)
    }

    /// Runs one sequence from the initial states; returns one output vector per token.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(_ sequence: [[Scalar]], workspace: Workspace = Workspace()) throws(RuntimeError) -> [[Scalar]] {
        try run(batch: [sequence], workspace: workspace)[0]
    }

    /// Runs sequences of equal length in lockstep (state-independent work as one product over
    /// all of them, each recurrence step as one product over the batch); each sequence starts
    /// from the initial states. Returns one output vector per token of each sequence.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(batch sequences: [[[Scalar]]], workspace: Workspace = Workspace()) throws(RuntimeError) -> [[[Scalar]]] {
        try runConverting(batch: sequences, workspace: workspace)
    }

    /// `run` for Double tokens and outputs, whatever `Scalar` is (the command line's data).
    package func run(doubles sequence: [[Double]], workspace: Workspace = Workspace()) throws(RuntimeError) -> [[Double]] {
        try runConverting(batch: [sequence], workspace: workspace)[0]
    }

    /// `run(batch:)` for Double tokens and outputs, whatever `Scalar` is.
    package func run(batchOfDoubles sequences: [[[Double]]], workspace: Workspace = Workspace()) throws(RuntimeError) -> [[[Double]]] {
        try runConverting(batch: sequences, workspace: workspace)
    }

    /// Checks and flattens the sequences, runs them in lockstep, and splits the outputs by
    /// token, converting from `T` to `Scalar` and back.
    private func runConverting<T: BinaryFloatingPoint>(batch sequences: [[[T]]], workspace: Workspace) throws(RuntimeError) -> [[[T]]] {
        let width = program.inputWidth
        let steps = sequences.first?.count ?? 0
        guard sequences.allSatisfy({ $0.count == steps }) else {
            throw .inputMismatch("sequences run in lockstep must have equal lengths")
        }
        var flats: [[Scalar]] = []
        for (q, sequence) in sequences.enumerated() {
            for token in sequence where token.count != width {
                throw .inputMismatch("token has \(token.count) values, the model's input has \(width)")
            }
            try program.inputs.checkIDs(sequence, sequence: sequences.count > 1 ? q : nil)
            var flat = [Scalar]()
            flat.reserveCapacity(steps * width)
            for token in sequence { for v in token { flat.append(Scalar(v)) } }
            flats.append(flat)
        }
        let n = program.outputWidth
        return run(flat: flats, steps: steps, workspace: workspace).map { out in
            (0..<steps).map { t in (0..<n).map { T(out[t * n + $0]) } }
        }
    }

    /// Runs one sequence given as `steps` tokens back to back (`[T, inputWidth]`, row-major);
    /// returns the outputs the same way (`[T, outputWidth]`). Pass a `workspace` to reuse
    /// memory across runs.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(flat tokens: [Scalar], steps: Int, workspace: Workspace = Workspace()) -> [Scalar] {
        [Scalar](unsafeUninitializedCapacity: steps * program.outputWidth) { y, count in
            run(flat: tokens, steps: steps, into: y, workspace: workspace)
            count = steps * program.outputWidth
        }
    }

    /// Like `run(flat:steps:workspace:)`, writing the `[T, outputWidth]` outputs into
    /// `output` (which must hold exactly that many values), so a caller that runs long
    /// sequences repeatedly can keep one output buffer. Every value of `output` is written.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(flat tokens: [Scalar], steps: Int, into output: UnsafeMutableBufferPointer<Scalar>, workspace: Workspace = Workspace()) {
        precondition(tokens.count == steps * program.inputWidth, "expected \(steps) tokens of \(program.inputWidth) values")
        precondition(output.count == steps * program.outputWidth, "expected room for \(steps) outputs of \(program.outputWidth) values")
        guard steps > 0, output.count > 0 else { return }
        tokens.withUnsafeBufferPointer { x in
            var b = Buffers(slots: workspace.owned(counts: slotCounts(steps: steps, batch: 1)!), ld: program.slotSizes, steps: steps, batch: 1, workspace: workspace)
            let placed = viewInputsAndOutputs(&b, input: x.baseAddress, output: output.baseAddress!)
            shareRowsAndResolveViews(&b)
            execute(b, copyingInputs: [], placedOutputs: placed, into: [output.baseAddress!])
        }
    }

    /// Runs several sequences of `steps` tokens each in lockstep (see `run(batch:workspace:)`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
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
}
