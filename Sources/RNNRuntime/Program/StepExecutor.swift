import Dispatch
import Foundation

/// Runs a `StepProgram` one token at a time in `Scalar` precision (Float or Double): the
/// streaming session.
///
/// Memory layout: all slots live back to back in one buffer, slot `i` at `offsets[i]`,
/// allocated once. Nothing is allocated per step except the returned output array (use
/// `step(_:into:)` to avoid that too). Dense matrices are packed for the C kernels once.
public final class StepSession<Scalar: BinaryFloatingPoint & Sendable> {
    public let program: StepProgram
    private let buffer: UnsafeMutablePointer<Scalar>
    private let offsets: [Int]
    private let matrices: [ConvertedMatrix<Scalar>]
    private let vectors: ConvertedVectors<Scalar>
    /// Cores one step's matrix products may use.
    public let threads: Int

    /// Creates a session; the program is validated first, so a bad program never runs.
    /// `threads`: cores one step's matrix products may use (all by default; pass 1 when you
    /// run sessions on several threads yourself).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public init(program: StepProgram, threads: Int? = nil) throws(RuntimeError) {
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
        matrices = program.matrices.map { ConvertedMatrix<Scalar>($0) }
        vectors = ConvertedVectors(program.vectors)
        reset()
    }

    deinit { buffer.deallocate() }

    /// Restores every state to its initial value.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func reset() {
        for c in program.constants { store(vectors[c.vector], into: c.slot) }
        for s in program.states { store(vectors[s.initial], into: s.slot) }
    }

    private func store(_ v: UnsafeBufferPointer<Scalar>, into slot: Int) {
        (buffer + offsets[slot]).update(from: v.baseAddress!, count: v.count)
    }

    /// Feeds one token (the model's inputs concatenated) and returns the output vector.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func step(_ token: [Double]) throws(RuntimeError) -> [Double] {
        var out = [Double](repeating: 0, count: program.outputWidth)
        try step(token, into: &out)
        return out
    }

    /// Feeds one token and writes the output into `output` (`outputWidth` values).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func step(_ token: [Double], into output: inout [Double]) throws(RuntimeError) {
        guard token.count == program.inputWidth else {
            throw .inputMismatch("token has \(token.count) values, the model's input has \(program.inputWidth)")
        }
        precondition(output.count == program.outputWidth, "output must hold \(program.outputWidth) values")
        let sizes = program.slotSizes
        var k = 0
        for slot in program.inputSlots {
            let p = buffer + offsets[slot]
            for i in 0..<sizes[slot] { p[i] = Scalar(token[k]); k += 1 }
        }
        for ins in program.instructions { execute(ins, sizes) }
        k = 0
        for slot in program.outputSlots {
            let p = buffer + offsets[slot]
            for i in 0..<sizes[slot] { output[k] = Double(p[i]); k += 1 }
        }
        for s in program.states {
            (buffer + offsets[s.slot]).update(from: buffer + offsets[s.update], count: sizes[s.slot])
        }
    }

    /// Runs a whole sequence from the initial state.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(_ sequence: [[Double]]) throws(RuntimeError) -> [[Double]] {
        reset()
        var outs: [[Double]] = []
        outs.reserveCapacity(sequence.count)
        for token in sequence { outs.append(try step(token)) }
        return outs
    }

    @inline(__always)
    private func execute(_ ins: Instruction, _ sizes: [Int]) {
        switch ins {
        case .affine(let dst, let src, let m, let bias, let epilogue):
            let d = buffer + offsets[dst]
            matrices[m].apply(buffer + offsets[src], d, count: 1, threads: threads)
            if let bias {
                let b = vectors[bias]
                Kernels.add(d, b.baseAddress!, d, count: b.count)
            }
            if let epilogue { Kernels.apply(epilogue, d, d, d, count: sizes[dst]) }
        case .elementwise(let op, let dst, let l, let r):
            let x = buffer + offsets[l]
            Kernels.apply(op, x, r.map { buffer + offsets[$0] } ?? x, buffer + offsets[dst], count: sizes[dst])
        case .concat(let dst, let parts):
            var d = buffer + offsets[dst]
            for p in parts {
                d.update(from: buffer + offsets[p], count: sizes[p])
                d += sizes[p]
            }
        case .slice(let dst, let src, let start):
            (buffer + offsets[dst]).update(from: buffer + offsets[src] + start, count: sizes[dst])
        }
    }
}

