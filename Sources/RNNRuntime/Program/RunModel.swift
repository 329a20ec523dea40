import Dispatch
import Foundation

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

    /// Most bytes the scan program's buffers may take in one run, all cores together, unless
    /// the caller says otherwise: 4 GiB. The scan program keeps a row per token for every
    /// value, so a wide model over a long sequence needs far more memory than the step program.
    public static let defaultScanMemoryLimit = 4 << 30
}

/// Runs every sequence of a batch independently, each from the initial states or, given
/// `initialStates`, from its own (`initialStates[q]`: every state's values in the order of
/// `program.states`); the sequences are shared out over the cores (each core with its own
/// session and workspace). The scan program's buffers stay within `scanMemoryLimit` bytes:
/// `auto` runs sequences one at a time per core, then step by step, rather than exceed it;
/// `scan` fails instead. `threads`: the cores to use (all by default).
package func runModel(_ model: Artifact.Model, on data: SequenceData, from initialStates: [[[Double]]]? = nil, mode: ExecutionMode = .auto, float32: Bool,
                     scanMemoryLimit: Int = ExecutionMode.defaultScanMemoryLimit, threads: Int? = nil) throws(RuntimeError) -> SequenceData {
    try runModelKeepingStates(model, on: data, from: initialStates, keepStates: false, mode: mode, float32: float32,
                              scanMemoryLimit: scanMemoryLimit, threads: threads).outputs
}

/// The outputs of a run and, when asked for, each sequence's states after its last token.
package struct ModelRun: Sendable {
    package var outputs: SequenceData
    /// Per sequence, every state's values in the order of `program.states` (empty unless kept).
    package var finalStates: [[[Double]]]
}

/// `runModel`, also returning each sequence's final states when `keepStates` is true.
package func runModelKeepingStates(_ model: Artifact.Model, on data: SequenceData, from initialStates: [[[Double]]]? = nil, keepStates: Bool = true,
                                  mode: ExecutionMode = .auto, float32: Bool, scanMemoryLimit: Int = ExecutionMode.defaultScanMemoryLimit,
                                  threads: Int? = nil) throws(RuntimeError) -> ModelRun {
    let program = model.program
    guard data.sequences.allSatisfy({ $0.isEmpty }) || data.width == program.inputWidth else {
        throw .inputMismatch("input tokens have \(data.width) values, but model '\(program.modelName)' takes \(program.inputWidth) (\(program.inputs.map(\.signature).joined(separator: ", ")))")
    }
    for (q, sequence) in data.sequences.enumerated() { try program.checkIDs(sequence, sequence: data.isBatch ? q : nil) }
    if let initialStates {
        guard initialStates.count == data.sequences.count else {
            throw .inputMismatch("\(initialStates.count) sets of initial states for \(data.sequences.count) sequences")
        }
        for states in initialStates { try program.checkStateValues(states) }
    }
    let job = BatchJob(model: model, sequences: data.sequences, initialStates: initialStates, keepStates: keepStates, mode: mode,
                       memoryLimit: scanMemoryLimit, cores: max(1, threads ?? Parallel.cores))
    let results = float32 ? try job.run(Float.self) : try job.run(Double.self)
    return ModelRun(outputs: SequenceData(sequences: results.outputs, width: program.outputWidth, isBatch: data.isBatch),
                    finalStates: keepStates ? results.states : [])
}

private final class BatchResults: @unchecked Sendable {
    var outputs: [[[Double]]]
    var states: [[[Double]]]
    var error: RuntimeError?
    let lock = NSLock()

    init(count: Int) {
        outputs = Array(repeating: [], count: count)
        states = Array(repeating: [], count: count)
    }

    func store(_ q: Int, _ output: [[Double]], _ state: [[Double]]?) {
        lock.withLock {
            outputs[q] = output
            if let state { states[q] = state }
        }
    }

    func fail(_ e: RuntimeError) { lock.withLock { error = error ?? e } }
}

