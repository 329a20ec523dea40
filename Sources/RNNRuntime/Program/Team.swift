import RNNKernels

/// The helper team of the C kernels (`team.c`) running Swift work: a body runs on several
/// cores at once, and its parts meet at barriers. For work split into pieces of a few
/// microseconds, where a thread pool's wake-up would cost as much as the piece.
enum Team {
    private final class Job {
        let body: (_ part: Int, _ parts: Int) -> Void
        init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
    }

    /// Runs `body(part, parts)` for every part below `parts` at once (part 0 on the calling
    /// thread) and returns when all have returned; false, having run nothing, when the team
    /// cannot start enough threads, or is busy with another thread's job and `wait` is false.
    static func run(parts: Int, wait: Bool = false, _ body: (_ part: Int, _ parts: Int) -> Void) -> Bool {
        withoutActuallyEscaping(body) { body in
            let job = Job(body)
            return withExtendedLifetime(job) {
                rnnk_team_run(Int32(parts), { context, part, parts in
                    Unmanaged<Job>.fromOpaque(context!).takeUnretainedValue().body(Int(part), Int(parts))
                }, Unmanaged.passUnretained(job).toOpaque(), wait ? 1 : 0) != 0
            }
        }
    }

    /// Inside a body: waits until every part has reached the same barrier. Every part must
    /// pass the same number of barriers.
    @inline(__always)
    static func barrier() { rnnk_team_barrier() }
}
