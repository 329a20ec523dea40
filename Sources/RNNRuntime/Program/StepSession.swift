import Dispatch
import Foundation
import RNNOps

/// Runs a model one token at a time in `Scalar` precision (`Float` or `Double`): the
/// streaming session. Tokens, outputs and states are `Scalar` values.
///
/// ```swift
/// let session = try StepSession<Float>(model)
/// let y = try session.step([1])          // the outputs after one token
/// let h = try session.state("h")         // a state's current value, by its name
/// ```
///
/// A session is not thread-safe: use one per thread (pass `threads: 1` then).
///
/// Memory layout: all slots live back to back in one buffer, slot `i` at `offsets[i]`,
/// allocated once. Nothing is allocated per step except the returned output array (use
/// `step(_:into:)` to avoid that too). Dense matrices are packed for the C kernels once, and
/// every instruction is resolved once to the addresses and kernel it uses (`Op`), so a step
/// does no slot lookups and no op-table lookups.
///
/// The entry points are specialized for Float and Double inside the module, and the generic
/// entry dispatches to those at run time. The specializations are not `exported`: Swift 6.3's
/// release builds left their symbols undefined at link time.
public final class StepSession<Scalar: BinaryFloatingPoint & Sendable> {
    /// The program the session runs.
    public let program: StepProgram
    private let buffer: UnsafeMutablePointer<Scalar>
    private let offsets: [Int]
    private let vectors: ConvertedVectors<Scalar>
    /// The instructions, resolved in order (a concatenation is one copy per part).
    var ops: [Op] = []
    /// The program's weights (packed matrices, gather tables), maybe shared with a scan
    /// runner; they outlive every op that points into them.
    private let weights: ConvertedWeights<Scalar>
    private let hasTokenInputs: Bool
    /// A token converted from Doubles (`step(doubles:)`), kept so a step allocates no input.
    private let convertedToken: UnsafeMutableBufferPointer<Scalar>
    /// Cores one step's matrix products and wide element-wise ops may use.
    public let threads: Int
    /// Values at or above which an element-wise op or sparse product runs split over the
    /// cores (`StepSession+Split.swift`); 0 splits every one (for tests).
    package var minimumSplitValues = StepSession.splitValues { didSet { planSplitRuns() } }
    /// Whether a split op waits for the helper team when another thread has it (for tests;
    /// the op runs on this thread alone otherwise).
    package var waitsForTeam = false
    /// Runs of split ops that ran on the team, one job each (for tests).
    package internal(set) var splitRuns = 0
    /// The kernel each core runs in a split op (`StepSession+Split.swift`).
    var splitKernels: SplitKernels<Scalar>? = nil

    /// Creates a session for a model (an artifact's, or a compiled model's `model`); see
    /// ``init(program:threads:)``.
    public convenience init(_ model: Artifact.Model, threads: Int? = nil) throws(RuntimeError) {
        try self.init(program: model.program, threads: threads)
    }

