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

/// Runs every sequence of a batch independently, each from the initial states; the
/// sequences are shared out over the cores (each core with its own session and workspace).
/// The scan program's buffers stay within `scanMemoryLimit` bytes: `auto` runs sequences one
/// at a time per core, then step by step, rather than exceed it; `scan` fails instead.
/// `threads`: the cores to use (all by default).
public func runModel(_ model: Artifact.Model, on data: SequenceData, mode: ExecutionMode = .auto, float32: Bool,
                     scanMemoryLimit: Int = ExecutionMode.defaultScanMemoryLimit, threads: Int? = nil) throws(RuntimeError) -> SequenceData {
    let program = model.program
    guard data.sequences.allSatisfy({ $0.isEmpty }) || data.width == program.inputWidth else {
        throw .inputMismatch("input tokens have \(data.width) values, but model '\(program.modelName)' takes \(program.inputWidth) (\(program.inputs.map(\.signature).joined(separator: ", ")))")
    }
    for (q, sequence) in data.sequences.enumerated() { try program.checkIDs(sequence, sequence: data.isBatch ? q : nil) }
    let cores = max(1, threads ?? Parallel.cores)
    let outputs = float32 ? try runBatch(Float.self, model, data.sequences, mode, scanMemoryLimit, cores)
                          : try runBatch(Double.self, model, data.sequences, mode, scanMemoryLimit, cores)
    return SequenceData(sequences: outputs, width: program.outputWidth, isBatch: data.isBatch)
}

private final class BatchResults: @unchecked Sendable {
    var outputs: [[[Double]]]
    var error: RuntimeError?
    let lock = NSLock()

    init(count: Int) { outputs = Array(repeating: [], count: count) }
}

private func runBatch<Scalar: BinaryFloatingPoint & Sendable>(_: Scalar.Type, _ model: Artifact.Model, _ sequences: [[[Double]]],
                                                              _ mode: ExecutionMode, _ memoryLimit: Int, _ cores: Int) throws(RuntimeError) -> [[[Double]]] {
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
    // Equal-length sequences through the scan program run in lockstep, a group per core.
    let group = (sequences.count + workers - 1) / workers
    if let scan, let steps = sequences.first?.count, sequences.allSatisfy({ $0.count == steps }),
       mode == .scan || steps >= ExecutionMode.scanThreshold, fits(steps: steps, batch: group) {
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
                if let scan, mode == .scan || seq.count >= ExecutionMode.scanThreshold, fits(steps: seq.count, batch: 1) {
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