/// One batch to run: which sequences, from which states, and how.
private struct BatchJob: Sendable {
    let model: Artifact.Model
    let sequences: [[[Double]]]
    let initialStates: [[[Double]]]?
    let keepStates: Bool
    let mode: ExecutionMode
    let memoryLimit: Int
    let cores: Int

    func run<Scalar: BinaryFloatingPoint & Sendable>(_: Scalar.Type) throws(RuntimeError) -> BatchResults {
        // Validate once, up front, so the workers cannot fail on the program itself.
        let scan = mode == .step ? nil : try ScanRunner<Scalar>(program: model.program, plan: model.plan)
        _ = try StepSession<Scalar>(program: model.program)
        let workers = min(cores, max(1, sequences.count))
        let threadsPerWorker = max(1, cores / workers)
        let results = BatchResults(count: sequences.count)
        // Whether `workers` runs of `batch` sequences of `steps` tokens each fit the budget.
        @Sendable func fits(steps: Int, batch: Int) -> Bool {
            guard let scan else { return false }
            let (total, overflow) = scan.workspaceBytes(steps: steps, batch: batch).multipliedReportingOverflow(by: workers)
            return !overflow && total <= memoryLimit
        }
        if mode == .scan, let longest = sequences.map(\.count).max(), !fits(steps: longest, batch: 1) {
            let bytes = scan!.workspaceBytes(steps: longest, batch: 1)
            throw .inputMismatch("the scan program needs \(bytes) bytes per core for a sequence of \(longest) tokens, more than the limit of \(memoryLimit) bytes in all: use --mode step or auto, or raise --scan-memory")
        }
        let tracksStates = keepStates || initialStates != nil
        // Equal-length sequences through the scan program run in lockstep, a group per core.
        let group = (sequences.count + workers - 1) / workers
        if let scan, let steps = sequences.first?.count, sequences.allSatisfy({ $0.count == steps }),
           mode == .scan || steps >= ExecutionMode.scanThreshold, fits(steps: steps, batch: group) {
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let range = (w * group)..<min(sequences.count, (w + 1) * group)
                guard !range.isEmpty else { return }
                do throws(RuntimeError) {
                    let batch = Array(sequences[range]), workspace = ScanRunner<Scalar>.Workspace(threads: threadsPerWorker)
                    if tracksStates {
                        let (out, states) = try scan.runKeepingStates(batch: batch, from: initialStates.map { Array($0[range]) }, workspace: workspace)
                        for (k, q) in range.enumerated() { results.store(q, out[k], states[k]) }
                    } else {
                        let out = try scan.run(batchOfDoubles: batch, workspace: workspace)
                        for (k, q) in range.enumerated() { results.store(q, out[k], nil) }
                    }
                } catch {
                    results.fail(error)
                }
            }
            if let error = results.error { throw error }
            return results
        }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            guard let session = try? StepSession<Scalar>(program: model.program, threads: threadsPerWorker) else { return }
            let workspace = ScanRunner<Scalar>.Workspace(threads: threadsPerWorker)
            var q = w
            while q < sequences.count {
                let seq = sequences[q]
                do throws(RuntimeError) {
                    if let scan, mode == .scan || seq.count >= ExecutionMode.scanThreshold, fits(steps: seq.count, batch: 1) {
                        if tracksStates {
                            let (out, states) = try scan.runKeepingStates(batch: [seq], from: initialStates.map { [$0[q]] }, workspace: workspace)
                            results.store(q, out[0], states[0])
                        } else {
                            results.store(q, try scan.run(doubles: seq, workspace: workspace), nil)
                        }
                    } else {
                        session.reset()
                        if let initialStates { try session.setStates(initialStates[q]) }
                        var out: [[Double]] = []
                        out.reserveCapacity(seq.count)
                        for token in seq { out.append(try session.step(doubles: token)) }
                        results.store(q, out, tracksStates ? session.stateValues() : nil)
                    }
                } catch {
                    results.fail(error)
                }
                q += workers
            }
        }
        if let error = results.error { throw error }
        return results
    }
}
