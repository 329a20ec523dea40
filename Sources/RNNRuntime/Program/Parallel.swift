import Dispatch
import Foundation

/// How many threads the runtime uses for large kernels: the machine's cores, at most 8.
enum Parallel {
    static let cores = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// `body(start, count)` over `0 ..< total` cut into one chunk per core (`cores` of them,
    /// each a multiple of `granule` long but the last), run on a thread pool; the chunks
    /// must touch disjoint memory.
    static func forEachChunk(of total: Int, cores: Int, granule: Int = 1, _ body: (Int, Int) -> Void) {
        guard cores > 1 else { return body(0, total) }
        let chunk = ((total + cores - 1) / cores + granule - 1) / granule * granule
        withoutActuallyEscaping(body) { body in
            let run = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: cores) { k in
                let start = k * chunk
                if start < total { run.value(start, min(chunk, total - start)) }
            }
        }
    }
}

/// A value handed to worker threads that the caller knows is safe to share (the workers
/// touch disjoint memory).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
