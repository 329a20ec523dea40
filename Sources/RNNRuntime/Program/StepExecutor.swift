/// Runs a `StepProgram` one token at a time in `Scalar` precision (Float or Double).
///
/// Memory layout: all slots live back to back in one buffer, slot `i` at `offsets[i]`.
/// Nothing is allocated per step: matrices are converted to `Scalar` once, at creation.
/// This is the straightforward executor; the fused, vectorized kernels come with the
/// optimizing runtime.
public final class StepSession<Scalar: BinaryFloatingPoint & Sendable> {
    public let program: StepProgram
    private var buffer: [Scalar]
    private let offsets: [Int]
    private let matrices: [ConvertedMatrix]
    private let vectors: [[Scalar]]

    private enum ConvertedMatrix {
        case dense(rows: Int, cols: Int, values: [Scalar])
        case sparse(offsets: [Int], columns: [Int], values: [Scalar])
    }

    /// Creates a session; the program is validated first, so a bad program never runs.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public init(program: StepProgram) throws(RuntimeError) {
        try program.validate()
        self.program = program
        var offsets: [Int] = []
        var total = 0
        for s in program.slotSizes {
            offsets.append(total)
            total += s
        }
        self.offsets = offsets
        self.buffer = [Scalar](repeating: 0, count: total)
        self.matrices = program.matrices.map { m in
            switch m.storage {
            case .dense(let v): return .dense(rows: m.rows, cols: m.cols, values: v.map { Scalar($0) })
            case .sparse(let o, let c, let v): return .sparse(offsets: o, columns: c, values: v.map { Scalar($0) })
            }
        }
        self.vectors = program.vectors.map { $0.map { Scalar($0) } }
        reset()
    }

    /// Restores every state to its initial value.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func reset() {
        for c in program.constants { store(vectors[c.vector], into: c.slot) }
        for s in program.states { store(vectors[s.initial], into: s.slot) }
    }

    private func store(_ v: [Scalar], into slot: Int) {
        let o = offsets[slot]
        for i in 0..<v.count { buffer[o + i] = v[i] }
    }

    /// Feeds one token (the model's inputs concatenated) and returns the output vector.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func step(_ token: [Double]) throws(RuntimeError) -> [Double] {
        guard token.count == program.inputWidth else {
            throw .inputMismatch("token has \(token.count) values, the model's input has \(program.inputWidth)")
        }
        var k = 0
        for slot in program.inputSlots {
            let o = offsets[slot]
            for i in 0..<program.slotSizes[slot] { buffer[o + i] = Scalar(token[k]); k += 1 }
        }
        for ins in program.instructions { execute(ins) }
        var out: [Double] = []
        out.reserveCapacity(program.outputWidth)
        for slot in program.outputSlots {
            let o = offsets[slot]
            for i in 0..<program.slotSizes[slot] { out.append(Double(buffer[o + i])) }
        }
        for s in program.states {
            let (d, u) = (offsets[s.slot], offsets[s.update])
            for i in 0..<program.slotSizes[s.slot] { buffer[d + i] = buffer[u + i] }
        }
        return out
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

    private func execute(_ ins: Instruction) {
        let sizes = program.slotSizes
        switch ins {
        case .affine(let dst, let src, let m, let bias):
            let (d, s) = (offsets[dst], offsets[src])
            switch matrices[m] {
            case .dense(let rows, let cols, let w):
                for r in 0..<rows {
                    var acc: Scalar = 0
                    for c in 0..<cols { acc += w[r * cols + c] * buffer[s + c] }
                    buffer[d + r] = acc
                }
            case .sparse(let rowOffsets, let columns, let w):
                for r in 0..<sizes[dst] {
                    var acc: Scalar = 0
                    for k in rowOffsets[r]..<rowOffsets[r + 1] { acc += w[k] * buffer[s + columns[k]] }
                    buffer[d + r] = acc
                }
            }
            if let bias {
                let b = vectors[bias]
                for r in 0..<b.count { buffer[d + r] += b[r] }
            }
        case .add(let dst, let a, let b):
            let (d, x, y) = (offsets[dst], offsets[a], offsets[b])
            for i in 0..<sizes[dst] { buffer[d + i] = buffer[x + i] + buffer[y + i] }
        case .mul(let dst, let a, let b):
            let (d, x, y) = (offsets[dst], offsets[a], offsets[b])
            for i in 0..<sizes[dst] { buffer[d + i] = buffer[x + i] * buffer[y + i] }
        case .concat(let dst, let parts):
            var d = offsets[dst]
            for p in parts {
                let s = offsets[p]
                for i in 0..<sizes[p] { buffer[d + i] = buffer[s + i] }
                d += sizes[p]
            }
        case .slice(let dst, let src, let start):
            let (d, s) = (offsets[dst], offsets[src] + start)
            for i in 0..<sizes[dst] { buffer[d + i] = buffer[s + i] }
        case .activation(let f, let dst, let src):
            let (d, s) = (offsets[dst], offsets[src])
            for i in 0..<sizes[dst] { buffer[d + i] = Scalar(f.apply(Double(buffer[s + i]))) }
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

    /// Sequence length from which `auto` picks the scan program (see BENCHMARKS.md).
    public static let scanThreshold = 32
}

/// Runs every sequence of a batch independently, each from the initial states.
public func runModel(_ model: Artifact.Model, on data: SequenceData, mode: ExecutionMode = .auto, float32: Bool) throws(RuntimeError) -> SequenceData {
    let program = model.program
    guard data.sequences.allSatisfy({ $0.isEmpty }) || data.width == program.inputWidth else {
        throw .inputMismatch("input tokens have \(data.width) values, but model '\(program.modelName)' takes \(program.inputWidth) (\(program.inputs.map { "\($0.name): [\($0.size)]" }.joined(separator: ", ")))")
    }
    func run<Scalar: BinaryFloatingPoint & Sendable>(_: Scalar.Type) throws(RuntimeError) -> [[[Double]]] {
        let session = try StepSession<Scalar>(program: program)
        let scan = mode == .step ? nil : try ScanRunner<Scalar>(program: program, plan: model.plan)
        var out: [[[Double]]] = []
        for seq in data.sequences {
            if let scan, mode == .scan || seq.count >= ExecutionMode.scanThreshold {
                out.append(try scan.run(seq))
            } else {
                out.append(try session.run(seq))
            }
        }
        return out
    }
    let outputs = float32 ? try run(Float.self) : try run(Double.self)
    return SequenceData(sequences: outputs, width: program.outputWidth, isBatch: data.isBatch)
}
