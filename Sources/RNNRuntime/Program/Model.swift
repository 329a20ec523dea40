/// The one-line ways to use a compiled model: load it, save it, run sequences.
///
/// ```swift
/// let model = try Artifact.Model(contentsOf: "more_ones.rnnc")
/// let outputs = try model.run([[0], [1], [1]], as: Float.self)    // one output vector per token
/// try model.write(to: "copy.rnnc")
/// ```
extension Artifact.Model {
    /// Loads a `.rnnc` artifact. The file is untrusted input: a malformed one is a
    /// `RuntimeError.badFile` naming what is wrong, never a crash.
    public init(contentsOf path: String) throws(RuntimeError) {
        self = try Artifact.load(path: path)
    }

    /// Writes the model as a `.rnnc` artifact: atomically for a regular file (a reader never
    /// sees half of it, an interrupted write leaves the old file), in place for a device or
    /// pipe, and to standard output for `-`. `metadata` adds entries to the file's header.
    public func write(to path: String, metadata: [String: String] = [:]) throws(RuntimeError) {
        try OutputFile.write(Artifact.encode(self, metadata: metadata), to: path)
    }

    /// Runs one sequence (one vector of `program.inputWidth` values per token) from the
    /// initial states in `Scalar` precision; returns one output vector per token. See
    /// ``run(batch:as:mode:threads:)``.
    public func run<Scalar: BinaryFloatingPoint & Sendable>(_ sequence: [[Scalar]], as scalar: Scalar.Type = Scalar.self,
                                                            mode: ExecutionMode = .auto, threads: Int? = nil) throws(RuntimeError) -> [[Scalar]] {
        try run(batch: [sequence], as: scalar, mode: mode, threads: threads)[0]
    }

    /// Runs every sequence of a batch from the initial states, shared out over `threads`
    /// cores (all by default), in `Scalar` precision. `mode` picks the step program, the scan
    /// program, or (`auto`) the scan program for sequences of at least
    /// `ExecutionMode.scanThreshold` tokens while its buffers stay within 4 GiB.
    public func run<Scalar: BinaryFloatingPoint & Sendable>(batch sequences: [[[Scalar]]], as scalar: Scalar.Type = Scalar.self,
                                                            mode: ExecutionMode = .auto, threads: Int? = nil) throws(RuntimeError) -> [[[Scalar]]] {
        let width = program.inputWidth
        for (q, sequence) in sequences.enumerated() {
            for (t, token) in sequence.enumerated() where token.count != width {
                throw .inputMismatch("token \(t) of sequence \(q) has \(token.count) values, model '\(program.modelName)' takes \(width)")
            }
        }
        let data = SequenceData(sequences: sequences.map { $0.map { $0.map(Double.init) } }, width: width, isBatch: true)
        let outputs = try runModel(self, on: data, mode: mode, float32: Scalar.self == Float.self, threads: threads)
        return outputs.sequences.map { $0.map { $0.map { Scalar($0) } } }
    }
}