    /// Creates a session; the program is validated first, so a bad program never runs.
    /// `threads`: cores one step's matrix products may use (all by default; pass 1 when you
    /// run sessions on several threads yourself).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public convenience init(program: StepProgram, threads: Int? = nil) throws(RuntimeError) {
        try self.init(program: program, threads: threads, weights: nil)
    }

    /// A session that uses `weights` (converted from `program`), or its own when nil.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    init(program: StepProgram, threads: Int?, weights: ConvertedWeights<Scalar>?) throws(RuntimeError) {
        try program.validate()
        self.program = program
        self.threads = max(1, threads ?? Parallel.cores)
        var offsets: [Int] = []
        var total = 0
        for s in program.slotSizes {
            offsets.append(total)
            total += s
        }
        self.offsets = offsets
        buffer = .allocate(capacity: max(1, total))
        buffer.initialize(repeating: 0, count: max(1, total))
        let weights = weights ?? ConvertedWeights(program)
        precondition(weights.matrices.count == program.matrices.count, "weights of another program")
        self.weights = weights
        hasTokenInputs = program.inputs.contains { $0.vocabulary != nil }
        convertedToken = .allocate(capacity: program.inputWidth)
        vectors = ConvertedVectors(program.vectors)
        ops = program.instructions.flatMap(resolve)
        bindSplitKernels()
        reset()
    }

    deinit {
        buffer.deallocate()
        convertedToken.deallocate()
    }

    /// Restores every state to its initial value.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reset() {
        for c in program.constants { store(vectors[c.vector], into: c.slot) }
        for s in program.states { store(vectors[s.initial], into: s.slot) }
    }

    private func store(_ v: UnsafeBufferPointer<Scalar>, into slot: Int) {
        (buffer + offsets[slot]).update(from: v.baseAddress!, count: v.count)
    }

    /// The names of the model's states, as `rnnc check` prints them (`h`, `lstm#1.c`).
    public var stateNames: [String] { program.namedStates.map(\.name) }

    /// The current value of the state called `name` (one of ``stateNames``).
    public func state(_ name: String) throws(RuntimeError) -> [Scalar] {
        let named = try namedState(name)
        let p = buffer + offsets[program.states[named.state].slot] + named.offset
        return Array(UnsafeBufferPointer(start: p, count: named.size))
    }

    /// Sets the state called `name` (one of ``stateNames``) to `values`, for the next step:
    /// to resume a sequence, or to start from a state other than the initial one.
    public func setState(_ name: String, to values: [Scalar]) throws(RuntimeError) {
        let named = try namedState(name)
        guard values.count == named.size else {
            throw .inputMismatch("state '\(name)' has \(named.size) values, \(values.count) given")
        }
        (buffer + offsets[program.states[named.state].slot] + named.offset).update(from: values, count: values.count)
    }

    private func namedState(_ name: String) throws(RuntimeError) -> NamedState {
        guard let named = program.namedStates.first(where: { $0.name == name }) else {
            throw .inputMismatch("model '\(program.modelName)' has no state '\(name)' (its states: \(stateNames.joined(separator: ", ")))")
        }
        return named
    }

    /// Each state's current value, in the order of `program.states` (as state files store them).
    package func stateValues() -> [[Double]] {
        program.states.map { s in (0..<program.slotSizes[s.slot]).map { Double(buffer[offsets[s.slot] + $0]) } }
    }

    /// Sets every state's value, in the order of `program.states`.
    package func setStates(_ values: [[Double]]) throws(RuntimeError) {
        try program.checkStateValues(values)
        for (s, v) in zip(program.states, values) { for (i, x) in v.enumerated() { buffer[offsets[s.slot] + i] = Scalar(x) } }
    }

    /// Feeds one token (the model's inputs concatenated) and returns the outputs.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ token: [Scalar]) throws(RuntimeError) -> [Scalar] {
        var out = [Scalar](repeating: 0, count: program.outputWidth)
        try step(token, into: &out)
        return out
    }

    /// Feeds one token and writes the outputs into `output`, which must hold
    /// `program.outputWidth` values; nothing is allocated.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ token: [Scalar], into output: inout [Scalar]) throws(RuntimeError) {
        try token.withUnsafeBufferPointer { token throws(RuntimeError) in
            try output.withUnsafeMutableBufferPointer { output throws(RuntimeError) in try step(token, into: output) }
        }
    }

    /// Feeds one token from `token` (`program.inputWidth` values) and writes the outputs into
    /// `output` (`program.outputWidth` values): the variant for callers that keep their own
    /// buffers; nothing is allocated.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ token: UnsafeBufferPointer<Scalar>, into output: UnsafeMutableBufferPointer<Scalar>) throws(RuntimeError) {
        guard token.count == program.inputWidth else {
            throw .inputMismatch("token has \(token.count) values, the model's input has \(program.inputWidth)")
        }
        guard output.count == program.outputWidth else {
            throw .inputMismatch("room for \(output.count) outputs given, the model has \(program.outputWidth)")
        }
        try advance(token) { k, values, count in (output.baseAddress! + k).update(from: values, count: count) }
    }

    /// One step: loads `token` (already counted), runs the instructions, hands each output
    /// slot to `emit` (its offset in the outputs, its values, their count), then moves the
    /// states on (after the outputs, which may read a state's old value).
    @inline(__always)
    private func advance(_ token: UnsafeBufferPointer<Scalar>, emit: (Int, UnsafePointer<Scalar>, Int) -> Void) throws(RuntimeError) {
        if hasTokenInputs, let problem = program.idProblem(in: token) { throw .inputMismatch(problem) }
        let sizes = program.slotSizes
        var k = 0
        // An empty slot (allowed in an artifact) has no values to copy and the token may
        // have no base address then.
        for slot in program.inputSlots where sizes[slot] > 0 {
            (buffer + offsets[slot]).update(from: token.baseAddress! + k, count: sizes[slot])
            k += sizes[slot]
        }
        ops.withUnsafeBufferPointer { ops in
            var i = 0
            while i < ops.count {
                if ops[i].runEnd > i, performSplit(ops, i..<ops[i].runEnd) {
                    i = ops[i].runEnd
                } else {
                    perform(ops[i])
                    i += 1
                }
            }
        }
        k = 0
        for slot in program.outputSlots where sizes[slot] > 0 {
            emit(k, buffer + offsets[slot], sizes[slot])
            k += sizes[slot]
        }
        for s in program.states {
            (buffer + offsets[s.slot]).update(from: buffer + offsets[s.update], count: sizes[s.slot])
        }
    }

    /// Runs a whole sequence from the initial states; returns one output vector per token.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func run(_ sequence: [[Scalar]]) throws(RuntimeError) -> [[Scalar]] {
        reset()
        var outs: [[Scalar]] = []
        outs.reserveCapacity(sequence.count)
        for token in sequence { outs.append(try step(token)) }
        return outs
    }

    /// `step` for Double tokens and outputs, whatever `Scalar` is (the command line's data).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package func step(doubles token: [Double]) throws(RuntimeError) -> [Double] {
        guard token.count == program.inputWidth else {
            throw .inputMismatch("token has \(token.count) values, the model's input has \(program.inputWidth)")
        }
        var out = [Double](repeating: 0, count: program.outputWidth)
        for (i, x) in token.enumerated() { convertedToken[i] = Scalar(x) }
        try advance(UnsafeBufferPointer(convertedToken)) { k, values, count in for i in 0..<count { out[k + i] = Double(values[i]) } }
        return out
    }

    /// `run` for Double tokens and outputs, whatever `Scalar` is.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package func run(doubles sequence: [[Double]]) throws(RuntimeError) -> [[Double]] {
        reset()
        var outs: [[Double]] = []
        outs.reserveCapacity(sequence.count)
        for token in sequence { outs.append(try step(doubles: token)) }
        return outs
    }

    /// One instruction (or one part of a concatenation) resolved to plain addresses and a
    /// bound kernel.
    struct Op {
        enum Kind { case product, elementwise, copy, gather }
        let kind: Kind
        let dst: UnsafeMutablePointer<Scalar>
        /// A product's x, an element-wise op's first operand, a copy's source.
        let x: UnsafeMutablePointer<Scalar>
        /// An element-wise op's second operand (`x` for a unary op).
        var y: UnsafeMutablePointer<Scalar>
        let count: Int
        var matrix: Unmanaged<ConvertedMatrix<Scalar>>? = nil
        /// A gather's table (row-major) and its row count.
        var table: UnsafePointer<Scalar>? = nil
        var tableRows = 0
        var bias: UnsafePointer<Scalar>? = nil
        /// A product's epilogue or an element-wise op.
        var kernel: BoundKernel<Scalar>? = nil
        /// The same, as the op table's op (each core of a split op binds its own kernel).
        var elementwise: ElementwiseOp? = nil
        /// Where this op's kernels for the cores of a split start (`splitKernels`), or nil
        /// when the op never runs split.
        var split: UnsafePointer<Unmanaged<KernelBox<Scalar>>?>? = nil
        /// On the first op of a run of ops that run split together: the index after its last.
        var runEnd = 0
        /// Whether the cores meet at a barrier before this op of a split run.
        var barrierBefore = false

        init(_ kind: Kind, dst: UnsafeMutablePointer<Scalar>, x: UnsafeMutablePointer<Scalar>, count: Int) {
            (self.kind, self.dst, self.x, self.y, self.count) = (kind, dst, x, x, count)
        }
    }

    private func resolve(_ ins: Instruction) -> [Op] {
        let sizes = program.slotSizes
        func at(_ slot: Int) -> UnsafeMutablePointer<Scalar> { buffer + offsets[slot] }
        switch ins {
        case .affine(let dst, let src, let m, let bias, let epilogue):
            var op = Op(.product, dst: at(dst), x: at(src), count: sizes[dst])
            op.matrix = Unmanaged.passUnretained(weights.matrices[m])  // `weights` keeps it alive
            op.bias = bias.map { UnsafePointer(vectors[$0].baseAddress!) }
            op.kernel = epilogue.map { Kernels.bind($0, to: Scalar.self) }
            op.elementwise = epilogue
            return [op]
        case .elementwise(let f, let dst, let l, let r):
            var op = Op(.elementwise, dst: at(dst), x: at(l), count: sizes[dst])
            if let r { op.y = at(r) }
            op.kernel = Kernels.bind(f, to: Scalar.self)
            op.elementwise = f
            return [op]
        case .concat(let dst, let parts):
            var offset = 0
            return parts.map { p in
                defer { offset += sizes[p] }
                return Op(.copy, dst: at(dst) + offset, x: at(p), count: sizes[p])
            }
        case .slice(let dst, let src, let start):
            return [Op(.copy, dst: at(dst), x: at(src) + start, count: sizes[dst])]
        case .gather(let dst, let src, let m):
            var op = Op(.gather, dst: at(dst), x: at(src), count: sizes[dst])
            op.table = UnsafePointer(weights.tables[m]!)
            op.tableRows = program.matrices[m].rows
            return [op]
        }
    }

    @inline(__always)
    private func perform(_ op: Op) {
        switch op.kind {
        case .product:
            op.matrix!._withUnsafeGuaranteedRef { $0.apply(op.x, op.dst, count: 1, threads: threads) }
            if let bias = op.bias { Kernels.add(op.dst, bias, op.dst, count: op.count) }
            if let f = op.kernel { f(op.dst, op.dst, op.dst, op.count) }
        case .elementwise:
            op.kernel!(op.x, op.y, op.dst, op.count)
        case .copy:
            op.dst.update(from: op.x, count: op.count)
        case .gather:
            GatherTable.row(op.table!, rows: op.tableRows, id: op.x.pointee, into: op.dst, count: op.count)
        }
    }
}