/// How `runModel` executes whole sequences.
public enum ExecutionMode: String, Sendable, CaseIterable {
    /// One token at a time through the step program.
    case step
    /// The scan program: state-independent work batched over time, scans for scan-able states.
    case scan
    /// `scan` for sequences of at least `ExecutionMode.scanThreshold` tokens, else `step`.
    case auto

    /// Sequence length from which `auto` picks the scan program: measured with
    /// `rnnc-bench THRESHOLD` (GRU d=256 and minGRU d=1024), where the scan program is already
    /// faster at 4 tokens (0.92x and 0.35x of the step time).
    public static let scanThreshold = 4
}

/// Runs every sequence of a batch independently, each from the initial states; the
/// sequences are shared out over the cores (each core with its own session and workspace).
public func runModel(_ model: Artifact.Model, on data: SequenceData, mode: ExecutionMode = .auto, float32: Bool) throws(RuntimeError) -> SequenceData {
    let program = model.program
    guard data.sequences.allSatisfy({ $0.isEmpty }) || data.width == program.inputWidth else {
        throw .inputMismatch("input tokens have \(data.width) values, but model '\(program.modelName)' takes \(program.inputWidth) (\(program.inputs.map { "\($0.name): [\($0.size)]" }.joined(separator: ", ")))")
    }
    let outputs = float32 ? try runBatch(Float.self, model, data.sequences, mode) : try runBatch(Double.self, model, data.sequences, mode)
    return SequenceData(sequences: outputs, width: program.outputWidth, isBatch: data.isBatch)
}

private final class BatchResults: @unchecked Sendable {
    var outputs: [[[Double]]]
    var error: RuntimeError?
    let lock = NSLock()

    init(count: Int) { outputs = Array(repeating: [], count: count) }
}

private func runBatch<Scalar: BinaryFloatingPoint & Sendable>(_: Scalar.Type, _ model: Artifact.Model, _ sequences: [[[Double]]],
                                                              _ mode: ExecutionMode) throws(RuntimeError) -> [[[Double]]] {
    // Validate once, up front, so the workers cannot fail on the program itself.
    let scan = mode == .step ? nil : try ScanRunner<Scalar>(program: model.program, plan: model.plan)
    _ = try StepSession<Scalar>(program: model.program)
    let workers = min(Parallel.cores, max(1, sequences.count))
    let threadsPerWorker = max(1, Parallel.cores / workers)
    let results = BatchResults(count: sequences.count)
    // Equal-length sequences through the scan program run in lockstep, a group per core.
    if let scan, let steps = sequences.first?.count, sequences.allSatisfy({ $0.count == steps }),
       mode == .scan || steps >= ExecutionMode.scanThreshold {
        let group = (sequences.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let range = (w * group)..<min(sequences.count, (w + 1) * group)
            guard !range.isEmpty else { return }
            do throws(RuntimeError) {
                let out = try scan.run(batch: Array(sequences[range]), workspace: .init(threads: threadsPerWorker))
                results.lock.withLock { for (k, i) in range.enumerated() { results.outputs[i] = out[k] } }
            } catch {
                results.lock.withLock { results.error = results.error ?? error }
            }
        }
        if let error = results.error { throw error }
        return results.outputs
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        guard let session = try? StepSession<Scalar>(program: model.program, threads: threadsPerWorker) else { return }
        let workspace = ScanRunner<Scalar>.Workspace(threads: threadsPerWorker)
        var index = w
        while index < sequences.count {
            let seq = sequences[index]
            do throws(RuntimeError) {
                let out: [[Double]]
                if let scan, mode == .scan || seq.count >= ExecutionMode.scanThreshold {
                    out = try scan.run(seq, workspace: workspace)
                } else {
                    out = try session.run(seq)
                }
                results.lock.withLock { results.outputs[index] = out }
            } catch {
                results.lock.withLock { results.error = results.error ?? error }
            }
            index += workers
        }
    }
    if let error = results.error { throw error }
    return results.outputs
}
